//! The monthly snapshot (`risk_snapshots`, migration 0021): each
//! commune's risk, level, factors, critical findings and outbound
//! incidents, kept once per Paris month by the `risk.snapshot` job, and
//! "what changed since last month" between a snapshot and today.
//!
//! What it must never do: overwrite a month already kept (a second run,
//! or a second replica, inserts nothing), or count a commune unknown on
//! either side as better or worse.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::factors::Level;
use super::gather::{self, Assessment};
use super::rules::Rules;
use crate::{AppError, AppState};

/// `YYYY-MM`, the month `day` is in.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// Keeps the snapshot of `day`'s month, computed as of `day`, unless one
/// is kept already; returns the rows written.
pub async fn take(state: &AppState, rules: &Rules, day: NaiveDate) -> Result<u64, AppError> {
    let month = month_of(day);
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risk_snapshots WHERE month = $1")
        .bind(&month)
        .fetch_one(state.db.read())
        .await?;
    if kept > 0 {
        return Ok(0);
    }
    let assessed = gather::assess(state, rules, None, day).await?;
    let now = crate::db::now_ms();
    let score = |a: &Assessment, i: usize| a.factors.get(i).and_then(|f| f.score).map(i64::from);
    let mut tx = state.db.pool.begin().await?;
    let mut written = 0;
    for a in &assessed {
        written += sqlx::query(
            "INSERT INTO risk_snapshots (commune, month, risk, level, pressure, exposure, \
             maturity, human, critical, outbound, taken_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (commune, month) DO NOTHING",
        )
        .bind(a.commune.code.as_str())
        .bind(&month)
        .bind(a.risk.map(i64::from))
        .bind(a.level.as_str())
        .bind(score(a, 0))
        .bind(score(a, 1))
        .bind(score(a, 2))
        .bind(score(a, 3))
        .bind(a.critical)
        .bind(a.outbound)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(written)
}

/// One commune's kept month, as the comparison reads it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Kept {
    pub commune: String,
    pub risk: Option<i64>,
    pub level: String,
    pub critical: i64,
    pub outbound: i64,
}

/// The latest month kept before `month`, and its rows by commune.
pub async fn before(
    state: &AppState,
    month: &str,
    only: Option<&str>,
) -> Result<Option<(String, HashMap<String, Kept>)>, AppError> {
    let last: Option<String> =
        sqlx::query_scalar("SELECT MAX(month) FROM risk_snapshots WHERE month < $1")
            .bind(month)
            .fetch_one(state.db.read())
            .await?;
    let Some(last) = last else {
        return Ok(None);
    };
    let rows: Vec<Kept> = sqlx::query_as(
        "SELECT commune, risk, level, critical, outbound FROM risk_snapshots \
         WHERE month = $1 AND ($2 IS NULL OR commune = $2)",
    )
    .bind(&last)
    .bind(only)
    .fetch_all(state.db.read())
    .await?;
    Ok(Some((
        last,
        rows.into_iter().map(|k| (k.commune.clone(), k)).collect(),
    )))
}

/// A commune in one of the lists of what changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub code: String,
    pub name: String,
    /// « Modéré → Élevé », « 0 → 2 failles critiques ».
    pub what: String,
}

/// What changed between a kept month and today.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub worse: Vec<Change>,
    pub better: Vec<Change>,
    pub new_critical: Vec<Change>,
    pub new_compromises: Vec<Change>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.worse.is_empty()
            && self.better.is_empty()
            && self.new_critical.is_empty()
            && self.new_compromises.is_empty()
    }
}

/// Compares `now` with `kept`; communes unknown on either side are
/// neither better nor worse.
pub fn changes(kept: &HashMap<String, Kept>, now: &[Assessment]) -> Changes {
    let mut out = Changes::default();
    for a in now {
        let code = a.commune.code.as_str();
        let Some(then) = kept.get(code) else {
            continue;
        };
        let change = |what: String| Change {
            code: code.to_owned(),
            name: a.commune.name.clone(),
            what,
        };
        let was = Level::parse(&then.level);
        if was != Level::Unknown && a.level != Level::Unknown && was != a.level {
            let what = format!("{} → {}", was.label(), a.level.label());
            if a.level.rank() > was.rank() {
                out.worse.push(change(what));
            } else {
                out.better.push(change(what));
            }
        }
        if a.critical > then.critical {
            out.new_critical.push(change(format!(
                "{} → {}",
                then.critical,
                crate::fr::plural(a.critical, "faille critique", "failles critiques")
            )));
        }
        if a.outbound > 0 && then.outbound == 0 {
            out.new_compromises.push(change(crate::fr::plural(
                a.outbound,
                "alerte sortante",
                "alertes sortantes",
            )));
        }
    }
    out
}

/// The job's work: this month's snapshot, once.
pub async fn take_due(state: &AppState) -> Result<u64, AppError> {
    let rules = state.settings.risk.clone();
    take(state, &rules, crate::cybermeteo::today()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::factors::Factor;
    use crate::territory::{Commune, CommuneCode};

    fn assessed(code: &str, level: Level, critical: i64, outbound: i64) -> Assessment {
        let unknown = Factor {
            score: None,
            why: String::new(),
        };
        Assessment {
            commune: Commune {
                code: CommuneCode::parse(code).unwrap(),
                name: format!("Commune {code}"),
                departement: "42".to_owned(),
                population: 500,
                epci: None,
                email: None,
                phone: None,
                website: None,
            },
            risk: None,
            level,
            factors: [unknown.clone(), unknown.clone(), unknown.clone(), unknown],
            scan_id: None,
            audit_id: None,
            critical,
            outbound,
        }
    }

    fn kept(code: &str, level: Level, critical: i64, outbound: i64) -> (String, Kept) {
        (
            code.to_owned(),
            Kept {
                commune: code.to_owned(),
                risk: None,
                level: level.as_str().to_owned(),
                critical,
                outbound,
            },
        )
    }

    #[test]
    fn what_changed_since_the_kept_month() {
        let then: HashMap<String, Kept> = [
            kept("42001", Level::Moderate, 0, 0),
            kept("42002", Level::Critical, 2, 1),
            kept("42003", Level::Unknown, 0, 0),
            kept("42004", Level::Low, 1, 0),
        ]
        .into_iter()
        .collect();
        let now = [
            assessed("42001", Level::High, 1, 3),
            assessed("42002", Level::Moderate, 2, 1),
            assessed("42003", Level::Critical, 0, 0),
            assessed("42004", Level::Low, 1, 0),
            assessed("42005", Level::Critical, 5, 5),
        ];
        let c = changes(&then, &now);
        let codes = |list: &[Change]| list.iter().map(|c| c.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&c.worse), ["42001"]);
        assert_eq!(c.worse[0].what, "Modéré → Élevé");
        assert_eq!(codes(&c.better), ["42002"]);
        assert_eq!(codes(&c.new_critical), ["42001"]);
        assert_eq!(c.new_critical[0].what, "0 → 1 faille critique");
        assert_eq!(codes(&c.new_compromises), ["42001"]);
        assert_eq!(month_of("2026-03-31".parse().unwrap()), "2026-03");
    }
}
