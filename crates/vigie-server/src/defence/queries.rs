//! The territory list's staff actions (remove, pin, mark legitimate, each
//! with its change in the history) and the read queries of the page, the
//! boxes' endpoint and the commune page.
//!
//! What it must not do: change an entry without writing its change.

use sqlx::{Any, Transaction};

use super::rules::DefenceSettings;
use super::store::{ChangeRow, Entry, begin, deactivate, forget_sightings, record};
use crate::db::Db;

/// A staff member takes `address` off the list; its sightings are
/// forgotten, so only new attacks list it again. False: it was not listed.
pub async fn remove(db: &Db, address: &str, actor: &str, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = begin(db).await?;
    let done = deactivate(&mut tx, address, now, "retirée", Some(actor)).await?;
    forget_sightings(&mut tx, address).await?;
    tx.commit().await?;
    Ok(done)
}

/// A staff member pins (`true`: listed until removed) or unpins an
/// entry (it then ends after its usual stay from now).
pub async fn pin(
    db: &Db,
    settings: &DefenceSettings,
    address: &str,
    pinned: bool,
    actor: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = begin(db).await?;
    let strikes: Option<i64> =
        sqlx::query_scalar("SELECT strikes FROM defence_entries WHERE address = $1")
            .bind(address)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(strikes) = strikes else {
        return Ok(false);
    };
    let end = now.saturating_add(settings.stay_ms(strikes.max(1)));
    sqlx::query(
        "UPDATE defence_entries SET active = 1, pinned = $1, expires_at = $2 WHERE address = $3",
    )
    .bind(i64::from(pinned))
    .bind(end)
    .bind(address)
    .execute(&mut *tx)
    .await?;
    let (until, cause) = if pinned {
        (0, "épinglée")
    } else {
        (end, "désépinglée")
    };
    record(&mut tx, address, "add", until, now, cause, Some(actor)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Marks `address` legitimate (never listed again) and takes it off.
pub async fn mark_legitimate(
    db: &Db,
    address: &str,
    note: &str,
    actor: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = begin(db).await?;
    sqlx::query(
        "INSERT INTO defence_legitimate (address, note, actor, at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (address) DO UPDATE SET note = excluded.note, actor = excluded.actor,
             at = excluded.at",
    )
    .bind(address)
    .bind(note)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    deactivate(&mut tx, address, now, "légitime", Some(actor)).await?;
    forget_sightings(&mut tx, address).await?;
    tx.commit().await
}

/// Lifts the legitimate mark: the address may be listed again.
pub async fn unmark_legitimate(db: &Db, address: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM defence_legitimate WHERE address = $1")
        .bind(address)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The active entries, longest-listed first.
pub async fn active(db: &Db) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT address, active, pinned, strikes, listed_at, expires_at, reason
         FROM defence_entries WHERE active = 1 ORDER BY listed_at, address",
    )
    .fetch_all(db.read())
    .await
}

/// What a box needs of the entries listed at `now`: (address, pinned,
/// end), without their reasons (up to 50 sightings each, which the
/// whole list's answer to a box would otherwise read for nothing).
pub async fn listed(db: &Db, now: i64) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT address, pinned, expires_at FROM defence_entries
         WHERE active = 1 AND (pinned = 1 OR expires_at > $1) ORDER BY listed_at, address",
    )
    .bind(now)
    .fetch_all(db.read())
    .await
}

/// The last `limit` changes, newest first.
pub async fn history(db: &Db, limit: i64) -> Result<Vec<ChangeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, address, op, expires_at, at, cause, actor FROM defence_changes
         ORDER BY seq DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.read())
    .await
}

/// The addresses marked legitimate: (address, note, actor, at).
pub async fn legitimate(
    db: &Db,
) -> Result<Vec<(String, String, Option<String>, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT address, note, actor, at FROM defence_legitimate ORDER BY address")
        .fetch_all(db.read())
        .await
}

/// The newest change's number (0: none yet).
pub async fn last_seq(db: &Db) -> Result<i64, sqlx::Error> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM defence_changes")
        .fetch_one(db.read())
        .await?;
    Ok(seq.unwrap_or(0))
}

/// The oldest change still kept (0: none).
pub async fn first_seq(db: &Db) -> Result<i64, sqlx::Error> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM defence_changes")
        .fetch_one(db.read())
        .await?;
    Ok(seq.unwrap_or(0))
}

/// The changes after `since`, oldest first, at most `limit`.
pub async fn changes_since(db: &Db, since: i64, limit: i64) -> Result<Vec<ChangeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, address, op, expires_at, at, cause, actor FROM defence_changes
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(db.read())
    .await
}

/// Adds the attacks a commune's box blocked thanks to the list.
pub async fn add_defended(
    tx: &mut Transaction<'_, Any>,
    commune: &str,
    day: &str,
    attacks: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO defended_counts (commune, day, attacks) VALUES ($1, $2, $3)
         ON CONFLICT (commune, day) DO UPDATE SET
             attacks = defended_counts.attacks + excluded.attacks
         WHERE defended_counts.attacks <= 9007199254740991 - excluded.attacks",
    )
    .bind(commune)
    .bind(day)
    .bind(attacks)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The attacks a commune's box blocked thanks to the list on `day`.
pub async fn defended_on(db: &Db, commune: &str, day: &str) -> Result<i64, sqlx::Error> {
    let attacks: Option<i64> =
        sqlx::query_scalar("SELECT attacks FROM defended_counts WHERE commune = $1 AND day = $2")
            .bind(commune)
            .bind(day)
            .fetch_optional(db.read())
            .await?;
    Ok(attacks.unwrap_or(0))
}
