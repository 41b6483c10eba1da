//! The lists' queries: lists, their versions (the last [`KEEP_VERSIONS`]
//! kept), the schedule of URL fetches, and what a sensor is served.
//!
//! Several replicas may work on one database: a new version is numbered
//! with a compare-and-set on the list's current version, and a due fetch
//! is claimed the same way, so that two replicas never both fetch it.

use sqlx::any::{AnyRow, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, FromRow, Row};
use vigie_core::lists::{ListEntry, ListKind};

use super::content::Checked;
use super::{ListError, NewList, Saved, Source};
use crate::db::Db;
use crate::territory::CommuneCode;

/// Versions kept per list (the current one and those before it).
pub const KEEP_VERSIONS: i64 = 5;

/// A list with its current version's figures.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(super) struct ListRow {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "KindColumn")]
    pub kind: ListKind,
    pub commune: Option<CommuneCode>,
    pub url: Option<String>,
    pub interval_secs: i64,
    pub next_fetch_at: Option<i64>,
    pub last_fetch_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub version: i64,
    /// Read by [`list_row`]: none when the list has no version yet.
    #[sqlx(skip)]
    pub current: Option<VersionRow>,
}

/// One version of a list, without its content.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(super) struct VersionRow {
    #[sqlx(rename = "v_version")]
    pub version: i64,
    pub sha256: String,
    pub entries: i64,
    pub malformed: i64,
    pub problems: String,
    pub bytes: i64,
    pub created_at: i64,
}

const LIST_COLUMNS: &str = "l.id, l.name, l.kind, l.commune, l.url, l.interval_secs, \
     l.next_fetch_at, l.last_fetch_at, l.last_error, l.last_error_at, l.version, \
     v.version AS v_version, v.sha256, v.entries, v.malformed, v.problems, v.bytes, v.created_at";
const LIST_FROM: &str =
    "FROM lists l LEFT JOIN list_versions v ON v.list_id = l.id AND v.version = l.version";

/// Whether `code` names a commune of the territory (text that is no INSEE
/// code names none).
pub(super) async fn commune_exists(db: &Db, code: &str) -> Result<bool, sqlx::Error> {
    let found: Option<CommuneCode> =
        sqlx::query_scalar("SELECT code FROM communes WHERE code = $1")
            .bind(code)
            .fetch_optional(db.read())
            .await?;
    Ok(found.is_some())
}

pub(super) async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) AS n FROM lists")
        .fetch_one(db.read())
        .await
}

/// Inserts a list (checked by the caller); its id.
pub(super) async fn insert(db: &Db, list: &NewList, now: i64) -> Result<i64, ListError> {
    let (url, interval, next_fetch) = match &list.source {
        Source::Upload => (None, super::DEFAULT_INTERVAL_SECS, None),
        Source::Url { url, interval_secs } => (Some(url.as_str()), *interval_secs, Some(now)),
    };
    let inserted = sqlx::query_scalar(
        "INSERT INTO lists (name, kind, commune, url, interval_secs, next_fetch_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&list.name)
    .bind(list.kind.as_str())
    .bind(list.commune.as_deref())
    .bind(url)
    .bind(interval)
    .bind(next_fetch)
    .bind(now)
    .fetch_one(&db.pool)
    .await;
    match inserted {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(ListError::NameTaken(list.name.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn by_name(db: &Db, name: &str) -> Result<Option<ListRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {LIST_COLUMNS} {LIST_FROM} WHERE l.name = $1"
    ))
    .bind(name)
    .fetch_optional(db.read())
    .await?;
    row.as_ref().map(list_row).transpose()
}

pub(super) async fn all(db: &Db) -> Result<Vec<ListRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {LIST_COLUMNS} {LIST_FROM} ORDER BY l.name"
    ))
    .fetch_all(db.read())
    .await?;
    rows.iter().map(list_row).collect()
}

/// The kept versions of a list, newest first.
pub(super) async fn versions(db: &Db, list_id: i64) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version AS v_version, sha256, entries, malformed, problems, bytes, created_at \
         FROM list_versions WHERE list_id = $1 ORDER BY version DESC",
    )
    .bind(list_id)
    .fetch_all(db.read())
    .await
}

/// Saves checked content: a new version unless it is the current one's.
/// The fetch error, if any, is cleared either way.
pub(super) async fn save_version(
    db: &Db,
    list_id: i64,
    checked: &Checked,
    now: i64,
) -> Result<Saved, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let (version, sha256): (i64, Option<String>) = sqlx::query_as(
        "SELECT l.version, v.sha256 FROM lists l \
         LEFT JOIN list_versions v ON v.list_id = l.id AND v.version = l.version WHERE l.id = $1",
    )
    .bind(list_id)
    .fetch_one(&mut *tx)
    .await?;
    let saved = if sha256.as_deref() == Some(checked.sha256.as_str()) {
        Saved::Unchanged(version)
    } else {
        let next = version + 1;
        sqlx::query(
            "INSERT INTO list_versions (list_id, version, sha256, entries, malformed, problems, \
             bytes, content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(list_id)
        .bind(next)
        .bind(&checked.sha256)
        .bind(checked.entries)
        .bind(checked.malformed)
        .bind(&checked.problems)
        .bind(i64::try_from(checked.text.len()).unwrap_or(i64::MAX))
        .bind(&checked.text)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // Compare-and-set: a concurrent writer of the same number makes
        // the insert above fail on the key, or this update touch nothing.
        let moved = sqlx::query("UPDATE lists SET version = $1 WHERE id = $2 AND version = $3")
            .bind(next)
            .bind(list_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(sqlx::Error::Protocol(format!(
                "list {list_id}: version {version} changed while saving a new one"
            )));
        }
        sqlx::query("DELETE FROM list_versions WHERE list_id = $1 AND version <= $2")
            .bind(list_id)
            .bind(next - KEEP_VERSIONS)
            .execute(&mut *tx)
            .await?;
        Saved::New(next)
    };
    sqlx::query(
        "UPDATE lists SET last_fetch_at = $1, last_error = NULL, last_error_at = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(list_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// Records a failed fetch; the current version stays.
pub(super) async fn record_error(
    db: &Db,
    list_id: i64,
    error: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE lists SET last_error = $1, last_error_at = $2 WHERE id = $3")
        .bind(error)
        .bind(now)
        .bind(list_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Sets when a URL list is fetched next.
pub(super) async fn schedule(db: &Db, list_id: i64, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE lists SET next_fetch_at = $1 WHERE id = $2")
        .bind(at)
        .bind(list_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The URL lists due at `now`, each claimed (its next fetch moved one
/// interval on) by this call only.
pub(super) async fn claim_due(db: &Db, now: i64) -> Result<Vec<ListRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {LIST_COLUMNS} {LIST_FROM} \
         WHERE l.url IS NOT NULL AND l.next_fetch_at <= $1 ORDER BY l.next_fetch_at"
    ))
    .bind(now)
    .fetch_all(db.read())
    .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let list = list_row(row)?;
        let moved =
            sqlx::query("UPDATE lists SET next_fetch_at = $1 WHERE id = $2 AND next_fetch_at = $3")
                .bind(now + list.interval_secs * 1000)
                .bind(list.id)
                .bind(list.next_fetch_at)
                .execute(&db.pool)
                .await?;
        if moved.rows_affected() == 1 {
            claimed.push(list);
        }
    }
    Ok(claimed)
}

pub(super) async fn delete(db: &Db, name: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "DELETE FROM list_versions WHERE list_id IN (SELECT id FROM lists WHERE name = $1)",
    )
    .bind(name)
    .execute(&mut *tx)
    .await?;
    let deleted = sqlx::query("DELETE FROM lists WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted.rows_affected() == 1)
}

/// The lists a sensor of `commune` holds, by name: every threat list and
/// territory-wide allowlist, and that commune's allowlists; only lists
/// with a version.
pub(super) async fn sensor_lists(
    db: &Db,
    commune: &CommuneCode,
) -> Result<Vec<ListEntry>, sqlx::Error> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT l.name, l.kind, l.version, v.sha256, v.entries FROM lists l \
         JOIN list_versions v ON v.list_id = l.id AND v.version = l.version \
         WHERE l.commune IS NULL OR l.commune = $1 ORDER BY l.name",
    )
    .bind(commune)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ListEntry {
            name: row.name,
            kind: row.kind,
            version: unsigned(row.version),
            sha256: row.sha256,
            entries: unsigned(row.entries),
        })
        .collect())
}

/// A manifest entry as stored (counts signed, as SQL has them).
#[derive(sqlx::FromRow)]
struct EntryRow {
    name: String,
    #[sqlx(try_from = "KindColumn")]
    kind: ListKind,
    version: i64,
    sha256: String,
    entries: i64,
}

/// The current content of list `name` and its digest, if a sensor of
/// `commune` may have it.
pub(super) async fn sensor_content(
    db: &Db,
    name: &str,
    commune: &CommuneCode,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.sha256, v.content FROM lists l \
         JOIN list_versions v ON v.list_id = l.id AND v.version = l.version \
         WHERE l.name = $1 AND (l.commune IS NULL OR l.commune = $2)",
    )
    .bind(name)
    .bind(commune)
    .fetch_optional(db.read())
    .await
}

/// A list of [`LIST_COLUMNS`], with its current version when it has one
/// (the version's columns come from a `LEFT JOIN`).
fn list_row(row: &AnyRow) -> Result<ListRow, sqlx::Error> {
    let mut list = ListRow::from_row(row)?;
    if row.try_get::<Option<i64>, _>("v_version")?.is_some() {
        list.current = Some(VersionRow::from_row(row)?);
    }
    Ok(list)
}

/// A `kind` column, read into a [`ListKind`] field
/// (`#[sqlx(try_from = "KindColumn")]`).
struct KindColumn(ListKind);

impl From<KindColumn> for ListKind {
    fn from(column: KindColumn) -> ListKind {
        column.0
    }
}

impl sqlx::Type<Any> for KindColumn {
    fn type_info() -> AnyTypeInfo {
        <String as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as sqlx::Type<Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Any> for KindColumn {
    fn decode(value: AnyValueRef<'r>) -> Result<KindColumn, BoxDynError> {
        let text = <String as sqlx::Decode<'r, Any>>::decode(value)?;
        ListKind::parse(&text)
            .map(KindColumn)
            .ok_or_else(|| format!("unknown list kind {text:?}").into())
    }
}

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
