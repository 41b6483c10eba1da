//! What an ended agreement obliges, as stored: recorded once the end has
//! passed, then marked done (with its history line).

use chrono::NaiveDate;
use sqlx::FromRow;

use super::{Change, event};
use crate::Db;
use crate::agreements::offers::EndAction;

/// What an ended agreement obliges, and whether it is done.
#[derive(Clone, Debug, FromRow)]
pub struct EndActionRow {
    pub action: String,
    pub due_on: String,
    pub done_at: Option<i64>,
    pub note: String,
}

impl EndActionRow {
    pub fn action(&self) -> Option<EndAction> {
        EndAction::parse(&self.action)
    }
}

pub async fn end_actions(db: &Db, id: &str) -> Result<Vec<EndActionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT action, due_on, done_at, note FROM agreement_end_actions \
         WHERE agreement_id = $1 ORDER BY due_on, action",
    )
    .bind(id)
    .fetch_all(db.read())
    .await
}

/// Records that an ended agreement obliges `action` from `due_on` (once).
pub async fn oblige(
    db: &Db,
    id: &str,
    action: EndAction,
    due_on: NaiveDate,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO agreement_end_actions (agreement_id, action, due_on) VALUES ($1, $2, $3) \
         ON CONFLICT (agreement_id, action) DO NOTHING",
    )
    .bind(id)
    .bind(action.id())
    .bind(due_on.to_string())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks an end action done, with its history line.
pub async fn end_action_done(
    db: &Db,
    id: &str,
    action: EndAction,
    note: &str,
    change: &Change<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE agreement_end_actions SET done_at = $1, done_by = $2, note = $3 \
         WHERE agreement_id = $4 AND action = $5 AND done_at IS NULL",
    )
    .bind(now)
    .bind(change.user)
    .bind(note)
    .bind(id)
    .bind(action.id())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    event(&mut tx, id, now, change.user, change.kind, change.detail).await?;
    tx.commit().await?;
    Ok(true)
}
