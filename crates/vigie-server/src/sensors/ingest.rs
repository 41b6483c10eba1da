//! `POST /api/v1/reports`: a sensor's batch (`vigie.report/1` plus `seq`),
//! checked whole before anything is stored, then stored in one transaction.
//!
//! Idempotence: the `reports` row, keyed by (sensor, seq), is written first;
//! when it already exists (a retry, or another replica storing the same
//! batch right now) the transaction stops there and the answer is
//! "duplicate", so a batch is counted once whatever the network does.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use vigie_core::{Direction, Report};

use super::ApiError;
use super::rows::{self, IncidentRow};
use crate::db::{self, Db, Flag};
use crate::territory::CommuneCode;
use crate::{AppError, AppState};

/// Largest accepted body. A live sensor sends a batch every few minutes,
/// far below this; a sensor catching up splits its backlog.
pub const MAX_REPORT_BYTES: usize = 8 * 1024 * 1024;
/// A report may be this far ahead of the server's clock (a sensor's clock
/// drifts; more than a day is a wrong clock, and would file incidents
/// under days that have not happened).
pub const MAX_AHEAD_MS: i64 = 24 * 3600 * 1000;
/// Nothing older than this is accepted: older data would rewrite weather
/// that communes have already been shown.
pub const MAX_AGE_DAYS: i64 = 400;

/// The sensor a token belongs to.
#[derive(sqlx::FromRow)]
pub(crate) struct Sensor {
    pub id: String,
    pub commune: CommuneCode,
}

/// A sensor as [`authenticate`] reads it, revoked or not.
#[derive(sqlx::FromRow)]
struct TokenSensor {
    #[sqlx(flatten)]
    sensor: Sensor,
    #[sqlx(try_from = "Flag")]
    revoked: bool,
}

/// The handler. Every refusal is a 4xx whose JSON `error` says what is wrong.
pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let sensor = authenticate(&state.db, &headers).await?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::Refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("rapport trop gros : au plus {MAX_REPORT_BYTES} octets, découpez le lot"),
            )
        } else {
            ApiError::Refused(
                StatusCode::BAD_REQUEST,
                format!("corps illisible : {}", rejection.body_text()),
            )
        }
    })?;
    let now = db::now_ms();
    // Parsed off the async workers (a large batch is tens of milliseconds
    // of CPU that would stall every other request on them), one batch per
    // core at a time.
    let _permit = state
        .ingest_permits
        .acquire()
        .await
        .map_err(|_| ApiError::App(AppError::Internal("ingest closed".to_owned())))?;
    let batch = tokio::task::spawn_blocking(move || parse(&body, now))
        .await
        .map_err(|e| ApiError::App(AppError::Internal(format!("parsing task: {e}"))))?
        .map_err(|message| ApiError::Refused(StatusCode::BAD_REQUEST, message))?;
    let answer = match store(&state.db, &sensor, &batch, now).await? {
        Stored::New(incidents) => serde_json::json!({ "status": "stored", "incidents": incidents }),
        Stored::Duplicate => {
            tracing::info!(sensor_id = %sensor.id, seq = batch.seq, "duplicate batch");
            serde_json::json!({ "status": "duplicate" })
        }
        Stored::Overflow => {
            return Err(ApiError::Refused(
                StatusCode::BAD_REQUEST,
                "rapport refusé : les compteurs de la commune dépasseraient ce qu'un capteur peut voir ; rien n'a été enregistré".to_owned(),
            ));
        }
    };
    Ok(Json(answer).into_response())
}

/// The sensor whose bearer token `headers` carry; 401 with a message for a
/// missing, unknown or revoked token. Every sensor endpoint calls it.
pub(crate) async fn authenticate(db: &Db, headers: &HeaderMap) -> Result<Sensor, ApiError> {
    let refused = |message: &str| ApiError::Refused(StatusCode::UNAUTHORIZED, message.to_owned());
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(crate::accounts::bearer_token)
        .ok_or_else(|| refused("jeton du capteur manquant (en-tête Authorization: Bearer ...)"))?;
    let row: Option<TokenSensor> =
        sqlx::query_as("SELECT id, commune, revoked FROM sensors WHERE token_hash = $1")
            .bind(db::token_hash(token))
            .fetch_optional(db.read())
            .await?;
    let Some(row) = row else {
        return Err(refused("jeton du capteur inconnu"));
    };
    if row.revoked {
        return Err(refused("capteur révoqué : son jeton n'est plus accepté"));
    }
    Ok(row.sensor)
}

/// A checked batch, in the shape it is stored.
pub(super) struct Batch {
    pub seq: i64,
    pub packets: i64,
    pub bytes: i64,
    pub malformed: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub incidents: Vec<IncidentRow>,
    /// Per (day, category): inbound and outbound incidents.
    pub daily: BTreeMap<(String, String), (i64, i64)>,
    /// Incidents counted in `daily` whose detail the sensor dropped.
    pub dropped: i64,
    /// Per (day, category): addresses a filtering sensor started blocking.
    pub blocked: BTreeMap<(String, String), i64>,
    /// Per day: attacks blocked thanks to the territory list (issue 16).
    pub defended: BTreeMap<String, i64>,
    /// Every Paris day the sensor vouches for.
    pub days: BTreeSet<NaiveDate>,
}

/// Parses and checks a body received at `now`; the error is the message the
/// sensor gets.
pub(super) fn parse(body: &[u8], now: i64) -> Result<Batch, String> {
    let report = deserialize(body)
        .map_err(|e| format!("rapport illisible (JSON vigie.report/1 attendu) : {e}"))?;
    let seq = report
        .seq
        .ok_or("champ \"seq\" manquant : chaque lot d'un capteur porte son numéro de séquence")?;
    report
        .validate()
        .map_err(|e| format!("rapport refusé : {e}"))?;
    check_dates(&report, now)?;
    let received = rows::utc(now).ok_or("horloge du serveur hors limites")?;
    // The days the batch vouches for: the day it arrives (the sensor is
    // watching), and the days its first and last packets and its incidents
    // fall on. Not every day in between: one report whose first packet is
    // 399 days old turned a year of "no data" into "sun" (issue 14). A
    // live box's batches are a minute long, so they lose nothing by it.
    let mut days: BTreeSet<NaiveDate> = [vigie_core::local_day(received)].into();
    days.extend(
        [report.first_seen, report.last_seen]
            .into_iter()
            .flatten()
            .map(vigie_core::local_day),
    );
    let mut incidents = Vec::with_capacity(report.incidents.len());
    let mut daily: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for (index, incident) in report.incidents.iter().enumerate() {
        let row = IncidentRow::new(incident)
            .map_err(|e| format!("rapport refusé : incidents[{index}]: {e}"))?;
        days.insert(vigie_core::local_day(incident.first_seen));
        let count = daily
            .entry((row.day.clone(), row.category.to_owned()))
            .or_default();
        match incident.direction {
            Direction::Inbound => count.0 += 1,
            Direction::Outbound => count.1 += 1,
        }
        incidents.push(row);
    }
    merge_reported_daily(&report, &mut daily, &mut days)?;
    let mut blocked: BTreeMap<(String, String), i64> = BTreeMap::new();
    for entry in &report.blocked {
        let slot = blocked
            .entry((entry.day.to_string(), entry.category.as_str().to_owned()))
            .or_default();
        *slot = checked_sum(
            "blocked.addresses",
            *slot,
            number("blocked.addresses", entry.addresses)?,
        )?;
    }
    let mut defended: BTreeMap<String, i64> = BTreeMap::new();
    for entry in &report.defended {
        let slot = defended.entry(entry.day.to_string()).or_default();
        let attacks = number("defended.attacks", entry.attacks)?;
        *slot = checked_sum("defended.attacks", *slot, attacks)?;
    }
    Ok(Batch {
        seq: number("seq", seq)?,
        packets: number("packets", report.packets)?,
        bytes: number("bytes", report.bytes)?,
        malformed: number("malformed", report.malformed)?,
        first_seen: report.first_seen.map(|t| t.timestamp_millis()),
        last_seen: report.last_seen.map(|t| t.timestamp_millis()),
        incidents,
        daily,
        dropped: number("dropped", report.dropped)?,
        blocked,
        defended,
        days,
    })
}

/// For a batch whose spool dropped incident detail (`dropped` > 0), the
/// counts come from the report's own `daily` counters, which must cover the
/// incidents still present plus exactly the dropped ones. Otherwise `daily`
/// is ignored and the counts come from the incidents alone: a sensor cannot
/// inflate a commune's weather with counters nothing backs.
fn merge_reported_daily(
    report: &Report,
    daily: &mut BTreeMap<(String, String), (i64, i64)>,
    days: &mut BTreeSet<NaiveDate>,
) -> Result<(), String> {
    if report.dropped == 0 {
        return Ok(());
    }
    let mut reported: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut total: i64 = 0;
    for entry in &report.daily {
        let outbound = number("daily.outbound", entry.outbound)?;
        let count = number("daily.count", entry.count)?;
        total = checked_sum("daily.count", total, count)?;
        let slot = reported
            .entry((entry.day.to_string(), entry.category.as_str().to_owned()))
            .or_default();
        slot.0 = checked_sum("daily.count", slot.0, count - outbound)?;
        slot.1 = checked_sum("daily.outbound", slot.1, outbound)?;
        days.insert(entry.day);
    }
    let expected = (report.incidents.len() as u64).saturating_add(report.dropped);
    if u64::try_from(total).ok() != Some(expected) {
        return Err(format!(
            "rapport refusé : daily compte {total} incidents, or le lot en porte {} plus {} dont le détail a été abandonné",
            report.incidents.len(),
            report.dropped
        ));
    }
    for ((day, category), (inbound, outbound)) in daily.iter() {
        let covered = reported
            .get(&(day.clone(), category.clone()))
            .is_some_and(|(i, o)| i >= inbound && o >= outbound);
        if !covered {
            return Err(format!(
                "rapport refusé : daily ne couvre pas les incidents {category} du {day}"
            ));
        }
    }
    *daily = reported;
    Ok(())
}

/// Parses the report; the error names the field (`incidents[3].category`)
/// and the line and column.
fn deserialize(body: &[u8]) -> Result<Report, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let report: Report = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(report)
}

/// `a + b`, or the refusal naming `field` (bounded counts cannot reach
/// it, but a sum is never left to wrap).
fn checked_sum(field: &str, a: i64, b: i64) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("rapport refusé : la somme de {field} est trop grande"))
}

fn number(field: &str, value: u64) -> Result<i64, String> {
    i64::try_from(value).map_err(|_| format!("rapport refusé : {field} ({value}) est trop grand"))
}

/// Refuses times more than a day ahead of `now` or older than 400 days.
fn check_dates(report: &Report, now: i64) -> Result<(), String> {
    let latest = now + MAX_AHEAD_MS;
    let earliest = now - MAX_AGE_DAYS * 24 * 3600 * 1000;
    let check = |field: String, at: DateTime<Utc>| {
        let ms = at.timestamp_millis();
        if ms > latest {
            Err(format!(
                "rapport refusé : {field} ({}) est dans le futur (plus d'un jour d'avance sur le serveur) : vérifiez l'horloge du capteur",
                at.to_rfc3339()
            ))
        } else if ms < earliest {
            Err(format!(
                "rapport refusé : {field} ({}) a plus de {MAX_AGE_DAYS} jours",
                at.to_rfc3339()
            ))
        } else {
            Ok(())
        }
    };
    for (field, at) in [
        ("first_seen", report.first_seen),
        ("last_seen", report.last_seen),
    ] {
        if let Some(at) = at {
            check(field.to_owned(), at)?;
        }
    }
    for (index, incident) in report.incidents.iter().enumerate() {
        check(
            format!("incidents[{index}].first_seen"),
            incident.first_seen,
        )?;
        check(format!("incidents[{index}].last_seen"), incident.last_seen)?;
    }
    Ok(())
}

/// What became of a batch.
enum Stored {
    /// Stored, with this many incidents.
    New(usize),
    /// (sensor, seq) was already stored: nothing done.
    Duplicate,
    /// A commune's sum would have passed `rows::MAX_STORED_COUNT`: nothing
    /// stored.
    Overflow,
}

/// Stores a batch whole, or nothing of it.
async fn store(db: &Db, sensor: &Sensor, batch: &Batch, now: i64) -> Result<Stored, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO reports (sensor_id, seq, received_at, packets, bytes, malformed,
             first_seen, last_seen, incidents, dropped)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (sensor_id, seq) DO NOTHING",
    )
    .bind(&sensor.id)
    .bind(batch.seq)
    .bind(now)
    .bind(batch.packets)
    .bind(batch.bytes)
    .bind(batch.malformed)
    .bind(batch.first_seen)
    .bind(batch.last_seen)
    .bind(i64::try_from(batch.incidents.len()).unwrap_or(i64::MAX))
    .bind(batch.dropped)
    .execute(&mut *tx)
    .await;
    let inserted = match inserted {
        Ok(done) => done.rows_affected() == 1,
        // The key was taken between our insert and a concurrent one.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => false,
        Err(e) => return Err(e),
    };
    if !inserted {
        tx.rollback().await?;
        return Ok(Stored::Duplicate);
    }
    rows::insert_incidents(
        &mut tx,
        db.backend,
        &sensor.id,
        batch.seq,
        &sensor.commune,
        &batch.incidents,
    )
    .await?;
    let within = rows::upsert_daily(&mut tx, db.backend, &sensor.commune, &batch.daily).await?
        && rows::upsert_blocked(&mut tx, db.backend, &sensor.commune, &batch.blocked).await?;
    if !within {
        tx.rollback().await?;
        return Ok(Stored::Overflow);
    }
    for (day, attacks) in &batch.defended {
        crate::defence::queries::add_defended(&mut tx, sensor.commune.as_str(), day, *attacks)
            .await?;
    }
    rows::insert_days(&mut tx, db.backend, &sensor.commune, &batch.days).await?;
    let counted = i64::try_from(batch.incidents.len())
        .unwrap_or(i64::MAX)
        .saturating_add(batch.dropped);
    rows::update_sensor(&mut tx, &sensor.id, batch.seq, counted, now).await?;
    tx.commit().await?;
    Ok(Stored::New(batch.incidents.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_784_000_000_000; // 2026-07-14

    fn body(incident_first: &str, incident_last: &str) -> Vec<u8> {
        serde_json::json!({
            "schema": "vigie.report/1", "seq": 3, "packets": 10, "bytes": 600,
            "first_seen": incident_first, "last_seen": incident_last,
            "incidents": [{
                "category": "scan", "rule": "scan.syn", "label": null, "severity": "medium",
                "source": "203.0.113.9", "direction": "inbound", "target_port": null,
                "service": null, "first_seen": incident_first, "last_seen": incident_last,
                "events": 12
            }],
            "daily": []
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn days_cover_the_period_and_the_day_received() {
        let batch = parse(&body("2026-07-10T21:30:00Z", "2026-07-12T08:00:00Z"), NOW).unwrap();
        let days: Vec<String> = batch.days.iter().map(|d| d.to_string()).collect();
        // 21:30 UTC is 23:30 in Paris (summer); received on the 14th. The
        // 11th, between the first and last packets, is not vouched for.
        assert_eq!(days, ["2026-07-10", "2026-07-12", "2026-07-14"]);
        assert_eq!(
            batch.daily.get(&("2026-07-10".into(), "scan".into())),
            Some(&(1, 0))
        );
    }

    fn dropped_body(dropped: u64, counted: u64) -> Vec<u8> {
        let mut report: serde_json::Value =
            serde_json::from_slice(&body("2026-07-10T10:00:00Z", "2026-07-10T10:05:00Z")).unwrap();
        report["dropped"] = dropped.into();
        report["daily"] = serde_json::json!([
            { "day": "2026-07-10", "category": "scan", "count": counted, "outbound": 0 },
            { "day": "2026-07-11", "category": "flood", "count": dropped + 1 - counted, "outbound": 0 }
        ]);
        report.to_string().into_bytes()
    }

    #[test]
    fn dropped_detail_is_counted_from_daily_when_it_adds_up() {
        let batch = parse(&dropped_body(3, 2), NOW).unwrap();
        assert_eq!(batch.dropped, 3);
        assert_eq!(
            batch.daily.get(&("2026-07-10".into(), "scan".into())),
            Some(&(2, 0))
        );
        assert_eq!(
            batch.daily.get(&("2026-07-11".into(), "flood".into())),
            Some(&(2, 0))
        );
        // Counters that do not add up to incidents + dropped are refused.
        let mut wrong: serde_json::Value = serde_json::from_slice(&dropped_body(3, 2)).unwrap();
        wrong["dropped"] = 5.into();
        let error = parse(wrong.to_string().as_bytes(), NOW).err().unwrap();
        assert!(error.contains("daily compte 4"), "{error}");
        // Counters that do not cover the incidents present are refused.
        let error = parse(&dropped_body(3, 0), NOW).err().unwrap();
        assert!(error.contains("ne couvre pas"), "{error}");
    }

    #[test]
    fn without_dropped_detail_daily_is_not_trusted() {
        let mut report: serde_json::Value =
            serde_json::from_slice(&body("2026-07-10T10:00:00Z", "2026-07-10T10:05:00Z")).unwrap();
        report["daily"] = serde_json::json!([
            { "day": "2026-07-10", "category": "flood", "count": 99, "outbound": 0 }
        ]);
        let batch = parse(report.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(batch.daily.len(), 1);
        assert!(
            batch
                .daily
                .contains_key(&("2026-07-10".into(), "scan".into()))
        );
    }

    #[test]
    fn dates_out_of_range_are_refused() {
        let ahead = parse(&body("2026-07-14T12:00:00Z", "2026-07-16T12:00:00Z"), NOW)
            .err()
            .unwrap();
        assert!(
            ahead.contains("last_seen") && ahead.contains("futur"),
            "{ahead}"
        );
        let old = parse(&body("2025-01-01T12:00:00Z", "2025-01-01T12:00:00Z"), NOW)
            .err()
            .unwrap();
        assert!(
            old.contains("first_seen") && old.contains("400 jours"),
            "{old}"
        );
    }

    #[test]
    fn malformed_json_says_where() {
        let error = parse(b"{\"schema\": \"vigie.report/1\",\n \"seq\": }", NOW)
            .err()
            .unwrap();
        assert!(error.contains("line 2 column"), "{error}");
    }
}
