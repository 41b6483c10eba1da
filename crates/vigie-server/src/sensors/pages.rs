//! The sensor pages: the list (`/capteurs`, silent sensors first, in red),
//! a sensor's page (its state, last report and last heartbeat, the box's
//! health in plain French), creation by the staff (the one-time code shown
//! once), and the printable installation attestation.
//!
//! Who sees what: the staff every sensor; a commune user those of its own
//! commune; any other sensor is "not found", so its existence is not told.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Months, NaiveDate};

use super::heartbeat::view::{self, Health};
use super::queries::{self, CategoryCount, LastReport, SensorRecord};
use super::state::{SensorState, last_sign_of_life, state as sensor_state};
use super::{AGREEMENT_YEARS, SensorError, enroll};
use crate::accounts::{Caller, CsrfForm, Staff, audit};
use crate::db::now_ms;
use crate::territory::CommuneCode;
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A sensor's line in the list.
struct SensorLine {
    id: String,
    commune: CommuneCode,
    commune_name: String,
    installed: String,
    last_report: String,
    /// The last heartbeat's time and software version.
    last_heartbeat: String,
    version: String,
    /// The kernel dropped packets lately: the sensor does not keep up.
    drops: bool,
    status: Status,
    reports_total: i64,
    incidents_total: i64,
    incidents_24h: i64,
}

/// What the pages say of a sensor's state, and how they mark it.
#[derive(Clone, Copy)]
struct Status {
    label: &'static str,
    /// Silent while installed: the alert, marked in red.
    alert: bool,
    /// Order in the list: alerts first, revoked sensors last.
    rank: u8,
}

#[derive(Template)]
#[template(path = "sensors/list.html")]
struct ListPage {
    chrome: Chrome,
    lines: Vec<SensorLine>,
    alerts: usize,
    silent_after_minutes: i64,
    /// The creation form, for the staff: the communes to choose from.
    communes: Option<Vec<(CommuneCode, String)>>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "sensors/created.html")]
struct CreatedPage {
    chrome: Chrome,
    sensor_id: String,
    commune: String,
    code: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "sensors/detail.html")]
struct DetailPage {
    chrome: Chrome,
    sensor: SensorRecord,
    status: Status,
    created: String,
    installed: String,
    last_report_at: String,
    /// In service, late or silent since ..., for an installed sensor.
    state_line: Option<String>,
    /// The last heartbeat, in plain French.
    health: Option<Health>,
    last: Option<LastReport>,
    last_received: String,
    last_period: String,
    counts: Vec<(&'static str, i64, i64)>,
    code_expires: Option<String>,
}

#[derive(Template)]
#[template(path = "sensors/attestation.html")]
struct AttestationPage {
    chrome: Chrome,
    territory: String,
    sensor: SensorRecord,
    installed: Option<String>,
    agreement_end: Option<String>,
    years: i32,
}

#[derive(serde::Deserialize)]
pub(super) struct CreateForm {
    #[serde(default)]
    commune: String,
}

/// `GET /capteurs`.
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    web::render(&list_page(&state, &caller, None).await?)
}

/// `POST /capteurs`: the staff creates a sensor for a commune.
pub(super) async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> Result<Response, AppError> {
    // The field may hold "42059" or "42059 — Name" (the list's suggestion).
    let commune = form.commune.split_whitespace().next().unwrap_or_default();
    let sensor = match enroll::create(&state.db, commune).await {
        Ok(sensor) => sensor,
        Err(error @ SensorError::UnknownCommune(_)) => {
            let page = list_page(&state, &caller, Some(error.to_string())).await?;
            return Ok((StatusCode::BAD_REQUEST, web::render(&page)?).into_response());
        }
        Err(SensorError::Db(e)) => return Err(e.into()),
    };
    let detail = format!("{} (commune {commune})", sensor.sensor_id);
    audit(&state.db, Some(caller.user_id), "sensor_add", &detail).await;
    let page = CreatedPage {
        chrome: Chrome::new("Capteur créé", Some(&caller)),
        sensor_id: sensor.sensor_id,
        commune: commune.to_owned(),
        code: sensor.code,
        expires: paris_time(now_ms() + enroll::CODE_LIFETIME_MS),
    };
    // The code is a secret shown once: no cache may keep the page.
    let mut response = web::render(&page)?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `POST /capteurs/{id}/revoquer`: the staff revoke a sensor (lost,
/// stolen, replaced): its token stops working at once.
pub(super) async fn revoke(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let sensor = visible(&state, &caller, &id).await?;
    match enroll::revoke_sensor(&state.db, &sensor.id).await {
        Ok(_) => {}
        Err(SensorError::Db(e)) => return Err(e.into()),
        Err(e) => return Err(AppError::Internal(e.to_string())),
    }
    audit(
        &state.db,
        Some(caller.user_id),
        "sensor_revoke_page",
        &sensor.id,
    )
    .await;
    let location = format!("/capteurs/{}", sensor.id);
    Ok((
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            header::HeaderValue::from_str(&location)
                .unwrap_or(header::HeaderValue::from_static("/capteurs")),
        )],
    )
        .into_response())
}

/// `GET /capteurs/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let sensor = visible(&state, &caller, &id).await?;
    let now = now_ms();
    let last = queries::last_report(&state.db, &sensor.id).await?;
    let counts = queries::counts_since(&state.db, &sensor.id, now - DAY_MS).await?;
    let heartbeat = queries::heartbeat(&state.db, &sensor.id).await?;
    let silent_after_secs = state.settings.silent_after_secs;
    let state_line = (sensor.installed_at.is_some() && !sensor.revoked).then(|| {
        let last_alive = last_sign_of_life(sensor.last_report_at, sensor.heartbeat_at);
        let state = sensor_state(last_alive, now, silent_after_secs);
        view::state_line(state, last_alive, now, silent_after_secs)
    });
    let page = DetailPage {
        chrome: Chrome::new(format!("Capteur {}", sensor.id), Some(&caller)),
        status: status(&sensor, now, silent_after_secs),
        state_line,
        health: heartbeat.as_ref().map(|h| Health::new(h, now)),
        created: paris_time(sensor.created_at),
        installed: sensor
            .installed_at
            .map_or_else(|| "pas encore installé".to_owned(), paris_time),
        last_report_at: sensor
            .last_report_at
            .map_or_else(|| "jamais".to_owned(), paris_time),
        last_received: last
            .as_ref()
            .map_or_else(String::new, |r| paris_time(r.received_at)),
        last_period: last.as_ref().map_or_else(String::new, period),
        last,
        counts: counts.iter().map(category_line).collect(),
        code_expires: sensor
            .enroll_expires_at
            .filter(|_| caller.is_staff() && sensor.installed_at.is_none())
            .map(paris_time),
        sensor,
    };
    web::render(&page)
}

/// `GET /capteurs/{id}/attestation`: printable, signed on paper.
pub(super) async fn attestation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let sensor = visible(&state, &caller, &id).await?;
    let installed = sensor.installed_at.and_then(paris_date);
    let agreement_end = installed.and_then(agreement_end);
    let page = AttestationPage {
        chrome: Chrome::new(
            format!("Attestation d'installation — {}", sensor.id),
            Some(&caller),
        ),
        territory: queries::territory_name(&state.db)
            .await?
            .unwrap_or_else(|| "le Département".to_owned()),
        installed: installed.map(french_date),
        agreement_end: agreement_end.map(french_date),
        years: AGREEMENT_YEARS,
        sensor,
    };
    web::render(&page)
}

/// The sensor `id` if the caller may see it; "not found" otherwise.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<SensorRecord, AppError> {
    match queries::sensor(&state.db, id).await? {
        Some(sensor) if caller.can_see_commune(&sensor.commune) => Ok(sensor),
        _ => Err(AppError::NotFound),
    }
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    error: Option<String>,
) -> Result<ListPage, AppError> {
    let filter = if caller.is_staff() {
        None
    } else {
        // A commune user without a commune sees nothing.
        Some(caller.commune.as_deref().unwrap_or(""))
    };
    let now = now_ms();
    let records = queries::sensors(&state.db, filter).await?;
    let recent = queries::totals_since(&state.db, now - DAY_MS).await?;
    let mut lines: Vec<SensorLine> = records
        .into_iter()
        .map(|s| SensorLine {
            status: status(&s, now, state.settings.silent_after_secs),
            installed: s.installed_at.map_or_else(|| "—".to_owned(), paris_time),
            last_report: s
                .last_report_at
                .map_or_else(|| "jamais".to_owned(), paris_time),
            last_heartbeat: s
                .heartbeat_at
                .map_or_else(|| "jamais".to_owned(), paris_time),
            version: s.heartbeat_version.clone().unwrap_or_default(),
            drops: view::drops_recent(s.drops_grew_at, now),
            incidents_24h: recent.get(&s.id).copied().unwrap_or(0),
            reports_total: s.reports_total,
            incidents_total: s.incidents_total,
            id: s.id,
            commune: s.commune,
            commune_name: s.commune_name,
        })
        .collect();
    lines.sort_by(|a, b| {
        a.status
            .rank
            .cmp(&b.status.rank)
            .then_with(|| a.commune.cmp(&b.commune))
    });
    let communes = if caller.is_staff() {
        Some(queries::communes(&state.db).await?)
    } else {
        None
    };
    Ok(ListPage {
        chrome: Chrome::new("Capteurs", Some(caller)),
        alerts: lines.iter().filter(|l| l.status.alert).count(),
        lines,
        silent_after_minutes: state.settings.silent_after_secs / 60,
        communes,
        error,
    })
}

fn status(sensor: &SensorRecord, now: i64, silent_after_secs: i64) -> Status {
    if sensor.revoked {
        return Status {
            label: "révoqué",
            alert: false,
            rank: 4,
        };
    }
    if sensor.installed_at.is_none() {
        return Status {
            label: "en attente d'installation",
            alert: false,
            rank: 3,
        };
    }
    let last_alive = last_sign_of_life(sensor.last_report_at, sensor.heartbeat_at);
    let state = sensor_state(last_alive, now, silent_after_secs);
    let rank = match state {
        SensorState::Silent => 0,
        SensorState::Late => 1,
        SensorState::Reporting => 2,
    };
    Status {
        label: state.label_fr(),
        alert: state.is_alert(),
        rank,
    }
}

fn category_line(count: &CategoryCount) -> (&'static str, i64, i64) {
    let label = vigie_core::Category::ALL
        .iter()
        .find(|c| c.as_str() == count.category)
        .map_or("Autre", |c| c.label_fr());
    (label, count.inbound, count.outbound)
}

fn period(report: &LastReport) -> String {
    match (report.first_seen, report.last_seen) {
        (Some(first), Some(last)) => format!("du {} au {}", paris_time(first), paris_time(last)),
        _ => "aucun trafic".to_owned(),
    }
}

/// `22/11/2026 09:45`, Europe/Paris.
pub(super) fn paris_time(ms: i64) -> String {
    crate::fr::date_time(ms)
}

fn paris_date(ms: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(ms).map(vigie_core::local_day)
}

/// The agreement's last day is its anniversary, 3 years on (a 29 February
/// gives 28 February).
fn agreement_end(installed: NaiveDate) -> Option<NaiveDate> {
    installed.checked_add_months(Months::new(12 * AGREEMENT_YEARS.unsigned_abs()))
}

/// `1er mars 2026`, `22 novembre 2026`.
fn french_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let month = MONTHS
        .get(date.month0() as usize)
        .copied()
        .unwrap_or_default();
    let day = if date.day() == 1 {
        "1er".to_owned()
    } else {
        date.day().to_string()
    };
    format!("{day} {month} {}", date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn agreement_runs_three_years() {
        assert_eq!(agreement_end(date("2026-11-22")), Some(date("2029-11-22")));
        assert_eq!(agreement_end(date("2028-02-29")), Some(date("2031-02-28")));
    }

    #[test]
    fn dates_in_french() {
        assert_eq!(french_date(date("2026-03-01")), "1er mars 2026");
        assert_eq!(french_date(date("2026-11-22")), "22 novembre 2026");
    }

    #[test]
    fn times_in_paris() {
        // 2026-01-15T23:30:00Z is 00:30 on the 16th in Paris (winter).
        assert_eq!(paris_time(1_768_519_800_000), "16/01/2026 00:30");
    }
}
