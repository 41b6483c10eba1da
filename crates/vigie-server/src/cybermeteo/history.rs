//! One commune over time: its weather day by day, the day's hours,
//! categories and sources. Every function here is about one commune: the
//! caller has already checked that the person may see it.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use super::weather::{Level, Thresholds, score};
use crate::db::Db;
use crate::territory::CommuneCode;

#[derive(Clone, Debug, Serialize)]
pub struct DayWeather {
    pub day: NaiveDate,
    pub score: i64,
    pub inbound: i64,
    pub outbound: i64,
    pub level: Level,
    /// Attacks the commune's box blocked that day because the territory
    /// list already held their source (issue 16).
    pub defended: i64,
}

/// The weather of `commune` for each day of `from..=to`.
pub async fn days(
    db: &Db,
    commune: &CommuneCode,
    from: NaiveDate,
    to: NaiveDate,
    thresholds: Thresholds,
) -> Result<Vec<DayWeather>, sqlx::Error> {
    let (from_text, to_text) = (from.to_string(), to.to_string());
    // One row per day (GROUP BY day): (day, inbound, outbound).
    let counts: HashMap<String, (i64, i64)> = sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT day, CAST(SUM(inbound) AS BIGINT) AS inbound, CAST(SUM(outbound) AS BIGINT) AS outbound FROM daily_counts
         WHERE commune = $1 AND day >= $2 AND day <= $3 GROUP BY day",
    )
    .bind(commune)
    .bind(&from_text)
    .bind(&to_text)
    .fetch_all(db.read())
    .await?
    .into_iter()
    .map(|(day, inbound, outbound)| (day, (inbound, outbound)))
    .collect();
    let reported: Vec<String> = sqlx::query_scalar(
        "SELECT day FROM sensor_days WHERE commune = $1 AND day >= $2 AND day <= $3",
    )
    .bind(commune)
    .bind(&from_text)
    .bind(&to_text)
    .fetch_all(db.read())
    .await?;
    let defended: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT day, attacks FROM defended_counts WHERE commune = $1 AND day >= $2 AND day <= $3",
    )
    .bind(commune)
    .bind(&from_text)
    .bind(&to_text)
    .fetch_all(db.read())
    .await?
    .into_iter()
    .collect();
    let mut out = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= to) {
        let key = day.to_string();
        let (inbound, outbound) = counts.get(&key).copied().unwrap_or((0, 0));
        let score = score(inbound, outbound);
        let level = if reported.contains(&key) {
            thresholds.level(score)
        } else {
            Level::NoData
        };
        out.push(DayWeather {
            day,
            score,
            inbound,
            outbound,
            level,
            defended: defended.get(&key).copied().unwrap_or(0),
        });
    }
    Ok(out)
}

/// Per-day, per-category, per-direction counts (the API's `days`).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct CategoryCount {
    pub day: String,
    pub category: String,
    pub inbound: i64,
    pub outbound: i64,
}

pub async fn category_counts(
    db: &Db,
    commune: &CommuneCode,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CategoryCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT day, category, inbound, outbound FROM daily_counts
         WHERE commune = $1 AND day >= $2 AND day <= $3 ORDER BY day, category",
    )
    .bind(commune)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(db.read())
    .await
}

/// One incident as the commune's page and API show it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct IncidentRow {
    pub category: String,
    pub rule: String,
    pub label: Option<String>,
    pub severity: String,
    pub source: Option<String>,
    pub direction: String,
    pub target_port: Option<i64>,
    pub service: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub hour: i64,
    pub events: i64,
    /// The town-hall machine involved, as the box's keyed hash (`h:…`):
    /// no internal address leaves the box.
    pub internal_host: Option<String>,
}

impl IncidentRow {
    /// Working hours as the agreements mean them: Monday to Friday, 8h–18h.
    pub fn outside_working_hours(&self, day: NaiveDate) -> bool {
        matches!(day.weekday(), Weekday::Sat | Weekday::Sun) || !(8..18).contains(&self.hour)
    }
}

/// The incidents of `commune` that began on `day`, most events first.
pub async fn incidents(
    db: &Db,
    commune: &CommuneCode,
    day: NaiveDate,
) -> Result<Vec<IncidentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category, rule, label, severity, source, direction, target_port, service,
                first_seen, last_seen, hour, events, internal_host
         FROM incidents WHERE commune = $1 AND day = $2 ORDER BY events DESC, first_seen",
    )
    .bind(commune)
    .bind(day.to_string())
    .fetch_all(db.read())
    .await
}
