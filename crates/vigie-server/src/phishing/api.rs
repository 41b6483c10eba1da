//! The campaigns' JSON interface, for scripts (contract in docs/api.md):
//! the scenarios, starting a campaign, its figures, its purge.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{self, Campaign};
use super::targets::Target;
use super::{Request, create_campaign, purge_campaign, visible_campaign};
use crate::accounts::{Caller, CsrfHeader, Staff};
use crate::db::now_ms;
use crate::{AppError, AppState};

/// `GET /api/v1/scenarios`: `[{"id", "title"}]`.
pub(super) async fn scenarios(State(state): State<AppState>, _: Caller) -> Json<Value> {
    Json(Value::Array(
        state
            .settings
            .scenarios
            .all()
            .map(|s| json!({ "id": s.id, "title": s.title }))
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewCampaign {
    commune: String,
    scenarios: Vec<String>,
    targets_csv: String,
    start: String,
    end: String,
    #[serde(default)]
    rate_per_hour: Option<u32>,
}

/// `POST /api/v1/campaigns`: `{"id"}`, 201; a targets file with bad lines
/// is 422, naming each.
pub(super) async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    _: CsrfHeader,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let new: NewCampaign = serde_json::from_slice(&body)
        .map_err(|e| AppError::BadRequest(format!("corps JSON invalide : {e}")))?;
    let targets: Vec<Target> = super::targets::from_csv(new.targets_csv.as_bytes())
        .map_err(|errors| AppError::Unprocessable(errors.to_string()))?;
    let request = Request {
        commune: new.commune,
        scenarios: new.scenarios,
        targets,
        start: parse_day(&new.start, "start")?,
        end: parse_day(&new.end, "end")?,
        rate_per_hour: new.rate_per_hour,
    };
    let id = create_campaign(&state, &caller, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

fn parse_day(text: &str, field: &str) -> Result<chrono::NaiveDate, AppError> {
    text.trim().parse().map_err(|_| {
        AppError::BadRequest(format!(
            "« {field} » doit être une date au format AAAA-MM-JJ, pas « {text} »."
        ))
    })
}

/// `GET /api/v1/campaigns/{campaign}`: where it stands and its figures.
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let campaign = visible_campaign(&state, &caller, &id).await?;
    Ok(Json(figures_json(&state, &campaign).await?))
}

pub(super) async fn figures_json(state: &AppState, campaign: &Campaign) -> Result<Value, AppError> {
    state.tracker.flush(&state.db, now_ms()).await?;
    let summary = store::summary(&state.db, campaign).await?;
    let total = summary.total;
    let status = campaign.status(chrono::Utc::now(), total.sent);
    Ok(json!({
        "id": campaign.id,
        "commune": campaign.commune,
        "scenarios": campaign.scenarios,
        "start": campaign.start.to_string(),
        "end": campaign.end.to_string(),
        "status": status.as_str(),
        "targets": total.targets,
        "sent": total.sent,
        "opened": total.opened,
        "clicked": total.clicked,
        "submitted": total.submitted,
        "scanner_clicks": total.scanner_clicks,
        "by_role": summary.by_role,
        "by_scenario": summary.by_scenario,
        "purge_due_at": rfc3339(campaign.purge_due_at),
        "purged_at": campaign.purged_at.map(rfc3339),
    }))
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// `POST /api/v1/campaigns/{campaign}/purge`: now, whatever its date.
pub(super) async fn purge(
    State(state): State<AppState>,
    Staff(caller): Staff,
    _: CsrfHeader,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let campaign = visible_campaign(&state, &caller, &id).await?;
    purge_campaign(&state, Some(&caller), &campaign).await?;
    let campaign = store::get(&state.db, &campaign.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(json!({
        "id": campaign.id,
        "purged_at": campaign.purged_at.map(rfc3339),
    })))
}
