//! The agreement's working hours: Monday to Friday, 8 h to 18 h in Paris,
//! except French public holidays (Code du travail, art. L3133-1), so that
//! the town hall's staff and provider are there if the scan disturbs
//! anything.
//!
//! What it must not do: read the clock itself; callers pass the time, so
//! the rules are tested with fixed values.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Timelike, Weekday};

/// First hour of the working day, included.
pub const OPENING_HOUR: u32 = 8;
/// Hour the working day ends, excluded.
pub const CLOSING_HOUR: u32 = 18;

/// Whether `local` (Paris time) is inside the working hours.
pub fn is_working_time<Z: TimeZone>(local: DateTime<Z>) -> bool {
    let date = local.date_naive();
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let hour = local.hour();
    !weekend && !is_public_holiday(date) && (OPENING_HOUR..CLOSING_HOUR).contains(&hour)
}

/// The eleven public holidays of metropolitan France: fixed dates, and
/// those that follow Easter (Monday, Ascension, Whit Monday).
pub fn is_public_holiday(date: NaiveDate) -> bool {
    const FIXED: &[(u32, u32)] = &[
        (1, 1),
        (5, 1),
        (5, 8),
        (7, 14),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 25),
    ];
    if FIXED.contains(&(date.month(), date.day())) {
        return true;
    }
    let Some(easter) = easter(date.year()) else {
        return false;
    };
    [1, 39, 50]
        .iter()
        .filter_map(|&days| easter.checked_add_days(Days::new(days)))
        .any(|holiday| holiday == date)
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous
/// algorithm of Meeus, *Astronomical Algorithms*, ch. 8).
pub fn easter(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn easter_dates() {
        for (year, month, day) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2038, 4, 25),
            (2000, 4, 23),
        ] {
            assert_eq!(easter(year), Some(date(year, month, day)), "{year}");
        }
    }

    #[test]
    fn holidays() {
        assert!(is_public_holiday(date(2026, 4, 6)), "Easter Monday");
        assert!(is_public_holiday(date(2026, 5, 14)), "Ascension");
        assert!(is_public_holiday(date(2026, 5, 25)), "Whit Monday");
        assert!(is_public_holiday(date(2026, 7, 14)));
        assert!(!is_public_holiday(date(2026, 4, 7)));
    }

    fn check(y: i32, m: u32, d: u32, hour: u32, minute: u32, expected: bool) {
        let local = Paris.with_ymd_and_hms(y, m, d, hour, minute, 0).unwrap();
        assert_eq!(is_working_time(local), expected, "{local}");
    }

    #[test]
    fn working_hours() {
        check(2026, 3, 3, 10, 0, true); // a Tuesday
        check(2026, 3, 3, 8, 0, true);
        check(2026, 3, 3, 7, 59, false);
        check(2026, 3, 3, 17, 59, true);
        check(2026, 3, 3, 18, 0, false);
        check(2026, 3, 7, 10, 0, false); // Saturday
        check(2026, 3, 8, 10, 0, false); // Sunday
        check(2026, 5, 1, 10, 0, false); // Friday, Labour Day
        check(2026, 11, 11, 10, 0, false); // Wednesday, Armistice
    }
}
