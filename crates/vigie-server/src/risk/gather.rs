//! What the factors are computed from, read from the other capabilities'
//! tables as they stood at the end of a Paris day: the sensor's daily
//! counts, the probe's scans, the pre-audit's rounds, the phishing
//! exercises (their purged summary too) and the e-learning completions.
//! A handful of queries for the whole territory, whatever its size, run
//! side by side on the read pool (the audit rounds in bulk, `audits::bulk`);
//! only the communes with a phishing exercise cost one more read each.
//!
//! What it must never do: write anything, or read past the day asked for
//! (a page for the 3rd of March shows what was known that evening, scans,
//! rounds and exercises after it left out).

use std::collections::HashMap;

use chrono::NaiveDate;
use vigie_core::Severity;
use vigie_core::probe::TopFinding;

use super::factors::{self, Attacks, Audit, Awareness, Exercise, Factor, Level, Scan};
use super::rules::Rules;
use crate::audits::{self, Signals, bulk};
use crate::territory::{self, Commune, CommuneCode};
use crate::{AppError, AppState};

/// One commune's risk on a day, and what it was computed from.
#[derive(Clone, Debug)]
pub struct Assessment {
    pub commune: Commune,
    pub risk: Option<u8>,
    pub level: Level,
    /// pressure, exposure, maturity, human.
    pub factors: [Factor; 4],
    /// The last scan read (for its top ten), if any.
    pub scan_id: Option<i64>,
    /// The last audit round read (for its top five), if any.
    pub audit_id: Option<String>,
    /// Critical findings of the last scan; outbound incidents in the
    /// window (the monthly snapshot keeps both).
    pub critical: i64,
    pub outbound: i64,
}

impl Assessment {
    /// How many of the four factors are known.
    pub fn known(&self) -> usize {
        self.factors.iter().filter(|f| f.score.is_some()).count()
    }
}

/// The risk of `only` (one commune) or of every commune (`None`) at the
/// end of `day`, by code.
pub async fn assess(
    state: &AppState,
    rules: &Rules,
    only: Option<&CommuneCode>,
    day: NaiveDate,
) -> Result<Vec<Assessment>, AppError> {
    let db = &state.db;
    let filter = only.map(|c| c.as_str().to_owned());
    let filter = filter.as_deref();
    let end_ms = end_of(day);
    let now_ms = crate::db::now_ms().min(end_ms - 1);
    let communes = async {
        Ok::<_, AppError>(match only {
            Some(code) => territory::commune(db, code).await?.into_iter().collect(),
            None => territory::communes(db).await?,
        })
    };
    let rounds = audits::bulk::latest_with_previous(db, end_ms, filter);
    let modules = async {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT commune, CAST(COUNT(DISTINCT module) AS BIGINT) FROM elearning_completions \
             WHERE questions > 0 AND day <= $1 AND ($2 IS NULL OR commune = $2) GROUP BY commune",
        )
        .bind(day.to_string())
        .bind(filter)
        .fetch_all(db.read())
        .await?;
        Ok::<HashMap<String, i64>, AppError>(rows.into_iter().collect())
    };
    // Independent reads, each on its own connection of the read pool:
    // for all of France they take about as long together as the longest.
    let (communes, attacks, scans, rounds, exercises, modules) = tokio::try_join!(
        communes,
        attacks(state, rules, filter, day),
        scans(state, filter, end_ms),
        rounds,
        exercises(state, filter, end_ms),
        modules,
    )?;
    let audits: HashMap<String, (String, Audit)> = rounds
        .into_iter()
        .map(|(code, (last, previous))| {
            let audit = maturity_of(&last, previous.as_ref());
            (code, (last.id, audit))
        })
        .collect();
    let modules_total = crate::elearning::catalogue().map_or(0, |c| c.modules.len());
    let mut out = Vec::with_capacity(communes.len());
    for commune in communes {
        let code = commune.code.as_str();
        let attack = attacks.get(code).copied().unwrap_or_default();
        let scan = scans.get(code);
        let audit = audits.get(code).map(|(_, audit)| audit);
        let awareness = Awareness {
            exercise: exercises.get(code).copied(),
            modules_done: modules
                .get(code)
                .map_or(0, |n| usize::try_from(*n).unwrap_or(0)),
            modules_total,
        };
        let factors = [
            factors::pressure(rules, &attack),
            factors::exposure(rules, scan.map(|(_, s)| s), now_ms),
            factors::maturity(rules, audit, now_ms),
            factors::human(rules, &awareness, day),
        ];
        let (risk, level) = factors::combine(rules, &factors);
        out.push(Assessment {
            scan_id: scan.map(|(id, _)| *id),
            audit_id: audits.get(code).map(|(id, _)| id.clone()),
            critical: scan.map_or(0, |(_, s)| s.critical),
            outbound: attack.outbound,
            commune,
            risk,
            level,
            factors,
        });
    }
    out.sort_by(|a, b| a.commune.code.as_str().cmp(b.commune.code.as_str()));
    Ok(out)
}

/// The first instant after `day`, Paris time, in Unix ms.
pub fn end_of(day: NaiveDate) -> i64 {
    vigie_core::local_day_start_ms(day.succ_opt().unwrap_or(day)).unwrap_or(i64::MAX)
}

async fn attacks(
    state: &AppState,
    rules: &Rules,
    only: Option<&str>,
    day: NaiveDate,
) -> Result<HashMap<String, Attacks>, AppError> {
    let days = i64::from(rules.pressure.days);
    let from = day - chrono::Duration::days(days - 1);
    let middle = (from + chrono::Duration::days(days / 2)).to_string();
    // Summed in the database per commune, each half of the window apart:
    // one row per commune, not one per commune and day (a million for
    // all of France).
    let counts = sqlx::query_as::<_, (String, i64, i64, i64, i64)>(
        "SELECT commune, CAST(SUM(inbound) AS BIGINT), CAST(SUM(outbound) AS BIGINT), \
           CAST(SUM(CASE WHEN day < $3 THEN inbound + outbound ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN day >= $3 THEN inbound + outbound ELSE 0 END) AS BIGINT) \
         FROM daily_counts WHERE day >= $1 AND day <= $2 AND ($4 IS NULL OR commune = $4) \
         GROUP BY commune",
    )
    .bind(from.to_string())
    .bind(day.to_string())
    .bind(&middle)
    .bind(only)
    .fetch_all(state.db.read());
    let reported = sqlx::query_as::<_, (String, i64)>(
        "SELECT commune, CAST(COUNT(*) AS BIGINT) FROM sensor_days \
         WHERE day >= $1 AND day <= $2 AND ($3 IS NULL OR commune = $3) GROUP BY commune",
    )
    .bind(from.to_string())
    .bind(day.to_string())
    .bind(only)
    .fetch_all(state.db.read());
    let (counts, reported) = tokio::try_join!(counts, reported)?;
    let mut out: HashMap<String, Attacks> = HashMap::new();
    for (commune, days) in reported {
        out.entry(commune).or_default().reported_days = days;
    }
    for (commune, inbound, outbound, earlier, later) in counts {
        let a = out.entry(commune).or_default();
        a.inbound = inbound;
        a.outbound = outbound;
        a.earlier = earlier;
        a.later = later;
    }
    Ok(out)
}

/// A stored scan as the exposure reads it.
#[derive(sqlx::FromRow)]
struct ScanRow {
    id: i64,
    commune: String,
    finished_at: i64,
    critical: i64,
    high: i64,
    medium: i64,
    top_ten: String,
}

/// Each commune's last scan (not a lab's), with what the scans before it
/// say: since when its critical findings are open, what was fixed.
async fn scans(
    state: &AppState,
    only: Option<&str>,
    end_ms: i64,
) -> Result<HashMap<String, (i64, Scan)>, AppError> {
    let rows: Vec<ScanRow> = sqlx::query_as(
        "SELECT id, commune, finished_at, critical, high, medium, top_ten FROM probe_runs \
         WHERE lab = 0 AND started_at < $1 AND ($2 IS NULL OR commune = $2) \
         ORDER BY commune, started_at DESC, id DESC",
    )
    .bind(end_ms)
    .bind(only)
    .fetch_all(state.db.read())
    .await?;
    let mut by_commune: HashMap<String, Vec<(ScanRow, Vec<TopFinding>)>> = HashMap::new();
    for row in rows {
        let top: Vec<TopFinding> = serde_json::from_str(&row.top_ten).unwrap_or_else(|error| {
            tracing::warn!(scan = row.id, %error, "stored top ten unreadable");
            Vec::new()
        });
        by_commune
            .entry(row.commune.clone())
            .or_default()
            .push((row, top));
    }
    Ok(by_commune
        .into_iter()
        .filter_map(|(commune, history)| {
            let scan = scan_of(&history)?;
            Some((commune, scan))
        })
        .collect())
}

/// The newest scan of `history` (newest first) and its trend.
fn scan_of(history: &[(ScanRow, Vec<TopFinding>)]) -> Option<(i64, Scan)> {
    let (last, top) = history.first()?;
    let has = |top: &[TopFinding], id: &str| top.iter().any(|f| f.id == id);
    let critical_open_since_ms = top
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .map(|f| {
            history
                .iter()
                .take_while(|(_, older)| has(older, &f.id))
                .last()
                .map_or(last.finished_at, |(row, _)| row.finished_at)
        })
        .min();
    let fixed = history.get(1).map(|(_, before)| {
        let gone = before.iter().filter(|f| !has(top, &f.id)).count();
        i64::try_from(gone).unwrap_or(0)
    });
    Some((
        last.id,
        Scan {
            finished_ms: last.finished_at,
            critical: last.critical,
            high: last.high,
            medium: last.medium,
            worst: top.first().map(|f| f.title.clone()),
            critical_open_since_ms,
            fixed,
        },
    ))
}

/// An audit round's score, its progress since the round before, and the
/// share of that round's top five now answered at their best. The
/// previous top five is ranked on its answers alone (what the network
/// showed then is not kept).
fn maturity_of(last: &bulk::Round, previous: Option<&bulk::Round>) -> Audit {
    let mut out = Audit {
        round: last.round,
        created_ms: last.created_at,
        score: audits::score::scores(&last.book, &last.answers).overall,
        before: None,
        addressed: None,
    };
    if let Some(before) = previous {
        out.before = audits::score::scores(&before.book, &before.answers).overall;
        let ranked =
            audits::score::shortcomings(&before.book, &before.answers, &Signals::default());
        let top = audits::score::top(&ranked);
        let done = top
            .iter()
            .filter(|s| {
                let now = last.answers.get(&s.question);
                last.book
                    .question(&s.question)
                    .zip(now)
                    .and_then(|(q, a)| q.value_of(a))
                    .is_some_and(|v| v >= 1.0)
            })
            .count();
        out.addressed = Some((done, top.len()));
    }
    out
}

/// Each commune's last exercise that sent mails, by the campaigns
/// created before `end_ms` (a purged one through its summary).
async fn exercises(
    state: &AppState,
    only: Option<&str>,
    end_ms: i64,
) -> Result<HashMap<String, Exercise>, AppError> {
    let communes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT commune FROM campaigns WHERE created_at < $1 \
         AND ($2 IS NULL OR commune = $2)",
    )
    .bind(end_ms)
    .bind(only)
    .fetch_all(state.db.read())
    .await?;
    let mut out = HashMap::new();
    for commune in communes {
        for campaign in crate::phishing::store::list(&state.db, Some(&commune)).await? {
            if campaign.created_at >= end_ms {
                continue;
            }
            let total = crate::phishing::store::summary(&state.db, &campaign)
                .await?
                .total;
            if total.sent > 0 {
                out.insert(
                    commune.clone(),
                    Exercise {
                        start: campaign.start,
                        sent: total.sent,
                        clicked: total.clicked,
                        submitted: total.submitted,
                    },
                );
                break;
            }
        }
    }
    Ok(out)
}
