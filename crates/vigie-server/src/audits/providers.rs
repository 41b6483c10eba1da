//! The IT providers' links: the commune or the staff invite each provider
//! by name (and e-mail, sent through the outbox); the provider opens its
//! own link, with no account, and answers the provider questionnaire of
//! that round only. A link is valid while the round runs: 120 days, and no
//! longer once the next round has started. Its answers are the round's,
//! seen by the commune and the staff, marked with the provider's name.
//!
//! What it must never do: open anything but that questionnaire, keep the
//! token itself (only its hash), or tell a stranger more than « this link
//! does not exist » (the flood limit counts every unknown link as a guess).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::FromRow;

use super::pages::{PageQuery, QuestionsView, questions_view};
use super::questionnaire::Audience;
use super::store::{self, Audit};
use super::visible_audit;
use crate::accounts::{Caller, CsrfForm, audit};
use crate::db::{Flag, now_ms, random_hex, token_hash};
use crate::outbox::{self, Email};
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// How long a link stays valid.
pub const LINK_DAYS: i64 = 120;
/// The longest provider name and e-mail kept.
const MAX_NAME: usize = 200;

#[derive(Clone, Debug, FromRow)]
pub struct Provider {
    pub id: i64,
    pub audit_id: String,
    pub name: String,
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
    #[sqlx(try_from = "Flag")]
    pub revoked: bool,
}

impl Provider {
    pub fn usable(&self, now: i64) -> bool {
        !self.revoked && now < self.expires_at
    }

    /// « valable jusqu'au 05/04/2027 », « expiré », « fermé ».
    pub fn state(&self, now: i64) -> String {
        if self.revoked {
            "fermé (étape suivante commencée)".to_owned()
        } else if now >= self.expires_at {
            "expiré".to_owned()
        } else {
            format!("valable jusqu'au {}", fr::date(self.expires_at))
        }
    }
}

const COLUMNS: &str = "id, audit_id, name, email, created_at, expires_at, revoked";

pub async fn list(db: &crate::Db, audit: &str) -> Result<Vec<Provider>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_providers WHERE audit_id = $1 ORDER BY id"
    ))
    .bind(audit)
    .fetch_all(db.read())
    .await?)
}

async fn by_token(db: &crate::Db, token: &str) -> Result<Option<Provider>, AppError> {
    if token.len() > 64 {
        return Ok(None);
    }
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_providers WHERE token_hash = $1"
    ))
    .bind(token_hash(token))
    .fetch_optional(&db.pool)
    .await?)
}

#[derive(Deserialize)]
pub(super) struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "audits/invited.html")]
struct InvitedPage {
    chrome: Chrome,
    audit: String,
    name: String,
    link: String,
    emailed: Option<String>,
    until: String,
}

#[derive(Template)]
#[template(path = "mail/provider_invite.txt")]
struct InviteText<'a> {
    m: &'a InviteMail,
}

#[derive(Template)]
#[template(path = "mail/provider_invite.html")]
struct InviteHtml<'a> {
    m: &'a InviteMail,
}

struct InviteMail {
    name: String,
    commune: String,
    link: String,
    until: String,
}

/// `POST /audits/{audit}/prestataires`: a link for one provider, shown
/// once, and e-mailed when an address is given.
pub(super) async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, AppError> {
    let audit_row = visible_audit(&state, &caller, &id).await?;
    let name = form.name.trim().to_owned();
    let email = form.email.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(AppError::BadRequest(
            "« Nom du prestataire » : de 1 à 200 caractères.".to_owned(),
        ));
    }
    if !email.is_empty()
        && (email.chars().count() > MAX_NAME
            || !email.contains('@')
            || email.contains(char::is_whitespace))
    {
        return Err(AppError::BadRequest(format!(
            "« Adresse électronique » : « {email} » n'est pas une adresse."
        )));
    }
    let commune = super::commune_of(&state, &audit_row).await?;
    let now = now_ms();
    let expires = now.saturating_add(LINK_DAYS * 86_400_000);
    let token = format!("vgp_{}", random_hex(16));
    let link = format!("{}/prestataire/{token}", state.settings.public_url);
    let until = fr::date(expires);
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO audit_providers (audit_id, name, email, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&audit_row.id)
    .bind(&name)
    .bind(&email)
    .bind(token_hash(&token))
    .bind(now)
    .bind(expires)
    .execute(&mut *tx)
    .await?;
    let emailed = if email.is_empty() {
        None
    } else {
        let mail = InviteMail {
            name: name.clone(),
            commune: commune.name.clone(),
            link: link.clone(),
            until: until.clone(),
        };
        let text = InviteText { m: &mail }
            .render()
            .map_err(|e| AppError::Internal(format!("mail template: {e}")))?;
        let html = InviteHtml { m: &mail }
            .render()
            .map_err(|e| AppError::Internal(format!("mail template: {e}")))?;
        let message = Email {
            kind: "provider_invite",
            recipient: email.clone(),
            subject: format!(
                "Questionnaire de cybersécurité de la mairie de {}",
                commune.name
            ),
            text,
            html,
        };
        outbox::enqueue(&mut tx, &message, &state.settings.public_url, now).await?;
        Some(email)
    };
    tx.commit().await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "audit_provider_invite",
        &format!("audit {} provider {name}", audit_row.id),
    )
    .await;
    render(&InvitedPage {
        chrome: Chrome::new(format!("Lien pour {name}"), Some(&caller)),
        audit: audit_row.id,
        name,
        link,
        emailed,
        until,
    })
}

/// The provider and its round, if the link is usable; a French page
/// otherwise (404 for a link that does not exist, 410 for one that ended).
async fn open(state: &AppState, token: &str) -> Result<(Provider, Audit), Response> {
    let fail = |e: AppError| e.into_response();
    let provider = by_token(&state.db, token)
        .await
        .map_err(fail)?
        .ok_or_else(|| AppError::NotFound.into_response())?;
    if !provider.usable(now_ms()) {
        return Err(gone(&provider));
    }
    let audit = store::get(&state.db, &provider.audit_id)
        .await
        .map_err(fail)?
        .ok_or_else(|| AppError::NotFound.into_response())?;
    Ok((provider, audit))
}

#[derive(Template)]
#[template(path = "audits/link_gone.html")]
struct GonePage {
    chrome: Chrome,
    state: String,
}

fn gone(provider: &Provider) -> Response {
    let page = GonePage {
        chrome: Chrome::new("Lien terminé", None),
        state: provider.state(now_ms()),
    };
    match render(&page) {
        Ok(mut response) => {
            *response.status_mut() = StatusCode::GONE;
            response
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /prestataire/{token}?page=N`: the provider questionnaire's pages.
pub(super) async fn questions(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, Response> {
    let (provider, audit) = open(&state, &token).await?;
    let commune = super::commune_of(&state, &audit)
        .await
        .map_err(IntoResponse::into_response)?;
    let view = QuestionsView {
        chrome: Chrome::new(
            format!("Questionnaire prestataire — {}", commune.name),
            None,
        ),
        action: format!("/prestataire/{token}"),
        back: None,
        autosave: false,
        greeting: Some(format!(
            "Bonjour {}. La mairie de {} vous demande de répondre à ces questions sur ce que vous faites pour sa sécurité informatique. Vos réponses sont enregistrées à chaque page ; la mairie et l'équipe du territoire les verront.",
            provider.name, commune.name
        )),
        done: query.fini.is_some(),
    };
    questions_view(
        &state,
        &audit,
        commune,
        Some(Audience::Provider),
        query.page,
        view,
    )
    .await
    .map_err(IntoResponse::into_response)
}

/// `POST /prestataire/{token}`: the page's answers, then the next page or
/// the thanks.
pub(super) async fn save(
    State(state): State<AppState>,
    Path(token): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let (provider, audit) = open(&state, &token).await?;
    let (page, updates) =
        super::pages::read_form(&audit, fields).map_err(IntoResponse::into_response)?;
    let provider_only: Vec<_> = updates
        .into_iter()
        .filter(|update| {
            audit.book.questions().any(|(q, question)| {
                q.audience == Audience::Provider && question.id == update.question
            })
        })
        .collect();
    store::save(
        &state.db,
        &audit.id,
        &provider_only,
        &format!("provider:{}", provider.id),
        now_ms(),
    )
    .await
    .map_err(IntoResponse::into_response)?;
    let pages = super::pages::pages_for(&audit.book, Some(Audience::Provider)).len();
    let target = if page + 1 < pages {
        format!("/prestataire/{token}?page={}", page + 1)
    } else {
        format!("/prestataire/{token}?page={}&fini=1", page)
    };
    Ok(Redirect::to(&target).into_response())
}
