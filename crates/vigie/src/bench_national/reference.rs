//! The reference: the same rows as the observatory's run, inserted bare
//! into PostgreSQL on the same schedule, what the database alone costs.
//! A batch is one transaction (its `reports` row and its incident rows in
//! one multi-row INSERT), a heartbeat one upsert of the box's row; no
//! HTTP, JSON, token check, aggregates or secondary index.

use std::fmt::Write;

use chrono::{Timelike, Utc};

use super::traffic::{self, Event, Kind};

/// The bare tables, in the bench database.
const SCHEMA: &[&str] = &[
    "CREATE TABLE bare_reports (sensor BIGINT, seq BIGINT, received_at BIGINT, packets BIGINT,
         bytes BIGINT, malformed BIGINT, first_seen BIGINT, last_seen BIGINT, incidents BIGINT)",
    "CREATE TABLE bare_incidents (sensor BIGINT, seq BIGINT, commune TEXT, category TEXT,
         rule TEXT, label TEXT, severity TEXT, source TEXT, direction TEXT, target_port BIGINT,
         service TEXT, first_seen BIGINT, last_seen BIGINT, day TEXT, hour BIGINT,
         events BIGINT, indicator TEXT, internal_host TEXT)",
    "CREATE TABLE bare_heartbeats (sensor BIGINT PRIMARY KEY, received_at BIGINT,
         uptime_secs BIGINT, packets BIGINT, bytes BIGINT, incidents BIGINT, lists TEXT)",
];

/// The bare tables' total size, in bytes.
pub const SIZE: &str = "SELECT pg_total_relation_size('bare_reports')
    + pg_total_relation_size('bare_incidents') + pg_total_relation_size('bare_heartbeats') AS size";

/// The tables that grow with time (the heartbeats' is one row per box).
pub const GROWING_SIZE: &str = "SELECT pg_total_relation_size('bare_reports')
    + pg_total_relation_size('bare_incidents') AS size";

pub async fn create_tables(pool: &sqlx::AnyPool) -> anyhow::Result<()> {
    for statement in SCHEMA {
        sqlx::query(statement).execute(pool).await?;
    }
    Ok(())
}

/// Inserts what `event` would have stored.
pub async fn deliver(pool: sqlx::AnyPool, event: Event) -> Result<(), String> {
    let result = match event.kind {
        Kind::Batch => batch(&pool, event).await,
        Kind::Heartbeat => heartbeat(&pool, event).await,
    };
    result.map_err(|e| format!("PostgreSQL : {e}"))
}

async fn batch(pool: &sqlx::AnyPool, event: Event) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let report = traffic::report(event.sensor, event.minute, event.minute, now);
    let sensor = i64::from(event.sensor);
    let seq = i64::try_from(event.minute).unwrap_or(i64::MAX);
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO bare_reports VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(sensor)
        .bind(seq)
        .bind(now.timestamp_millis())
        .bind(i64::try_from(report.packets).unwrap_or(0))
        .bind(i64::try_from(report.bytes).unwrap_or(0))
        .bind(0i64)
        .bind(report.first_seen.map(|t| t.timestamp_millis()))
        .bind(report.last_seen.map(|t| t.timestamp_millis()))
        .bind(i64::try_from(report.incidents.len()).unwrap_or(0))
        .execute(&mut *tx)
        .await?;
    if !report.incidents.is_empty() {
        let mut sql = String::from("INSERT INTO bare_incidents VALUES ");
        for row in 0..report.incidents.len() {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..18 {
                let _ = write!(
                    sql,
                    "{}${}",
                    if column == 0 { "" } else { ", " },
                    row * 18 + column + 1
                );
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for incident in &report.incidents {
            let local = incident.first_seen.with_timezone(&vigie_core::LOCAL_TZ);
            query = query
                .bind(sensor)
                .bind(seq)
                .bind("00000")
                .bind(incident.category.as_str())
                .bind(incident.rule.clone())
                .bind(incident.label.clone())
                .bind(incident.severity.as_str())
                .bind(incident.source.map(|s| s.to_string()))
                .bind(incident.direction.as_str())
                .bind(incident.target_port.map(i64::from))
                .bind(incident.service.clone())
                .bind(incident.first_seen.timestamp_millis())
                .bind(incident.last_seen.timestamp_millis())
                .bind(local.date_naive().to_string())
                .bind(i64::from(local.hour()))
                .bind(i64::try_from(incident.events).unwrap_or(0))
                .bind(incident.indicator.clone())
                .bind(incident.internal_host.clone());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

async fn heartbeat(pool: &sqlx::AnyPool, event: Event) -> Result<(), sqlx::Error> {
    let beat = traffic::heartbeat(event.sensor, event.minute, Utc::now());
    let lists = serde_json::to_string(&beat.lists).unwrap_or_default();
    sqlx::query(
        "INSERT INTO bare_heartbeats VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (sensor) DO UPDATE SET received_at = excluded.received_at,
             uptime_secs = excluded.uptime_secs, packets = excluded.packets,
             bytes = excluded.bytes, incidents = excluded.incidents, lists = excluded.lists",
    )
    .bind(i64::from(event.sensor))
    .bind(Utc::now().timestamp_millis())
    .bind(i64::try_from(beat.uptime_secs).unwrap_or(0))
    .bind(i64::try_from(beat.packets).unwrap_or(0))
    .bind(i64::try_from(beat.bytes).unwrap_or(0))
    .bind(i64::try_from(beat.incidents).unwrap_or(0))
    .bind(lists)
    .execute(pool)
    .await?;
    Ok(())
}
