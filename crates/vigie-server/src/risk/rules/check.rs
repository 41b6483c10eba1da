//! The rule file's values checked: each in its range, and the rule as
//! a whole one the scoring can follow (a weight above zero, thresholds
//! in order, `stale_days` before `max_age_days`).
//!
//! What it must never do: accept a value out of its range, or refuse one
//! without naming the file, the line and the field.

use std::ops::Range;

use super::raw::{Int, RawRules, line_of};
use super::{Exposure, Human, Maturity, Pressure, RiskError, Rules};

/// Checks `raw`, read from `text` (the file `name`), into a rule.
pub(super) fn rules(name: &str, text: &str, raw: &RawRules) -> Result<Rules, RiskError> {
    let f = File { name, text };
    let combine = raw.combine.get_ref();
    let w = raw.weights.get_ref();
    let weights = [
        f.points("weights.pressure", &w.pressure)?,
        f.points("weights.exposure", &w.exposure)?,
        f.points("weights.maturity", &w.maturity)?,
        f.points("weights.human", &w.human)?,
    ];
    if weights.iter().all(|w| *w == 0) {
        return Err(f.fail(
            raw.weights.span(),
            "weights",
            "au moins un poids doit être supérieur à 0",
        ));
    }
    let l = raw.levels.get_ref();
    let levels = [
        f.int("levels.moderate", &l.moderate, 1, 100)?,
        f.int("levels.high", &l.high, 1, 100)?,
        f.int("levels.critical", &l.critical, 1, 100)?,
    ];
    if !(levels[0] < levels[1] && levels[1] < levels[2]) {
        return Err(f.fail(
            l.high.span(),
            "levels",
            "les seuils doivent croître : moderate < high < critical",
        ));
    }
    let (p, e, m, h) = (&raw.pressure, &raw.exposure, &raw.maturity, &raw.human);
    let exposure = Exposure {
        critical_points: f.points("exposure.critical_points", &e.critical_points)?,
        high_points: f.points("exposure.high_points", &e.high_points)?,
        medium_points: f.points("exposure.medium_points", &e.medium_points)?,
        long_open_days: f.days("exposure.long_open_days", &e.long_open_days)?,
        long_open_points: f.points("exposure.long_open_points", &e.long_open_points)?,
        stale_days: f.days("exposure.stale_days", &e.stale_days)?,
        stale_points: f.points("exposure.stale_points", &e.stale_points)?,
        max_age_days: f.days("exposure.max_age_days", &e.max_age_days)?,
    };
    if exposure.stale_days >= exposure.max_age_days {
        return Err(f.fail(
            e.stale_days.span(),
            "exposure.stale_days",
            "doit être inférieur à exposure.max_age_days",
        ));
    }
    Ok(Rules {
        min_known: f.int("combine.min_known", &combine.min_known, 1, 4)?,
        escalate_at: f.int("combine.escalate_at", &combine.escalate_at, 1, 101)?,
        weights,
        levels,
        pressure: Pressure {
            days: f.int("pressure.days", &p.days, 2, 366)?,
            inbound_full: f.int("pressure.inbound_full", &p.inbound_full, 1, 1_000_000)?,
            inbound_points: f.points("pressure.inbound_points", &p.inbound_points)?,
            rising_points: f.points("pressure.rising_points", &p.rising_points)?,
            outbound_points: f.points("pressure.outbound_points", &p.outbound_points)?,
            outbound_each: f.points("pressure.outbound_each", &p.outbound_each)?,
        },
        exposure,
        maturity: Maturity {
            progress_points: f.points("maturity.progress_points", &m.progress_points)?,
            max_age_days: f.days("maturity.max_age_days", &m.max_age_days)?,
        },
        human: Human {
            click_points: f.points("human.click_points", &h.click_points)?,
            submit_points: f.points("human.submit_points", &h.submit_points)?,
            no_campaign: f.points("human.no_campaign", &h.no_campaign)?,
            elearning_points: f.points("human.elearning_points", &h.elearning_points)?,
            max_age_days: f.days("human.max_age_days", &h.max_age_days)?,
        },
    })
}

/// Ten years: the longest window or age a rule may name.
const MAX_DAYS: i64 = 3660;

/// One file being checked: its name for errors, its text for lines.
struct File<'a> {
    name: &'a str,
    text: &'a str,
}

impl File<'_> {
    fn fail(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> RiskError {
        RiskError::Field {
            file: self.name.to_owned(),
            line: Some(line_of(self.text, span.start)),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// `value` within `lo..=hi`.
    fn int(&self, field: &str, value: &Int, lo: i64, hi: i64) -> Result<u32, RiskError> {
        let n = *value.get_ref();
        if !(lo..=hi).contains(&n) {
            return Err(self.fail(
                value.span(),
                field,
                format!("{n} n'est pas entre {lo} et {hi}"),
            ));
        }
        u32::try_from(n).map_err(|_| self.fail(value.span(), field, "nombre hors limites"))
    }

    fn points(&self, field: &str, value: &Int) -> Result<u32, RiskError> {
        self.int(field, value, 0, 100)
    }

    fn days(&self, field: &str, value: &Int) -> Result<u32, RiskError> {
        self.int(field, value, 1, MAX_DAYS)
    }
}
