//! When a campaign's messages may leave (issue 11). The agreement allows
//! sending only on working days from 8 h to 18 h Europe/Paris, public
//! holidays excluded ([`Calendar`]): [`is_sending_time`] and
//! [`next_sending_time`] say when that is, [`plan`] spreads a campaign's
//! sends over its window, [`retry_at`] puts an outbox retry back inside it.
//!
//! Pure: the caller passes the clock, nothing is read or written. What it
//! must never do: return an instant outside the sending hours, whatever
//! the dates, counts and rates it is given.

mod calendar;

use chrono::{
    DateTime, Days, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
};
use vigie_core::LOCAL_TZ;

use crate::fr;

pub use calendar::{Calendar, easter};

/// Most targets in one campaign: a commune has at most a few hundred
/// agents and élus; a longer list is a mistake (a whole directory).
pub const MAX_TARGETS: usize = 5000;
/// Fastest rate, one message a second: faster would look like a flood to
/// the commune's mail server.
pub const MAX_RATE_PER_HOUR: u32 = 3600;
/// Latest end, in days after today: a later end is a typo in the year.
pub const MAX_DAYS_AHEAD: u64 = 366;
/// Sending hours, Paris time: from `OPENING_HOUR`:00 included to
/// `CLOSING_HOUR`:00 excluded (17:59:59 is in, 18:00:00 is out).
pub const OPENING_HOUR: u32 = 8;
pub const CLOSING_HOUR: u32 = 18;

/// A campaign's days, Paris time, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Why a campaign cannot be planned; the message tells the person who
/// set it up what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "La fin ({}) précède le début ({}) : choisissez une fin le jour du début ou après.",
        fr::day_long(*.end), fr::day_long(*.start)
    )]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error(
        "La période se termine le {} à 18 h, c'est déjà passé : choisissez une date de fin à venir.",
        fr::day_long(*.end)
    )]
    EndPassed { end: NaiveDate },
    #[error(
        "La fin le {} est à plus d'un an : vérifiez l'année.",
        fr::day_long(*.end)
    )]
    TooFar { end: NaiveDate },
    #[error(
        "Aucun envoi possible {} : les messages partent du lundi au vendredi de 8 h à 18 h, \
         hors jours fériés. Élargissez la période.",
        fr::day_range(*.start, *.end)
    )]
    NoSendingTime { start: NaiveDate, end: NaiveDate },
    #[error(
        "Un rythme de 0 envoi par heure n'enverrait rien : indiquez au moins 1, ou laissez \
         le rythme vide pour répartir les envois sur la première journée."
    )]
    ZeroRate,
    #[error(
        "Le rythme de {} envois par heure dépasse le maximum de {} : baissez-le.",
        fr::number(i64::from(*.0)), fr::number(i64::from(MAX_RATE_PER_HOUR))
    )]
    RateTooHigh(u32),
    #[error(
        "{} cibles, c'est plus que le maximum de {} par campagne : découpez la liste en \
         plusieurs campagnes.",
        number(*.0), number(MAX_TARGETS)
    )]
    TooManyTargets(usize),
    #[error(
        "Les {} envois à {} par heure ne tiennent pas {} : {} au plus. Augmentez le rythme \
         ou repoussez la fin.",
        number(*.count), fr::number(i64::from(*.rate)), fr::between_days(*.first, *.end),
        number(*.fit)
    )]
    DoesNotFit {
        count: usize,
        rate: u32,
        /// The day of the first send (the start, or today if later).
        first: NaiveDate,
        end: NaiveDate,
        /// How many sends fit at this rate.
        fit: usize,
    },
}

/// Whether a message may leave at `at`: a working day of `calendar`,
/// between 8 h and 18 h Paris time.
pub fn is_sending_time(at: DateTime<Utc>, calendar: Calendar) -> bool {
    wall_clock(at).is_some_and(|local| {
        (OPENING_HOUR..CLOSING_HOUR).contains(&local.hour())
            && calendar.is_working_day(local.date())
    })
}

/// `at` if it is a sending time, else the next working day's 8 h Paris
/// time (in UTC: 7 h in winter, 6 h in summer). At the very end of
/// chrono's range, where no next day exists, the last instant it holds.
pub fn next_sending_time(at: DateTime<Utc>, calendar: Calendar) -> DateTime<Utc> {
    next_sending(at, calendar).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When a send that failed at `failed_at` is tried again: after the
/// outbox's backoff, moved to the next sending time (a retry must not
/// leave at 21 h or on a Sunday). A negative backoff counts as none.
pub fn retry_at(failed_at: DateTime<Utc>, backoff_secs: i64, calendar: Calendar) -> DateTime<Utc> {
    TimeDelta::try_seconds(backoff_secs.max(0))
        .and_then(|backoff| failed_at.checked_add_signed(backoff))
        .map_or(DateTime::<Utc>::MAX_UTC, |at| {
            next_sending_time(at, calendar)
        })
}

/// The instants of a campaign's `count` sends, in order.
///
/// The first leaves at the window's first sending time no earlier than
/// `now`. With no rate, the sends are spread evenly over what is left of
/// that first working day; with `rate_per_hour`, one leaves every
/// 3600 / rate seconds of sending time (the clock stops at 18 h and
/// resumes at the next working day's 8 h). Every instant is a sending time
/// of `calendar` on or before the window's last day; a campaign that does
/// not fit is refused, saying how many sends would. Without a rate, a
/// campaign started at 17 h has one hour: its sends are that close. No
/// sends (`count` 0) is an empty plan once the window is checked.
pub fn plan(
    window: &Window,
    count: usize,
    rate_per_hour: Option<u32>,
    now: DateTime<Utc>,
    calendar: Calendar,
) -> Result<Vec<DateTime<Utc>>, PlanError> {
    let Window { start, end } = *window;
    if end < start {
        return Err(PlanError::EndBeforeStart { start, end });
    }
    match rate_per_hour {
        Some(0) => return Err(PlanError::ZeroRate),
        Some(rate) if rate > MAX_RATE_PER_HOUR => return Err(PlanError::RateTooHigh(rate)),
        _ => {}
    }
    if count > MAX_TARGETS {
        return Err(PlanError::TooManyTargets(count));
    }
    let latest_end =
        wall_clock(now).and_then(|now| now.date().checked_add_days(Days::new(MAX_DAYS_AHEAD)));
    if latest_end.is_none_or(|latest| end > latest) {
        return Err(PlanError::TooFar { end });
    }
    let closes = at_hour(end, CLOSING_HOUR).ok_or(PlanError::TooFar { end })?;
    if now >= closes {
        return Err(PlanError::EndPassed { end });
    }
    let opens = at_hour(start, OPENING_HOUR).ok_or(PlanError::TooFar { end })?;
    let first = next_sending(opens.max(now), calendar)
        .filter(|first| *first < closes)
        .ok_or(PlanError::NoSendingTime { start, end })?;
    match rate_per_hour {
        None => Ok(spread_over_day(first, count)),
        Some(rate) => {
            paced(first, closes, count, rate, calendar).map_err(|fit| PlanError::DoesNotFit {
                count,
                rate,
                first: local_day(first),
                end,
                fit,
            })
        }
    }
}

/// A count as French writes it (`5 000`).
fn number(count: usize) -> String {
    fr::number(i64::try_from(count).unwrap_or(i64::MAX))
}

/// Days off in a row are at most four (Alsace-Moselle's Good Friday to
/// Easter Monday): a working day is always found within two weeks.
const SEARCH_DAYS: usize = 14;

/// [`next_sending_time`], `None` past the end of chrono's range.
fn next_sending(at: DateTime<Utc>, calendar: Calendar) -> Option<DateTime<Utc>> {
    if is_sending_time(at, calendar) {
        return Some(at);
    }
    let local = wall_clock(at)?;
    let mut day = local.date();
    if local.hour() >= OPENING_HOUR {
        day = day.succ_opt()?;
    }
    for _ in 0..SEARCH_DAYS {
        if calendar.is_working_day(day) {
            return at_hour(day, OPENING_HOUR);
        }
        day = day.succ_opt()?;
    }
    None
}

/// The Paris wall-clock time of `at`; `None` at the end of chrono's range,
/// where `vigie_core::local_day` and chrono's own conversion would panic.
fn wall_clock(at: DateTime<Utc>) -> Option<NaiveDateTime> {
    let offset = LOCAL_TZ.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc().checked_add_offset(offset)
}

/// The Paris day of `at`, a sending time (so never at the end of chrono's
/// range; the UTC day otherwise).
fn local_day(at: DateTime<Utc>) -> NaiveDate {
    wall_clock(at).map_or(at.date_naive(), |local| local.date())
}

/// `hour`:00 Paris time on `day`, in UTC.
fn at_hour(day: NaiveDate, hour: u32) -> Option<DateTime<Utc>> {
    let local = day.and_hms_opt(hour, 0, 0)?;
    // Paris changes its clocks at 2 h and 3 h, never at 8 h or 18 h, so
    // the local time is never ambiguous nor skipped: `earliest` is only
    // a total function.
    LOCAL_TZ
        .from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

/// `count` instants evenly spaced from `first` to the 18 h of its day
/// (excluded).
fn spread_over_day(first: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
    let closes = at_hour(local_day(first), CLOSING_HOUR).unwrap_or(first);
    let span_ms = closes
        .signed_duration_since(first)
        .num_milliseconds()
        .max(0);
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    (0..count)
        .map(|i| {
            // At most 10 h (3.6e7 ms) times MAX_TARGETS: far from overflow;
            // `i < count`, so `count` is not 0.
            let offset = TimeDelta::milliseconds(span_ms.saturating_mul(i) / count);
            first.checked_add_signed(offset).unwrap_or(first)
        })
        .collect()
}

/// `count` instants one every 3600 / `rate` seconds of sending time from
/// `first`, all before `closes`; else how many fit.
fn paced(
    first: DateTime<Utc>,
    closes: DateTime<Utc>,
    count: usize,
    rate: u32,
    calendar: Calendar,
) -> Result<Vec<DateTime<Utc>>, usize> {
    let mut planned = Vec::with_capacity(count);
    // The working day being filled: its first sending instant, the sending
    // time elapsed before it, and its 18 h.
    let mut day_start = first;
    let mut elapsed_ms = 0_i64;
    let mut day_end = at_hour(local_day(first), CLOSING_HOUR).ok_or(0_usize)?;
    for index in 0..count {
        // Exact for any rate: the i-th send is at i * 3600 / rate seconds,
        // rounded down to the millisecond, so no rounding accumulates.
        let offset_ms = i64::try_from(index)
            .unwrap_or(i64::MAX)
            .saturating_mul(3_600_000)
            / i64::from(rate);
        let at = loop {
            let at = day_start
                .checked_add_signed(TimeDelta::milliseconds(offset_ms - elapsed_ms))
                .ok_or(index)?;
            if at < day_end {
                break at;
            }
            elapsed_ms += day_end.signed_duration_since(day_start).num_milliseconds();
            day_start = next_sending(day_end, calendar)
                .filter(|next| *next < closes)
                .ok_or(index)?;
            day_end = at_hour(local_day(day_start), CLOSING_HOUR).ok_or(index)?;
        };
        planned.push(at);
    }
    Ok(planned)
}

#[cfg(test)]
mod tests;
