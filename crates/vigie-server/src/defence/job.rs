//! The `defence.compute` job: reads the incidents stored since its last
//! run into sightings, lists and refreshes the addresses that qualify,
//! expires those whose time is up, and prunes what the window and the
//! history no longer need.
//!
//! Bounded work: a run reads at most [`BATCH`] new incidents (plus a
//! margin read again, so that a PostgreSQL transaction committed late is
//! not missed), folds them per (address, commune, category) and writes
//! them in transactions of at most [`ROWS_PER_TX`] statements; it looks
//! again only at the addresses of the new incidents and at those whose
//! sightings the margin changed; its upkeep (`upkeep`: allowed addresses,
//! expiry, pruning) works in bounded chunks. So a quiet minute costs a
//! read and a few no-op upserts, and SQLite's single writer is never held
//! long enough to make the sensors' ingest wait out its busy timeout.
//!
//! What it must not do: list an address [`DefenceSettings::may_list`]
//! refuses, allowlisted (the territory's allowlists, or the allowlists of
//! the commune whose incident it is) or marked legitimate; change an entry
//! without writing its change; list again, on the incidents read again
//! behind the cursor, an address that expired or that the staff took off;
//! prolong an entry on anything but newer evidence (a prolongation runs
//! a stay from the last attack seen, not from the last run); keep listed
//! an address the territory has since allowed; forget, after a run that
//! failed half-way, the addresses it had not yet looked at.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::allowlists::Allowlists;
use super::rules::DefenceSettings;
use super::store::{self, category};
use super::{listing, upkeep};
use crate::db::Db;

/// Most new incidents read by one run.
pub const BATCH: i64 = 20_000;
/// Incidents read again behind the cursor.
pub const MARGIN: i64 = 1_000;
/// Most statements in one write transaction.
const ROWS_PER_TX: usize = 2_000;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Incidents read (the margin included).
    pub incidents: usize,
    pub listed: usize,
    pub refreshed: usize,
    pub expired: usize,
    /// Entries taken off because the territory now allows their address
    /// (a new allowlist entry, or a network added to `home_nets`).
    pub lifted: usize,
    /// The read was full: more incidents wait behind this run's.
    pub more: bool,
}

impl RunSummary {
    fn add(&mut self, run: RunSummary) {
        self.incidents = self.incidents.saturating_add(run.incidents);
        self.listed = self.listed.saturating_add(run.listed);
        self.refreshed = self.refreshed.saturating_add(run.refreshed);
        self.expired = self.expired.saturating_add(run.expired);
        self.lifted = self.lifted.saturating_add(run.lifted);
        self.more = run.more;
    }
}

/// The job's minute: [`compute`] again and again while incidents wait
/// (after a pause of the job, or a burst over [`BATCH`] a minute), until
/// it is caught up or `budget` is spent; the rest waits for the next
/// minute. The sums of the runs.
pub async fn catch_up(
    db: &Db,
    settings: &DefenceSettings,
    budget: std::time::Duration,
) -> Result<RunSummary, sqlx::Error> {
    let started = std::time::Instant::now();
    let mut total = RunSummary::default();
    loop {
        total.add(compute(db, settings, crate::db::now_ms()).await?);
        if !total.more || started.elapsed() >= budget {
            return Ok(total);
        }
    }
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

/// (address, commune, category) → (first seen, last seen).
type Folded = BTreeMap<(String, String, String), (i64, i64)>;

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
    let since = now.saturating_sub(settings.window_ms());
    let rows: Vec<IncidentRow> = sqlx::query_as(
        "SELECT id, commune, category, source, first_seen, last_seen FROM incidents
         WHERE id > $1 AND direction = 'inbound' AND source IS NOT NULL AND last_seen >= $2
         ORDER BY id LIMIT $3",
    )
    .bind(cursor.saturating_sub(MARGIN).max(0))
    .bind(since)
    .bind(BATCH + MARGIN)
    .fetch_all(db.read())
    .await?;
    summary.incidents = rows.len();
    summary.more = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH + MARGIN;
    let allow = Allowlists::load(db).await?;
    summary.lifted = upkeep::lift(db, settings, &allow, now).await?;
    let (folded, fresh) = fold(db, settings, &allow, &rows, cursor).await?;
    let mut touched = write_sightings(db, &folded).await?;
    // Every address of the incidents after the cursor is looked at, not
    // only those whose sightings changed: a run that failed after writing
    // the sightings left the cursor where it was, and its addresses must
    // not be forgotten when the next run finds nothing to change.
    for (address, newest) in fresh {
        let slot = touched.entry(address).or_insert(newest);
        *slot = (*slot).max(newest);
    }
    let touched: Vec<(&String, &i64)> = touched.iter().collect();
    for chunk in touched.chunks(ROWS_PER_TX / 4) {
        let mut tx = store::begin(db).await?;
        for (address, newest) in chunk {
            match listing::consider(&mut tx, settings, address, **newest, now).await? {
                Some(true) => summary.listed += 1,
                Some(false) => summary.refreshed += 1,
                None => {}
            }
        }
        tx.commit().await?;
    }
    summary.expired = upkeep::expire(db, now).await?;
    upkeep::prune(db, settings, now).await?;
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

/// The incidents that are evidence, folded per address, commune and
/// category; and the addresses of those after `cursor` (not read by an
/// earlier run), each with its newest time.
async fn fold(
    db: &Db,
    settings: &DefenceSettings,
    allow: &Allowlists,
    rows: &[IncidentRow],
    cursor: i64,
) -> Result<(Folded, BTreeMap<String, i64>), sqlx::Error> {
    let legitimate: BTreeSet<String> =
        sqlx::query_scalar::<_, String>("SELECT address FROM defence_legitimate")
            .fetch_all(db.read())
            .await?
            .into_iter()
            .collect();
    let mut folded = Folded::new();
    let mut fresh: BTreeMap<String, i64> = BTreeMap::new();
    for row in rows {
        let Some(ip) = row.source.as_deref().and_then(|s| s.parse::<IpAddr>().ok()) else {
            continue;
        };
        let ip = ip.to_canonical();
        let Some(kind) = category(&row.category) else {
            continue;
        };
        let address = ip.to_string();
        if settings.weight(kind) <= 0.0
            || !settings.may_list(ip)
            || allow.covers(&row.commune, ip)
            || legitimate.contains(&address)
        {
            continue;
        }
        if row.id > cursor {
            let newest = fresh.entry(address.clone()).or_insert(row.last_seen);
            *newest = (*newest).max(row.last_seen);
        }
        let slot = folded
            .entry((address, row.commune.clone(), row.category.clone()))
            .or_insert((row.first_seen, row.last_seen));
        slot.0 = slot.0.min(row.first_seen);
        slot.1 = slot.1.max(row.last_seen);
    }
    Ok((folded, fresh))
}

/// Upserts the sightings; the addresses whose sightings changed (a new
/// one, or one seen earlier or later than stored), each with the newest
/// time among those. The margin read again changes nothing, so it touches
/// nothing.
async fn write_sightings(db: &Db, folded: &Folded) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let mut touched: BTreeMap<String, i64> = BTreeMap::new();
    let items: Vec<_> = folded.iter().collect();
    for chunk in items.chunks(ROWS_PER_TX) {
        let mut tx = db.pool.begin().await?;
        for ((address, commune, kind), (first_seen, last_seen)) in chunk {
            let done = sqlx::query(
                "INSERT INTO defence_sightings (address, commune, category, first_seen, last_seen)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (address, commune, category) DO UPDATE SET
                     first_seen = CASE WHEN excluded.first_seen < defence_sightings.first_seen
                         THEN excluded.first_seen ELSE defence_sightings.first_seen END,
                     last_seen = CASE WHEN excluded.last_seen > defence_sightings.last_seen
                         THEN excluded.last_seen ELSE defence_sightings.last_seen END
                 WHERE excluded.first_seen < defence_sightings.first_seen
                    OR excluded.last_seen > defence_sightings.last_seen",
            )
            .bind(address)
            .bind(commune)
            .bind(kind)
            .bind(first_seen)
            .bind(last_seen)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 {
                let slot = touched.entry(address.clone()).or_insert(*last_seen);
                *slot = (*slot).max(*last_seen);
            }
        }
        tx.commit().await?;
    }
    Ok(touched)
}
