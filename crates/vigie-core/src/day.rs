//! Local days. A storm "today" is the commune's today: days are cut at
//! midnight Europe/Paris, whatever the clock of the machine, while every
//! timestamp is stored in UTC.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The time zone whose midnights cut the days of every French territory the
/// product serves today (overseas territories would need a per-territory zone).
pub const LOCAL_TZ: Tz = chrono_tz::Europe::Paris;

/// The Europe/Paris calendar day that contains the instant `at`.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&LOCAL_TZ).date_naive()
}

/// The first instant of the Europe/Paris day `day`, in Unix milliseconds
/// (`None` beyond chrono's range). Paris midnights always exist: the
/// clocks change at 02:00 and 03:00.
pub fn local_day_start_ms(day: NaiveDate) -> Option<i64> {
    LOCAL_TZ
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|at| at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_paris_midnight() {
        let start = |d: &str| local_day_start_ms(d.parse().unwrap()).unwrap();
        let utc = |t: &str| t.parse::<DateTime<Utc>>().unwrap().timestamp_millis();
        assert_eq!(start("2026-01-16"), utc("2026-01-15T23:00:00Z"));
        assert_eq!(start("2026-07-16"), utc("2026-07-15T22:00:00Z"));
        assert_eq!(start("2026-03-29"), utc("2026-03-28T23:00:00Z"));
        assert_eq!(start("2026-10-26"), utc("2026-10-25T23:00:00Z"));
    }

    fn check(utc: &str, expected_day: &str) {
        let at: DateTime<Utc> = utc.parse().unwrap();
        assert_eq!(local_day(at).to_string(), expected_day, "for {utc}");
    }

    #[test]
    fn winter_and_summer_midnights() {
        // Winter (UTC+1): 23:30 Paris is 22:30 UTC, 00:30 Paris is 23:30 UTC.
        check("2026-01-15T22:30:00Z", "2026-01-15");
        check("2026-01-15T23:30:00Z", "2026-01-16");
        // Summer (UTC+2): 23:30 Paris is 21:30 UTC, 00:30 Paris is 22:30 UTC.
        check("2026-07-15T21:30:00Z", "2026-07-15");
        check("2026-07-15T22:30:00Z", "2026-07-16");
    }

    #[test]
    fn daylight_saving_changes() {
        // 2026-03-29: clocks go from 02:00 to 03:00 Paris (01:00 UTC).
        check("2026-03-28T22:59:59Z", "2026-03-28");
        check("2026-03-28T23:00:00Z", "2026-03-29");
        check("2026-03-29T21:59:59Z", "2026-03-29");
        check("2026-03-29T22:00:00Z", "2026-03-30");
        // 2026-10-25: clocks go from 03:00 back to 02:00 Paris (01:00 UTC).
        check("2026-10-24T21:59:59Z", "2026-10-24");
        check("2026-10-24T22:00:00Z", "2026-10-25");
        check("2026-10-25T22:59:59Z", "2026-10-25");
        check("2026-10-25T23:00:00Z", "2026-10-26");
    }
}
