//! The territory list's rows and the writes every path shares: an
//! entry's change in the history (`record`), taking an entry off
//! (`deactivate`), forgetting an address's sightings. The job that lists
//! and expires addresses is `job`; the staff's actions and the read
//! queries are `queries`.
//!
//! What it must not do: change an entry without writing its change (the
//! history and what boxes fetch).

use sqlx::{Any, Transaction};

use crate::db::{Backend, Db};
use vigie_core::Category;

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

/// The PostgreSQL advisory lock that queues up the writers of changes.
const CHANGES_LOCK: i64 = 0x7669_6769_6501;

/// Begins a transaction that will write changes of the list.
///
/// On PostgreSQL, writers of changes queue up from their first statement
/// (a transaction-scoped advisory lock, held until commit, taken before
/// any row lock so that two writers never wait on each other): a change's
/// number is taken only once every earlier-numbered one has committed, so
/// a box whose cursor passed a number never misses a change committed
/// later under a smaller one, and the shared whole list is never kept
/// under a number whose earlier changes were not in it. SQLite has a
/// single writer already.
pub(super) async fn begin(db: &Db) -> Result<Transaction<'static, Any>, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHANGES_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// Writes a change of the list in the caller's transaction (begun with
/// [`begin`]).
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

pub(super) fn category(name: &str) -> Option<Category> {
    Category::ALL.into_iter().find(|c| c.as_str() == name)
}
