//! The French words and numbers of the report: the sentences the three
//! renderings share, severities as labels and colours, counts with their
//! plurals, CVSS scores with a decimal comma, Paris times and durations.

use chrono::{DateTime, Utc};
use vigie_core::Severity;
use vigie_core::probe::Finding;

/// Sentences the three renderings share, so they say the same.
pub(crate) const TOP_HEADING: &str = "Les 10 vulnérabilités les plus critiques";
pub(crate) const HOSTS_HEADING: &str = "Détail par machine";
pub(crate) const SCOPE_HEADING: &str = "Périmètre et dates";
pub(crate) const NO_FINDING: &str = "Aucune vulnérabilité trouvée.";
pub(crate) const LAB_BANNER: &str =
    "Mode laboratoire : analyse lancée hors des heures prévues par la convention, pour un essai.";
pub(crate) const PARTIAL_BANNER: &str =
    "Analyse interrompue : résultats partiels. Seule une partie du réseau a été examinée.";
pub(crate) const OBSERVE_ONLY: &str = "La sonde observe sans rien modifier : aucune configuration changée, aucun compte bloqué ; les mots de passe trouvés ne sont jamais écrits dans ce rapport.";

/// Findings by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

/// The French label of a severity, capitalised (« Critique »).
pub fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critique",
        Severity::High => "Élevée",
        Severity::Medium => "Moyenne",
        Severity::Low => "Faible",
    }
}

/// The colour a severity is shown in (`#rrggbb`).
pub fn severity_colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#a4161a",
        Severity::High => "#d9480f",
        Severity::Medium => "#f5b400",
        Severity::Low => "#2f6f3e",
    }
}

/// The text colour that reads on [`severity_colour`] (`#rrggbb`).
pub fn severity_ink(severity: Severity) -> &'static str {
    if severity == Severity::Medium {
        "#1d2733"
    } else {
        "#ffffff"
    }
}

/// What the town hall does about a finding of this severity, in words a
/// secretary can act on (the technical fix is the recommendation).
pub fn plain_action(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => {
            "À traiter en urgence : appelez votre prestataire informatique aujourd'hui."
        }
        Severity::High => {
            "À traiter rapidement : demandez une intervention à votre prestataire cette semaine."
        }
        Severity::Medium => "À planifier : à corriger avec votre prestataire dans le mois.",
        Severity::Low => {
            "À prévoir : à corriger lors de la prochaine intervention de votre prestataire."
        }
    }
}

impl Counts {
    pub fn of(findings: &[Finding]) -> Counts {
        let mut counts = Counts::default();
        for finding in findings {
            match finding.severity {
                Severity::Critical => counts.critical += 1,
                Severity::High => counts.high += 1,
                Severity::Medium => counts.medium += 1,
                Severity::Low => counts.low += 1,
            }
        }
        counts
    }

    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low
    }

    /// « 34 vulnérabilités : 3 critiques, 5 élevées, 10 moyennes, 16 faibles »,
    /// or « Aucune vulnérabilité trouvée ».
    pub fn sentence(&self) -> String {
        if self.total() == 0 {
            return "Aucune vulnérabilité trouvée".to_owned();
        }
        format!(
            "{} : {}",
            plural(self.total(), "vulnérabilité", "vulnérabilités"),
            [
                plural(self.critical, "critique", "critiques"),
                plural(self.high, "élevée", "élevées"),
                plural(self.medium, "moyenne", "moyennes"),
                plural(self.low, "faible", "faibles"),
            ]
            .join(", ")
        )
    }
}

/// « 1 machine », « 0 machine », « 3 machines » (French: the singular up to one).
pub(crate) fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count > 1 { many } else { one })
}

/// A CVSS score the French way: one decimal, a comma (« 9,8 »).
pub(crate) fn score(cvss: f32) -> String {
    format!("{cvss:.1}").replace('.', ",")
}

/// A moment in Paris time: « 12/03/2025 à 09:14 ».
pub(crate) fn paris_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&vigie_core::LOCAL_TZ)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

pub(crate) fn duration(started: DateTime<Utc>, finished: DateTime<Utc>) -> String {
    let seconds = (finished - started).num_seconds().max(0);
    match (seconds / 3600, (seconds % 3600) / 60) {
        (0, 0) => format!("{seconds} s"),
        (0, minutes) => format!("{minutes} min"),
        (hours, minutes) => format!("{hours} h {minutes:02} min"),
    }
}

pub(crate) fn intensity(text: &str) -> String {
    match text {
        "polite" => "polie (par défaut : peu de connexions à la fois, pauses)".to_owned(),
        "normal" => "normale".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_french() {
        let counts = Counts {
            critical: 3,
            high: 1,
            medium: 0,
            low: 2,
        };
        assert_eq!(
            counts.sentence(),
            "6 vulnérabilités : 3 critiques, 1 élevée, 0 moyenne, 2 faibles"
        );
        assert_eq!(Counts::default().sentence(), "Aucune vulnérabilité trouvée");
    }

    #[test]
    fn scores_take_a_comma() {
        assert_eq!(score(9.8), "9,8");
        assert_eq!(score(10.0), "10,0");
        assert_eq!(score(5.3), "5,3");
    }

    #[test]
    fn durations() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let after = |s: i64| start + chrono::Duration::seconds(s);
        assert_eq!(duration(start, after(42)), "42 s");
        assert_eq!(duration(start, after(600)), "10 min");
        assert_eq!(duration(start, after(2 * 3600 + 5 * 60)), "2 h 05 min");
        assert_eq!(duration(after(10), start), "0 s");
    }

    #[test]
    fn times_are_paris_times() {
        // 2025-03-12 08:14 UTC is 09:14 in Paris (winter time).
        let at = DateTime::from_timestamp(1_741_767_240, 0).unwrap_or_default();
        assert_eq!(paris_time(at), "12/03/2025 à 09:14");
    }
}
