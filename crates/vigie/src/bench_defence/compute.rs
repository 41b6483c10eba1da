//! The list's computation: the territory's day replayed minute by minute.
//! Each minute's incidents are written as the ingest would have stored
//! them (not timed), then the `defence.compute` job runs for that minute
//! (`vigie_server::defence::compute`, the job's own function, given the
//! minute's end as its clock), then the reference: the job's own first
//! read of the same incidents, alone.
//!
//! Before the day, yesterday's list is put in place as the job would have
//! left it (the mass scanners, and yesterday's campaign addresses listed
//! over the day), so that today sees its expiries as a steady day does.
//! Yesterday's sightings are not: the job prunes nothing during the day;
//! that pruning is measured once at the end (a run a day later).

use std::time::{Duration, Instant};

use vigie_core::defence::{Change, Kind, Update, write};
use vigie_server::Db;
use vigie_server::defence::{self, DefenceSettings};

use super::day::{DAY_MS, Day, Drawn, MINUTE_MS, Source};
use crate::bench_national::traffic::mix;

/// Rows per INSERT (14 parameters each, under both backends' limits).
const ROWS_PER_INSERT: usize = 500;
/// The job's own first read (`defence::job::compute`).
const READ: &str = "SELECT id, commune, category, source, first_seen, last_seen FROM incidents
     WHERE id > $1 AND direction = 'inbound' AND source IS NOT NULL AND last_seen >= $2
     ORDER BY id LIMIT $3";

/// The registered boxes: (sensor id, commune) by index.
pub type Boxes = Vec<(String, String)>;

/// What the day's runs measured.
#[derive(Default)]
pub struct Measure {
    pub minutes: u64,
    pub incidents: u64,
    /// Incidents the runs read (the margin read again included).
    pub read: u64,
    pub listed: u64,
    pub refreshed: u64,
    pub expired: u64,
    /// Each run's time, sorted.
    pub runs: Vec<Duration>,
    /// The reference read's time, summed.
    pub reference: Duration,
    pub writing: Duration,
    /// Changes written during the day, and the runs that wrote any.
    pub changes: i64,
    /// The day's changes as the boxes' endpoint writes them: bytes of
    /// their lines.
    pub change_bytes: u64,
    pub runs_with_changes: u64,
    /// Entries on the list at the end, and at the start (yesterday's).
    pub listed_at_end: usize,
    pub listed_at_start: usize,
}

impl Measure {
    pub fn total(&self) -> Duration {
        self.runs.iter().sum()
    }
}

/// Replays the first `minutes` minutes of `day` from `day_start` (Unix ms).
pub async fn replay(
    db: &Db,
    boxes: &Boxes,
    day: &Day,
    minutes: u64,
    day_start: i64,
) -> anyhow::Result<Measure> {
    let settings = DefenceSettings::default();
    let mut measure = Measure {
        minutes,
        listed_at_start: yesterday(db, day, day_start).await?,
        ..Measure::default()
    };
    let before_day = last_seq(db).await?;
    let mut last_change = before_day;
    for minute in 0..minutes {
        let now = day_start + (minute as i64 + 1) * MINUTE_MS;
        let start = Instant::now();
        let written = write_minute(db, boxes, day, minute, now - MINUTE_MS).await?;
        measure.writing += start.elapsed();
        measure.incidents += written;
        let cursor: i64 = sqlx::query_scalar("SELECT last_incident FROM defence_state")
            .fetch_one(db.read())
            .await?;

        let start = Instant::now();
        let summary = defence::compute(db, &settings, now).await?;
        measure.runs.push(start.elapsed());
        measure.read += summary.incidents as u64;
        measure.listed += summary.listed as u64;
        measure.refreshed += summary.refreshed as u64;
        measure.expired += summary.expired as u64;

        let start = Instant::now();
        let rows: Vec<(i64, String, String, Option<String>, i64, i64)> = sqlx::query_as(READ)
            .bind((cursor - defence::job::MARGIN).max(0))
            .bind(now - settings.window_ms())
            .bind(defence::job::BATCH + defence::job::MARGIN)
            .fetch_all(db.read())
            .await?;
        measure.reference += start.elapsed();
        if rows.len() != summary.incidents {
            anyhow::bail!(
                "minute {minute} : la lecture de référence a lu {} incidents, le calcul {}",
                rows.len(),
                summary.incidents
            );
        }
        let seq = last_seq(db).await?;
        if seq > last_change {
            measure.runs_with_changes += 1;
            measure.changes += seq - last_change;
            last_change = seq;
        }
        if (minute + 1) % 60 == 0 {
            eprintln!(
                "   … {} h rejouée(s) sur {}, calcul {:.0} s jusqu'ici",
                (minute + 1) / 60,
                minutes.div_ceil(60),
                measure.runs.iter().sum::<Duration>().as_secs_f64()
            );
        }
    }
    measure.runs.sort();
    measure.listed_at_end = defence::queries::active(db).await?.len();
    measure.change_bytes = change_bytes(db, before_day).await?;
    Ok(measure)
}

/// The bytes of the lines the boxes' endpoint writes for the changes
/// after `since` (`vigie_core::defence::write`, times rounded up to the
/// second as `defence::api` does), read a page at a time.
async fn change_bytes(db: &Db, mut since: i64) -> anyhow::Result<u64> {
    let mut bytes = 0;
    loop {
        let rows = defence::queries::changes_since(db, since, 5_000).await?;
        let Some(last) = rows.last() else {
            return Ok(bytes);
        };
        since = last.seq;
        let changes = rows
            .iter()
            .filter_map(|row| {
                let ip = row.address.parse().ok()?;
                Some(match row.op.as_str() {
                    "add" => Change::Add {
                        ip,
                        until: (row.expires_at + 999).div_euclid(1000),
                    },
                    _ => Change::Remove { ip },
                })
            })
            .collect();
        let update = Update {
            kind: Kind::Changes,
            cursor: 0,
            changes,
        };
        let header = write(&Update {
            changes: Vec::new(),
            ..update.clone()
        });
        bytes += (write(&update).len() - header.len()) as u64;
    }
}

/// A run a day after `last_run`: every sighting of the day pruned, and
/// the entries whose stay ended expired. After the delivery's measures, as
/// it empties the list.
pub async fn day_later(db: &Db, last_run: i64) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let summary = defence::compute(db, &DefenceSettings::default(), last_run + DAY_MS + 1).await?;
    Ok((start.elapsed(), summary.expired))
}

/// `count` communes with made-up INSEE codes (two digits, three digits),
/// as the territory's import would leave them.
pub async fn communes(db: &Db, count: u32) -> anyhow::Result<()> {
    let codes: Vec<String> = (0..count)
        .map(|i| format!("{:02}{:03}", 1 + i / 999, 1 + i % 999))
        .collect();
    let mut tx = db.pool.begin().await?;
    for chunk in codes.chunks(1_000) {
        let sql = format!(
            "INSERT INTO communes (code, name, departement, population) VALUES {}",
            numbered(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (i, code) in chunk.iter().enumerate() {
            query = query
                .bind(code)
                .bind(format!("Commune {code}"))
                .bind(&code[..2])
                .bind(200 + (i as i64 * 37) % 5_000);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The registered boxes' ids and communes, in a stable order.
pub async fn boxes(db: &Db) -> anyhow::Result<Boxes> {
    Ok(
        sqlx::query_as("SELECT id, commune FROM sensors ORDER BY id")
            .fetch_all(db.read())
            .await?,
    )
}

/// The minute's incidents, in one transaction.
async fn write_minute(
    db: &Db,
    boxes: &Boxes,
    day: &Day,
    minute: u64,
    minute_start: i64,
) -> anyhow::Result<u64> {
    let drawn: Vec<Drawn> = (0..day.incidents_in(minute))
        .map(|index| day.incident(minute, index))
        .collect();
    let mut tx = db.pool.begin().await?;
    for chunk in drawn.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO incidents (sensor_id, seq, commune, category, rule, severity, source,
                 direction, target_port, first_seen, last_seen, day, hour, events) VALUES {}",
            numbered(chunk.len(), 14)
        );
        let mut query = sqlx::query(&sql);
        for d in chunk {
            let (sensor, commune) = &boxes[d.sensor as usize % boxes.len()];
            let first = minute_start + d.offset_ms;
            let last = (first + 20_000).min(minute_start + MINUTE_MS);
            let local = chrono::DateTime::from_timestamp_millis(first)
                .unwrap_or_default()
                .with_timezone(&vigie_core::LOCAL_TZ);
            query = query
                .bind(sensor)
                .bind(minute as i64)
                .bind(commune)
                .bind(d.category.as_str())
                .bind(d.rule)
                .bind(d.severity)
                .bind(d.source.address().to_string())
                .bind(if d.outbound { "outbound" } else { "inbound" })
                .bind(d.target_port)
                .bind(first)
                .bind(last)
                .bind(local.date_naive().to_string())
                .bind(i64::from(chrono::Timelike::hour(&local)))
                .bind(d.events);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(drawn.len() as u64)
}

/// Yesterday's list as the job would have left it at `day_start`: the
/// mass scanners (last prolonged an hour ago) and yesterday's busiest
/// campaign addresses, listed at times spread over yesterday for a day.
/// How many entries.
async fn yesterday(db: &Db, day: &Day, day_start: i64) -> anyhow::Result<usize> {
    let mut entries: Vec<(String, i64, i64)> = (0..day.mass_scanners())
        .map(|n| {
            let address = Source::Mass(n).address().to_string();
            (address, day_start - DAY_MS, day_start + 23 * 60 * MINUTE_MS)
        })
        .collect();
    for rank in 0..day.campaign_listed() {
        let address = Source::Campaign { rank, day: 0 }.address().to_string();
        let at = day_start - DAY_MS + (mix(rank, 0, 9) % DAY_MS as u64) as i64;
        entries.push((address, at, at + DAY_MS));
    }
    entries.sort_by_key(|e| e.1);
    let mut tx = db.pool.begin().await?;
    for chunk in entries.chunks(1_000) {
        let sql = format!(
            "INSERT INTO defence_entries (address, active, pinned, strikes, listed_at, expires_at, reason)
             VALUES {}",
            numbered_with(chunk.len(), 3, "1, 0, 1", "'[]'")
        );
        let mut query = sqlx::query(&sql);
        for (address, at, until) in chunk {
            query = query.bind(address).bind(*at).bind(*until);
        }
        query.execute(&mut *tx).await?;
        let sql = format!(
            "INSERT INTO defence_changes (address, expires_at, at, op, cause) VALUES {}",
            numbered_with(chunk.len(), 3, "", "'add', 'inscrite'")
        );
        let mut query = sqlx::query(&sql);
        for (address, at, until) in chunk {
            query = query.bind(address).bind(*until).bind(*at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(entries.len())
}

async fn last_seq(db: &Db) -> anyhow::Result<i64> {
    Ok(defence::queries::last_seq(db).await?)
}

/// `rows` groups of `columns` numbered parameters: `($1, $2), ($3, $4)`.
fn numbered(rows: usize, columns: usize) -> String {
    numbered_with(rows, columns, "", "")
}

/// The same with constant SQL after the first parameter and at the end
/// of each group.
fn numbered_with(rows: usize, columns: usize, after_first: &str, tail: &str) -> String {
    let groups: Vec<String> = (0..rows)
        .map(|row| {
            let mut items: Vec<String> = (0..columns)
                .map(|c| format!("${}", row * columns + c + 1))
                .collect();
            if !after_first.is_empty() {
                items.insert(1, after_first.to_owned());
            }
            if !tail.is_empty() {
                items.push(tail.to_owned());
            }
            format!("({})", items.join(", "))
        })
        .collect();
    groups.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_across_groups() {
        assert_eq!(numbered(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(
            numbered_with(2, 3, "1, 0, 1", "'[]'"),
            "($1, 1, 0, 1, $2, $3, '[]'), ($4, 1, 0, 1, $5, $6, '[]')"
        );
    }
}
