//! The cyber weather of a commune for one Europe/Paris day: its score is
//! inbound incidents + 10 × outbound incidents (an outbound incident, a
//! commune machine contacting a malicious host, weighs ten times more, as
//! in the Cybermétéo of the Loire agreement). Levels come from the
//! territory's thresholds. A commune without a sensor, without a report
//! that day, or whose sensor is silent today shows "no data", never sun.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;

use crate::db::Db;
use crate::territory::CommuneCode;

/// The weight of an outbound incident in the score.
pub const OUTBOUND_WEIGHT: i64 = 10;

/// A day's score: inbound + 10 × outbound incidents. Saturating: a score
/// that wrapped around would show a storm as a cloud.
pub fn score(inbound: i64, outbound: i64) -> i64 {
    inbound.saturating_add(OUTBOUND_WEIGHT.saturating_mul(outbound))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Sun,
    Cloud,
    Rain,
    Storm,
    NoData,
}

impl Level {
    pub fn label_fr(self) -> &'static str {
        match self {
            Level::Sun => "Soleil",
            Level::Cloud => "Nuageux",
            Level::Rain => "Pluie",
            Level::Storm => "Orage",
            Level::NoData => "Pas de données",
        }
    }

    /// The symbol drawn on the map.
    pub fn symbol(self) -> &'static str {
        match self {
            Level::Sun => "☀",
            Level::Cloud => "☁",
            Level::Rain => "☂",
            Level::Storm => "⚡",
            Level::NoData => "",
        }
    }

    pub fn color(self) -> &'static str {
        match self {
            Level::Sun => "#f6d35b",
            Level::Cloud => "#b8c4d0",
            Level::Rain => "#5b8fd6",
            Level::Storm => "#7a2a8c",
            Level::NoData => "#e4e7eb",
        }
    }

    /// The class the stylesheet colours this level by (the map's paths,
    /// the legend's swatches): one letter, a map has thousands of paths.
    pub fn css_class(self) -> &'static str {
        match self {
            Level::Sun => "s",
            Level::Cloud => "c",
            Level::Rain => "r",
            Level::Storm => "o",
            Level::NoData => "n",
        }
    }

    pub const ALL: [Level; 5] = [
        Level::Sun,
        Level::Cloud,
        Level::Rain,
        Level::Storm,
        Level::NoData,
    ];
}

/// Score thresholds of a territory: sun below `cloud_min`, storm from `storm_min`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Thresholds {
    pub cloud_min: i64,
    pub rain_min: i64,
    pub storm_min: i64,
}

impl Default for Thresholds {
    /// Sun for 0, cloud for 1 to 10, rain for 11 to 99, storm from 100.
    fn default() -> Self {
        Thresholds {
            cloud_min: 1,
            rain_min: 11,
            storm_min: 100,
        }
    }
}

impl Thresholds {
    pub fn level(&self, score: i64) -> Level {
        if score >= self.storm_min {
            Level::Storm
        } else if score >= self.rain_min {
            Level::Rain
        } else if score >= self.cloud_min {
            Level::Cloud
        } else {
            Level::Sun
        }
    }

    pub async fn load(db: &Db) -> Result<Thresholds, sqlx::Error> {
        let stored: Option<Thresholds> =
            sqlx::query_as("SELECT cloud_min, rain_min, storm_min FROM territory WHERE id = 1")
                .fetch_optional(db.read())
                .await?;
        Ok(stored.unwrap_or_default())
    }
}

/// One commune's weather for one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommuneWeather {
    pub commune: CommuneCode,
    pub name: String,
    pub score: i64,
    pub inbound: i64,
    pub outbound: i64,
    pub level: Level,
}

/// Which communes a weather query covers. The filter goes into the SQL:
/// a commune user's yearly export must not compute the whole territory
/// (issue 14: 1.2 s a request, and four at once slowed every page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Communes {
    /// The whole territory (the map, the staff's exports).
    All,
    /// One commune (a commune user's exports).
    One(CommuneCode),
}

impl Communes {
    /// The condition `column = $param` after `keyword` (`WHERE`, `AND`),
    /// or nothing for the whole territory; bound by [`Communes::bind`].
    fn filter(self, keyword: &str, column: &str, param: usize) -> String {
        match self {
            Communes::All => String::new(),
            Communes::One(_) => format!(" {keyword} {column} = ${param}"),
        }
    }

    /// Binds the commune of [`Communes::filter`], if any.
    fn bind<'q, O>(
        self,
        query: QueryAs<'q, Any, O, AnyArguments<'q>>,
    ) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        match self {
            Communes::All => query,
            Communes::One(code) => query.bind(code),
        }
    }
}

/// The weather of every commune of the territory for `day`. `today` is the
/// current Paris day: on it, a silent sensor (no report since
/// `silent_since_ms`) means no data.
pub async fn for_day(
    db: &Db,
    day: NaiveDate,
    today: NaiveDate,
    silent_since_ms: i64,
) -> Result<Vec<CommuneWeather>, sqlx::Error> {
    let days = for_days(db, Communes::All, day, day, today, silent_since_ms).await?;
    Ok(days
        .into_iter()
        .next()
        .map(|(_, weather)| weather)
        .unwrap_or_default())
}

/// The weather of `communes` for each day of `from..=to`, day by day,
/// each day's communes by code: three queries whatever the range.
pub async fn for_days(
    db: &Db,
    communes: Communes,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    silent_since_ms: i64,
) -> Result<Vec<(NaiveDate, Vec<CommuneWeather>)>, sqlx::Error> {
    let thresholds = Thresholds::load(db).await?;
    let places = places(db, communes).await?;
    let (from_text, to_text) = (from.to_string(), to.to_string());
    let counts_sql = format!(
        "SELECT commune, day, CAST(SUM(inbound) AS BIGINT) AS inbound,
                CAST(SUM(outbound) AS BIGINT) AS outbound
         FROM daily_counts WHERE day >= $1 AND day <= $2{} GROUP BY commune, day",
        communes.filter("AND", "commune", 3)
    );
    let query = sqlx::query_as(&counts_sql).bind(&from_text).bind(&to_text);
    let rows: Vec<(CommuneCode, String, i64, i64)> =
        communes.bind(query).fetch_all(db.read()).await?;
    let counts: HashMap<(CommuneCode, String), (i64, i64)> = rows
        .into_iter()
        .map(|(commune, day, inbound, outbound)| ((commune, day), (inbound, outbound)))
        .collect();
    let reported_sql = format!(
        "SELECT commune, day FROM sensor_days WHERE day >= $1 AND day <= $2{}",
        communes.filter("AND", "commune", 3)
    );
    let query = sqlx::query_as(&reported_sql)
        .bind(&from_text)
        .bind(&to_text);
    let reported: HashSet<(CommuneCode, String)> = communes
        .bind(query)
        .fetch_all(db.read())
        .await?
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= to) {
        let day_text = day.to_string();
        let weather = places
            .iter()
            .map(|place| {
                let key = (place.code, day_text.clone());
                let (inbound, outbound) = counts.get(&key).copied().unwrap_or((0, 0));
                let silent_today =
                    day == today && place.last_report.is_none_or(|at| at < silent_since_ms);
                let score = score(inbound, outbound);
                let level = if place.sensors == 0 || !reported.contains(&key) || silent_today {
                    Level::NoData
                } else {
                    thresholds.level(score)
                };
                CommuneWeather {
                    commune: place.code,
                    name: place.name.clone(),
                    score,
                    inbound,
                    outbound,
                    level,
                }
            })
            .collect();
        out.push((day, weather));
    }
    Ok(out)
}

/// A commune and its sensors, as the weather needs them.
#[derive(sqlx::FromRow)]
struct Place {
    code: CommuneCode,
    name: String,
    /// Installed, not revoked.
    sensors: i64,
    last_report: Option<i64>,
}

async fn places(db: &Db, communes: Communes) -> Result<Vec<Place>, sqlx::Error> {
    let sql = format!(
        "SELECT c.code, c.name,
                (SELECT COUNT(*) FROM sensors s WHERE s.commune = c.code AND s.revoked = 0 AND s.installed_at IS NOT NULL) AS sensors,
                (SELECT MAX(s.last_report_at) FROM sensors s WHERE s.commune = c.code AND s.revoked = 0) AS last_report
         FROM communes c{} ORDER BY c.code",
        communes.filter("WHERE", "c.code", 1)
    );
    communes
        .bind(sqlx::query_as(&sql))
        .fetch_all(db.read())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_levels_at_each_threshold() {
        let t = Thresholds::default();
        let check = |score, level| assert_eq!(t.level(score), level, "score {score}");
        check(0, Level::Sun);
        check(1, Level::Cloud);
        check(10, Level::Cloud);
        check(11, Level::Rain);
        check(99, Level::Rain);
        check(100, Level::Storm);
        check(5000, Level::Storm);
    }

    #[test]
    fn a_territory_sets_its_own_thresholds() {
        let t = Thresholds {
            cloud_min: 5,
            rain_min: 50,
            storm_min: 500,
        };
        assert_eq!(t.level(4), Level::Sun);
        assert_eq!(t.level(50), Level::Rain);
        assert_eq!(t.level(499), Level::Rain);
    }

    #[test]
    fn the_commune_filter_goes_into_the_sql() {
        assert_eq!(Communes::All.filter("WHERE", "c.code", 1), "");
        assert_eq!(
            Communes::One(CommuneCode::parse("42218").unwrap()).filter("WHERE", "c.code", 1),
            " WHERE c.code = $1"
        );
        assert_eq!(
            Communes::One(CommuneCode::parse("42218").unwrap()).filter("AND", "commune", 3),
            " AND commune = $3"
        );
    }
}
