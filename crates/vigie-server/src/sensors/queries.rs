//! What the sensor pages read. Who may see which sensor is decided by the
//! pages; these queries take the commune filter they are given.

use std::collections::HashMap;

use vigie_core::ListVersion;

use crate::db::{Db, Flag};
use crate::territory::CommuneCode;

/// A sensor as the pages show it.
#[derive(sqlx::FromRow)]
pub(super) struct SensorRecord {
    pub id: String,
    pub commune: CommuneCode,
    pub commune_name: String,
    pub created_at: i64,
    pub enroll_expires_at: Option<i64>,
    pub installed_at: Option<i64>,
    #[sqlx(try_from = "Flag")]
    pub revoked: bool,
    pub last_report_at: Option<i64>,
    pub last_seq: Option<i64>,
    pub reports_total: i64,
    pub incidents_total: i64,
    /// When its last heartbeat arrived, and what it said of the software
    /// and of the kernel's drops.
    pub heartbeat_at: Option<i64>,
    pub heartbeat_version: Option<String>,
    pub drops_grew_at: Option<i64>,
}

/// The last batch a sensor sent.
#[derive(sqlx::FromRow)]
pub(super) struct LastReport {
    pub seq: i64,
    pub received_at: i64,
    pub packets: i64,
    pub bytes: i64,
    pub malformed: i64,
    pub incidents: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
}

/// A sensor's last heartbeat, as stored (see migrations 0007).
#[derive(sqlx::FromRow)]
pub(super) struct HeartbeatRecord {
    pub received_at: i64,
    pub version: String,
    pub mode: String,
    pub started_at: i64,
    pub uptime_secs: i64,
    pub packets: i64,
    pub bytes: i64,
    pub kernel_drops: i64,
    pub interface_drops: i64,
    pub incidents: i64,
    pub open_incidents: i64,
    pub spool_batches: i64,
    pub spool_bytes: i64,
    pub dropped_incidents: i64,
    pub blocked_now: i64,
    /// Read from `lists_json` by [`heartbeat`].
    #[sqlx(skip)]
    pub lists: Vec<ListVersion>,
    /// The `lists` column as stored: JSON.
    #[sqlx(rename = "lists")]
    lists_json: String,
    pub drops_grew_at: Option<i64>,
    pub drops_growth: i64,
}

/// Incidents of one category over a period, by direction.
#[derive(sqlx::FromRow)]
pub(super) struct CategoryCount {
    pub category: String,
    pub inbound: i64,
    pub outbound: i64,
}

const SENSOR_COLUMNS: &str = "s.id, s.commune, c.name AS commune_name, s.created_at, \
     s.enroll_expires_at, s.installed_at, s.revoked, s.last_report_at, s.last_seq, \
     s.reports_total, s.incidents_total, h.received_at AS heartbeat_at, \
     h.version AS heartbeat_version, h.drops_grew_at";

/// The sensors with their last heartbeat, if any.
const SENSOR_TABLES: &str = "sensors s JOIN communes c ON c.code = s.commune \
     LEFT JOIN sensor_heartbeats h ON h.sensor_id = s.id";

/// Every sensor, or those of one commune.
pub(super) async fn sensors(
    db: &Db,
    commune: Option<&str>,
) -> Result<Vec<SensorRecord>, sqlx::Error> {
    match commune {
        Some(code) => {
            sqlx::query_as(&format!(
                "SELECT {SENSOR_COLUMNS} FROM {SENSOR_TABLES}
                 WHERE s.commune = $1 ORDER BY s.id"
            ))
            .bind(code)
            .fetch_all(db.read())
            .await
        }
        None => {
            sqlx::query_as(&format!(
                "SELECT {SENSOR_COLUMNS} FROM {SENSOR_TABLES}
                 ORDER BY s.commune, s.id"
            ))
            .fetch_all(db.read())
            .await
        }
    }
}

pub(super) async fn sensor(db: &Db, id: &str) -> Result<Option<SensorRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SENSOR_COLUMNS} FROM {SENSOR_TABLES} WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await
}

pub(super) async fn last_report(
    db: &Db,
    sensor_id: &str,
) -> Result<Option<LastReport>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, received_at, packets, bytes, malformed, incidents, first_seen, last_seen
         FROM reports WHERE sensor_id = $1 ORDER BY received_at DESC, seq DESC LIMIT 1",
    )
    .bind(sensor_id)
    .fetch_optional(db.read())
    .await
}

/// A sensor's last heartbeat, if it ever sent one.
pub(super) async fn heartbeat(
    db: &Db,
    sensor_id: &str,
) -> Result<Option<HeartbeatRecord>, sqlx::Error> {
    let record: Option<HeartbeatRecord> = sqlx::query_as(
        "SELECT received_at, version, mode, started_at, uptime_secs, packets, bytes,
             kernel_drops, interface_drops, incidents, open_incidents, spool_batches,
             spool_bytes, dropped_incidents, blocked_now, lists, drops_grew_at, drops_growth
         FROM sensor_heartbeats WHERE sensor_id = $1",
    )
    .bind(sensor_id)
    .fetch_optional(db.read())
    .await?;
    Ok(record.map(|mut record| {
        // Written by the heartbeat handler from checked lists; unreadable
        // only if the database was edited by hand.
        record.lists = serde_json::from_str(&record.lists_json).unwrap_or_else(|e| {
            tracing::warn!(sensor_id, error = %e, "unreadable heartbeat lists");
            Vec::new()
        });
        record
    }))
}

/// A sensor's incidents that began at or after `since`, per category.
pub(super) async fn counts_since(
    db: &Db,
    sensor_id: &str,
    since: i64,
) -> Result<Vec<CategoryCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category,
             CAST(SUM(CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END) AS BIGINT) AS inbound,
             CAST(SUM(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END) AS BIGINT) AS outbound
         FROM incidents WHERE sensor_id = $1 AND first_seen >= $2
         GROUP BY category ORDER BY category",
    )
    .bind(sensor_id)
    .bind(since)
    .fetch_all(db.read())
    .await
}

/// Per sensor, the incidents that began at or after `since`.
pub(super) async fn totals_since(db: &Db, since: i64) -> Result<HashMap<String, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT sensor_id, COUNT(*) AS n FROM incidents WHERE first_seen >= $1 GROUP BY sensor_id",
    )
    .bind(since)
    .fetch_all(db.read())
    .await?;
    Ok(rows.into_iter().collect())
}

/// Every commune of the territory (code, name), for the creation form.
/// Every commune, for the creation form's picker, in French order
/// ("Écotay" among the E, issue 13).
pub(super) async fn communes(db: &Db) -> Result<Vec<(CommuneCode, String)>, sqlx::Error> {
    Ok(crate::territory::communes(db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.name))
        .collect())
}

/// The territory's name, if it has been set.
pub(super) async fn territory_name(db: &Db) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM territory WHERE id = 1")
        .fetch_optional(db.read())
        .await
}
