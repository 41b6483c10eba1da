//! An agreement's dates, from its offer's rules and the facts recorded
//! about it: when it starts, the period in force, when it ends and why,
//! the last day to give notice before a tacit renewal, its status on a
//! day, its steps' windows and the deadlines a calendar shows. How months
//! are counted (ends of months, leap years, notices) is `calendar`'s doc.
//!
//! [`schedule`] answers for one day, taking into account only the facts
//! dated on or before it (a termination given later does not exist yet),
//! except the start, which is a term of the agreement once recorded.
//!
//! What it must never do: read the clock, or answer with dates from a
//! fact its offer does not allow ([`DateError`], in French, instead).

mod calendar;
mod deadlines;
mod facts;
#[cfg(test)]
mod kit_tests;
mod periods;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::Serialize;

pub use calendar::{boundary, months_after, notice_by, period_end};
pub use deadlines::{Deadline, DeadlineKind, StepWindow};
pub use facts::{DateError, EndCause, Facts, StepDone, Termination};
pub use periods::Period;

use crate::agreements::offers::Offer;
use facts::{End, resolve, starts_on};
use periods::Periods;

/// Where an agreement stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not signed yet.
    Draft,
    /// Signed, waiting for the event or the day that starts it.
    Signed,
    /// In force.
    Active,
    /// In force, its end fixed and near: a termination given, or the
    /// last period past its last day for notice.
    Ending,
    /// Ended by its own rules (term, maximum total, completion).
    Ended,
    /// Ended by a party (notice, refused renewal, decided end).
    Terminated,
}

impl Status {
    /// The API's word.
    pub fn id(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Signed => "signed",
            Status::Active => "active",
            Status::Ending => "ending",
            Status::Ended => "ended",
            Status::Terminated => "terminated",
        }
    }

    /// As a page says it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "en préparation",
            Status::Signed => "signée, pas encore commencée",
            Status::Active => "en cours",
            Status::Ending => "en fin de convention",
            Status::Ended => "terminée",
            Status::Terminated => "résiliée",
        }
    }
}

/// An agreement's dates as known on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// The day this answers for.
    pub on: NaiveDate,
    pub status: Status,
    pub starts_on: Option<NaiveDate>,
    /// The period in force on `on`.
    pub period: Option<Period>,
    /// The next period's first day, when the one in force renews.
    pub renews_on: Option<NaiveDate>,
    /// The last day in force, when fixed: the term, the maximum total,
    /// the completion or a termination. `None` while renewals have no
    /// maximum and nothing ended it, or before the start.
    pub ends_on: Option<NaiveDate>,
    pub end_cause: Option<EndCause>,
    /// The last day a termination may be received for the agreement to
    /// end with its period instead of renewing; `None` when nothing would
    /// renew (no tacit renewal, the last period, a termination given).
    pub notice_by: Option<NaiveDate>,
    /// Each step's window, from the start or the step it follows (done
    /// or planned).
    pub steps: Vec<StepWindow>,
}

/// The dates of the agreement `facts` describe, on `on`. Every fact is
/// checked against `offer`, whatever its day.
pub fn schedule(offer: &Offer, facts: &Facts, on: NaiveDate) -> Result<Schedule, DateError> {
    build(offer, facts)?;
    let known = known_on(facts, on);
    let (periods, end) = build(offer, &known)?;
    let period = periods.as_ref().and_then(|p| p.containing(on));
    let ends_on = end.map(|end| end.day);
    let renews_on = match (&periods, &period) {
        (Some(periods), Some(period))
            if periods.renews_after(period) && ends_on.is_none_or(|day| day > period.ends_on) =>
        {
            period.ends_on.succ_opt()
        }
        _ => None,
    };
    let notice_by = match (&periods, period) {
        (Some(periods), Some(period)) => next_notice_by(offer, periods, period, end, on),
        _ => None,
    };
    Ok(Schedule {
        on,
        status: status(offer, &known, period, end, on),
        starts_on: starts_on(offer, &known),
        period,
        renews_on,
        ends_on,
        end_cause: end.map(|end| end.cause),
        notice_by,
        steps: deadlines::windows(offer, starts_on(offer, &known), &known.steps_done),
    })
}

/// The periods (once started) and the end the facts make.
fn build(offer: &Offer, facts: &Facts) -> Result<(Option<Periods>, Option<End>), DateError> {
    let periods = match starts_on(offer, facts) {
        Some(start) => Some(Periods::new(offer, start).ok_or(DateError::OutOfRange)?),
        None => None,
    };
    let end = resolve(offer, periods.as_ref(), facts)?;
    Ok((periods, end))
}

/// The facts as known on `on`: those dated after it are not yet.
fn known_on(facts: &Facts, on: NaiveDate) -> Facts {
    Facts {
        signed_on: facts.signed_on.filter(|day| *day <= on),
        started_on: facts.started_on,
        completed_on: facts.completed_on.filter(|day| *day <= on),
        steps_done: facts
            .steps_done
            .iter()
            .filter(|done| done.on <= on)
            .cloned()
            .collect(),
        terminations: facts
            .terminations
            .iter()
            .filter(|t| t.given_on() <= on)
            .copied()
            .collect(),
    }
}

fn status(
    offer: &Offer,
    facts: &Facts,
    period: Option<Period>,
    end: Option<End>,
    on: NaiveDate,
) -> Status {
    if facts.signed_on.is_none() {
        return Status::Draft;
    }
    if let Some(end) = end
        && on > end.day
    {
        return if end.cause.is_termination() {
            Status::Terminated
        } else {
            Status::Ended
        };
    }
    if period.is_none() {
        return Status::Signed;
    }
    let ending = end.is_some_and(|end| {
        end.cause.is_termination()
            || offer.notice.as_ref().is_some_and(|notice| {
                notice_by(end.day, notice.months).is_some_and(|last| on > last)
            })
    });
    if ending {
        Status::Ending
    } else {
        Status::Active
    }
}

/// The last day, from `on`, to stop the next renewal: for the period in
/// force, or a later one when its day has passed.
fn next_notice_by(
    offer: &Offer,
    periods: &Periods,
    mut period: Period,
    end: Option<End>,
    on: NaiveDate,
) -> Option<NaiveDate> {
    let notice = offer.notice.as_ref()?;
    if end.is_some_and(|end| end.cause.is_termination()) {
        return None;
    }
    // A notice longer than a period may reach over several periods:
    // bounded by the longest notice over the shortest period.
    for _ in 0..=crate::agreements::offers::MAX_MONTHS {
        if !periods.renews_after(&period) || end.is_some_and(|end| end.day <= period.ends_on) {
            return None;
        }
        let last = notice_by(period.ends_on, notice.months)?;
        if last >= on {
            return Some(last);
        }
        period = periods.get(period.number.checked_add(1)?)?;
    }
    None
}
