//! The cyber weather of a commune for one Europe/Paris day: its score is
//! inbound incidents + 10 × outbound incidents (an outbound incident, a
//! commune machine contacting a malicious host, weighs ten times more, as
//! in the Cybermétéo of the Loire agreement). Levels come from the
//! territory's thresholds. A commune without a sensor, without a report
//! that day, or whose sensor is silent today shows "no data", never sun.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;

/// The weight of an outbound incident in the score.
pub const OUTBOUND_WEIGHT: i64 = 10;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
        let row = sqlx::query("SELECT cloud_min, rain_min, storm_min FROM territory WHERE id = 1")
            .fetch_optional(&db.pool)
            .await?;
        Ok(match row {
            Some(row) => Thresholds {
                cloud_min: row.try_get(0)?,
                rain_min: row.try_get(1)?,
                storm_min: row.try_get(2)?,
            },
            None => Thresholds::default(),
        })
    }
}

/// One commune's weather for one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommuneWeather {
    pub commune: String,
    pub name: String,
    pub score: i64,
    pub inbound: i64,
    pub outbound: i64,
    pub level: Level,
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
    let thresholds = Thresholds::load(db).await?;
    let day_text = day.to_string();
    let rows = sqlx::query(
        "SELECT c.code, c.name,
                (SELECT COUNT(*) FROM sensors s WHERE s.commune = c.code AND s.revoked = 0 AND s.installed_at IS NOT NULL) AS sensors,
                (SELECT MAX(s.last_report_at) FROM sensors s WHERE s.commune = c.code AND s.revoked = 0) AS last_report,
                (SELECT COUNT(*) FROM sensor_days d WHERE d.commune = c.code AND d.day = $1) AS reported,
                COALESCE((SELECT CAST(SUM(k.inbound) AS BIGINT) FROM daily_counts k WHERE k.commune = c.code AND k.day = $1), 0) AS inbound,
                COALESCE((SELECT CAST(SUM(k.outbound) AS BIGINT) FROM daily_counts k WHERE k.commune = c.code AND k.day = $1), 0) AS outbound
         FROM communes c ORDER BY c.code",
    )
    .bind(&day_text)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let sensors: i64 = row.try_get("sensors")?;
            let last_report: Option<i64> = row.try_get("last_report")?;
            let reported: i64 = row.try_get("reported")?;
            let inbound: i64 = row.try_get("inbound")?;
            let outbound: i64 = row.try_get("outbound")?;
            let silent_today = day == today && last_report.is_none_or(|at| at < silent_since_ms);
            let score = inbound + OUTBOUND_WEIGHT * outbound;
            let level = if sensors == 0 || reported == 0 || silent_today {
                Level::NoData
            } else {
                thresholds.level(score)
            };
            Ok(CommuneWeather {
                commune: row.try_get("code")?,
                name: row.try_get("name")?,
                score,
                inbound,
                outbound,
                level,
            })
        })
        .collect()
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
}
