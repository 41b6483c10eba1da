//! Whether an address the job looked at enters the list, or stays on it
//! longer: its sightings within the window against the rules, its entry,
//! the staff's marks. Each listing and prolongation writes its change.
//!
//! What it must not do: list again, on old sightings, an address that
//! left the list (expired, or taken off by the staff); prolong an entry
//! on anything but newer evidence, a pinned one, or one the staff took off
//! meanwhile; list or prolong an address marked legitimate.

use sqlx::{Any, Transaction};

use super::rules::{self, DefenceSettings, Sighting};
use super::store::{Entry, category, record};

/// Most sightings kept in an entry's reason.
const MAX_REASONS: usize = 50;
/// An active entry's end is moved (and a change written) only when new
/// evidence pushes it this much further.
const REFRESH_STEP_MS: i64 = 3600 * 1000;

/// Lists or refreshes `address` if its sightings qualify: `Some(true)`
/// when it entered the list, `Some(false)` when its end moved. `newest`:
/// the newest time among the sightings this run changed.
///
/// An address already listed costs one read when the new evidence does
/// not move its end: its sightings (thousands for a mass scanner seen by
/// every commune) are read only when it may be prolonged.
pub(super) async fn consider(
    tx: &mut Transaction<'_, Any>,
    settings: &DefenceSettings,
    address: &str,
    newest: i64,
    now: i64,
) -> Result<Option<bool>, sqlx::Error> {
    let entry: Option<Entry> = sqlx::query_as(
        "SELECT address, active, pinned, strikes, listed_at, expires_at, reason
         FROM defence_entries WHERE address = $1",
    )
    .bind(address)
    .fetch_optional(&mut **tx)
    .await?;
    let since = now.saturating_sub(settings.window_ms());
    match entry {
        Some(entry) if entry.active == 1 => {
            // The stay runs from the newest attack seen (never from the
            // future a box's clock may claim), so reading old incidents
            // again does not keep an address listed.
            let step = entry.expires_at.saturating_add(REFRESH_STEP_MS);
            let stay = settings.stay_ms(entry.strikes);
            if entry.pinned == 1 || newest.min(now).saturating_add(stay) < step {
                return Ok(None);
            }
            let sightings = sightings_of(tx, address, since).await?;
            if !rules::qualifies(settings, &sightings, now) {
                return Ok(None);
            }
            let newest = sightings
                .iter()
                .map(|s| s.last_seen)
                .max()
                .unwrap_or(newest);
            let end = newest.min(now).saturating_add(stay);
            if end < step || marked_legitimate(tx, address).await? {
                return Ok(None);
            }
            // Still listed and not pinned: a staff action may have
            // committed since the entry was read.
            let done = sqlx::query(
                "UPDATE defence_entries SET expires_at = $1, reason = $2
                 WHERE address = $3 AND active = 1 AND pinned = 0",
            )
            .bind(end)
            .bind(reason_json(&sightings))
            .bind(address)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            record(tx, address, "add", end, now, "prolongée", None).await?;
            Ok(Some(false))
        }
        previous => {
            let sightings = sightings_of(tx, address, since).await?;
            // An address off the list (expired, or taken off by the staff,
            // whose sightings were forgotten) comes back only on what was
            // seen after it left (`expires_at` is then when it left): the
            // incidents read again behind the cursor are not new evidence.
            let sightings: Vec<Sighting> = match &previous {
                Some(left) => sightings
                    .into_iter()
                    .filter(|s| s.last_seen > left.expires_at)
                    .collect(),
                None => sightings,
            };
            if !rules::qualifies(settings, &sightings, now)
                || marked_legitimate(tx, address).await?
            {
                return Ok(None);
            }
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
            .bind(reason_json(&sightings))
            .execute(&mut **tx)
            .await?;
            let cause = if strikes == 1 {
                "inscrite"
            } else {
                "réinscrite"
            };
            record(tx, address, "add", end, now, cause, None).await?;
            Ok(Some(true))
        }
    }
}

/// Whether the staff marked `address` legitimate after this run read the
/// list of them (`fold`): then it is never listed nor prolonged. Asked
/// only when it is about to be.
async fn marked_legitimate(
    tx: &mut Transaction<'_, Any>,
    address: &str,
) -> Result<bool, sqlx::Error> {
    let marked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM defence_legitimate WHERE address = $1")
            .bind(address)
            .fetch_one(&mut **tx)
            .await?;
    Ok(marked > 0)
}

/// The address's sightings still within the window.
async fn sightings_of(
    tx: &mut Transaction<'_, Any>,
    address: &str,
    since: i64,
) -> Result<Vec<Sighting>, sqlx::Error> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT commune, category, first_seen, last_seen FROM defence_sightings
         WHERE address = $1 AND last_seen >= $2 ORDER BY first_seen",
    )
    .bind(address)
    .bind(since)
    .fetch_all(&mut **tx)
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
