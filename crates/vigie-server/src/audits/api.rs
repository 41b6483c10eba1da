//! The pre-audit's JSON interface, for scripts (contract in docs/api.md):
//! the questionnaires, starting a round, its follow-up, answers saved in
//! bulk (all or nothing), and the scores with the top five.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::questionnaire::Book;
use super::store::{self, Audit, Update};
use super::{Report, current_book, visible_audit};
use crate::accounts::VisibleCommune;
use crate::accounts::{Caller, CsrfHeader, Staff, audit};
use crate::db::now_ms;
use crate::{AppError, AppState};

/// `GET /api/v1/questionnaires`: each questionnaire, its questions and,
/// for scored ones, their answer ids best first, then `unknown`, `na`.
pub(super) async fn questionnaires(
    State(state): State<AppState>,
    _: Caller,
) -> Result<Response, AppError> {
    let book = current_book(&state);
    Ok(Json(questionnaires_json(&book)).into_response())
}

pub(super) fn questionnaires_json(book: &Book) -> Value {
    Value::Array(
        book.questionnaires
            .iter()
            .map(|q| {
                json!({
                    "id": q.id,
                    "version": q.version,
                    "title": q.title,
                    "questions": q.questions.iter().map(|question| {
                        let mut entry = json!({ "id": question.id, "theme": question.theme, "text": question.text });
                        if question.is_scored() {
                            entry["answers"] = question.answers().into_iter().map(|a| a.id).collect();
                            entry["measures"] = json!(question.measures);
                        }
                        entry
                    }).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// `POST /api/v1/communes/{code}/audits`: a first round for the commune.
pub(super) async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    _: CsrfHeader,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let book = current_book(&state);
    let id = store::create(&state.db, &commune.code, &book, caller.user_id, now_ms()).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "audit_create",
        &format!("audit {id} of commune {}", commune.code),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// `POST /api/v1/audits/{audit}/follow-up`: a new round from this one's
/// answers, with today's questionnaires.
pub(super) async fn follow_up(
    State(state): State<AppState>,
    Staff(caller): Staff,
    _: CsrfHeader,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let previous = visible_audit(&state, &caller, &id).await?;
    let book = current_book(&state);
    let id = store::follow_up(&state.db, &previous, &book, caller.user_id, now_ms()).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "audit_follow_up",
        &format!("audit {id} follows {}", previous.id),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// An answer in a `PUT`: the answer id alone, or with a comment.
#[derive(Deserialize)]
#[serde(untagged)]
enum Given {
    Answer(String),
    Detailed {
        answer: String,
        #[serde(default)]
        comment: Option<String>,
    },
}

/// The longest comment kept with an answer.
pub(super) const MAX_COMMENT: usize = 4000;

/// Checks every given answer against the audit's questionnaires; the
/// error names the first wrong one, and nothing is stored.
pub(super) fn check(
    audit: &Audit,
    given: Vec<(String, String, Option<String>)>,
) -> Result<Vec<Update>, String> {
    given
        .into_iter()
        .map(|(question, answer, comment)| {
            let Some(asked) = audit.book.question(&question) else {
                return Err(format!(
                    "question « {question} » inconnue dans ce questionnaire"
                ));
            };
            audit.book.check_answer(asked, &answer)?;
            if comment
                .as_ref()
                .is_some_and(|c| c.chars().count() > MAX_COMMENT)
            {
                return Err(format!(
                    "question « {question} » : commentaire de {MAX_COMMENT} caractères au plus"
                ));
            }
            Ok(Update {
                question,
                answer,
                comment,
            })
        })
        .collect()
}

/// `PUT /api/v1/audits/{audit}/answers` with `{"QUESTION": "ANSWER", …}`.
pub(super) async fn answers(
    State(state): State<AppState>,
    caller: Caller,
    _: CsrfHeader,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let given: BTreeMap<String, Given> = serde_json::from_slice(&body).map_err(|e| {
        AppError::BadRequest(format!(
            "réponses illisibles (un objet JSON {{\"question\": \"réponse\"}} attendu) : {e}"
        ))
    })?;
    if given.len() > audit.book.questions().count() {
        return Err(AppError::BadRequest(
            "plus de réponses que de questions".to_owned(),
        ));
    }
    let given = given
        .into_iter()
        .map(|(question, given)| match given {
            Given::Answer(answer) => (question, answer, None),
            Given::Detailed { answer, comment } => (question, answer, comment),
        })
        .collect();
    let updates = check(&audit, given).map_err(AppError::BadRequest)?;
    let changed = store::save(
        &state.db,
        &audit.id,
        &updates,
        &format!("user:{}", caller.user_id),
        now_ms(),
    )
    .await?;
    Ok(Json(json!({ "saved": updates.len(), "changed": changed })).into_response())
}

/// `GET /api/v1/audits/{audit}`: scores, the top five, the round before.
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let report = Report::of(&state, &audit, now_ms()).await?;
    let themes: serde_json::Map<String, Value> = report
        .scores
        .themes
        .iter()
        .filter_map(|t| Some((t.id.clone(), json!(t.score?))))
        .collect();
    Ok(Json(json!({
        "id": audit.id,
        "commune": audit.commune,
        "round": audit.round,
        "score": report.scores.overall,
        "themes": themes,
        "measures": { "met": report.scores.measures_met, "assessed": report.scores.measures_assessed },
        "progress": { "answered": report.scores.answered, "applicable": report.scores.applicable },
        "top": report.top().iter().map(|s| json!({
            "question": s.question,
            "answer": s.answer,
            "measures": s.measures,
            "action": s.action,
            "who": s.who.id(),
            "effort": s.effort,
            "because": s.because,
            "also": s.echoes.iter().map(|e| json!({ "question": e.question, "answer": e.answer })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "previous": audit.previous,
    }))
    .into_response())
}
