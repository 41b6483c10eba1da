//! Who is calling: [`Caller`] as an axum extractor. A bearer token, when the
//! request carries an `Authorization` header, else the session cookie. A
//! request without a valid one is refused: 401 JSON under `/api/`, a
//! redirect to the sign-in page (coming back afterwards) for pages.
//! `Option<Caller>` gives `None` instead, for pages anyone may see. A page
//! asked with a session cookie the server no longer knows (expired) goes to
//! the sign-in page with `session=expiree`, which says so.
//!
//! Who may do what is then said by the handler's other extractors
//! ([`super::guard`]): `Staff`, `Admin`, `VisibleCommune`, `CsrfForm`.

use axum::extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Caller, Role, session};
use crate::db::{Db, token_hash};
use crate::territory::CommuneCode;
use crate::{AppError, AppState};

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match identify(parts, state).await {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(refuse(parts)),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        identify(parts, state)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// The session secret the request's cookies carry, if any.
pub fn session_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == session::SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

/// Whether `target` may be redirected to after sign-in: a path on this
/// site (one leading '/', so neither `//host` nor `/\host`, which browsers
/// read as another site), without control characters.
pub fn is_local_path(target: &str) -> bool {
    target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && target.len() <= 2048
        && !target.chars().any(char::is_control)
}

/// The sign-in page's address, with where to come back to when it is safe.
pub fn sign_in_url(suite: &str) -> String {
    if is_local_path(suite) && suite != "/" {
        format!("/connexion?suite={}", encode_query_value(suite))
    } else {
        "/connexion".to_owned()
    }
}

/// What the sign-in address carries when a session has expired.
pub const EXPIRED_PARAMETER: &str = "session=expiree";

/// Authenticates the request once; the caller is kept in the request's
/// extensions so a second extraction costs nothing.
async fn identify(parts: &mut Parts, state: &AppState) -> Result<Option<Caller>, AppError> {
    if let Some(caller) = parts.extensions.get::<Caller>() {
        return Ok(Some(caller.clone()));
    }
    let caller = match parts.headers.get(header::AUTHORIZATION) {
        // A request that names a token is judged on it alone, never on a
        // cookie that happens to come with it.
        Some(value) => match value.to_str().ok().and_then(bearer_token) {
            Some(token) => token_caller(&state.db, token).await?,
            None => None,
        },
        None => match session_secret(&parts.headers) {
            Some(secret) => session::caller(&state.db, &state.settings, secret).await?,
            None => None,
        },
    };
    if let Some(caller) = &caller {
        parts.extensions.insert(caller.clone());
        if let Some(slot) = parts.extensions.get::<crate::web::errors::CallerSlot>() {
            slot.fill(caller);
        }
    }
    Ok(caller)
}

/// The token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1;
/// the scheme is case-insensitive, RFC 7235 §2.1).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn token_caller(db: &Db, token: &str) -> Result<Option<Caller>, AppError> {
    let row: Option<TokenRow> = sqlx::query_as(
        "SELECT u.id, u.email, u.role, u.commune FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked = 0 AND u.disabled = 0 \
           AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(token_hash(token))
    .bind(crate::db::now_ms())
    .fetch_optional(db.read())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let role = Role::parse(&row.role)
        .ok_or_else(|| AppError::Internal(format!("unknown role {:?}", row.role)))?;
    Ok(Some(Caller {
        user_id: row.id,
        email: row.email,
        role,
        commune: row.commune,
        csrf: None,
    }))
}

/// The account of a valid token, as [`token_caller`] reads it.
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    email: String,
    role: String,
    commune: Option<CommuneCode>,
}

/// The answer to a request nobody is signed in for.
fn refuse(parts: &Parts) -> Response {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    if uri.path().starts_with("/api/") {
        return AppError::Unauthorized.into_response();
    }
    // Coming back after sign-in is a GET: only a page read by GET is worth
    // coming back to.
    let suite = match parts.method {
        Method::GET | Method::HEAD => uri.path_and_query().map_or("/", |pq| pq.as_str()),
        _ => "/",
    };
    let mut location = sign_in_url(suite);
    // A session cookie the server no longer knows: the session has expired
    // (or was closed elsewhere), and the sign-in page says so.
    if !parts.headers.contains_key(header::AUTHORIZATION)
        && session_secret(&parts.headers).is_some()
    {
        location.push_str(if location.contains('?') { "&" } else { "?" });
        location.push_str(EXPIRED_PARAMETER);
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// Percent-encodes a query parameter's value (RFC 3986 §3.4: '/' may stay).
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(suite: &str, expected: &str) {
        assert_eq!(sign_in_url(suite), expected, "{suite:?}");
    }

    #[test]
    fn where_to_come_back() {
        check("/communes/42218", "/connexion?suite=/communes/42218");
        check(
            "/journal?page=2&x=é",
            "/connexion?suite=/journal%3Fpage%3D2%26x%3D%C3%A9",
        );
        check("/", "/connexion");
        check("//evil.example/", "/connexion");
        check("/\\evil.example/", "/connexion");
        check("https://evil.example/", "/connexion");
        check("/a\nb", "/connexion");
        check("", "/connexion");
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer_token("Bearer vgt_abc"), Some("vgt_abc"));
        assert_eq!(bearer_token("bearer  vgt_abc "), Some("vgt_abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("vgt_abc"), None);
    }

    #[test]
    fn cookie_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(session_secret(&headers), None);
        headers.append(
            header::COOKIE,
            "theme=dark; vigie_session=; other=1".parse().unwrap(),
        );
        assert_eq!(session_secret(&headers), None);
        headers.append(header::COOKIE, "a=b; vigie_session=ab12cd".parse().unwrap());
        assert_eq!(session_secret(&headers), Some("ab12cd"));
    }
}
