//! An agreement's documents as stored: produced (generated at least
//! once), then signed (the scan kept, with what the signature records).

use chrono::NaiveDate;
use sqlx::FromRow;

use super::{Change, apply};
use crate::Db;
use crate::agreements::offers::DeliverableKind;

/// A document's state, as stored (no row: still to produce).
#[derive(Clone, Debug, FromRow)]
pub struct DocumentRow {
    pub kind: String,
    pub step: String,
    pub produced_at: Option<i64>,
    pub signed_on: Option<String>,
    pub signed_at: Option<i64>,
    pub signed_name: Option<String>,
    pub signed_size: Option<i64>,
}

pub async fn documents(db: &Db, id: &str) -> Result<Vec<DocumentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, step, produced_at, signed_on, signed_at, signed_name, signed_size \
         FROM agreement_documents WHERE agreement_id = $1",
    )
    .bind(id)
    .fetch_all(db.read())
    .await
}

/// Records that a document was generated (its first time only).
pub async fn produced(
    db: &Db,
    id: &str,
    kind: DeliverableKind,
    step: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agreement_documents (agreement_id, kind, step, produced_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (agreement_id, kind, step) DO UPDATE SET \
         produced_at = COALESCE(agreement_documents.produced_at, excluded.produced_at)",
    )
    .bind(id)
    .bind(kind.id())
    .bind(step)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A signed scan, as uploaded.
pub struct Scan<'a> {
    pub kind: DeliverableKind,
    pub step: &'a str,
    pub signed_on: NaiveDate,
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Keeps a signed scan (replacing an earlier one) and applies `change`
/// (the facts the signature makes: signed, step done, completed),
/// together.
pub async fn signed(
    db: &Db,
    id: &str,
    scan: &Scan<'_>,
    change: &Change<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let size = i64::try_from(scan.bytes.len()).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO agreement_documents (agreement_id, kind, step, produced_at, signed_on, \
         signed_at, signed_name, signed_type, signed_size, signed_content, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $4, $6, $7, $8, $9, $10) \
         ON CONFLICT (agreement_id, kind, step) DO UPDATE SET \
         produced_at = COALESCE(agreement_documents.produced_at, excluded.produced_at), \
         signed_on = excluded.signed_on, signed_at = excluded.signed_at, \
         signed_name = excluded.signed_name, signed_type = excluded.signed_type, \
         signed_size = excluded.signed_size, signed_content = excluded.signed_content, \
         uploaded_by = excluded.uploaded_by",
    )
    .bind(id)
    .bind(scan.kind.id())
    .bind(scan.step)
    .bind(now)
    .bind(scan.signed_on.to_string())
    .bind(scan.name)
    .bind(scan.content_type)
    .bind(size)
    .bind(scan.bytes)
    .bind(change.user)
    .execute(&mut *tx)
    .await?;
    apply(&mut tx, id, change, now).await?;
    tx.commit().await
}

/// A signed scan's name, type and bytes.
pub async fn scan(
    db: &Db,
    id: &str,
    kind: &str,
    step: &str,
) -> Result<Option<(String, String, Vec<u8>)>, sqlx::Error> {
    type Stored = (Option<String>, Option<String>, Option<Vec<u8>>);
    let row: Option<Stored> = sqlx::query_as(
        "SELECT signed_name, signed_type, signed_content FROM agreement_documents \
         WHERE agreement_id = $1 AND kind = $2 AND step = $3",
    )
    .bind(id)
    .bind(kind)
    .bind(step)
    .fetch_optional(db.read())
    .await?;
    Ok(match row {
        Some((Some(name), Some(kind), Some(bytes))) => Some((name, kind, bytes)),
        _ => None,
    })
}
