//! "Is my box working?" answered for a town-hall secretary: yes or no,
//! since when, and what to do when it is not (the steps and whom to call
//! come from `data/advice/general.toml`, `[silent]`). The same words on
//! the commune's "Mon boîtier" page and at the top of a sensor's page.
//!
//! What it must not do: read the database or decide who may see a sensor
//! (the pages do both), or use another word than "signe de vie" for a
//! report or a heartbeat, the one thing liveness is decided on.

use super::queries::SensorRecord;
use super::state::{SensorState, last_sign_of_life, state as sensor_state};
use crate::fr;

/// The answer, as the pages show it.
pub struct Verdict {
    /// `Oui, votre boîtier fonctionne.`, `Non : ...`.
    pub headline: String,
    /// Since when, in a sentence.
    pub since: String,
    /// Working (green), or not (red: what to do follows).
    pub ok: bool,
    /// The box is silent: the page shows what to do and whom to call.
    pub act: bool,
}

impl Verdict {
    /// The verdict on `sensor` at `now` (Unix ms).
    pub fn of(sensor: &SensorRecord, now: i64, silent_after_secs: i64) -> Verdict {
        if sensor.revoked {
            return Verdict {
                headline: "Ce boîtier a été retiré du service.".to_owned(),
                since:
                    "Il n'envoie plus rien à l'observatoire ; l'historique de la commune est gardé."
                        .to_owned(),
                ok: false,
                act: false,
            };
        }
        let Some(installed) = sensor.installed_at else {
            return Verdict {
                headline: "Votre boîtier n'est pas encore installé.".to_owned(),
                since: format!(
                    "Il a été préparé le {} ; il fonctionnera une fois branché et mis en service par l'installateur.",
                    fr::long_date(sensor.created_at)
                ),
                ok: false,
                act: false,
            };
        };
        let last = last_sign_of_life(sensor.last_report_at, sensor.heartbeat_at);
        let ago = |at: i64| fr::duration(now.saturating_sub(at).max(0) / 1000);
        match (sensor_state(last, now, silent_after_secs), last) {
            (SensorState::Reporting, Some(last)) => Verdict {
                headline: "Oui, votre boîtier fonctionne.".to_owned(),
                since: format!(
                    "En service depuis le {}. Dernier signe de vie il y a {} (le {}).",
                    fr::long_date(installed),
                    ago(last),
                    fr::date_time(last)
                ),
                ok: true,
                act: false,
            },
            (SensorState::Late, Some(last)) => Verdict {
                headline: "Oui, mais votre boîtier n'a pas donné de nouvelles depuis un moment."
                    .to_owned(),
                since: format!(
                    "Dernier signe de vie il y a {} (le {}). C'est souvent une coupure passagère de la connexion : rien à faire tant que cela ne dure pas plus de {}.",
                    ago(last),
                    fr::date_time(last),
                    fr::duration(silent_after_secs)
                ),
                ok: true,
                act: false,
            },
            (_, Some(last)) => Verdict {
                headline: "Non : votre boîtier ne donne plus de nouvelles.".to_owned(),
                since: format!(
                    "Aucun signe de vie depuis le {}, il y a {}. Tant qu'il est silencieux, la commune n'est pas surveillée.",
                    fr::date_time(last),
                    ago(last)
                ),
                ok: false,
                act: true,
            },
            (_, None) => Verdict {
                headline: "Non : votre boîtier n'a jamais donné de nouvelles.".to_owned(),
                since: format!(
                    "Il a été mis en service le {}, mais l'observatoire n'a reçu de lui aucun signe de vie.",
                    fr::long_date(installed)
                ),
                ok: false,
                act: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::CommuneCode;

    const MIN: i64 = 60 * 1000;
    const NOW: i64 = 1_784_030_400_000; // 2026-07-14 14:00 in Paris

    fn sensor(
        installed: Option<i64>,
        last_report: Option<i64>,
        heartbeat: Option<i64>,
    ) -> SensorRecord {
        SensorRecord {
            id: "cap-1".to_owned(),
            commune: CommuneCode::parse("42218").unwrap_or_else(|_| unreachable!()),
            commune_name: "Saint-Étienne".to_owned(),
            created_at: NOW - 40 * 24 * 60 * MIN,
            enroll_expires_at: None,
            installed_at: installed,
            revoked: false,
            last_report_at: last_report,
            last_seq: None,
            reports_total: 0,
            incidents_total: 0,
            heartbeat_at: heartbeat,
            heartbeat_version: None,
            drops_grew_at: None,
        }
    }

    fn check(record: SensorRecord, headline: &str, since: &str, ok: bool, act: bool) {
        let verdict = Verdict::of(&record, NOW, 3600);
        assert_eq!(verdict.headline, headline);
        assert!(verdict.since.contains(since), "{}", verdict.since);
        assert_eq!((verdict.ok, verdict.act), (ok, act));
    }

    #[test]
    fn yes_or_no_and_since_when() {
        let installed = Some(NOW - 30 * 24 * 60 * MIN);
        check(
            sensor(None, None, None),
            "Votre boîtier n'est pas encore installé.",
            "préparé le 4 juin 2026",
            false,
            false,
        );
        check(
            sensor(installed, Some(NOW - 2 * MIN), None),
            "Oui, votre boîtier fonctionne.",
            "En service depuis le 14 juin 2026. Dernier signe de vie il y a 2 minutes",
            true,
            false,
        );
        // A heartbeat alone is a sign of life: no "never" beside "2 minutes ago".
        check(
            sensor(installed, None, Some(NOW - 2 * MIN)),
            "Oui, votre boîtier fonctionne.",
            "il y a 2 minutes",
            true,
            false,
        );
        check(
            sensor(installed, Some(NOW - 25 * MIN), None),
            "Oui, mais votre boîtier n'a pas donné de nouvelles depuis un moment.",
            "il y a 25 minutes",
            true,
            false,
        );
        check(
            sensor(installed, Some(NOW - 180 * MIN), None),
            "Non : votre boîtier ne donne plus de nouvelles.",
            "depuis le 14/07/2026 11:00, il y a 3 heures",
            false,
            true,
        );
        check(
            sensor(installed, None, None),
            "Non : votre boîtier n'a jamais donné de nouvelles.",
            "14 juin 2026",
            false,
            true,
        );
    }
}
