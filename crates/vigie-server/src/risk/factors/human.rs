//! The human factor: the last phishing exercise's click and submission
//! rates, and the e-learning modules completed.
//!
//! What it must never do: score a commune with neither an exercise nor a
//! module completed as careful: that is "unknown".

use chrono::NaiveDate;

use super::{Factor, capitalise};
use crate::fr;
use crate::risk::rules::Rules;

/// A phishing exercise's figures (people, each counted once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exercise {
    pub start: NaiveDate,
    pub sent: u64,
    pub clicked: u64,
    pub submitted: u64,
}

/// The last exercise and the e-learning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Awareness {
    pub exercise: Option<Exercise>,
    pub modules_done: usize,
    pub modules_total: usize,
}

pub fn human(rules: &Rules, a: &Awareness, today: NaiveDate) -> Factor {
    let r = &rules.human;
    let exercise = a
        .exercise
        .filter(|e| e.sent > 0 && (today - e.start).num_days() <= i64::from(r.max_age_days));
    let modules = a.modules_done.min(a.modules_total);
    if exercise.is_none() && modules == 0 {
        return Factor::unknown(
            "Ni exercice d'hameçonnage récent ni module de formation suivi : le facteur humain n'est pas connu.",
        );
    }
    let mut parts = Vec::new();
    let mut points = match exercise {
        Some(e) => {
            let rate = |part: u64| part.saturating_mul(100) / e.sent;
            let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            let mut said = format!(
                "dernier exercice d'hameçonnage (le {}) : {} sur {} ont cliqué ({})",
                fr::day_long(e.start),
                fr::number(n(e.clicked)),
                fr::plural(n(e.sent), "personne", "personnes"),
                fr::percent(e.clicked as f64 * 100.0 / e.sent as f64)
            );
            if e.submitted > 0 {
                said.push_str(&format!(
                    ", dont {} un mot de passe",
                    fr::plural(n(e.submitted), "a saisi", "ont saisi")
                ));
            }
            parts.push(said);
            n(rate(e.clicked))
                .saturating_mul(i64::from(r.click_points))
                .saturating_add(n(rate(e.submitted)).saturating_mul(i64::from(r.submit_points)))
                .min(100)
        }
        None => {
            parts.push("pas d'exercice d'hameçonnage récent".to_owned());
            i64::from(r.no_campaign)
        }
    };
    if let Some(share) = (modules * 100).checked_div(a.modules_total) {
        let share = i64::try_from(share).unwrap_or(0);
        points -= i64::from(r.elearning_points) * share / 100;
        parts.push(format!(
            "{} modules de formation sur {} suivis",
            fr::number(i64::try_from(modules).unwrap_or(0)),
            a.modules_total
        ));
    }
    Factor::scored(points, capitalise(&(parts.join(" ; ") + ".")))
}
