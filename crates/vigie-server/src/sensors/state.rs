//! Whether a sensor is alive: reporting, late or silent, from its last
//! sign of life, an accepted report or a heartbeat, whichever came last.
//! Silence is the alert: a commune whose sensor is silent has no data, and
//! its weather must never read as sun.
//!
//! What it must not do: take a heartbeat for data. Liveness is the box
//! running; whether a day has data is decided by the reports alone
//! (`sensor_days`, and the weather's own test on `last_report_at`).

use std::collections::HashMap;

use crate::db::Db;
use crate::territory::CommuneCode;

/// A sensor whose last sign of life is at most this old is reporting (a
/// live sensor sends a batch and a heartbeat every minute).
pub const REPORTING_WINDOW_MS: i64 = 15 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorState {
    /// Last sign of life within 15 minutes.
    Reporting,
    /// Last sign of life older than that, but within the silence threshold.
    Late,
    /// Neither report nor heartbeat for longer than the threshold, or never.
    Silent,
}

impl SensorState {
    pub fn as_str(self) -> &'static str {
        match self {
            SensorState::Reporting => "reporting",
            SensorState::Late => "late",
            SensorState::Silent => "silent",
        }
    }

    /// What the pages show.
    pub fn label_fr(self) -> &'static str {
        match self {
            SensorState::Reporting => "transmet",
            SensorState::Late => "en retard",
            SensorState::Silent => "silencieux",
        }
    }

    /// Silence is an alert the pages mark in red.
    pub fn is_alert(self) -> bool {
        self == SensorState::Silent
    }
}

/// A sensor's last sign of life: its last report or its last heartbeat,
/// whichever is later (Unix ms).
pub fn last_sign_of_life(
    last_report_at: Option<i64>,
    last_heartbeat_at: Option<i64>,
) -> Option<i64> {
    last_report_at.max(last_heartbeat_at)
}

/// The state of a sensor whose last sign of life was at `last_alive` (Unix
/// ms, see [`last_sign_of_life`]), at `now` (Unix ms), silent after
/// `silent_after_secs` without any.
pub fn state(last_alive: Option<i64>, now: i64, silent_after_secs: i64) -> SensorState {
    let Some(last) = last_alive else {
        return SensorState::Silent;
    };
    let silent_after_ms = silent_after_secs.saturating_mul(1000);
    // A report stamped slightly ahead (another replica's clock) is fresh.
    let age = now.saturating_sub(last).max(0);
    if age <= REPORTING_WINDOW_MS.min(silent_after_ms) {
        SensorState::Reporting
    } else if age <= silent_after_ms {
        SensorState::Late
    } else {
        SensorState::Silent
    }
}

/// The state of `commune`'s sensing: that of its freshest sensor (several
/// sensors count as one source of data). None when it has no enrolled,
/// unrevoked sensor: the weather is then "no data".
pub async fn commune_sensor_state(
    db: &Db,
    commune: &CommuneCode,
    now: i64,
    silent_after_secs: i64,
) -> Result<Option<SensorState>, sqlx::Error> {
    Ok(commune_sensing(db, commune, now, silent_after_secs)
        .await?
        .map(|(state, _)| state))
}

/// The same, with the last sign of life (Unix ms; `None`: never), so that
/// a page can say "since when".
pub async fn commune_sensing(
    db: &Db,
    commune: &CommuneCode,
    now: i64,
    silent_after_secs: i64,
) -> Result<Option<(SensorState, Option<i64>)>, sqlx::Error> {
    let (count, last_report, last_heartbeat): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*) AS n, MAX(s.last_report_at) AS last_report,
             MAX(h.received_at) AS last_heartbeat
         FROM sensors s LEFT JOIN sensor_heartbeats h ON h.sensor_id = s.id
         WHERE s.commune = $1 AND s.revoked = 0 AND s.installed_at IS NOT NULL",
    )
    .bind(commune)
    .fetch_one(db.read())
    .await?;
    if count == 0 {
        return Ok(None);
    }
    let last = last_sign_of_life(last_report, last_heartbeat);
    Ok(Some((state(last, now, silent_after_secs), last)))
}

/// The same for every commune that has a sensor, in one query (for the map
/// and the dashboard). Communes without a sensor are absent.
pub async fn commune_sensor_states(
    db: &Db,
    now: i64,
    silent_after_secs: i64,
) -> Result<HashMap<CommuneCode, SensorState>, sqlx::Error> {
    let rows: Vec<(CommuneCode, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT s.commune, MAX(s.last_report_at) AS last_report,
             MAX(h.received_at) AS last_heartbeat
         FROM sensors s LEFT JOIN sensor_heartbeats h ON h.sensor_id = s.id
         WHERE s.revoked = 0 AND s.installed_at IS NOT NULL GROUP BY s.commune",
    )
    .fetch_all(db.read())
    .await?;
    let mut states = HashMap::with_capacity(rows.len());
    for (commune, last_report, last_heartbeat) in rows {
        let last = last_sign_of_life(last_report, last_heartbeat);
        states.insert(commune, state(last, now, silent_after_secs));
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60 * 1000;
    const NOW: i64 = 1_780_000_000_000;

    fn check(age_ms: Option<i64>, silent_after_secs: i64, expected: SensorState) {
        let last = age_ms.map(|age| NOW - age);
        assert_eq!(
            state(last, NOW, silent_after_secs),
            expected,
            "age {age_ms:?}"
        );
    }

    #[test]
    fn thresholds() {
        check(None, 3600, SensorState::Silent);
        check(Some(0), 3600, SensorState::Reporting);
        check(Some(-5 * MIN), 3600, SensorState::Reporting);
        check(Some(15 * MIN), 3600, SensorState::Reporting);
        check(Some(15 * MIN + 1), 3600, SensorState::Late);
        check(Some(60 * MIN), 3600, SensorState::Late);
        check(Some(60 * MIN + 1), 3600, SensorState::Silent);
        // A threshold shorter than the reporting window wins.
        check(Some(10 * MIN), 300, SensorState::Silent);
        check(Some(4 * MIN), 300, SensorState::Reporting);
    }

    #[test]
    fn a_heartbeat_is_a_sign_of_life() {
        assert_eq!(last_sign_of_life(None, None), None);
        assert_eq!(last_sign_of_life(Some(5), None), Some(5));
        assert_eq!(last_sign_of_life(None, Some(7)), Some(7));
        assert_eq!(last_sign_of_life(Some(5), Some(7)), Some(7));
        assert_eq!(last_sign_of_life(Some(9), Some(7)), Some(9));
        // Heartbeats alone keep a sensor reporting.
        assert_eq!(
            state(last_sign_of_life(None, Some(NOW - MIN)), NOW, 3600),
            SensorState::Reporting
        );
    }

    #[test]
    fn french_labels() {
        assert_eq!(SensorState::Reporting.label_fr(), "transmet");
        assert_eq!(SensorState::Late.label_fr(), "en retard");
        assert_eq!(SensorState::Silent.label_fr(), "silencieux");
        assert!(SensorState::Silent.is_alert() && !SensorState::Late.is_alert());
    }
}
