//! The last heartbeat in plain French, for the sensor's page: what each
//! figure means to someone who is not a network engineer, the warnings
//! (the sensor does not keep up, batches wait, detail was lost), and the
//! sensor's state line (in service, late, silent since ...).
//!
//! What it must not do: read the database or decide who may see a sensor
//! (the pages do both).

use crate::fr::{duration, number, size};
use vigie_core::ListVersion;

use super::super::pages::paris_time;
use super::super::queries::HeartbeatRecord;
use super::super::state::SensorState;

/// Drops are warned about for this long after the counter last grew: long
/// enough for someone looking once a day to see it.
pub const DROPS_WARNING_MS: i64 = 24 * 3600 * 1000;

/// A heartbeat as the sensor's page shows it.
pub struct Health {
    /// When it arrived, and how long ago.
    pub received: String,
    pub version: String,
    pub mode: String,
    /// Since when the sensor runs, and for how long.
    pub running_since: String,
    pub packets: String,
    pub bytes: String,
    pub kernel_drops: String,
    pub interface_drops: String,
    /// Set when the kernel dropped packets lately: the sensor does not
    /// keep up with the traffic.
    pub drops_warning: Option<String>,
    pub incidents: String,
    pub open_incidents: String,
    /// The batches waiting on the box, and what that means.
    pub spool: String,
    pub dropped_incidents: String,
    /// Incidents whose detail was lost: the explanation is shown.
    pub detail_lost: bool,
    pub blocked_now: String,
    pub lists: Vec<ListVersion>,
}

impl Health {
    pub fn new(record: &HeartbeatRecord, now: i64) -> Health {
        let age_secs = now.saturating_sub(record.received_at).max(0) / 1000;
        Health {
            received: format!(
                "{} (il y a {})",
                paris_time(record.received_at),
                duration(age_secs)
            ),
            version: record.version.clone(),
            mode: mode(&record.mode),
            running_since: format!(
                "{}, soit {}",
                paris_time(record.started_at),
                duration(record.uptime_secs)
            ),
            packets: number(record.packets),
            bytes: size(record.bytes),
            kernel_drops: number(record.kernel_drops),
            interface_drops: number(record.interface_drops),
            drops_warning: drops_warning(record, now),
            incidents: number(record.incidents),
            open_incidents: number(record.open_incidents),
            spool: spool(record.spool_batches, record.spool_bytes),
            dropped_incidents: number(record.dropped_incidents),
            detail_lost: record.dropped_incidents > 0,
            blocked_now: if record.mode == "filter" {
                number(record.blocked_now)
            } else {
                "aucune : en mode observation, le boîtier ne bloque rien".to_owned()
            },
            lists: record.lists.clone(),
        }
    }
}

/// Whether the kernel dropped packets within [`DROPS_WARNING_MS`] of `now`.
pub fn drops_recent(drops_grew_at: Option<i64>, now: i64) -> bool {
    drops_grew_at.is_some_and(|at| now.saturating_sub(at) <= DROPS_WARNING_MS)
}

/// The sensor's state in a sentence: in service, late, or silent since its
/// last sign of life (a report or a heartbeat).
pub fn state_line(
    state: SensorState,
    last_alive: Option<i64>,
    now: i64,
    silent_after_secs: i64,
) -> String {
    let Some(last) = last_alive else {
        return "Silencieux : aucun rapport ni signal de vie reçu depuis l'installation."
            .to_owned();
    };
    let ago = duration(now.saturating_sub(last).max(0) / 1000);
    match state {
        SensorState::Reporting => format!(
            "En service : dernier signe de vie le {} (il y a {ago}).",
            paris_time(last)
        ),
        SensorState::Late => format!(
            "En retard : aucun signe de vie depuis {ago} (dernier le {}). Sans nouvelles après {}, il sera déclaré silencieux.",
            paris_time(last),
            duration(silent_after_secs)
        ),
        SensorState::Silent => format!(
            "Silencieux depuis le {} : ni rapport ni signal de vie depuis {ago}. La commune n'a plus de données.",
            paris_time(last)
        ),
    }
}

fn mode(mode: &str) -> String {
    match mode {
        "observe" => "observation : le boîtier regarde le trafic sans rien bloquer".to_owned(),
        "filter" => "filtrage : le boîtier bloque les adresses malveillantes".to_owned(),
        other => format!("« {other} » (mode inconnu de l'observatoire)"),
    }
}

fn drops_warning(record: &HeartbeatRecord, now: i64) -> Option<String> {
    if !drops_recent(record.drops_grew_at, now) {
        return None;
    }
    let at = record.drops_grew_at.map(paris_time).unwrap_or_default();
    Some(format!(
        "Le capteur ne suit pas le débit : {} paquets perdus (constaté le {at}). Une partie du trafic n'a pas été analysée ; si cela se répète, le boîtier est trop lent pour ce réseau ou le port miroir envoie trop de trafic.",
        number(record.drops_growth)
    ))
}

fn spool(batches: i64, bytes: i64) -> String {
    match batches {
        0 => "aucun : tout a été remis à l'observatoire".to_owned(),
        1 => format!(
            "1 lot ({}), gardé sur le boîtier jusqu'à ce que l'observatoire en accuse réception",
            size(bytes)
        ),
        n => format!(
            "{} lots ({}), gardés sur le boîtier jusqu'à ce que l'observatoire en accuse réception",
            number(n),
            size(bytes)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60 * 1000;
    const NOW: i64 = 1_784_030_400_000; // 2026-07-14 12:00 UTC, 14:00 in Paris

    #[test]
    fn state_lines() {
        let line = |state, age: Option<i64>| state_line(state, age.map(|a| NOW - a), NOW, 3600);
        assert_eq!(
            line(SensorState::Reporting, Some(2 * MIN)),
            "En service : dernier signe de vie le 14/07/2026 13:58 (il y a 2 minutes)."
        );
        assert!(
            line(SensorState::Late, Some(25 * MIN))
                .starts_with("En retard : aucun signe de vie depuis 25 minutes")
        );
        assert_eq!(
            line(SensorState::Silent, Some(3 * 60 * MIN)),
            "Silencieux depuis le 14/07/2026 11:00 : ni rapport ni signal de vie depuis 3 heures. La commune n'a plus de données."
        );
        assert!(line(SensorState::Silent, None).contains("aucun rapport ni signal de vie"));
    }

    #[test]
    fn drops_are_warned_about_for_a_day() {
        assert!(!drops_recent(None, NOW));
        assert!(drops_recent(Some(NOW - 60 * MIN), NOW));
        assert!(drops_recent(Some(NOW - DROPS_WARNING_MS), NOW));
        assert!(!drops_recent(Some(NOW - DROPS_WARNING_MS - 1), NOW));
    }
}
