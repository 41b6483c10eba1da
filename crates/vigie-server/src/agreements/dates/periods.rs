//! An agreement's periods from its start: the first (fixed months, or to
//! 31 December), then each tacit renewal, never beyond the offer's
//! maximum total. Every period is computed from the start itself, never
//! from the one before, so ends of months do not drift (a yearly renewal
//! from 29 February keeps ending on 28 February and, in leap years, on
//! 29 February's eve) and period `k` is found without walking the others.
//!
//! What it must never do: leave a gap or an overlap between two periods,
//! or run past the maximum total.

use chrono::NaiveDate;
use serde::Serialize;

use super::calendar::{boundary, end_of_year, month_index_gap};
use crate::agreements::offers::{Duration, Offer, Renewal};

/// One period in force, its days included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// 1 for the first, 2 for the first renewal…
    pub number: u32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// The periods of one agreement.
#[derive(Clone, Copy, Debug)]
pub(super) struct Periods {
    start: NaiveDate,
    /// Renewal `k` (from 1) starts at `boundary(anchor, offset + (k-1) *
    /// period)`: the start and the first period's months, or 1 January
    /// after the start and 0.
    anchor: NaiveDate,
    offset: u32,
    /// Months per renewal; `None`: no renewal.
    period: Option<u32>,
    /// The last day the maximum total allows.
    cap: Option<NaiveDate>,
}

impl Periods {
    /// `None` only at the calendar's edge.
    pub(super) fn new(offer: &Offer, start: NaiveDate) -> Option<Periods> {
        let (anchor, offset) = match offer.duration {
            Duration::Fixed { months } | Duration::AtMost { months, .. } => (start, months),
            Duration::EndOfCalendarYear => (end_of_year(start)?.succ_opt()?, 0),
        };
        let (period, cap) = match offer.renewal {
            Renewal::None => (None, None),
            Renewal::Tacit {
                period_months,
                max_total_months,
            } => {
                let cap = match max_total_months {
                    Some(months) => Some(boundary(start, months)?.pred_opt()?),
                    None => None,
                };
                (Some(period_months), cap)
            }
        };
        // The first period's end must exist for every later question.
        boundary(anchor, offset)?;
        Some(Periods {
            start,
            anchor,
            offset,
            period,
            cap,
        })
    }

    /// Period `number` (from 1), `None` past the last one.
    pub(super) fn get(&self, number: u32) -> Option<Period> {
        let starts_on = self.first_day(number)?;
        if self.cap.is_some_and(|cap| starts_on > cap) {
            return None;
        }
        let next = match (self.period, number.checked_add(1)) {
            (None, _) if number > 1 => return None,
            (None, _) => boundary(self.anchor, self.offset)?,
            (Some(_), Some(next)) => self.first_day(next)?,
            (Some(_), None) => return None,
        };
        let mut ends_on = next.pred_opt()?;
        if let Some(cap) = self.cap {
            ends_on = ends_on.min(cap);
        }
        Some(Period {
            number,
            starts_on,
            ends_on,
        })
    }

    /// The period `day` falls in; `None` before the start or after the
    /// last period.
    pub(super) fn containing(&self, day: NaiveDate) -> Option<Period> {
        let first = self.get(1)?;
        if day < first.starts_on {
            return None;
        }
        if day <= first.ends_on {
            return Some(first);
        }
        let period = self.period?;
        let second = self.first_day(2)?;
        // Each renewal starts `period` months after the one before, give
        // or take the 1st of a month: the estimate is off by two at most.
        let gap = month_index_gap(second, day).max(0) / i64::from(period);
        let mut number = u32::try_from(gap).ok()?.checked_add(2)?;
        for _ in 0..8 {
            match self.get(number) {
                None if number > 2 => number -= 1,
                Some(candidate) if day < candidate.starts_on && number > 2 => number -= 1,
                Some(candidate) if day > candidate.ends_on => {
                    if !self.renews_after(&candidate) {
                        return None;
                    }
                    number = number.checked_add(1)?;
                }
                Some(candidate) if day >= candidate.starts_on => return Some(candidate),
                _ => return None,
            }
        }
        None
    }

    /// The last day in force if nobody ends it: the only period's end, or
    /// the maximum total; `None` when renewals have no maximum.
    pub(super) fn natural_end(&self) -> Option<NaiveDate> {
        match (self.period, self.cap) {
            (None, _) => self.get(1).map(|p| p.ends_on),
            (Some(_), cap) => cap,
        }
    }

    /// Whether another period follows `period`.
    pub(super) fn renews_after(&self, period: &Period) -> bool {
        period
            .number
            .checked_add(1)
            .and_then(|next| self.get(next))
            .is_some()
    }

    pub(super) fn start(&self) -> NaiveDate {
        self.start
    }

    /// The first day of period `number` (from 1).
    fn first_day(&self, number: u32) -> Option<NaiveDate> {
        match number {
            0 => None,
            1 => Some(self.start),
            _ => {
                let months = self
                    .period?
                    .checked_mul(number - 2)?
                    .checked_add(self.offset)?;
                boundary(self.anchor, months)
            }
        }
    }
}
