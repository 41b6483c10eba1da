//! Maturity: the pre-audit's last round, its progress since the round
//! before and the share of that round's top five now addressed.
//!
//! What it must never do: score a commune without a counted answer, or
//! whose last round is too old, as mature: both are "unknown".

use super::{DAY_MS, Factor};
use crate::fr;
use crate::risk::rules::Rules;

/// The pre-audit's last round.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    pub round: i64,
    pub created_ms: i64,
    /// Its score, `None` before any counted answer.
    pub score: Option<u8>,
    /// The round before's score.
    pub before: Option<u8>,
    /// (addressed, of) the round before's top five: answered at their
    /// best in this round.
    pub addressed: Option<(usize, usize)>,
}

pub fn maturity(rules: &Rules, audit: Option<&Audit>, now_ms: i64) -> Factor {
    let r = &rules.maturity;
    let Some(audit) = audit else {
        return Factor::unknown("Pas encore de pré-diagnostic : la maturité n'est pas connue.");
    };
    if now_ms.saturating_sub(audit.created_ms) / DAY_MS > i64::from(r.max_age_days) {
        return Factor::unknown(format!(
            "Le dernier pré-diagnostic date du {}, trop ancien pour dire la maturité d'aujourd'hui.",
            fr::date(audit.created_ms)
        ));
    }
    let Some(score) = audit.score else {
        return Factor::unknown(
            "Le pré-diagnostic est commencé, mais aucune réponse n'est encore comptée.",
        );
    };
    let mut points = 100 - i64::from(score);
    let mut text = if audit.round > 1 {
        format!(
            "Pré-diagnostic, suivi n° {} : {score}/100",
            audit.round.saturating_sub(1)
        )
    } else {
        format!("Pré-diagnostic : {score}/100")
    };
    if let Some(before) = audit.before {
        let delta = i64::from(score) - i64::from(before);
        text.push_str(&match delta {
            0 => " (inchangé depuis le tour précédent)".to_owned(),
            d if d > 0 => format!(" (+{d} depuis le tour précédent)"),
            d => format!(" ({d} depuis le tour précédent)"),
        });
    }
    if let Some((done, of)) = audit.addressed.filter(|(_, of)| *of > 0) {
        let share = i64::try_from(done * 100 / of).unwrap_or(0);
        points -= i64::from(r.progress_points) * share / 100;
        text.push_str(&format!(
            " ; {} sur {of} des manques prioritaires du tour précédent traités",
            fr::number(i64::try_from(done).unwrap_or(0))
        ));
    }
    text.push('.');
    Factor::scored(points, text)
}
