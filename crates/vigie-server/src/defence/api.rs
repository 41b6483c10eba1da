//! `GET /api/v1/sensors/defence?since=N`: the territory list's changes
//! for a box, in the `vigie.defence/1` format of `vigie_core::defence`.
//!
//! Built to be asked every minute by every box: with nothing new it costs
//! the token check and one read of the changes' key (the newest number),
//! and answers `304 Not Modified` with no body. `since` absent, 0, older than the oldest
//! change kept or newer than the newest (a database restored from an
//! older copy) gets the whole list (`snapshot`); so does a box that fell
//! more than [`MAX_CHANGES`] behind. The whole list is written once per change of
//! the list ([`SnapshotCache`]) and shared by every box that asks for it
//! until the next change: a fleet asking at once after a reset costs one
//! read of the list, not one per box.
//!
//! What it must not do: answer anything but a sensor's token, or send an
//! entry that is not listed now in a snapshot.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Mutex;
use vigie_core::defence::{Change, Kind, MAX_ENTRIES, Update, write};

use super::queries as store;
use super::store::ChangeRow;
use crate::AppState;
use crate::db::now_ms;
use crate::sensors::ApiError;

/// Most changes one answer carries before a snapshot is cheaper.
pub const MAX_CHANGES: i64 = 5_000;

#[derive(serde::Deserialize)]
pub(super) struct Since {
    #[serde(default)]
    since: i64,
}

pub(super) async fn changes(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(Since { since }): Query<Since>,
) -> Result<Response, ApiError> {
    crate::sensors::ingest::authenticate(&state.db, &headers).await?;
    let last = store::last_seq(&state.db).await?;
    if since > 0 && since == last {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    // A cursor past the newest change is not this history's (a database
    // restored from an older copy): the whole list, as for none.
    let body = if since <= 0 || since > last {
        state.defence_snapshot.get(&state, last).await?
    } else {
        let rows = store::changes_since(&state.db, since, MAX_CHANGES + 1).await?;
        if rows.is_empty() {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
        let first = store::first_seq(&state.db).await?;
        if rows.len() as i64 > MAX_CHANGES || since.saturating_add(1) < first {
            state.defence_snapshot.get(&state, last).await?
        } else {
            Bytes::from(write(&Update {
                kind: Kind::Changes,
                cursor: rows.last().map_or(since, |r| r.seq),
                changes: rows.iter().filter_map(change).collect(),
            }))
        }
    };
    Ok(list_answer(body))
}

fn list_answer(body: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The whole list as last written, with the newest change it includes.
/// Every replica keeps its own, keyed by the database's newest change, so
/// all of them answer the same.
#[derive(Default)]
pub struct SnapshotCache {
    written: Mutex<Option<(i64, Bytes)>>,
}

impl SnapshotCache {
    /// The whole list as of change `cursor` (the newest), written again
    /// only when it differs from the copy kept. Boxes that ask while it is
    /// being written wait for that one writing instead of each starting
    /// their own.
    async fn get(&self, state: &AppState, cursor: i64) -> Result<Bytes, sqlx::Error> {
        let mut written = self.written.lock().await;
        if let Some((kept, body)) = written.as_ref()
            && *kept == cursor
        {
            return Ok(body.clone());
        }
        let body = Bytes::from(write(&snapshot(state, cursor).await?));
        *written = Some((cursor, body.clone()));
        Ok(body)
    }
}

/// Every entry listed now, with the cursor of the newest change read
/// before them (a change after it is sent again next time: harmless).
/// An entry whose end passes while the copy is kept is still in it until
/// the job's next run expires it (a change): its `until` tells the box.
async fn snapshot(state: &AppState, cursor: i64) -> Result<Update, sqlx::Error> {
    let now = now_ms();
    let changes = store::listed(&state.db, now)
        .await?
        .into_iter()
        .take(MAX_ENTRIES)
        .filter_map(|(address, pinned, expires_at)| {
            let ip = address.parse().ok()?;
            let until = if pinned == 1 { 0 } else { seconds(expires_at) };
            Some(Change::Add { ip, until })
        })
        .collect();
    Ok(Update {
        kind: Kind::Snapshot,
        cursor,
        changes,
    })
}

fn change(row: &ChangeRow) -> Option<Change> {
    let ip = row.address.parse().ok()?;
    Some(match row.op.as_str() {
        "add" => Change::Add {
            ip,
            until: seconds(row.expires_at),
        },
        _ => Change::Remove { ip },
    })
}

/// Unix ms to the Unix seconds of the format, rounded up (0 stays 0).
fn seconds(ms: i64) -> i64 {
    ms.saturating_add(999).div_euclid(1000).max(0)
}
