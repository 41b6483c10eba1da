//! The rows a batch becomes, and the statements that write them inside the
//! ingest transaction. Incidents go in multi-row inserts: one statement per
//! few hundred incidents keeps a large batch fast on both backends.
//!
//! The one place this module tells the backends apart: SQLite looks a
//! numbered parameter (`$7`) up by name in a list, so binding thousands of
//! them costs the square of their number; its anonymous `?` binds in order.
//! PostgreSQL only knows `$n`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use sqlx::{Any, Transaction};

use crate::db::Backend;
use crate::territory::CommuneCode;
use vigie_core::Incident;

/// Longest service name stored (the schema bounds the other strings).
pub const MAX_SERVICE_LEN: usize = 64;
/// Incidents per insert statement: 500 × 18 parameters stays well under
/// SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const INCIDENTS_PER_INSERT: usize = 500;
const INCIDENT_COLUMNS: usize = 18;
const DAILY_PER_UPSERT: usize = 500;

/// One `incidents` row, without the sensor, seq and commune it shares with
/// its batch.
pub(super) struct IncidentRow {
    pub category: &'static str,
    rule: String,
    label: Option<String>,
    severity: &'static str,
    source: Option<String>,
    direction: &'static str,
    target_port: Option<i64>,
    service: Option<String>,
    first_seen: i64,
    last_seen: i64,
    /// Europe/Paris day and hour of `first_seen`.
    pub day: String,
    hour: i64,
    events: i64,
    indicator: Option<String>,
    internal_host: Option<String>,
}

impl IncidentRow {
    /// The row of a validated incident; the error says which field is out
    /// of the stored bounds.
    pub fn new(incident: &Incident) -> Result<IncidentRow, String> {
        if let Some(service) = &incident.service
            && service.len() > MAX_SERVICE_LEN
        {
            return Err(format!(
                "service has {} characters, at most {MAX_SERVICE_LEN} allowed",
                service.len()
            ));
        }
        let events = i64::try_from(incident.events)
            .map_err(|_| format!("events ({}) is too large", incident.events))?;
        let local = incident.first_seen.with_timezone(&vigie_core::LOCAL_TZ);
        Ok(IncidentRow {
            category: incident.category.as_str(),
            rule: incident.rule.clone(),
            label: incident.label.clone(),
            severity: incident.severity.as_str(),
            source: incident.source.map(|ip| ip.to_string()),
            direction: incident.direction.as_str(),
            target_port: incident.target_port.map(i64::from),
            service: incident.service.clone(),
            first_seen: incident.first_seen.timestamp_millis(),
            last_seen: incident.last_seen.timestamp_millis(),
            day: local.date_naive().to_string(),
            hour: i64::from(local.hour()),
            events,
            indicator: incident.indicator.clone(),
            internal_host: incident.internal_host.clone(),
        })
    }
}

/// The instant of `ms` Unix milliseconds.
pub(super) fn utc(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

pub(super) async fn insert_incidents(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    sensor_id: &str,
    seq: i64,
    commune: &CommuneCode,
    incidents: &[IncidentRow],
) -> Result<(), sqlx::Error> {
    for chunk in incidents.chunks(INCIDENTS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO incidents (sensor_id, seq, commune, category, rule, label, severity,
                 source, direction, target_port, service, first_seen, last_seen, day, hour,
                 events, indicator, internal_host) VALUES {}",
            placeholders(backend, chunk.len(), INCIDENT_COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(sensor_id)
                .bind(seq)
                .bind(commune)
                .bind(row.category)
                .bind(&row.rule)
                .bind(&row.label)
                .bind(row.severity)
                .bind(&row.source)
                .bind(row.direction)
                .bind(row.target_port)
                .bind(&row.service)
                .bind(row.first_seen)
                .bind(row.last_seen)
                .bind(&row.day)
                .bind(row.hour)
                .bind(row.events)
                .bind(&row.indicator)
                .bind(&row.internal_host);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Adds the batch's counts to `daily_counts`. Keys come sorted (a
/// `BTreeMap`), so concurrent batches of one commune lock rows in the same
/// order and cannot deadlock on PostgreSQL.
///
/// A sum that would pass [`MAX_STORED_COUNT`] is not made: the row is left
/// as it is and the answer is `false`, for the caller to roll back. SQLite
/// turns an integer overflow into a float, which made a commune's pages
/// fail for good (issue 14).
pub(super) async fn upsert_daily(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    commune: &CommuneCode,
    daily: &BTreeMap<(String, String), (i64, i64)>,
) -> Result<bool, sqlx::Error> {
    let entries: Vec<_> = daily.iter().collect();
    for chunk in entries.chunks(DAILY_PER_UPSERT) {
        let sql = format!(
            "INSERT INTO daily_counts (commune, day, category, inbound, outbound) VALUES {}
             ON CONFLICT (commune, day, category) DO UPDATE SET
                 inbound = daily_counts.inbound + excluded.inbound,
                 outbound = daily_counts.outbound + excluded.outbound
             WHERE daily_counts.inbound <= {MAX_STORED_COUNT} - excluded.inbound
               AND daily_counts.outbound <= {MAX_STORED_COUNT} - excluded.outbound",
            placeholders(backend, chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for ((day, category), (inbound, outbound)) in chunk {
            query = query
                .bind(commune)
                .bind(day)
                .bind(category)
                .bind(*inbound)
                .bind(*outbound);
        }
        if !all_written(query.execute(&mut **tx).await?, chunk.len()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The largest count a stored sum may reach: 2^53, the largest integer a
/// JSON reader keeping numbers as doubles reads exactly.
pub const MAX_STORED_COUNT: i64 = 1 << 53;

fn all_written(done: sqlx::any::AnyQueryResult, rows: usize) -> bool {
    u64::try_from(rows).is_ok_and(|rows| done.rows_affected() == rows)
}

/// Adds the batch's blocked addresses to `blocked_counts`, in key order
/// like [`upsert_daily`].
pub(super) async fn upsert_blocked(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    commune: &CommuneCode,
    blocked: &BTreeMap<(String, String), i64>,
) -> Result<bool, sqlx::Error> {
    let entries: Vec<_> = blocked.iter().collect();
    for chunk in entries.chunks(DAILY_PER_UPSERT) {
        let sql = format!(
            "INSERT INTO blocked_counts (commune, day, category, addresses) VALUES {}
             ON CONFLICT (commune, day, category) DO UPDATE SET
                 addresses = blocked_counts.addresses + excluded.addresses
             WHERE blocked_counts.addresses <= {MAX_STORED_COUNT} - excluded.addresses",
            placeholders(backend, chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for ((day, category), addresses) in chunk {
            query = query
                .bind(commune)
                .bind(day)
                .bind(category)
                .bind(*addresses);
        }
        if !all_written(query.execute(&mut **tx).await?, chunk.len()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Marks the days the sensor vouches for: a day with a row has data, even
/// without any incident.
pub(super) async fn insert_days(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    commune: &CommuneCode,
    days: &BTreeSet<NaiveDate>,
) -> Result<(), sqlx::Error> {
    let days: Vec<String> = days.iter().map(NaiveDate::to_string).collect();
    for chunk in days.chunks(DAILY_PER_UPSERT) {
        let sql = format!(
            "INSERT INTO sensor_days (commune, day) VALUES {} ON CONFLICT (commune, day) DO NOTHING",
            placeholders(backend, chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for day in chunk {
            query = query.bind(commune).bind(day);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The sensor's last report and running counters.
pub(super) async fn update_sensor(
    tx: &mut Transaction<'_, Any>,
    sensor_id: &str,
    seq: i64,
    incidents: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sensors SET last_report_at = $1,
             last_seq = CASE WHEN last_seq IS NULL OR last_seq < $2 THEN $2 ELSE last_seq END,
             reports_total = reports_total + 1,
             incidents_total = CASE WHEN incidents_total <= $5 - $3 THEN incidents_total + $3 ELSE $5 END
         WHERE id = $4",
    )
    .bind(now)
    .bind(seq)
    .bind(incidents)
    .bind(sensor_id)
    .bind(MAX_STORED_COUNT)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `($1, $2), ($3, $4)` for 2 rows of 2 columns (`(?, ?), (?, ?)` on SQLite).
fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            sql.push_str(if column == 0 { "" } else { ", " });
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${}", row * columns + column + 1);
                }
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(placeholders(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(Backend::Postgres, 1, 3), "($1, $2, $3)");
        assert_eq!(placeholders(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn day_and_hour_are_those_of_paris() {
        let incident: Incident = serde_json::from_value(serde_json::json!({
            "category": "flood", "rule": "flood.syn", "label": null, "severity": "high",
            "source": null, "direction": "inbound", "target_port": 443, "service": "https",
            "first_seen": "2026-01-15T23:30:00Z", "last_seen": "2026-01-15T23:31:00Z", "events": 5
        }))
        .unwrap();
        let row = IncidentRow::new(&incident).unwrap();
        assert_eq!((row.day.as_str(), row.hour), ("2026-01-16", 0));
        assert_eq!(row.target_port, Some(443));
    }
}
