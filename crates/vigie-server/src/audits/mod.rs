//! The pre-audit (issue 10): a commune and its IT providers answer
//! questionnaires (data files, `data/questionnaires/`); Vigie scores them
//! against ANSSI's hygiene guide, names the five most critical
//! shortcomings, ranked with what the sensor and the probe saw on the
//! commune's network, delivers the diagnostic dossier (PDF through the
//! document engine), and at each follow-up round shows what improved.
//!
//! What it must never do: show a commune's audit to anyone but its users
//! and the staff (404, as for an audit that does not exist), store part of
//! a refused batch of answers, or change an old round when the
//! questionnaire files change (a round keeps the questionnaires it started
//! with).

mod api;
pub mod bulk;
mod compare;
pub mod dossier;
mod exposure;
pub(crate) mod files;
mod pages;
mod providers;
pub mod questionnaire;
pub mod score;
pub mod store;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing;

pub use compare::{Comparison, QuestionChange, Trend};
pub use exposure::Signals;
pub use files::MAX_UPLOAD;
pub use questionnaire::Book;
pub use score::{Scores, Shortcoming};
pub use store::{Audit, create, follow_up};

use crate::accounts::Caller;
use crate::web::{Access, Routes};
use crate::{AppError, AppState};

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/api/v1/questionnaires",
            Access::SignedIn,
            api::questionnaires,
        )
        .post("/api/v1/communes/{code}/audits", Access::Staff, api::create)
        .post(
            "/api/v1/audits/{audit}/follow-up",
            Access::Staff,
            api::follow_up,
        )
        .method(
            Method::PUT,
            "/api/v1/audits/{audit}/answers",
            Access::Visible,
            routing::put(api::answers),
        )
        .get("/api/v1/audits/{audit}", Access::Visible, api::show)
        .get("/communes/{code}/audits", Access::Visible, pages::history)
        .post("/communes/{code}/audits", Access::Staff, pages::start)
        .get("/audits/{audit}", Access::Visible, pages::overview)
        .get(
            "/audits/{audit}/questions",
            Access::Visible,
            pages::questions,
        )
        .post("/audits/{audit}/questions", Access::Visible, pages::save)
        .post("/audits/{audit}/suivi", Access::Staff, pages::follow_up)
        .get("/audits/{audit}/dossier.pdf", Access::Visible, dossier::pdf)
        .get("/audits/{audit}/dossier", Access::Visible, dossier::page)
        .post(
            "/audits/{audit}/prestataires",
            Access::Visible,
            providers::invite,
        )
        .method(
            Method::POST,
            "/audits/{audit}/fichiers",
            Access::Visible,
            routing::post(files::upload).layer(DefaultBodyLimit::max(files::MAX_UPLOAD)),
        )
        .get("/audits/{audit}/fichiers", Access::Visible, files::download)
        .get(
            "/audits/{audit}/pv-fin-de-mission.pdf",
            Access::Visible,
            dossier::closing_minutes,
        )
        .get(
            "/audits/{audit}/annexe-securite.pdf",
            Access::Visible,
            dossier::annex_document,
        )
        .get(
            "/audits/{audit}/annexe-securite.docx",
            Access::Visible,
            dossier::annex_document,
        )
        // A provider's own link: the token is the key (see `providers`).
        .get("/prestataire/{link}", Access::Public, providers::questions)
        .post("/prestataire/{link}", Access::Public, providers::save)
}

/// Today's questionnaires: the territory's files and the built-in ones,
/// read and checked when the configuration was (`questionnaires_dir`).
pub fn current_book(state: &AppState) -> Arc<Book> {
    state.settings.questionnaires.clone()
}

/// The audit `id` if the caller may see its commune; 404 otherwise, as
/// for one that does not exist.
pub(crate) async fn visible_audit(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Audit, AppError> {
    if id.len() > 64 {
        return Err(AppError::NotFound);
    }
    let audit = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if !caller.can_see_commune(&audit.commune) {
        return Err(AppError::NotFound);
    }
    Ok(audit)
}

/// The commune a round is about (it exists: rounds reference it).
pub(crate) async fn commune_of(
    state: &AppState,
    audit: &Audit,
) -> Result<crate::territory::Commune, AppError> {
    crate::territory::commune(&state.db, &audit.commune)
        .await?
        .ok_or(AppError::NotFound)
}

/// Everything the pages, the API and the dossier say about a round.
#[derive(Clone, Debug)]
pub struct Report {
    pub answers: std::collections::BTreeMap<String, String>,
    pub scores: Scores,
    /// Every shortcoming, most critical first.
    pub shortcomings: Vec<Shortcoming>,
    /// What changed since the round before, when there is one.
    pub comparison: Option<Comparison>,
}

impl Report {
    pub async fn of(state: &AppState, audit: &Audit, now: i64) -> Result<Report, AppError> {
        let answers = store::answer_map(&state.db, &audit.id).await?;
        let signals = Signals::of(&state.db, &audit.commune, now).await?;
        let scores = score::scores(&audit.book, &answers);
        let shortcomings = score::shortcomings(&audit.book, &answers, &signals);
        let comparison = match &audit.previous {
            Some(previous) => match store::get(&state.db, previous).await? {
                Some(before) => {
                    let before_answers = store::answer_map(&state.db, &before.id).await?;
                    Some(compare::compare(&before, &before_answers, audit, &answers))
                }
                None => None,
            },
            None => None,
        };
        Ok(Report {
            answers,
            scores,
            shortcomings,
            comparison,
        })
    }

    /// The five most critical shortcomings, each weakness once (a
    /// provider's answer on the same measures folded in as an echo).
    pub fn top(&self) -> Vec<Shortcoming> {
        score::top(&self.shortcomings)
    }
}
