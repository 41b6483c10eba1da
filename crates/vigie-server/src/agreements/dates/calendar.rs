//! Month arithmetic on days, the two ways agreements count.
//!
//! A period « de 3 ans à compter du 1er juillet 2023 » is in force from
//! that day to 30 June 2026 included: it ends the day before the same day
//! of the month, N months later ([`boundary`]). When that month has no
//! such day (a start on 31 January, on 29 February), the next period
//! starts on the 1st of the following month, so the period ends on the
//! short month's last day: a month from 31 January ends on 28 or 29
//! February, a year from 29 February 2024 on 28 February 2025.
//!
//! A notice or a step « N mois après » a day expires on the same day of
//! the month N months later, or on that month's last day when it has no
//! such day ([`months_after`]), as the Code de procédure civile counts
//! (article 641: « à défaut d'un quantième identique, le délai expire le
//! dernier jour du mois »). A notice of 3 months received on 30 September
//! expires on 30 December: the agreement may end on 31 December.
//!
//! What it must never do: panic or wrap on a day at the calendar's edge
//! (every function returns `None` instead).

use chrono::{Datelike, Months, NaiveDate};

/// The first day of the period starting `months` after `start`: the same
/// day of the month, or the 1st of the month after when the month is too
/// short.
pub fn boundary(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    let month = start.with_day(1)?.checked_add_months(Months::new(months))?;
    month
        .with_day(start.day())
        .or_else(|| month.checked_add_months(Months::new(1)))
}

/// The last day in force of a period of `months` from `start`.
pub fn period_end(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    boundary(start, months)?.pred_opt()
}

/// The day a delay of `months` counted from `day` expires: the same day
/// of the month, or the month's last day (CPC article 641).
pub fn months_after(day: NaiveDate, months: u32) -> Option<NaiveDate> {
    day.checked_add_months(Months::new(months))
}

/// The last day a notice of `months` may be received for it to expire
/// on or before `end`. `None` only at the calendar's edge.
pub fn notice_by(end: NaiveDate, months: u32) -> Option<NaiveDate> {
    // Counting back gives a day whose notice expires on or before `end`
    // (its day of the month is at most `end`'s); when `end` is a short
    // month's last day, up to three later days expire on it too (29, 30
    // and 31 November + 3 months all expire on 28 February).
    let mut day = end.checked_sub_months(Months::new(months))?;
    for _ in 0..3 {
        match day.succ_opt() {
            Some(next) if months_after(next, months).is_some_and(|e| e <= end) => day = next,
            _ => break,
        }
    }
    Some(day)
}

/// 31 December of `day`'s year.
pub fn end_of_year(day: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(day.year(), 12, 31)
}

/// Whole months from `from`'s month to `to`'s month (negative when `to`
/// is earlier), whatever their days.
pub fn month_index_gap(from: NaiveDate, to: NaiveDate) -> i64 {
    let index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    index(to) - index(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn check_end(start: &str, months: u32, end: &str) {
        assert_eq!(
            period_end(day(start), months),
            Some(day(end)),
            "{start} + {months}"
        );
    }

    #[test]
    fn periods_end_the_day_before_the_same_day_or_on_a_short_months_last_day() {
        check_end("2023-07-01", 36, "2026-06-30");
        check_end("2023-01-31", 1, "2023-02-28");
        check_end("2024-01-31", 1, "2024-02-29");
        check_end("2024-01-30", 1, "2024-02-29");
        check_end("2024-01-29", 1, "2024-02-28");
        check_end("2024-02-29", 12, "2025-02-28");
        check_end("2024-02-29", 48, "2028-02-28");
        check_end("2023-03-01", 12, "2024-02-29");
        check_end("2024-08-31", 1, "2024-09-30");
        check_end("2024-12-31", 2, "2025-02-28");
        check_end("2024-03-15", 3, "2024-06-14");
    }

    #[test]
    fn notices_expire_on_the_same_day_or_the_months_last_day() {
        assert_eq!(months_after(day("2024-09-30"), 3), Some(day("2024-12-30")));
        assert_eq!(months_after(day("2024-11-30"), 3), Some(day("2025-02-28")));
        assert_eq!(months_after(day("2023-12-31"), 2), Some(day("2024-02-29")));
        assert_eq!(months_after(day("2024-03-15"), 0), Some(day("2024-03-15")));
    }

    #[test]
    fn the_last_day_to_give_notice() {
        let check = |end: &str, months: u32, by: &str| {
            assert_eq!(
                notice_by(day(end), months),
                Some(day(by)),
                "{end} - {months}"
            );
        };
        check("2024-12-31", 3, "2024-09-30");
        check("2025-02-28", 3, "2024-11-30");
        check("2024-02-29", 3, "2023-11-30");
        check("2025-02-28", 2, "2024-12-31");
        check("2026-06-30", 2, "2026-04-30");
        check("2024-09-14", 2, "2024-07-14");
        check("2024-06-30", 0, "2024-06-30");
    }

    #[test]
    fn the_calendars_edges_give_none() {
        assert_eq!(boundary(NaiveDate::MAX, 1), None);
        assert_eq!(period_end(NaiveDate::MAX, 1), None);
        assert_eq!(months_after(NaiveDate::MAX, 1), None);
        assert_eq!(notice_by(NaiveDate::MIN, 1), None);
        assert_eq!(period_end(NaiveDate::MIN, 0), None);
    }
}
