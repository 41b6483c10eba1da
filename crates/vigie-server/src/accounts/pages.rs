//! The pages of this module: sign-in (`/connexion`), sign-out
//! (`/deconnexion`), the account page and password change (`/compte`), and
//! `GET /api/v1/me`.

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::extract::{is_local_path, session_secret};
use super::journal::audit;
use super::manage::TokenView;
use super::users::{AccountError, check_new_password, normalize_email};
use super::{Caller, CsrfForm, limit, password, session};
use crate::web::{self, Chrome, ClientAddr};
use crate::{AppError, AppState};

/// What a failed sign-in says: never which of the two was wrong.
const BAD_CREDENTIALS: &str = "Adresse e-mail ou mot de passe incorrect.";

#[derive(serde::Deserialize, Default)]
pub struct SuiteQuery {
    #[serde(default)]
    suite: String,
    /// `expiree` when a page sent the person here because their session
    /// had expired.
    #[serde(default)]
    session: String,
}

#[derive(serde::Deserialize, Default)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    suite: String,
}

#[derive(serde::Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
    /// Checked: the account's API tokens end with the old password.
    #[serde(default)]
    end_tokens: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct AccountQuery {
    #[serde(default)]
    modifie: Option<String>,
    #[serde(default)]
    jeton: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/connexion.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    suite: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/compte.html")]
struct AccountPage {
    chrome: Chrome,
    email: String,
    role: &'static str,
    commune: Option<String>,
    error: Option<String>,
    done: bool,
    token_revoked: bool,
    tokens: Vec<TokenView>,
}

/// `GET /connexion?suite=/where/to/go`.
pub async fn sign_in_form(
    caller: Option<Caller>,
    Query(query): Query<SuiteQuery>,
) -> Result<Response, AppError> {
    let suite = if is_local_path(&query.suite) {
        query.suite
    } else {
        String::new()
    };
    let expired = query.session == "expiree" && caller.is_none();
    web::render(&SignInPage {
        chrome: Chrome::new("Connexion", caller.as_ref()),
        email: String::new(),
        suite,
        error: expired
            .then(|| "Votre session a expiré : reconnectez-vous pour continuer.".to_owned()),
    })
}

/// `POST /connexion`: opens a session and goes back where the person was
/// heading. Refused without checking the password once the address has
/// used up its failures, and when another site's page sent the form
/// ("login CSRF": someone else's account opened in the person's browser,
/// where what they type next would land).
pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let email = normalize_email(&form.email);
    if sent_from_another_site(&headers) {
        audit(&state.db, None, "login_cross_site", &email).await;
        return sign_in_again(
            form,
            StatusCode::FORBIDDEN,
            "Connexion refusée : le formulaire a été envoyé depuis un autre site. \
             Ouvrez la page de connexion de l'observatoire et recommencez."
                .to_owned(),
        );
    }
    // Counted before the password is looked at, in one step: attempts
    // sent together cannot all slip under the limit.
    let reservation = match limit::reserve(&state.db, &state.settings, &email, &client).await? {
        limit::Verdict::Allowed(reservation) => reservation,
        limit::Verdict::Refused { retry_after_secs } => {
            audit(&state.db, None, "login_blocked", &email).await;
            let page = sign_in_again(
                form,
                StatusCode::TOO_MANY_REQUESTS,
                wait_message(retry_after_secs),
            )?;
            return Ok(with_retry_after(page, retry_after_secs));
        }
    };
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND disabled = 0")
            .bind(&email)
            .fetch_optional(state.db.read())
            .await?;
    let (user_id, stored) = row.unzip();
    // An unknown address goes through `verify` too (against a dummy hash):
    // the answer takes the same time either way.
    let verified = match password::verify(&form.password, stored).await {
        Ok(verified) => verified,
        Err(password::PasswordError::Busy) => {
            let page = sign_in_again(
                form,
                StatusCode::SERVICE_UNAVAILABLE,
                AppError::Busy.message_fr(),
            )?;
            return Ok(with_retry_after(page, 2));
        }
        Err(e) => return Err(e.into()),
    };
    let user_id = match user_id {
        Some(id) if verified => id,
        _ => {
            audit(&state.db, user_id, "login_failed", &email).await;
            return sign_in_again(form, StatusCode::UNAUTHORIZED, BAD_CREDENTIALS.to_owned());
        }
    };
    limit::succeeded(&state.db, &reservation).await?;
    // A new secret at each sign-in: a session planted before it is useless.
    if let Some(old) = session_secret(&headers) {
        session::close(&state.db, old).await?;
    }
    let secret = session::open(&state.db, &state.settings, user_id).await?;
    audit(&state.db, Some(user_id), "login", &email).await;
    let suite = if is_local_path(&form.suite) {
        form.suite.as_str()
    } else {
        "/"
    };
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                session::set_cookie(&state.settings, &secret),
            ),
            (header::LOCATION, location(suite)),
        ],
    )
        .into_response())
}

/// `POST /deconnexion`: ends the session (CSRF-checked, so that another
/// site cannot sign people out).
pub async fn sign_out(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    _: CsrfForm,
) -> Result<Response, AppError> {
    if let Some(secret) = session_secret(&headers) {
        session::close(&state.db, secret).await?;
    }
    audit(&state.db, Some(caller.user_id), "logout", &caller.email).await;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::clear_cookie(&state.settings)),
            (header::LOCATION, location("/connexion")),
        ],
    )
        .into_response())
}

/// `GET /compte`: who am I, and the password change form.
pub async fn account(
    caller: Caller,
    State(state): State<AppState>,
    Query(query): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let mut page = account_page(&state, &caller, None).await?;
    page.done = query.modifie.is_some();
    page.token_revoked = query.jeton.is_some();
    web::render(&page)
}

/// `POST /compte/mot-de-passe`: the current password, then the new one
/// twice. The person's other sessions end; this one goes on.
pub async fn change_password(
    caller: Caller,
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    if form.new_password != form.new_password_again {
        let message = "Les deux saisies du nouveau mot de passe sont différentes.".to_owned();
        return account_again(&state, &caller, StatusCode::BAD_REQUEST, message).await;
    }
    let checked = check_new_password(&form.new_password, &caller.email).and_then(|()| {
        if form.new_password == form.current_password {
            Err(AccountError::PasswordUnchanged)
        } else {
            Ok(())
        }
    });
    if let Err(e) = checked {
        let message = capitalized(&e.to_string());
        return account_again(&state, &caller, StatusCode::BAD_REQUEST, message).await;
    }
    // Guessing the current password from a stolen session is a sign-in
    // attempt like any other: same counters, same limits.
    let reservation =
        match limit::reserve(&state.db, &state.settings, &caller.email, &client).await? {
            limit::Verdict::Allowed(reservation) => reservation,
            limit::Verdict::Refused { retry_after_secs } => {
                let message = wait_message(retry_after_secs);
                let page =
                    account_again(&state, &caller, StatusCode::TOO_MANY_REQUESTS, message).await?;
                return Ok(with_retry_after(page, retry_after_secs));
            }
        };
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(caller.user_id)
        .fetch_one(state.db.read())
        .await?;
    if !password::verify(&form.current_password, Some(stored)).await? {
        let message = "Le mot de passe actuel est incorrect.".to_owned();
        return account_again(&state, &caller, StatusCode::BAD_REQUEST, message).await;
    }
    limit::succeeded(&state.db, &reservation).await?;
    let hash = password::hash(&form.new_password).await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(caller.user_id)
        .execute(&state.db.pool)
        .await?;
    session::close_others(&state.db, caller.user_id, session_secret(&headers)).await?;
    if form.end_tokens.is_some() {
        super::credentials::revoke_all_tokens(&state.db, caller.user_id).await?;
    }
    audit(
        &state.db,
        Some(caller.user_id),
        "password_change",
        &caller.email,
    )
    .await;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location("/compte?modifie=1"))],
    )
        .into_response())
}

/// `GET /api/v1/me`: `{"email", "role", "commune"}`.
pub async fn me(caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "email": caller.email,
        "role": caller.role.as_str(),
        "commune": caller.commune,
    }))
}

/// Whether the browser says the form came from anywhere but this origin:
/// a `Sec-Fetch-Site` other than `same-origin` (or `none`, typed by the
/// person), or an `Origin` whose host and port are not exactly the `Host`
/// asked. A sibling subdomain is "same-site" for the browser, yet another
/// origin (issue 14). Scripts send neither and are not concerned.
fn sent_from_another_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !site.eq_ignore_ascii_case("same-origin")
        && !site.eq_ignore_ascii_case("none")
    {
        return true;
    }
    let Some(origin) = text("origin") else {
        return false;
    };
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, text("host")) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        // `Origin: null` (a sandboxed or file page), or no `Host`.
        _ => true,
    }
}

/// What a refused attempt says: how long to wait, in words.
fn wait_message(retry_after_secs: i64) -> String {
    format!(
        "Trop de tentatives : réessayez dans {}.",
        crate::fr::wait(retry_after_secs)
    )
}

/// Adds `Retry-After` (RFC 9110 §10.2.3) to a refusal.
fn with_retry_after(mut response: Response, seconds: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The sign-in page again, with what went wrong (the address kept).
fn sign_in_again(
    form: SignInForm,
    status: StatusCode,
    error: String,
) -> Result<Response, AppError> {
    let page = SignInPage {
        chrome: Chrome::new("Connexion", None),
        email: form.email.chars().take(254).collect(),
        suite: if is_local_path(&form.suite) {
            form.suite
        } else {
            String::new()
        },
        error: Some(error),
    };
    Ok((status, web::render(&page)?).into_response())
}

async fn account_again(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    error: String,
) -> Result<Response, AppError> {
    let page = account_page(state, caller, Some(error)).await?;
    Ok((status, web::render(&page)?).into_response())
}

async fn account_page(
    state: &AppState,
    caller: &Caller,
    error: Option<String>,
) -> Result<AccountPage, AppError> {
    let commune = match &caller.commune {
        Some(code) => {
            let name: Option<String> =
                sqlx::query_scalar("SELECT name FROM communes WHERE code = $1")
                    .bind(code)
                    .fetch_optional(state.db.read())
                    .await?;
            Some(match name {
                Some(name) => format!("{name} ({code})"),
                None => code.to_string(),
            })
        }
        None => None,
    };
    Ok(AccountPage {
        chrome: Chrome::new("Mon compte", Some(caller)),
        email: caller.email.clone(),
        role: caller.role.label_fr(),
        commune,
        error,
        done: false,
        token_revoked: false,
        tokens: super::manage::own_tokens(state, caller).await?,
    })
}

/// A `Location` value for a local path: anything outside visible ASCII is
/// percent-encoded (a header carries no raw UTF-8).
fn location(path: &str) -> HeaderValue {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_graphic() {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

/// The error messages start in lower case (they follow a field name on the
/// command line); a page shows them as sentences.
pub(super) fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_from_other_sites_are_told_apart() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let host = ("host", "vigie.loire.fr");
        assert!(!sent_from_another_site(&headers(&[host])));
        assert!(!sent_from_another_site(&headers(&[
            host,
            ("origin", "https://vigie.loire.fr")
        ])));
        assert!(!sent_from_another_site(&headers(&[
            host,
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://vigie.loire.fr")
        ])));
        assert!(sent_from_another_site(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(sent_from_another_site(&headers(&[
            host,
            ("origin", "null")
        ])));
        assert!(sent_from_another_site(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        // A sibling subdomain is the same site, not the same origin.
        assert!(sent_from_another_site(&headers(&[
            host,
            ("sec-fetch-site", "same-site"),
            ("origin", "https://blog.loire.fr")
        ])));
        assert!(sent_from_another_site(&headers(&[
            host,
            ("origin", "https://vigie.loire.fr.evil.example")
        ])));
        assert!(sent_from_another_site(&headers(&[
            host,
            ("origin", "https://vigie.loire.fr:8443")
        ])));
        assert!(!sent_from_another_site(&headers(&[
            host,
            ("sec-fetch-site", "none")
        ])));
    }

    #[test]
    fn locations_are_ascii() {
        assert_eq!(location("/communes/42218"), "/communes/42218");
        assert_eq!(location("/journal?page=2"), "/journal?page=2");
        assert_eq!(location("/a b/é"), "/a%20b/%C3%A9");
    }

    #[test]
    fn messages_as_sentences() {
        assert_eq!(
            capitalized("mot de passe trop court"),
            "Mot de passe trop court."
        );
        assert_eq!(capitalized(""), "");
    }
}
