//! The territory list's tables: the job that reads new incidents into
//! sightings and lists, refreshes and expires addresses ([`compute`]), the
//! staff's actions, and the queries the boxes' endpoint and the page use.
//!
//! Bounded work: a run reads at most [`BATCH`] new incidents (plus a
//! margin read again, so that a PostgreSQL transaction committed late is
//! not missed; sightings are upserted, so reading twice changes nothing),
//! looks only at the addresses they name, and prunes sightings older than
//! the window.
//!
//! The staff's actions and the read queries are in `queries`.
//!
//! What it must not do: list an address [`DefenceSettings::may_list`]
//! refuses, allowlisted (the territory's allowlists, or the allowlists of
//! the commune whose incident it is) or marked legitimate; change an entry
//! without writing its change (the history and what boxes fetch); list
//! again, on the incidents read again behind the cursor, an address that
//! expired or that the staff took off.

use std::collections::BTreeSet;
use std::net::IpAddr;

use sqlx::{Any, Transaction};
use vigie_core::Category;

use super::allowlists::Allowlists;
use super::rules::{self, DefenceSettings, Sighting};
use crate::db::Db;

/// Most new incidents read by one run.
pub const BATCH: i64 = 20_000;
/// Incidents read again behind the cursor.
const MARGIN: i64 = 1_000;
/// Most sightings kept in an entry's reason.
const MAX_REASONS: usize = 50;
/// An active entry's end is moved (and a change written) only when new
/// evidence pushes it this much further.
const REFRESH_STEP_MS: i64 = 3600 * 1000;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub incidents: usize,
    pub listed: usize,
    pub refreshed: usize,
    pub expired: usize,
}

/// One entry, as the page and the endpoint read it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Entry {
    pub address: String,
    pub active: i64,
    pub pinned: i64,
    pub strikes: i64,
    pub listed_at: i64,
    pub expires_at: i64,
    pub reason: String,
}

/// One line of the history.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChangeRow {
    pub seq: i64,
    pub address: String,
    pub op: String,
    pub expires_at: i64,
    pub at: i64,
    pub cause: String,
    pub actor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct IncidentRow {
    id: i64,
    commune: String,
    category: String,
    source: Option<String>,
    first_seen: i64,
    last_seen: i64,
}

/// Reads the incidents stored since the last run, lists the addresses
/// that now qualify, expires those whose time is up.
pub async fn compute(
    db: &Db,
    settings: &DefenceSettings,
    now: i64,
) -> Result<RunSummary, sqlx::Error> {
    let mut summary = RunSummary::default();
    let cursor: i64 = sqlx::query_scalar("SELECT last_incident FROM defence_state WHERE id = 1")
        .fetch_one(&db.pool)
        .await?;
    let rows: Vec<IncidentRow> = sqlx::query_as(
        "SELECT id, commune, category, source, first_seen, last_seen FROM incidents
         WHERE id > $1 AND direction = 'inbound' AND source IS NOT NULL AND last_seen >= $2
         ORDER BY id LIMIT $3",
    )
    .bind(cursor.saturating_sub(MARGIN).max(0))
    .bind(now.saturating_sub(settings.window_ms()))
    .bind(BATCH + MARGIN)
    .fetch_all(db.read())
    .await?;
    summary.incidents = rows.len();
    let allow = Allowlists::load(db).await?;
    let legitimate = legitimate_set(db).await?;
    let mut touched = BTreeSet::new();
    for row in &rows {
        let Some(ip) = row.source.as_deref().and_then(|s| s.parse::<IpAddr>().ok()) else {
            continue;
        };
        let ip = ip.to_canonical();
        let Some(category) = category(&row.category) else {
            continue;
        };
        if settings.weight(category) <= 0.0
            || !settings.may_list(ip)
            || allow.covers(&row.commune, ip)
            || legitimate.contains(&ip.to_string())
        {
            continue;
        }
        upsert_sighting(db, &ip.to_string(), row).await?;
        touched.insert(ip.to_string());
    }
    for address in &touched {
        match consider(db, settings, address, now).await? {
            Some(true) => summary.listed += 1,
            Some(false) => summary.refreshed += 1,
            None => {}
        }
    }
    summary.expired = expire(db, now).await?;
    sqlx::query("DELETE FROM defence_sightings WHERE last_seen < $1")
        .bind(now.saturating_sub(settings.window_ms()))
        .execute(&db.pool)
        .await?;
    if let Some(last) = rows
        .iter()
        .map(|r| r.id)
        .max()
        .filter(|last| *last > cursor)
    {
        sqlx::query("UPDATE defence_state SET last_incident = $1 WHERE id = 1")
            .bind(last)
            .execute(&db.pool)
            .await?;
    }
    Ok(summary)
}

/// Lists or refreshes `address` if its sightings qualify: `Some(true)`
/// when it entered the list, `Some(false)` when its end moved.
async fn consider(
    db: &Db,
    settings: &DefenceSettings,
    address: &str,
    now: i64,
) -> Result<Option<bool>, sqlx::Error> {
    let sightings = sightings_of(db, address).await?;
    if !rules::qualifies(settings, &sightings, now) {
        return Ok(None);
    }
    let mut tx = db.pool.begin().await?;
    let entry: Option<Entry> = sqlx::query_as(
        "SELECT address, active, pinned, strikes, listed_at, expires_at, reason
         FROM defence_entries WHERE address = $1",
    )
    .bind(address)
    .fetch_optional(&mut *tx)
    .await?;
    // An address off the list (expired, or taken off by the staff, whose
    // sightings were forgotten) comes back only on what was seen after
    // it left (`expires_at` is then when it left): the incidents read
    // again behind the cursor are not new evidence.
    let sightings = match &entry {
        Some(entry) if entry.active == 0 => {
            let evidence: Vec<Sighting> = sightings
                .into_iter()
                .filter(|s| s.last_seen > entry.expires_at)
                .collect();
            if !rules::qualifies(settings, &evidence, now) {
                return Ok(None);
            }
            evidence
        }
        _ => sightings,
    };
    let reason = reason_json(&sightings);
    let outcome = match entry {
        Some(entry) if entry.active == 1 => {
            let end = now.saturating_add(settings.stay_ms(entry.strikes));
            if entry.pinned == 1 || end < entry.expires_at.saturating_add(REFRESH_STEP_MS) {
                None
            } else {
                sqlx::query(
                    "UPDATE defence_entries SET expires_at = $1, reason = $2 WHERE address = $3",
                )
                .bind(end)
                .bind(&reason)
                .bind(address)
                .execute(&mut *tx)
                .await?;
                record(&mut tx, address, "add", end, now, "prolongée", None).await?;
                Some(false)
            }
        }
        previous => {
            let strikes = previous.map_or(0, |e| e.strikes).saturating_add(1);
            let end = now.saturating_add(settings.stay_ms(strikes));
            sqlx::query(
                "INSERT INTO defence_entries
                     (address, active, pinned, strikes, listed_at, expires_at, reason)
                 VALUES ($1, 1, 0, $2, $3, $4, $5)
                 ON CONFLICT (address) DO UPDATE SET active = 1, pinned = 0,
                     strikes = excluded.strikes, listed_at = excluded.listed_at,
                     expires_at = excluded.expires_at, reason = excluded.reason",
            )
            .bind(address)
            .bind(strikes)
            .bind(now)
            .bind(end)
            .bind(&reason)
            .execute(&mut *tx)
            .await?;
            let cause = if strikes == 1 {
                "inscrite"
            } else {
                "réinscrite"
            };
            record(&mut tx, address, "add", end, now, cause, None).await?;
            Some(true)
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Takes the entries whose time is up off the list.
async fn expire(db: &Db, now: i64) -> Result<usize, sqlx::Error> {
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT address FROM defence_entries
         WHERE active = 1 AND pinned = 0 AND expires_at <= $1 LIMIT 10000",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    for address in &due {
        let mut tx = db.pool.begin().await?;
        deactivate(&mut tx, address, now, "expirée", None).await?;
        tx.commit().await?;
    }
    Ok(due.len())
}

pub(super) async fn deactivate(
    tx: &mut Transaction<'_, Any>,
    address: &str,
    now: i64,
    cause: &str,
    actor: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE defence_entries SET active = 0, pinned = 0, expires_at = $1
         WHERE address = $2 AND active = 1",
    )
    .bind(now)
    .bind(address)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    record(tx, address, "remove", 0, now, cause, actor).await?;
    Ok(true)
}

pub(super) async fn record(
    tx: &mut Transaction<'_, Any>,
    address: &str,
    op: &str,
    expires_at: i64,
    now: i64,
    cause: &str,
    actor: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO defence_changes (address, op, expires_at, at, cause, actor)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(address)
    .bind(op)
    .bind(expires_at)
    .bind(now)
    .bind(cause)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn forget_sightings(
    tx: &mut Transaction<'_, Any>,
    address: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM defence_sightings WHERE address = $1")
        .bind(address)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn upsert_sighting(db: &Db, address: &str, row: &IncidentRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO defence_sightings (address, commune, category, first_seen, last_seen)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (address, commune, category) DO UPDATE SET
             first_seen = CASE WHEN excluded.first_seen < defence_sightings.first_seen
                 THEN excluded.first_seen ELSE defence_sightings.first_seen END,
             last_seen = CASE WHEN excluded.last_seen > defence_sightings.last_seen
                 THEN excluded.last_seen ELSE defence_sightings.last_seen END",
    )
    .bind(address)
    .bind(&row.commune)
    .bind(&row.category)
    .bind(row.first_seen)
    .bind(row.last_seen)
    .execute(&db.pool)
    .await?;
    Ok(())
}

async fn sightings_of(db: &Db, address: &str) -> Result<Vec<Sighting>, sqlx::Error> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT commune, category, first_seen, last_seen FROM defence_sightings
         WHERE address = $1 ORDER BY first_seen",
    )
    .bind(address)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(commune, name, first_seen, last_seen)| {
            Some(Sighting {
                commune,
                category: category(&name)?,
                first_seen,
                last_seen,
            })
        })
        .collect())
}

async fn legitimate_set(db: &Db) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT address FROM defence_legitimate")
        .fetch_all(db.read())
        .await?;
    Ok(rows.into_iter().collect())
}

/// The reason the page shows: which communes, categories and when.
fn reason_json(sightings: &[Sighting]) -> String {
    let items: Vec<serde_json::Value> = sightings
        .iter()
        .take(MAX_REASONS)
        .map(|s| {
            serde_json::json!({
                "commune": s.commune, "category": s.category.as_str(),
                "first_seen": s.first_seen, "last_seen": s.last_seen,
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

pub(super) fn category(name: &str) -> Option<Category> {
    Category::ALL.into_iter().find(|c| c.as_str() == name)
}
