//! One scan as the pages show it: its dates, counts by severity, and the
//! trend from the scan before, in French.

use chrono::TimeZone;

/// Findings of a scan by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

/// A stored scan, without its document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanSummary {
    pub id: i64,
    pub commune: String,
    /// Unix milliseconds.
    pub started_at: i64,
    pub finished_at: i64,
    pub lab: bool,
    pub interrupted: bool,
    pub hosts: i64,
    pub counts: SeverityCounts,
    pub received_at: i64,
}

impl ScanSummary {
    /// When the scan started, Paris time: « 12/03/2025 à 09:14 ».
    pub fn date_fr(&self) -> String {
        crate::fr::date_at(self.started_at)
    }

    /// The scan's day, for file names: `2025-03-12`.
    pub fn day(&self) -> String {
        vigie_core::LOCAL_TZ
            .timestamp_millis_opt(self.started_at)
            .single()
            .map_or_else(String::new, |at| at.format("%Y-%m-%d").to_string())
    }

    /// « 2 critiques, 1 élevée, 0 moyenne, 4 faibles ».
    pub fn counts_fr(&self) -> String {
        let c = &self.counts;
        [
            count(c.critical, "critique", "critiques"),
            count(c.high, "élevée", "élevées"),
            count(c.medium, "moyenne", "moyennes"),
            count(c.low, "faible", "faibles"),
        ]
        .join(", ")
    }
}

fn count(n: i64, one: &str, many: &str) -> String {
    crate::fr::plural(n, one, many)
}

/// What changed since the scan before, in French: « 3 vulnérabilités
/// critiques de moins, 1 vulnérabilité élevée de plus ».
pub fn trend(current: &SeverityCounts, previous: Option<&SeverityCounts>) -> String {
    let Some(previous) = previous else {
        return "premier scan".to_owned();
    };
    let changes: Vec<String> = [
        (
            current.critical - previous.critical,
            "critique",
            "critiques",
        ),
        (current.high - previous.high, "élevée", "élevées"),
        (current.medium - previous.medium, "moyenne", "moyennes"),
        (current.low - previous.low, "faible", "faibles"),
    ]
    .into_iter()
    .filter(|(delta, _, _)| *delta != 0)
    .map(|(delta, one, many)| {
        let n = delta.abs();
        let (noun, adjective) = if n > 1 {
            ("vulnérabilités", many)
        } else {
            ("vulnérabilité", one)
        };
        let way = if delta < 0 { "de moins" } else { "de plus" };
        format!("{} {noun} {adjective} {way}", crate::fr::number(n))
    })
    .collect();
    if changes.is_empty() {
        "inchangé".to_owned()
    } else {
        changes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(critical: i64, high: i64, medium: i64, low: i64) -> SeverityCounts {
        SeverityCounts {
            critical,
            high,
            medium,
            low,
        }
    }

    #[test]
    fn trends_read_as_french() {
        let before = counts(5, 2, 3, 1);
        assert_eq!(
            trend(&counts(2, 2, 3, 1), Some(&before)),
            "3 vulnérabilités critiques de moins"
        );
        assert_eq!(
            trend(&counts(4, 3, 3, 0), Some(&before)),
            "1 vulnérabilité critique de moins, 1 vulnérabilité élevée de plus, 1 vulnérabilité faible de moins"
        );
        assert_eq!(trend(&before, Some(&before)), "inchangé");
        assert_eq!(trend(&before, None), "premier scan");
    }

    #[test]
    fn dates_are_paris_dates() {
        let scan = ScanSummary {
            id: 1,
            commune: "42218".into(),
            // 2025-03-12 08:14 UTC, 09:14 in Paris.
            started_at: 1_741_767_240_000,
            finished_at: 1_741_767_240_000,
            lab: false,
            interrupted: false,
            hosts: 3,
            counts: counts(1, 0, 2, 5),
            received_at: 0,
        };
        assert_eq!(scan.date_fr(), "12/03/2025 à 09:14");
        assert_eq!(scan.day(), "2025-03-12");
        assert_eq!(
            scan.counts_fr(),
            "1 critique, 0 élevée, 2 moyennes, 5 faibles"
        );
    }
}
