//! The list's upkeep at each run of the job: entries the territory now
//! allows taken off, entries whose time is up expired, and what the window
//! and the history no longer need pruned, in bounded chunks.
//!
//! What it must not do: take an entry off without writing its change, or
//! hold SQLite's single writer long enough for the sensors' ingest to
//! wait out its busy timeout (hence the chunks).

use std::net::IpAddr;

use super::allowlists::Allowlists;
use super::rules::DefenceSettings;
use super::store::{begin, deactivate, record};
use crate::db::Db;

/// Most entries taken off in one transaction.
const LIFT_PER_TX: usize = 1_000;
/// Most old sightings, and most old changes, deleted by one run.
const PRUNE_CHUNK: i64 = 50_000;
/// Most entries expired in one transaction.
const EXPIRE_CHUNK: i64 = 5_000;

/// Takes off the entries whose address the territory's allowlists or
/// networks now cover: they were listed before the allowlist said so, and
/// the boxes would block them until their end otherwise. The whole list
/// is read only when what the territory allows changed since the last
/// look (`defence_state.allow_key`).
pub(super) async fn lift(
    db: &Db,
    settings: &DefenceSettings,
    allow: &Allowlists,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let key = format!("{}| {:?}", allow.territory_key(), settings.home_nets);
    let known: String = sqlx::query_scalar("SELECT allow_key FROM defence_state WHERE id = 1")
        .fetch_one(&db.pool)
        .await?;
    if known == key {
        return Ok(0);
    }
    let listed: Vec<String> =
        sqlx::query_scalar("SELECT address FROM defence_entries WHERE active = 1")
            .fetch_all(&db.pool)
            .await?;
    let allowed: Vec<String> = listed
        .into_iter()
        .filter(|address| {
            address
                .parse::<IpAddr>()
                .is_ok_and(|ip| !settings.may_list(ip) || allow.covers_territory(ip))
        })
        .collect();
    let mut lifted = 0;
    for chunk in allowed.chunks(LIFT_PER_TX) {
        let mut tx = begin(db).await?;
        for address in chunk {
            if deactivate(&mut tx, address, now, "autorisée", None).await? {
                lifted += 1;
            }
        }
        tx.commit().await?;
    }
    sqlx::query("UPDATE defence_state SET allow_key = $1 WHERE id = 1")
        .bind(&key)
        .execute(&db.pool)
        .await?;
    Ok(lifted)
}

/// Takes every entry whose time is up off the list, each with its change,
/// [`EXPIRE_CHUNK`] entries a transaction: the rows taken off are the ones
/// whose changes are written (`RETURNING`), whatever commits meanwhile.
pub(super) async fn expire(db: &Db, now: i64) -> Result<usize, sqlx::Error> {
    let mut expired = 0;
    loop {
        let mut tx = begin(db).await?;
        // `expires_at` becomes when it left, as for a staff removal.
        let mut gone: Vec<String> = sqlx::query_scalar(
            "UPDATE defence_entries SET active = 0, expires_at = $1
             WHERE address IN (SELECT address FROM defence_entries
                 WHERE active = 1 AND pinned = 0 AND expires_at <= $2 LIMIT $3)
             RETURNING address",
        )
        .bind(now)
        .bind(now)
        .bind(EXPIRE_CHUNK)
        .fetch_all(&mut *tx)
        .await?;
        gone.sort();
        for address in &gone {
            record(&mut tx, address, "remove", 0, now, "expirée", None).await?;
        }
        tx.commit().await?;
        expired += gone.len();
        if i64::try_from(gone.len()).unwrap_or(i64::MAX) < EXPIRE_CHUNK {
            return Ok(expired);
        }
    }
}

/// Deletes sightings older than the window and changes older than the
/// history kept, at most [`PRUNE_CHUNK`] of each (the rest next run).
pub(super) async fn prune(
    db: &Db,
    settings: &DefenceSettings,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM defence_sightings WHERE (address, commune, category) IN (
             SELECT address, commune, category FROM defence_sightings
             WHERE last_seen < $1 LIMIT $2)",
    )
    .bind(now.saturating_sub(settings.window_ms()))
    .bind(PRUNE_CHUNK)
    .execute(&db.pool)
    .await?;
    // The oldest changes come first by number: look at the first chunk
    // only (a bounded read of the key), not for old ones through the
    // whole history.
    // The newest change always stays: SQLite numbers a new row after the
    // largest one left, and a box's cursor must never be passed by a
    // change numbered again from 1.
    sqlx::query(
        "DELETE FROM defence_changes WHERE at < $1 AND seq IN (
             SELECT seq FROM defence_changes ORDER BY seq LIMIT $2)
         AND seq < (SELECT MAX(seq) FROM defence_changes)",
    )
    .bind(now.saturating_sub(settings.history_ms()))
    .bind(PRUNE_CHUNK)
    .execute(&db.pool)
    .await?;
    Ok(())
}
