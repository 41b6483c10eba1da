//! The pages that end access (issue 14): a person's own API tokens on
//! `/compte` (listed, revoked one by one), and the administrator's list of
//! accounts at `/comptes` (disable, enable, revoke every token of one).
//! Sensors are revoked from their own page (`sensors::pages`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Admin, Caller, CsrfForm, credentials};
use crate::db::now_ms;
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

/// A token as a page lists it.
pub struct TokenView {
    pub prefix: String,
    pub label: String,
    pub created: String,
    pub expires: String,
    pub state: &'static str,
    pub active: bool,
}

impl TokenView {
    pub fn of(token: &credentials::TokenInfo, now: i64) -> TokenView {
        let state = if token.revoked {
            "révoqué"
        } else if token.active(now) {
            "actif"
        } else {
            "expiré"
        };
        TokenView {
            prefix: token.prefix.clone(),
            label: token.label.clone(),
            created: crate::fr::date(token.created_at),
            expires: token
                .expires_at
                .map_or_else(|| "jamais".to_owned(), crate::fr::date),
            state,
            active: token.active(now),
        }
    }
}

struct UserView {
    id: i64,
    email: String,
    role: &'static str,
    commune: String,
    disabled: bool,
    tokens: String,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "accounts/comptes.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserView>,
    message: Option<String>,
    /// What was just done (a link sent), from the redirect's query.
    notice: Option<&'static str>,
    /// The new-account form's commune picker, in French order.
    communes: Vec<(crate::territory::CommuneCode, String)>,
}

/// The query of `/comptes` after an action.
#[derive(serde::Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    courriel: Option<String>,
}

/// A destructive action's form: its box must be ticked (issue 13: no
/// account disabled nor token revoked by a stray click; the page has no
/// script, so the confirmation is the form's own).
#[derive(serde::Deserialize, Default)]
pub struct ConfirmForm {
    #[serde(default)]
    pub confirm: Option<String>,
}

impl ConfirmForm {
    pub fn confirmed(&self) -> bool {
        self.confirm.as_deref() == Some("oui")
    }
}

#[derive(serde::Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    prefix: String,
}

/// `POST /compte/jetons/revoquer`: revokes one of the caller's own tokens.
pub async fn revoke_own_token(
    caller: Caller,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, AppError> {
    match credentials::revoke_token(&state.db, &form.prefix, Some(caller.user_id)).await {
        Ok(true) => Ok(see_other("/compte?jeton=revoque")),
        // Someone else's token, or none: the same answer.
        Ok(false) => Err(AppError::NotFound),
        Err(super::AccountError::Database(e)) => Err(e.into()),
        Err(e) => Err(AppError::BadRequest(e.to_string())),
    }
}

/// `GET /comptes`: every account, for the administrator.
pub async fn users_page(
    Admin(caller): Admin,
    State(state): State<AppState>,
    Query(query): Query<UsersQuery>,
) -> Result<Response, AppError> {
    let notice = match query.courriel.as_deref() {
        Some("bienvenue") => Some(
            "Compte créé. Un courriel part à son adresse avec un lien pour choisir son mot de passe (valable 48 heures).",
        ),
        Some("lien") => Some(
            "Un courriel part à l'adresse du compte avec un lien pour choisir un nouveau mot de passe (valable 48 heures, une seule fois). L'ancien reste valable d'ici là.",
        ),
        _ => None,
    };
    render_users(&state, &caller, None, notice, StatusCode::OK).await
}

/// The page again with `message`, for a refused form (400).
pub async fn users_again(
    state: &AppState,
    caller: &Caller,
    message: String,
) -> Result<Response, AppError> {
    render_users(state, caller, Some(message), None, StatusCode::BAD_REQUEST).await
}

const UNCONFIRMED: &str = "Cochez la case de confirmation pour faire cette action.";

/// `POST /comptes/{id}/desactiver`.
pub async fn disable(
    Admin(caller): Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let email = account_email(&state, id).await?;
    if id == caller.user_id {
        let message = "Vous ne pouvez pas désactiver votre propre compte.".to_owned();
        return users_again(&state, &caller, message).await;
    }
    if !form.confirmed() {
        return users_again(&state, &caller, UNCONFIRMED.to_owned()).await;
    }
    credentials::disable_user(&state.db, &email)
        .await
        .map_err(internal)?;
    Ok(see_other("/comptes"))
}

/// `POST /comptes/{id}/reactiver`.
pub async fn enable(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let email = account_email(&state, id).await?;
    credentials::enable_user(&state.db, &email)
        .await
        .map_err(internal)?;
    Ok(see_other("/comptes"))
}

/// `POST /comptes/{id}/jetons/revoquer`: every token of the account.
pub async fn revoke_tokens(
    Admin(caller): Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    account_email(&state, id).await?;
    if !form.confirmed() {
        return users_again(&state, &caller, UNCONFIRMED.to_owned()).await;
    }
    credentials::revoke_all_tokens(&state.db, id).await?;
    Ok(see_other("/comptes"))
}

/// The e-mail address of account `id` (404 when there is none).
async fn account_email(state: &AppState, id: i64) -> Result<String, AppError> {
    credentials::email_of(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn render_users(
    state: &AppState,
    caller: &Caller,
    message: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let users = credentials::users(&state.db)
        .await?
        .into_iter()
        .map(|user| UserView {
            is_self: user.id == caller.user_id,
            id: user.id,
            email: user.email,
            role: user.role.label_fr(),
            commune: user.commune.map(|c| c.to_string()).unwrap_or_default(),
            disabled: user.disabled,
            tokens: crate::fr::plural(user.active_tokens, "jeton actif", "jetons actifs"),
        })
        .collect();
    let page = UsersPage {
        chrome: Chrome::new("Comptes", Some(caller)),
        users,
        message,
        notice,
        communes: crate::territory::communes(&state.db)
            .await?
            .into_iter()
            .map(|c| (c.code, c.name))
            .collect(),
    };
    Ok((status, web::render(&page)?).into_response())
}

/// Tokens listed on `/compte` for `caller`.
pub async fn own_tokens(state: &AppState, caller: &Caller) -> Result<Vec<TokenView>, AppError> {
    let now = now_ms();
    Ok(credentials::tokens_of(&state.db, caller.user_id)
        .await?
        .iter()
        .map(|token| TokenView::of(token, now))
        .collect())
}

fn internal(error: super::AccountError) -> AppError {
    match error {
        super::AccountError::Database(e) => e.into(),
        super::AccountError::NoSuchUser(_) => AppError::NotFound,
        other => AppError::Internal(other.to_string()),
    }
}

fn see_other(path: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path)]).into_response()
}
