//! A campaign's figures: how many people were sent the mail, opened it,
//! clicked, submitted the form, as totals, by role, by scenario and day by
//! day; and the scanner fetches set aside. Computed from the targets while
//! the campaign lives, then kept as the [`Summary`] the purge writes: the
//! same figures, without a single address.
//!
//! What it must never do: name or count a person more than once (each
//! figure counts people by their first event), or let a mail scanner's
//! fetch count as a person's click.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// People counted at each step (each at most once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub targets: u64,
    pub sent: u64,
    pub opened: u64,
    pub clicked: u64,
    pub submitted: u64,
    /// Fetches of the links by mail security scanners, set aside.
    pub scanner_clicks: u64,
}

impl Figures {
    fn add(&mut self, row: &TargetRow) {
        self.targets += 1;
        self.sent += u64::from(row.sent_at.is_some());
        self.opened += u64::from(row.opened_at.is_some() || row.clicked_at.is_some());
        self.clicked += u64::from(row.clicked_at.is_some());
        self.submitted += u64::from(row.submitted_at.is_some());
        self.scanner_clicks = self
            .scanner_clicks
            .saturating_add(u64::try_from(row.scanner_clicks).unwrap_or(0));
    }

    /// `part` of the people sent the mail, in percent (0 before any).
    pub fn rate(&self, part: u64) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            part as f64 * 100.0 / self.sent as f64
        }
    }
}

/// First events of a Paris day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    pub day: NaiveDate,
    pub opened: u64,
    pub clicked: u64,
    pub submitted: u64,
}

/// What is kept of a campaign: everything its pages and deliverable say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub total: Figures,
    /// By role id (`agent`, `elu`), in that order.
    pub by_role: BTreeMap<String, Figures>,
    /// By scenario id.
    pub by_scenario: BTreeMap<String, Figures>,
    pub days: Vec<DayFigures>,
}

/// A target as the figures read it: no address.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TargetRow {
    pub role: String,
    pub scenario: String,
    pub sent_at: Option<i64>,
    pub opened_at: Option<i64>,
    pub clicked_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub scanner_clicks: i64,
}

impl Summary {
    pub fn of(rows: &[TargetRow]) -> Summary {
        let mut summary = Summary::default();
        let mut days: BTreeMap<NaiveDate, DayFigures> = BTreeMap::new();
        for row in rows {
            summary.total.add(row);
            summary
                .by_role
                .entry(row.role.clone())
                .or_default()
                .add(row);
            summary
                .by_scenario
                .entry(row.scenario.clone())
                .or_default()
                .add(row);
            let mut mark = |at: Option<i64>, step: fn(&mut DayFigures)| {
                if let Some(day) = at.and_then(paris_day) {
                    let entry = days.entry(day).or_insert_with(|| DayFigures {
                        day,
                        ..DayFigures::default()
                    });
                    step(entry);
                }
            };
            // An opening is known from its image, or from a click (many
            // mail clients block images).
            mark(row.opened_at.or(row.clicked_at), |d| d.opened += 1);
            mark(row.clicked_at, |d| d.clicked += 1);
            mark(row.submitted_at, |d| d.submitted += 1);
        }
        summary.days = days.into_values().collect();
        summary
    }
}

fn paris_day(at_ms: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(at_ms).map(vigie_core::local_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(role: &str, sent: bool, opened: Option<i64>, clicked: Option<i64>) -> TargetRow {
        TargetRow {
            role: role.to_owned(),
            scenario: "colis".to_owned(),
            sent_at: sent.then_some(1),
            opened_at: opened,
            clicked_at: clicked,
            submitted_at: None,
            scanner_clicks: 2,
        }
    }

    #[test]
    fn each_person_counts_once_and_a_click_implies_an_opening() {
        // 2026-12-07 09:00 and 2026-12-08 09:00 in Paris.
        let monday = 1_796_630_400_000;
        let tuesday = monday + 86_400_000;
        let rows = [
            row("agent", true, Some(monday), Some(tuesday)),
            row("agent", true, None, Some(tuesday)),
            row("elu", true, None, None),
            row("elu", false, None, None),
        ];
        let summary = Summary::of(&rows);
        assert_eq!(summary.total.targets, 4);
        assert_eq!(summary.total.sent, 3);
        assert_eq!(summary.total.opened, 2);
        assert_eq!(summary.total.clicked, 2);
        assert_eq!(summary.total.scanner_clicks, 8);
        assert_eq!(summary.by_role["agent"].clicked, 2);
        assert_eq!(summary.by_role["elu"].sent, 1);
        assert_eq!(summary.days.len(), 2);
        assert_eq!(summary.days[0].opened, 1);
        assert_eq!(summary.days[1].opened, 1);
        assert_eq!(summary.days[1].clicked, 2);
        assert!((summary.total.rate(summary.total.clicked) - 66.666).abs() < 0.01);
    }
}
