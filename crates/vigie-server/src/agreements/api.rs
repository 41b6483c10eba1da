//! The programme's JSON interface, for scripts (contract in docs/api.md):
//! the offers, creating an agreement, where one stands, recording what
//! happens to it, and what is due over a range of days.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::calendar;
use super::dates::Termination;
use super::offers::Party;
use super::service::{self, Fact, Request, View};
use super::store::{Costs, DataAtEnd, Referent};
use super::today;
use crate::accounts::{Caller, CsrfHeader, Staff};
use crate::{AppError, AppState};

/// `GET /api/v1/offers`: `[{"id", "title", …}]`.
pub(super) async fn offers(State(state): State<AppState>, _: Caller) -> Json<Value> {
    Json(Value::Array(
        state
            .settings
            .offers
            .all()
            .map(|o| {
                json!({
                    "id": o.id,
                    "title": o.title,
                    "summary": o.summary,
                    "commune_population_below": o.eligibility.commune_population_below,
                    "epci_population_below": o.eligibility.epci_population_below,
                })
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewAgreement {
    commune: String,
    offer: String,
    #[serde(default)]
    signed_on: Option<String>,
    #[serde(default)]
    starts_on: Option<String>,
    #[serde(default)]
    commune_referent: Option<Referent>,
    #[serde(default)]
    territory_referent: Option<Referent>,
    #[serde(default)]
    costs: Option<Costs>,
    #[serde(default)]
    data_at_end: Option<DataAtEnd>,
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("corps JSON invalide : {e}")))
}

/// A day of the API: `YYYY-MM-DD`, named by its field when wrong.
pub(super) fn day(text: &str, field: &str) -> Result<NaiveDate, AppError> {
    text.trim().parse().map_err(|_| {
        AppError::Unprocessable(format!(
            "« {field} » doit être une date au format AAAA-MM-JJ, pas « {text} »."
        ))
    })
}

/// `POST /api/v1/agreements`: 201 `{"id"}`, or 422 `{"error"}` in French.
pub(super) async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    _: CsrfHeader,
    bytes: axum::body::Bytes,
) -> Result<Response, AppError> {
    let new: NewAgreement = body(&bytes)?;
    let request = Request {
        commune: new.commune,
        offer: new.offer,
        signed_on: new
            .signed_on
            .as_deref()
            .map(|d| day(d, "signed_on"))
            .transpose()?,
        starts_on: new
            .starts_on
            .as_deref()
            .map(|d| day(d, "starts_on"))
            .transpose()?,
        commune_referent: new.commune_referent,
        territory_referent: new.territory_referent,
        costs: new.costs,
        data_at_end: new.data_at_end,
    };
    let id = service::create(&state, &caller, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// `GET /api/v1/agreements/{agreement}`.
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let (agreement, offer) = service::visible(&state, &caller, &id).await?;
    let view = service::view(&state, agreement, offer, today()).await?;
    Ok(Json(view_json(&view)))
}

fn day_json(day: Option<NaiveDate>) -> Value {
    day.map_or(Value::Null, |d| Value::String(d.to_string()))
}

pub(super) fn view_json(view: &View) -> Value {
    let s = &view.schedule;
    json!({
        "id": view.agreement.id,
        "commune": view.agreement.commune,
        "offer": view.offer.id,
        "status": s.status.id(),
        "signed_on": day_json(view.facts.signed_on),
        "starts_on": day_json(s.starts_on),
        "ends_on": day_json(s.ends_on),
        "end_cause": s.end_cause,
        "notice_by": day_json(s.notice_by),
        "renews_on": day_json(s.renews_on),
        "period": s.period.map(|p| json!({"number": p.number, "starts_on": p.starts_on.to_string(), "ends_on": p.ends_on.to_string()})),
        "steps": s.steps,
        "deliverables": view.deliverables,
        "commune_referent": view.agreement.commune_referent,
        "territory_referent": view.agreement.territory_referent,
        "costs": view.agreement.costs,
        "data_at_end": view.agreement.data_at_end,
    })
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    commune: Option<String>,
}

/// `GET /api/v1/agreements?commune=CODE`: the agreements the caller may
/// see (one commune's, if asked).
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let agreements = match (query.commune.as_deref(), &caller.commune) {
        (Some(code), _) if caller.can_see_commune(code) => {
            super::store::of_commune(&state.db, code).await?
        }
        (Some(_), _) => Vec::new(),
        (None, _) if caller.is_staff() => super::store::all(&state.db).await?,
        (None, Some(own)) => super::store::of_commune(&state.db, own).await?,
        (None, None) => Vec::new(),
    };
    let mut out = Vec::new();
    for agreement in agreements {
        let Some(offer) = state.settings.offers.get(&agreement.offer).cloned() else {
            continue;
        };
        let view = service::view(&state, agreement, offer, today()).await?;
        out.push(view_json(&view));
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewEvent {
    kind: String,
    on: String,
    #[serde(default)]
    step: Option<String>,
    #[serde(default)]
    by: Option<Party>,
    #[serde(default)]
    ends_on: Option<String>,
}

/// `POST /api/v1/agreements/{agreement}/events`: `{"kind": "signed" |
/// "started" | "step_done" | "completed" | "notice" | "non_renewal" |
/// "decided", "on", …}`; the agreement as `GET` shows it, or 422.
pub(super) async fn event(
    State(state): State<AppState>,
    Staff(caller): Staff,
    _: CsrfHeader,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let (agreement, offer) = service::visible(&state, &caller, &id).await?;
    let new: NewEvent = body(&bytes)?;
    let on = day(&new.on, "on")?;
    let by = || {
        new.by.ok_or_else(|| {
            AppError::Unprocessable(
                "« by » dit qui résilie : \"territory\" ou \"commune\".".to_owned(),
            )
        })
    };
    let fact = match new.kind.as_str() {
        "signed" => Fact::Signed(on),
        "started" => Fact::Started(on),
        "step_done" => Fact::StepDone {
            step: new.step.clone().unwrap_or_default(),
            on,
        },
        "completed" => Fact::Completed(on),
        "notice" => Fact::Terminated(Termination::Notice {
            given_on: on,
            by: by()?,
        }),
        "non_renewal" => Fact::Terminated(Termination::NonRenewal {
            given_on: on,
            by: by()?,
        }),
        "decided" => Fact::Terminated(Termination::Decided {
            given_on: on,
            ends_on: day(new.ends_on.as_deref().unwrap_or_default(), "ends_on")?,
        }),
        other => {
            return Err(AppError::Unprocessable(format!(
                "« {other} » n'est pas un événement : signed, started, step_done, completed, notice, non_renewal ou decided."
            )));
        }
    };
    service::record(&state, &caller, &agreement, &offer, fact).await?;
    let (agreement, offer) = service::visible(&state, &caller, &id).await?;
    let view = service::view(&state, agreement, offer, today()).await?;
    Ok(Json(view_json(&view)))
}

#[derive(Deserialize)]
pub(super) struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/deadlines?from=YYYY-MM-DD&to=YYYY-MM-DD`: what is due in
/// that range (today and the next 90 days by default), for what the
/// caller may see.
pub(super) async fn deadlines(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RangeQuery>,
) -> Result<Json<Value>, AppError> {
    let (from, to) = range(&query)?;
    let due = calendar::deadlines(&state, &caller, from, to).await?;
    Ok(Json(serde_json::to_value(due).unwrap_or_default()))
}

pub(super) fn range(query: &RangeQuery) -> Result<(NaiveDate, NaiveDate), AppError> {
    let parse = |text: &str, field: &str| {
        text.trim().parse::<NaiveDate>().map_err(|_| {
            AppError::BadRequest(format!(
                "« {field} » doit être une date au format AAAA-MM-JJ, pas « {text} »."
            ))
        })
    };
    let from = match query.from.as_deref() {
        Some(text) => parse(text, "from")?,
        None => today(),
    };
    let to = match query.to.as_deref() {
        Some(text) => parse(text, "to")?,
        None => from + chrono::Duration::days(90),
    };
    calendar::checked_range(from, to)?;
    Ok((from, to))
}
