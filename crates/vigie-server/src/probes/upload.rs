//! `POST /api/v1/probes`: a probe's `vigie.probe/1` document, sent by the
//! staff (a personal API token `Authorization: Bearer vgt_…`, or a session
//! with its CSRF token in `X-CSRF-Token`), checked whole before anything
//! is stored. Every refusal is a 4xx whose JSON `error` names the field.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vigie_core::probe::ProbeReport;

use super::store;
use crate::accounts::{CsrfHeader, Staff, audit};
use crate::db::now_ms;
use crate::{AppError, AppState};

/// Largest accepted document: a /16 of hosts with their findings stays
/// far below; the probe's own bounds ([`vigie_core::probe::MAX_FINDINGS`])
/// are checked after.
pub const MAX_PROBE_BYTES: usize = 32 * 1024 * 1024;

/// A scan may end at most this far ahead of the server's clock (a wrong
/// clock on the probe's laptop, not a scan of tomorrow).
const MAX_AHEAD_MS: i64 = 24 * 3600 * 1000;

pub(super) async fn receive(
    State(state): State<AppState>,
    Staff(caller): Staff,
    _: CsrfHeader,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::BadRequest(format!(
                "rapport de sonde trop gros : au plus {MAX_PROBE_BYTES} octets."
            ))
        } else {
            AppError::BadRequest(format!("corps illisible : {}", rejection.body_text()))
        }
    })?;
    let now = now_ms();
    let report = parse(&body, now).map_err(AppError::BadRequest)?;
    let stored = store::store(&state.db, &report, Some(caller.user_id), now).await?;
    let commune = report.commune.as_deref().unwrap_or_default();
    let status = if stored.duplicate {
        tracing::info!(scan = stored.id, commune, "probe report sent again");
        StatusCode::OK
    } else {
        let detail = format!("scan {} of commune {commune}", stored.id);
        audit(&state.db, Some(caller.user_id), "probe_upload", &detail).await;
        StatusCode::CREATED
    };
    let answer = serde_json::json!({
        "status": if stored.duplicate { "duplicate" } else { "stored" },
        "id": stored.id,
        "page": format!("/sondes/{}", stored.id),
    });
    Ok((status, Json(answer)).into_response())
}

/// Reads and checks a document received at `now` (Unix ms); the error is
/// the French message the uploader gets, naming the field.
pub fn parse(body: &[u8], now: i64) -> Result<ProbeReport, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let report: ProbeReport = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        // "." is the document itself; "?" a place serde could not name
        // (broken JSON).
        if path == "." || path == "?" {
            format!("rapport de sonde illisible (JSON vigie.probe/1 attendu) : {inner}")
        } else {
            format!("rapport de sonde illisible : champ « {path} » : {inner}")
        }
    })?;
    deserializer
        .end()
        .map_err(|e| format!("rapport de sonde illisible : texte après le document ({e})"))?;
    report
        .validate()
        .map_err(|e| format!("rapport de sonde refusé : {e}"))?;
    if report.finished_at.timestamp_millis() > now + MAX_AHEAD_MS {
        return Err(
            "rapport de sonde refusé : champ « finished_at » dans le futur (horloge de la sonde fausse ?)"
                .to_owned(),
        );
    }
    if report.commune.is_none() {
        return Err(
            "champ « commune » manquant : le périmètre de la sonde doit nommer la commune (code INSEE)."
                .to_owned(),
        );
    }
    Ok(report)
}
