//! `POST /api/v1/sensors/heartbeat`: a live sensor's health
//! (`vigie.heartbeat/1`, every minute). The observatory keeps the last one
//! per sensor, shows it on the sensor's page ([`view`]), and counts its
//! arrival as a sign of life: a sensor that sends heartbeats is not silent.
//!
//! What it must never do: take a heartbeat for data (only reports fill a
//! commune's days and weather), trust the sensor's clock for liveness (the
//! arrival time is the observatory's), or keep any part of a refused
//! heartbeat.

pub(super) mod view;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use vigie_core::heartbeat::{MAX_HEARTBEAT_LISTS, MAX_LIST_FIELD_LEN};
use vigie_core::{HEARTBEAT_SCHEMA, Heartbeat};

use super::ApiError;
use crate::AppState;
use crate::db::{self, Db};

/// Largest accepted body: a heartbeat with the most lists it may name is
/// about 70 bytes a list, far below this.
pub const MAX_HEARTBEAT_BYTES: usize = 64 * 1024;

/// The handler: `200 {"status": "ok"}`, or a 4xx whose JSON `error` says
/// what is wrong.
pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let sensor_id = super::ingest::authenticate(&state.db, &headers).await?.id;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::Refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("signal de vie trop gros : au plus {MAX_HEARTBEAT_BYTES} octets"),
            )
        } else {
            ApiError::Refused(
                StatusCode::BAD_REQUEST,
                format!("corps illisible : {}", rejection.body_text()),
            )
        }
    })?;
    let checked =
        parse(&body).map_err(|message| ApiError::Refused(StatusCode::BAD_REQUEST, message))?;
    store(&state.db, &sensor_id, &checked, db::now_ms()).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })).into_response())
}

/// A checked heartbeat, in the shape it is stored (the columns of
/// `sensor_heartbeats` bear the fields' names).
pub(super) struct Checked {
    version: String,
    mode: String,
    started_at: i64,
    uptime_secs: i64,
    packets: i64,
    bytes: i64,
    kernel_drops: i64,
    interface_drops: i64,
    incidents: i64,
    open_incidents: i64,
    spool_batches: i64,
    spool_bytes: i64,
    dropped_incidents: i64,
    blocked_now: i64,
    /// The lists, as JSON.
    lists: String,
}

/// Parses and checks a body; the error is the message the sensor gets, in
/// French, naming the field.
pub(super) fn parse(body: &[u8]) -> Result<Checked, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let heartbeat: Heartbeat = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            }
        })
        .and_then(|h| deserializer.end().map(|()| h).map_err(|e| e.to_string()))
        .map_err(|e| format!("signal de vie illisible (JSON {HEARTBEAT_SCHEMA} attendu) : {e}"))?;
    check(&heartbeat).map_err(|e| format!("signal de vie refusé : {e}"))?;
    Ok(Checked {
        started_at: heartbeat.started_at.timestamp_millis(),
        uptime_secs: number("uptime_secs", heartbeat.uptime_secs)?,
        packets: number("packets", heartbeat.packets)?,
        bytes: number("bytes", heartbeat.bytes)?,
        kernel_drops: number("kernel_drops", heartbeat.kernel_drops)?,
        interface_drops: number("interface_drops", heartbeat.interface_drops)?,
        incidents: number("incidents", heartbeat.incidents)?,
        open_incidents: number("open_incidents", heartbeat.open_incidents)?,
        spool_batches: number("spool_batches", heartbeat.spool_batches)?,
        spool_bytes: number("spool_bytes", heartbeat.spool_bytes)?,
        dropped_incidents: number("dropped_incidents", heartbeat.dropped_incidents)?,
        blocked_now: number("blocked_now", heartbeat.blocked_now)?,
        lists: serde_json::to_string(&heartbeat.lists).map_err(|e| e.to_string())?,
        version: heartbeat.version,
        mode: heartbeat.mode,
    })
}

fn number(field: &str, value: u64) -> Result<i64, String> {
    i64::try_from(value)
        .map_err(|_| format!("signal de vie refusé : {field} ({value}) est trop grand"))
}

/// The checks of `Heartbeat::validate`, with French messages naming the
/// field; `validate` itself stays the last word for any check added there.
fn check(heartbeat: &Heartbeat) -> Result<(), String> {
    if heartbeat.schema != HEARTBEAT_SCHEMA {
        return Err(format!(
            "schema : « {} » au lieu de « {HEARTBEAT_SCHEMA} »",
            heartbeat.schema
        ));
    }
    for (field, value) in [("version", &heartbeat.version), ("mode", &heartbeat.mode)] {
        if value.len() > MAX_LIST_FIELD_LEN {
            return Err(format!("{field} : au plus {MAX_LIST_FIELD_LEN} caractères"));
        }
    }
    if heartbeat.lists.len() > MAX_HEARTBEAT_LISTS {
        return Err(format!(
            "lists : {} listes, au plus {MAX_HEARTBEAT_LISTS}",
            heartbeat.lists.len()
        ));
    }
    for (index, list) in heartbeat.lists.iter().enumerate() {
        if list.name.len() > MAX_LIST_FIELD_LEN || list.version.len() > MAX_LIST_FIELD_LEN {
            return Err(format!(
                "lists[{index}] : nom et version ont au plus {MAX_LIST_FIELD_LEN} caractères"
            ));
        }
    }
    heartbeat.validate()
}

/// Replaces the sensor's last heartbeat, noting whether the kernel's drop
/// counter grew since the previous heartbeat of the same run (a run's
/// first heartbeat counts from zero).
async fn store(db: &Db, sensor_id: &str, heartbeat: &Checked, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let (grew_at, growth) = drops_growth(&mut tx, sensor_id, heartbeat, now).await?;
    sqlx::query(
        "INSERT INTO sensor_heartbeats (sensor_id, received_at, version, mode, started_at,
             uptime_secs, packets, bytes, kernel_drops, interface_drops, incidents,
             open_incidents, spool_batches, spool_bytes, dropped_incidents, blocked_now, lists,
             drops_grew_at, drops_growth)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
             $18, $19)
         ON CONFLICT (sensor_id) DO UPDATE SET received_at = excluded.received_at,
             version = excluded.version, mode = excluded.mode,
             started_at = excluded.started_at, uptime_secs = excluded.uptime_secs,
             packets = excluded.packets, bytes = excluded.bytes,
             kernel_drops = excluded.kernel_drops, interface_drops = excluded.interface_drops,
             incidents = excluded.incidents, open_incidents = excluded.open_incidents,
             spool_batches = excluded.spool_batches, spool_bytes = excluded.spool_bytes,
             dropped_incidents = excluded.dropped_incidents,
             blocked_now = excluded.blocked_now, lists = excluded.lists,
             drops_grew_at = excluded.drops_grew_at, drops_growth = excluded.drops_growth",
    )
    .bind(sensor_id)
    .bind(now)
    .bind(&heartbeat.version)
    .bind(&heartbeat.mode)
    .bind(heartbeat.started_at)
    .bind(heartbeat.uptime_secs)
    .bind(heartbeat.packets)
    .bind(heartbeat.bytes)
    .bind(heartbeat.kernel_drops)
    .bind(heartbeat.interface_drops)
    .bind(heartbeat.incidents)
    .bind(heartbeat.open_incidents)
    .bind(heartbeat.spool_batches)
    .bind(heartbeat.spool_bytes)
    .bind(heartbeat.dropped_incidents)
    .bind(heartbeat.blocked_now)
    .bind(&heartbeat.lists)
    .bind(grew_at)
    .bind(growth)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// When the kernel's drop counter last grew and by how much, this
/// heartbeat included: (drops_grew_at, drops_growth).
async fn drops_growth(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sensor_id: &str,
    heartbeat: &Checked,
    now: i64,
) -> Result<(Option<i64>, i64), sqlx::Error> {
    let previous: Option<(i64, i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT started_at, kernel_drops, drops_grew_at, drops_growth
         FROM sensor_heartbeats WHERE sensor_id = $1",
    )
    .bind(sensor_id)
    .fetch_optional(&mut **tx)
    .await?;
    let (mut grew_at, mut growth, mut since) = (None, 0, 0);
    if let Some((started_at, kernel_drops, drops_grew_at, drops_growth)) = previous {
        grew_at = drops_grew_at;
        growth = drops_growth;
        // The counter restarts with the process: compare within one run.
        if started_at == heartbeat.started_at {
            since = kernel_drops;
        }
    }
    if heartbeat.kernel_drops > since {
        grew_at = Some(now);
        growth = heartbeat.kernel_drops - since;
    }
    Ok((grew_at, growth))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut value = serde_json::json!({
            "schema": "vigie.heartbeat/1", "version": "0.4.0", "mode": "observe",
            "started_at": "2026-07-14T08:00:00Z", "uptime_secs": 7200,
            "packets": 1000, "bytes": 64000, "kernel_drops": 3, "interface_drops": 0,
            "incidents": 12, "open_incidents": 2, "spool_batches": 1, "spool_bytes": 900,
            "dropped_incidents": 0, "blocked_now": 0,
            "lists": [{"name": "firehol_level1", "version": "7"}]
        });
        change(&mut value);
        value.to_string().into_bytes()
    }

    fn refused(change: impl FnOnce(&mut serde_json::Value)) -> String {
        match parse(&body(change)) {
            Ok(_) => panic!("accepted"),
            Err(message) => message,
        }
    }

    #[test]
    fn a_heartbeat_is_stored_by_column() {
        let checked = parse(&body(|_| {})).unwrap();
        assert_eq!(checked.uptime_secs, 7200);
        assert_eq!(checked.kernel_drops, 3);
        assert_eq!(checked.spool_bytes, 900);
        assert_eq!(checked.started_at, 1_784_016_000_000);
        assert_eq!(
            checked.lists,
            r#"[{"name":"firehol_level1","version":"7"}]"#
        );
    }

    #[test]
    fn refusals_name_the_field_in_french() {
        let check = |message: String, expected: &str| {
            assert!(message.contains(expected), "{message}");
        };
        check(refused(|v| v["schema"] = "vigie.report/1".into()), "schema");
        check(refused(|v| v["packets"] = (-1).into()), "packets");
        check(
            refused(|v| v["lists"][0]["name"] = "x".repeat(200).into()),
            "lists[0] : nom et version",
        );
        check(
            refused(|v| v["packets"] = u64::MAX.into()),
            "packets (18446744073709551615) est trop grand",
        );
        check(
            refused(|v| v["mode"] = "m".repeat(129).into()),
            "mode : au plus 128",
        );
        let missing = refused(|v| {
            v.as_object_mut().unwrap().remove("uptime_secs");
        });
        assert!(
            missing.starts_with("signal de vie illisible") && missing.contains("uptime_secs"),
            "{missing}"
        );
    }
}
