//! The completions (`elearning_completions`): one row per quiz answered,
//! holding the commune, the module and its version, the score, the number
//! of questions and the Paris day, and the aggregates read from them.
//!
//! What it must never do: store anything about the person who answered
//! (no name, address, link, user agent, time finer than the day), or give
//! a result that is not an aggregate over a commune.

use std::collections::BTreeMap;

use sqlx::FromRow;

use super::links::{self, Link};
use super::module::Module;
use crate::db::Db;
use crate::territory::CommuneCode;
use crate::{AppError, fr};

/// What recording a completion did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    Counted,
    /// The link reached today's cap (or ended meanwhile): nothing stored.
    CapReached,
}

/// Records one completion of `module` through `link` (with `right` right
/// answers), all or nothing: the link's daily count and the row.
pub async fn record(
    db: &Db,
    link: &Link,
    module: &Module,
    right: usize,
    now: i64,
) -> Result<Recorded, AppError> {
    let day = paris_day(now);
    let mut tx = db.pool.begin().await?;
    if !links::count_one(&mut tx, link.id, &day, now).await? {
        return Ok(Recorded::CapReached);
    }
    sqlx::query(
        "INSERT INTO elearning_completions (commune, module, version, score, questions, day) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(link.commune.as_str())
    .bind(&module.id)
    .bind(&module.version)
    .bind(i64::try_from(right).unwrap_or(0))
    .bind(i64::try_from(module.quiz.len()).unwrap_or(1))
    .bind(&day)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Recorded::Counted)
}

/// `YYYY-MM-DD`, the Paris day of `ms`.
pub fn paris_day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| vigie_core::local_day(t).to_string())
        .unwrap_or_default()
}

/// One module's results in one commune (or the territory).
#[derive(Clone, Debug, Default, FromRow, PartialEq, Eq)]
pub struct Tally {
    pub module: String,
    pub completions: i64,
    /// Σ (score × 1000 / questions): per-mille of each completion, summed
    /// in integers so both backends agree to the digit.
    pub permille_sum: i64,
    pub last_day: Option<String>,
}

impl Tally {
    /// The average score in per-mille (0–1000), `None` without completions.
    pub fn average_permille(&self) -> Option<i64> {
        (self.completions > 0).then(|| self.permille_sum / self.completions)
    }

    /// The average score as a percentage, to one decimal (`83.3`).
    pub fn average_percent(&self) -> Option<f64> {
        self.average_permille().map(|p| p as f64 / 10.0)
    }

    /// « 83 % », « — ».
    pub fn average_fr(&self) -> String {
        self.average_permille()
            .map_or_else(|| "—".to_owned(), |p| fr::percent(((p + 5) / 10) as f64))
    }

    /// « 14/07/2026 », « — ».
    pub fn last_fr(&self) -> String {
        self.last_day
            .as_deref()
            .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            .map_or_else(|| "—".to_owned(), fr::day)
    }
}

const TALLY: &str = "SELECT module, COUNT(*) AS completions, \
     CAST(SUM(score * 1000 / questions) AS BIGINT) AS permille_sum, MAX(day) AS last_day \
     FROM elearning_completions";

/// The commune's results, by module id.
pub async fn tallies(db: &Db, commune: &CommuneCode) -> Result<BTreeMap<String, Tally>, AppError> {
    let rows: Vec<Tally> = sqlx::query_as(&format!(
        "{TALLY} WHERE commune = $1 AND questions > 0 GROUP BY module"
    ))
    .bind(commune)
    .fetch_all(db.read())
    .await?;
    Ok(rows.into_iter().map(|t| (t.module.clone(), t)).collect())
}

/// One commune's line of the staff overview.
#[derive(Clone, Debug, FromRow)]
pub struct CommuneTally {
    pub code: CommuneCode,
    pub name: String,
    pub completions: i64,
    pub modules: i64,
    pub permille_sum: i64,
    pub last_day: Option<String>,
    pub active_links: i64,
}

impl CommuneTally {
    pub fn as_tally(&self) -> Tally {
        Tally {
            module: String::new(),
            completions: self.completions,
            permille_sum: self.permille_sum,
            last_day: self.last_day.clone(),
        }
    }
}

/// Every commune with a link or a completion, by name: counts, never
/// people.
pub async fn overview(db: &Db, now: i64) -> Result<Vec<CommuneTally>, AppError> {
    Ok(sqlx::query_as(
        "SELECT c.code AS code, c.name AS name, \
           COALESCE(t.completions, 0) AS completions, COALESCE(t.modules, 0) AS modules, \
           COALESCE(t.permille_sum, 0) AS permille_sum, t.last_day AS last_day, \
           COALESCE(l.active, 0) AS active_links \
         FROM communes c \
         LEFT JOIN (SELECT commune, COUNT(*) AS completions, COUNT(DISTINCT module) AS modules, \
                      CAST(SUM(score * 1000 / questions) AS BIGINT) AS permille_sum, \
                      MAX(day) AS last_day \
                    FROM elearning_completions WHERE questions > 0 GROUP BY commune) t \
           ON t.commune = c.code \
         LEFT JOIN (SELECT commune, COUNT(*) AS active FROM elearning_links \
                    WHERE revoked_at IS NULL AND expires_at > $1 GROUP BY commune) l \
           ON l.commune = c.code \
         WHERE t.commune IS NOT NULL OR l.commune IS NOT NULL \
         ORDER BY c.name, c.code",
    )
    .bind(now)
    .fetch_all(db.read())
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_round_in_french() {
        let tally = Tally {
            module: "m".to_owned(),
            completions: 3,
            // 4/5, 5/5, 3/6
            permille_sum: 800 + 1000 + 500,
            last_day: Some("2026-07-14".to_owned()),
        };
        assert_eq!(tally.average_permille(), Some(766));
        assert_eq!(tally.average_percent(), Some(76.6));
        assert_eq!(tally.average_fr(), "77\u{202f}%");
        assert_eq!(tally.last_fr(), "14/07/2026");
        let empty = Tally::default();
        assert_eq!(empty.average_percent(), None);
        assert_eq!(
            (empty.average_fr(), empty.last_fr()),
            ("—".into(), "—".into())
        );
        assert_eq!(paris_day(1_784_000_000_000), "2026-07-14");
    }
}
