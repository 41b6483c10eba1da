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
use super::verdict::Verdict;
use super::{AGREEMENT_YEARS, SensorError, enroll};
use crate::accounts::{Caller, ConfirmForm, CsrfForm, Staff, audit};
use crate::cybermeteo::advice::{Book, Contact};
use crate::db::now_ms;
use crate::fr;
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
    /// The last report or heartbeat, whichever came last.
    last_alive: String,
    /// The software version its last heartbeat gave ("—" before any).
    version: String,
    /// The kernel dropped packets lately: the sensor does not keep up.
    drops: bool,
    status: Status,
    reports_total: String,
    incidents_total: String,
    incidents_24h: String,
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

/// The commune's "Mon boîtier": each box, working or not, and what to do.
#[derive(Template)]
#[template(path = "sensors/mine.html")]
struct MinePage {
    chrome: Chrome,
    boxes: Vec<(SensorRecord, Verdict)>,
    help: Help,
}

/// What to do when a box is silent, and whom to call.
#[derive(Default)]
struct Help {
    summary: String,
    steps: Vec<String>,
    contacts: Vec<Contact>,
}

impl Help {
    async fn load(state: &AppState) -> Result<Help, AppError> {
        let Some(book) = Book::get() else {
            return Ok(Help::default());
        };
        let territory = crate::territory::territory_name(&state.db).await?;
        let advice = book.silent();
        Ok(Help {
            summary: advice.summary.clone(),
            steps: advice.steps.clone(),
            contacts: book.contacts(advice, &territory),
        })
    }
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
    verdict: Verdict,
    help: Help,
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
    /// The last report's figures, French-formatted: packets, volume,
    /// unreadable packets, incidents.
    last_figures: [String; 4],
    counts: Vec<(&'static str, String, i64)>,
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

/// `GET /capteurs`: every sensor for the staff; for a commune user, "Mon
/// boîtier": is it working, since when, what to do if not.
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    if caller.is_staff() {
        return web::render(&list_page(&state, &caller, None).await?);
    }
    // A commune user without a commune sees nothing.
    let own = caller.commune.map(|c| c.to_string()).unwrap_or_default();
    let now = now_ms();
    let boxes = queries::sensors(&state.db, Some(&own))
        .await?
        .into_iter()
        .map(|sensor| {
            let verdict = Verdict::of(&sensor, now, state.settings.silent_after_secs);
            (sensor, verdict)
        })
        .collect();
    web::render(&MinePage {
        chrome: Chrome::new("Mon boîtier", Some(&caller)),
        boxes,
        help: Help::load(&state).await?,
    })
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
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let sensor = visible(&state, &caller, &id).await?;
    if !form.confirmed() {
        return Err(AppError::BadRequest(
            "Cochez la case de confirmation pour révoquer le capteur.".to_owned(),
        ));
    }
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
        verdict: Verdict::of(&sensor, now, silent_after_secs),
        help: Help::load(&state).await?,
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
        last_figures: last.as_ref().map_or_else(Default::default, |r| {
            [
                fr::number(r.packets),
                fr::size(r.bytes),
                fr::number(r.malformed),
                fr::number(r.incidents),
            ]
        }),
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
        installed: installed.map(crate::fr::day_long),
        agreement_end: agreement_end.map(crate::fr::day_long),
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
            last_alive: last_sign_of_life(s.last_report_at, s.heartbeat_at)
                .map_or_else(|| "jamais".to_owned(), paris_time),
            version: s
                .heartbeat_version
                .clone()
                .unwrap_or_else(|| "—".to_owned()),
            drops: view::drops_recent(s.drops_grew_at, now),
            incidents_24h: fr::number(recent.get(&s.id).copied().unwrap_or(0)),
            reports_total: fr::number(s.reports_total),
            incidents_total: fr::number(s.incidents_total),
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

fn category_line(count: &CategoryCount) -> (&'static str, String, i64) {
    let label = vigie_core::Category::ALL
        .iter()
        .find(|c| c.as_str() == count.category)
        .map_or("Autre", |c| c.label_fr());
    (label, fr::number(count.inbound), count.outbound)
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
    fn times_in_paris() {
        // 2026-01-15T23:30:00Z is 00:30 on the 16th in Paris (winter).
        assert_eq!(paris_time(1_768_519_800_000), "16/01/2026 00:30");
    }
}
