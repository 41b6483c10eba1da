//! Accounts created and passwords reset from the web (issue 13). The
//! administrator never chooses nor sees anyone's password: creating an
//! account or resetting its password writes a link to the outbox, sent to
//! the account's address; the link (a random token, only its hash kept)
//! works once, for [`RESET_LIFETIME_MS`], and its page applies the same
//! password rules as everywhere else (`users::check_new_password`).
//! Choosing the password ends the account's sessions.
//!
//! What it must never do: show or log a token, let a link work twice or
//! after it expired, or tell a stranger whether an address has an account
//! (the links are sent by the administrator, never asked for by address).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::users::{check_new_password, normalize_email};
use super::{Admin, CsrfForm, Role, add_user, audit, credentials, session};
use crate::db::{now_ms, random_hex, token_hash};
use crate::outbox::{self, Email};
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

/// How long a link works: two days, so that one sent on a Friday evening
/// still works on Monday morning... at a pinch; a new one is a click away.
pub const RESET_LIFETIME_MS: i64 = 48 * 3600 * 1000;

/// The fields of the administrator's "new account" form.
#[derive(serde::Deserialize, Default)]
pub struct NewAccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    commune: String,
}

/// The fields of the "choose your password" form.
#[derive(serde::Deserialize, Default)]
pub struct ChooseForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

#[derive(Template)]
#[template(path = "accounts/mot_de_passe.html")]
struct ChoosePage {
    chrome: Chrome,
    /// The account's address, when the link works.
    email: Option<String>,
    error: Option<String>,
    done: bool,
    min_chars: usize,
}

/// Why the mail is sent: the subject and first sentence differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Welcome,
    Reset,
}

#[derive(Template)]
#[template(path = "mail/password_link.txt")]
struct LinkText<'a> {
    m: &'a LinkMail,
}

#[derive(Template)]
#[template(path = "mail/password_link.html")]
struct LinkHtml<'a> {
    m: &'a LinkMail,
}

struct LinkMail {
    welcome: bool,
    email: String,
    role: &'static str,
    link: String,
    expires: String,
    territory: String,
}

/// `POST /comptes`: the administrator creates an account; its owner gets
/// a link to choose a password.
pub async fn create(
    Admin(caller): Admin,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<Response, AppError> {
    let again = |message: String| super::manage::users_again(&state, &caller, message);
    let Some(role) = Role::parse(form.role.trim()) else {
        return again("Choisissez le rôle du compte.".to_owned()).await;
    };
    // The field may hold "42059" or "42059 — Name" (the list's suggestion).
    let commune = form.commune.split_whitespace().next();
    let commune = if role == Role::Commune { commune } else { None };
    // Nobody knows this password: the owner chooses theirs by the link.
    let placeholder = random_hex(24);
    let id = match add_user(&state.db, &form.email, role, commune, &placeholder).await {
        Ok(id) => id,
        Err(super::AccountError::Database(e)) => return Err(e.into()),
        Err(e) => return again(super::pages::capitalized(&e.to_string())).await,
    };
    let email = normalize_email(&form.email);
    send_link(&state, id, &email, role, Why::Welcome).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "password_reset_sent",
        &format!("{email} (nouveau compte)"),
    )
    .await;
    Ok(see_other("/comptes?courriel=bienvenue"))
}

/// `POST /comptes/{user}/reinitialiser`: sends the account a link to
/// choose a new password (the old one keeps working until then).
pub async fn reset(
    Admin(caller): Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let user = credentials::users(&state.db)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(AppError::NotFound)?;
    send_link(&state, id, &user.email, user.role, Why::Reset).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "password_reset_sent",
        &user.email,
    )
    .await;
    Ok(see_other("/comptes?courriel=lien"))
}

/// `GET /mot-de-passe/{token}`: the link's page (public: the token is the
/// credential). 404 with an explanation when it does not work.
pub async fn form(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match valid(&state, &token).await {
        Ok(Some((_, email))) => page(StatusCode::OK, Some(email), None, false),
        Ok(None) => page(StatusCode::NOT_FOUND, None, None, false),
        Err(e) => e.into_response(),
    }
}

/// `POST /mot-de-passe/{token}`: sets the password, once.
pub async fn choose(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<ChooseForm>,
) -> Result<Response, AppError> {
    let Some((user_id, email)) = valid(&state, &token).await? else {
        return Ok(page(StatusCode::NOT_FOUND, None, None, false));
    };
    let refused = |message: String| {
        Ok(page(
            StatusCode::BAD_REQUEST,
            Some(email.clone()),
            Some(message),
            false,
        ))
    };
    if form.password != form.password_again {
        return refused("Les deux saisies du mot de passe sont différentes.".to_owned());
    }
    if let Err(e) = check_new_password(&form.password, &email) {
        return refused(super::pages::capitalized(&e.to_string()));
    }
    let hash = super::password::hash(&form.password).await?;
    let now = now_ms();
    let mut tx = state.db.pool.begin().await?;
    // The link is spent here, in the same transaction: two tabs sending
    // the form at once set one password, the other is told it is used.
    let spent = sqlx::query(
        "UPDATE password_resets SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_hash(&token))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if spent != 1 {
        return Ok(page(StatusCode::NOT_FOUND, None, None, false));
    }
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    session::close_others(&state.db, user_id, None).await?;
    audit(&state.db, Some(user_id), "password_reset", &email).await;
    Ok(page(StatusCode::OK, Some(email), None, true))
}

/// The account of a working link: (id, e-mail).
async fn valid(state: &AppState, token: &str) -> Result<Option<(i64, String)>, AppError> {
    // A token is 64 hex digits: anything else is no link of ours.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(sqlx::query_as(
        "SELECT u.id, u.email FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2
             AND u.disabled = 0",
    )
    .bind(token_hash(token))
    .bind(now_ms())
    .fetch_optional(state.db.read())
    .await?)
}

/// Writes the link and its e-mail in one transaction.
async fn send_link(
    state: &AppState,
    user_id: i64,
    email: &str,
    role: Role,
    why: Why,
) -> Result<(), AppError> {
    let token = random_hex(32);
    let now = now_ms();
    let public_url = state.settings.public_url.trim_end_matches('/');
    let mail = LinkMail {
        welcome: why == Why::Welcome,
        email: email.to_owned(),
        role: role.label_fr(),
        link: format!("{public_url}/mot-de-passe/{token}"),
        expires: crate::fr::date_time(now + RESET_LIFETIME_MS),
        territory: crate::territory::territory_name(&state.db).await?,
    };
    let text = LinkText { m: &mail }.render();
    let html = LinkHtml { m: &mail }.render();
    let (Ok(text), Ok(html)) = (text, html) else {
        return Err(AppError::Internal("mail template".to_owned()));
    };
    let subject = match why {
        Why::Welcome => "Vigie : votre compte est prêt, choisissez votre mot de passe",
        Why::Reset => "Vigie : choisissez un nouveau mot de passe",
    };
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + RESET_LIFETIME_MS)
    .execute(&mut *tx)
    .await?;
    let email = Email {
        kind: "password_link",
        recipient: email.to_owned(),
        subject: subject.to_owned(),
        text,
        html,
    };
    outbox::enqueue(&mut tx, &email, public_url, now).await?;
    tx.commit().await?;
    Ok(())
}

fn page(status: StatusCode, email: Option<String>, error: Option<String>, done: bool) -> Response {
    let page = ChoosePage {
        chrome: Chrome::new("Choisir un mot de passe", None),
        email,
        error,
        done,
        min_chars: super::MIN_PASSWORD_CHARS,
    };
    match web::render(&page) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

fn see_other(path: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path)]).into_response()
}
