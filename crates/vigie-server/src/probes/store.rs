//! The `probe_runs` table: a scan stored once (keyed by the digest of its
//! document), a commune's scans newest first, one scan's document.

use sqlx::Row;
use sqlx::any::AnyRow;
use vigie_core::probe::{ProbeReport, TopFinding};

use super::scan::{ScanSummary, SeverityCounts};
use crate::{AppError, Db};

/// The most scans a history lists (years of monthly scans).
const HISTORY_LIMIT: i64 = 500;

const SUMMARY_COLUMNS: &str = "id, commune, started_at, finished_at, lab, interrupted, hosts, \
     critical, high, medium, low, received_at";

/// Where an upload went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    /// This very document was already stored (a retried upload).
    pub duplicate: bool,
}

/// Stores a checked report for its commune, once: the same document sent
/// again gives back the scan stored the first time. A commune missing
/// from the report or from the territory is a 400 naming the field.
pub async fn store(
    db: &Db,
    report: &ProbeReport,
    uploaded_by: Option<i64>,
    now: i64,
) -> Result<Stored, AppError> {
    let code = report.commune.as_deref().ok_or_else(|| {
        AppError::BadRequest(
            "champ « commune » manquant : le périmètre de la sonde doit nommer la commune (code INSEE)."
                .to_owned(),
        )
    })?;
    if crate::territory::commune(db, code).await?.is_none() {
        return Err(AppError::BadRequest(format!(
            "champ « commune » : « {code} » n'est pas une commune du territoire (code INSEE attendu)."
        )));
    }
    let json = |what: &str, e: serde_json::Error| AppError::Internal(format!("probe {what}: {e}"));
    let document = serde_json::to_string(report).map_err(|e| json("document", e))?;
    let top = serde_json::to_string(&report.top).map_err(|e| json("top ten", e))?;
    let digest = blake3::hash(document.as_bytes()).to_hex().to_string();
    let counts = vigie_docs::probe::Counts::of(&report.findings);
    let number = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let inserted = sqlx::query(
        "INSERT INTO probe_runs (commune, digest, started_at, finished_at, lab, interrupted, hosts, \
         critical, high, medium, low, top_ten, document, uploaded_by, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (digest) DO NOTHING RETURNING id",
    )
    .bind(code)
    .bind(&digest)
    .bind(report.started_at.timestamp_millis())
    .bind(report.finished_at.timestamp_millis())
    .bind(i64::from(report.lab))
    .bind(i64::from(report.interrupted))
    .bind(number(report.hosts.len()))
    .bind(number(counts.critical))
    .bind(number(counts.high))
    .bind(number(counts.medium))
    .bind(number(counts.low))
    .bind(&top)
    .bind(&document)
    .bind(uploaded_by)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(row) = inserted {
        return Ok(Stored {
            id: row.try_get("id")?,
            duplicate: false,
        });
    }
    let row = sqlx::query("SELECT id FROM probe_runs WHERE digest = $1")
        .bind(&digest)
        .fetch_one(db.read())
        .await?;
    Ok(Stored {
        id: row.try_get("id")?,
        duplicate: true,
    })
}

/// A commune's scans, the latest first.
pub async fn history(db: &Db, commune: &str) -> Result<Vec<ScanSummary>, sqlx::Error> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM probe_runs WHERE commune = $1 \
         ORDER BY started_at DESC, id DESC LIMIT {HISTORY_LIMIT}"
    );
    let rows = sqlx::query(&sql).bind(commune).fetch_all(db.read()).await?;
    rows.iter().map(summary).collect()
}

/// A commune's latest scan, for its page's card.
pub async fn last_scan(db: &Db, commune: &str) -> Result<Option<ScanSummary>, sqlx::Error> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM probe_runs WHERE commune = $1 \
         ORDER BY started_at DESC, id DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(commune)
        .fetch_optional(db.read())
        .await?;
    row.as_ref().map(summary).transpose()
}

/// One scan's summary, without its document.
pub(super) async fn scan(db: &Db, id: i64) -> Result<Option<ScanSummary>, sqlx::Error> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM probe_runs WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.read()).await?;
    row.as_ref().map(summary).transpose()
}

/// One scan's whole document.
pub async fn document(db: &Db, id: i64) -> Result<ProbeReport, AppError> {
    let row = sqlx::query("SELECT document FROM probe_runs WHERE id = $1")
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(AppError::NotFound)?;
    let text: String = row.try_get("document")?;
    serde_json::from_str(&text).map_err(|e| AppError::Internal(format!("stored scan {id}: {e}")))
}

/// One scan's top ten.
pub(super) async fn top_ten(db: &Db, id: i64) -> Result<Vec<TopFinding>, AppError> {
    let row = sqlx::query("SELECT top_ten FROM probe_runs WHERE id = $1")
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(AppError::NotFound)?;
    let text: String = row.try_get("top_ten")?;
    serde_json::from_str(&text).map_err(|e| AppError::Internal(format!("stored top of {id}: {e}")))
}

fn summary(row: &AnyRow) -> Result<ScanSummary, sqlx::Error> {
    Ok(ScanSummary {
        id: row.try_get("id")?,
        commune: row.try_get("commune")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        lab: row.try_get::<i64, _>("lab")? != 0,
        interrupted: row.try_get::<i64, _>("interrupted")? != 0,
        hosts: row.try_get("hosts")?,
        counts: SeverityCounts {
            critical: row.try_get("critical")?,
            high: row.try_get("high")?,
            medium: row.try_get("medium")?,
            low: row.try_get("low")?,
        },
        received_at: row.try_get("received_at")?,
    })
}
