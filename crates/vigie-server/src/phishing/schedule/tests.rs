//! The sending window at its edges (issue 11's list: 17:59, 18:00, 07:59,
//! Friday evening to Monday 8 h, public holidays, both DST changes) and
//! the plans built on it.

use super::*;

/// A Paris wall-clock time (`2026-12-07 17:59:59`) as a UTC instant.
fn paris(text: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    LOCAL_TZ
        .from_local_datetime(&local)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn window(start: &str, end: &str) -> Window {
    Window {
        start: day(start),
        end: day(end),
    }
}

/// The Paris wall-clock time of an instant, as `paris` reads it.
fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&LOCAL_TZ)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[test]
fn sending_hours_at_their_edges() {
    let check = |text: &str, expected: bool| {
        assert_eq!(
            is_sending_time(paris(text), Calendar::France),
            expected,
            "{text}"
        );
    };
    // Monday 7 December 2026.
    check("2026-12-07 07:59:59", false);
    check("2026-12-07 08:00:00", true);
    check("2026-12-07 17:59:00", true);
    check("2026-12-07 17:59:59", true);
    check("2026-12-07 18:00:00", false);
    // Saturday, Sunday, and Armistice day (a Wednesday in 2026).
    check("2026-12-05 10:00:00", false);
    check("2026-12-06 10:00:00", false);
    check("2026-11-11 10:00:00", false);
    // In UTC, 8 h Paris is 7 h in winter and 6 h in summer.
    assert!(!is_sending_time(
        utc("2026-12-07T06:59:59Z"),
        Calendar::France
    ));
    assert!(is_sending_time(
        utc("2026-12-07T07:00:00Z"),
        Calendar::France
    ));
    assert!(is_sending_time(
        utc("2026-07-07T06:00:00Z"),
        Calendar::France
    ));
    assert!(!is_sending_time(
        utc("2026-07-07T16:00:00Z"),
        Calendar::France
    ));
}

#[test]
fn next_sending_time_across_nights_weekends_holidays_and_dst() {
    let check = |from: &str, expected: &str| {
        let next = next_sending_time(paris(from), Calendar::France);
        assert_eq!(local(next), expected, "from {from}");
        assert!(is_sending_time(next, Calendar::France));
    };
    check("2026-12-07 10:00:00", "2026-12-07 10:00:00");
    check("2026-12-07 07:59:00", "2026-12-07 08:00:00");
    check("2026-12-07 18:00:00", "2026-12-08 08:00:00");
    // Friday evening to Monday 8 h.
    check("2026-12-04 18:00:00", "2026-12-07 08:00:00");
    check("2026-12-05 09:00:00", "2026-12-07 08:00:00");
    // Tuesday evening before Armistice day to Thursday.
    check("2026-11-10 18:30:00", "2026-11-12 08:00:00");
    // Ascension 2027 (Thursday 6 May) to Friday.
    check("2027-05-05 19:00:00", "2027-05-07 08:00:00");
    // Over the last Sunday of March: Friday 8 h is 7 h UTC, Monday 8 h
    // (summer time) is 6 h UTC.
    let monday = next_sending_time(paris("2026-03-27 18:00:00"), Calendar::France);
    assert_eq!(monday, utc("2026-03-30T06:00:00Z"));
    // Over the last Sunday of October: back to 7 h UTC.
    let monday = next_sending_time(paris("2026-10-23 18:00:00"), Calendar::France);
    assert_eq!(monday, utc("2026-10-26T07:00:00Z"));
    // The far end of chrono's range has no next day.
    assert_eq!(
        next_sending_time(DateTime::<Utc>::MAX_UTC, Calendar::France),
        DateTime::<Utc>::MAX_UTC
    );
}

#[test]
fn retries_wait_for_the_next_sending_time() {
    let check = |failed: &str, backoff: i64, expected: &str| {
        let at = retry_at(paris(failed), backoff, Calendar::France);
        assert_eq!(local(at), expected, "{failed} + {backoff} s");
    };
    check("2026-12-07 10:00:00", 60, "2026-12-07 10:01:00");
    check("2026-12-07 17:50:00", 600, "2026-12-08 08:00:00");
    check("2026-12-07 10:00:00", -5, "2026-12-07 10:00:00");
    // Friday 17:30 before the change to summer time, an hour's backoff:
    // Monday 8 h summer time, 6 h UTC.
    let at = retry_at(paris("2026-03-27 17:30:00"), 3600, Calendar::France);
    assert_eq!(at, utc("2026-03-30T06:00:00Z"));
    assert_eq!(
        retry_at(DateTime::<Utc>::MAX_UTC, i64::MAX, Calendar::France),
        DateTime::<Utc>::MAX_UTC
    );
}

#[test]
fn by_default_the_sends_fill_the_rest_of_the_first_day_evenly() {
    // 100 targets from 10 h on Monday: 8 hours, one every 288 seconds.
    let now = paris("2026-12-07 10:00:00");
    let sends = plan(
        &window("2026-12-07", "2026-12-11"),
        100,
        None,
        now,
        Calendar::France,
    )
    .unwrap();
    assert_eq!(sends.len(), 100);
    assert_eq!(local(sends[0]), "2026-12-07 10:00:00");
    assert_eq!(local(sends[1]), "2026-12-07 10:04:48");
    assert_eq!(local(sends[99]), "2026-12-07 17:55:12");
    for pair in sends.windows(2) {
        assert_eq!((pair[1] - pair[0]).num_seconds(), 288);
    }
    // No send, no instant (found by the campaign_targets fuzz target).
    let none = plan(
        &window("2026-12-07", "2026-12-11"),
        0,
        None,
        now,
        Calendar::France,
    );
    assert_eq!(none, Ok(Vec::new()));
    let none = plan(
        &window("2026-12-07", "2026-12-11"),
        0,
        Some(10),
        now,
        Calendar::France,
    );
    assert_eq!(none, Ok(Vec::new()));
    // Planned a week ahead: the whole first working day, from 8 h.
    let before = paris("2026-11-30 15:00:00");
    let sends = plan(
        &window("2026-12-05", "2026-12-11"),
        100,
        None,
        before,
        Calendar::France,
    );
    let sends = sends.unwrap();
    assert_eq!(local(sends[0]), "2026-12-07 08:00:00");
    assert_eq!(local(sends[99]), "2026-12-07 17:54:00");
}

#[test]
fn a_rate_pauses_over_the_weekend() {
    // 60 an hour from Friday 16 h: 120 on Friday, the rest on Monday.
    let now = paris("2026-12-04 16:00:00");
    let sends = plan(
        &window("2026-12-04", "2026-12-08"),
        180,
        Some(60),
        now,
        Calendar::France,
    );
    let sends = sends.unwrap();
    assert_eq!(local(sends[0]), "2026-12-04 16:00:00");
    assert_eq!(local(sends[119]), "2026-12-04 17:59:00");
    assert_eq!(local(sends[120]), "2026-12-07 08:00:00");
    assert_eq!(local(sends[179]), "2026-12-07 08:59:00");
    // A rate that does not divide an hour accumulates no rounding: the
    // 7th send of 7 an hour is an hour after the first.
    let sends = plan(
        &window("2026-12-07", "2026-12-07"),
        8,
        Some(7),
        now,
        Calendar::France,
    );
    let sends = sends.unwrap();
    assert_eq!(local(sends[7]), "2026-12-07 09:00:00");
    assert_eq!(local(sends[1]), "2026-12-07 08:08:34");
}

#[test]
fn plans_over_both_dst_changes_keep_8_h_paris() {
    // One an hour, from Friday 8 h: ten on Friday, then Monday.
    let check = |start: &str, end: &str, friday_utc: u32, monday_utc: u32| {
        let now = paris(&format!("{start} 07:00:00"));
        let sends = plan(&window(start, end), 12, Some(1), now, Calendar::France).unwrap();
        assert_eq!(local(sends[0]), format!("{start} 08:00:00"));
        assert_eq!(sends[0].hour(), friday_utc);
        assert_eq!(local(sends[9]), format!("{start} 17:00:00"));
        assert_eq!(sends[10].with_timezone(&LOCAL_TZ).hour(), 8);
        assert_eq!(sends[10].hour(), monday_utc);
        assert_eq!(sends[11].with_timezone(&LOCAL_TZ).hour(), 9);
    };
    check("2026-03-27", "2026-03-30", 7, 6);
    check("2026-10-23", "2026-10-26", 6, 7);
}

#[test]
fn a_campaign_that_does_not_fit_says_how_many_would() {
    // Monday and Tuesday: 20 sending hours, 400 sends at 20 an hour.
    let now = paris("2026-12-01 12:00:00");
    let err = plan(
        &window("2026-12-07", "2026-12-08"),
        500,
        Some(20),
        now,
        Calendar::France,
    );
    let err = err.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Les 500 envois à 20 par heure ne tiennent pas entre le 7 et le 8 décembre 2026 : \
         400 au plus. Augmentez le rythme ou repoussez la fin."
    );
    assert!(
        plan(
            &window("2026-12-07", "2026-12-08"),
            400,
            Some(20),
            now,
            Calendar::France
        )
        .is_ok()
    );
}

#[test]
fn refusals() {
    let now = paris("2026-12-07 10:00:00");
    let check = |window: Window, count: usize, rate: Option<u32>, expected: PlanError| {
        assert_eq!(
            plan(&window, count, rate, now, Calendar::France),
            Err(expected)
        );
    };
    let (start, end) = (day("2026-12-08"), day("2026-12-07"));
    check(
        window("2026-12-08", "2026-12-07"),
        10,
        None,
        PlanError::EndBeforeStart { start, end },
    );
    check(
        window("2026-12-01", "2026-12-04"),
        10,
        None,
        PlanError::EndPassed {
            end: day("2026-12-04"),
        },
    );
    check(
        window("2026-12-01", "2026-12-07"),
        10,
        Some(0),
        PlanError::ZeroRate,
    );
    check(
        window("2026-12-07", "2026-12-08"),
        10,
        Some(3601),
        PlanError::RateTooHigh(3601),
    );
    check(
        window("2026-12-07", "2026-12-08"),
        5001,
        None,
        PlanError::TooManyTargets(5001),
    );
    check(
        window("2027-01-01", "2062-01-01"),
        10,
        None,
        PlanError::TooFar {
            end: day("2062-01-01"),
        },
    );
    // A weekend and the holiday before it: nothing can leave.
    let (start, end) = (day("2026-12-25"), day("2026-12-27"));
    check(
        window("2026-12-25", "2026-12-27"),
        10,
        None,
        PlanError::NoSendingTime { start, end },
    );
    // Today after 18 h: the end has passed.
    let late = paris("2026-12-07 18:00:00");
    assert_eq!(
        plan(
            &window("2026-12-07", "2026-12-07"),
            1,
            None,
            late,
            Calendar::France
        ),
        Err(PlanError::EndPassed {
            end: day("2026-12-07")
        })
    );
    // Each message says what to do.
    let message = PlanError::NoSendingTime { start, end }.to_string();
    assert!(message.contains("du 25 au 27 décembre 2026"), "{message}");
    assert!(message.contains("Élargissez la période"), "{message}");
    let message = PlanError::TooManyTargets(5001).to_string();
    assert!(message.starts_with("5\u{202f}001 cibles"), "{message}");
}

/// Plans and checks the promise of [`plan`] on what it returns: as many
/// instants as sends, each a sending time no earlier than `now` nor the
/// start and before the end's 18 h, in order. Whether it planned.
fn plan_and_check(
    window: Window,
    count: usize,
    rate: Option<u32>,
    now: DateTime<Utc>,
    calendar: Calendar,
) -> bool {
    let Ok(sends) = plan(&window, count, rate, now, calendar) else {
        return false;
    };
    assert_eq!(sends.len(), count);
    let closes = at_hour(window.end, CLOSING_HOUR).unwrap();
    for (index, at) in sends.iter().enumerate() {
        assert!(
            is_sending_time(*at, calendar),
            "{} ({window:?}, {rate:?})",
            local(*at)
        );
        assert!(*at >= now && *at < closes);
        assert!(local_day(*at) >= window.start);
        if let Some(before) = index.checked_sub(1).and_then(|i| sends.get(i)) {
            assert!(before <= at);
        }
    }
    true
}

#[test]
fn every_planned_instant_is_a_sending_time_in_the_window() {
    // A small deterministic generator: many windows, counts and rates.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let base = paris("2026-01-01 00:00:00");
    let mut planned = 0;
    for _ in 0..400 {
        let now = base + TimeDelta::minutes(i64::try_from(next(365 * 24 * 60)).unwrap());
        let start = local_day(now) + Days::new(next(10)) - Days::new(next(3));
        let end = start + Days::new(next(20));
        let count = usize::try_from(next(600)).unwrap();
        let rates = [None, Some(1), Some(7), Some(60), Some(500), Some(3600)];
        let rate = rates[usize::try_from(next(6)).unwrap()];
        let calendars = [Calendar::France, Calendar::AlsaceMoselle];
        let calendar = calendars[usize::try_from(next(2)).unwrap()];
        if plan_and_check(Window { start, end }, count, rate, now, calendar) {
            planned += 1;
        }
    }
    // Most draws plan (the others end before now or do not fit).
    assert!(planned > 200, "{planned}");
}

#[test]
fn dates_at_the_ends_of_the_calendar_neither_panic_nor_escape_the_hours() {
    let near = |day: NaiveDate, days: i64| {
        let moved = if days >= 0 {
            day.checked_add_days(Days::new(days.unsigned_abs()))
        } else {
            day.checked_sub_days(Days::new(days.unsigned_abs()))
        };
        moved.unwrap()
    };
    let windows = [
        (NaiveDate::MIN, NaiveDate::MIN),
        (NaiveDate::MIN, near(NaiveDate::MIN, 20)),
        (near(NaiveDate::MAX, -20), NaiveDate::MAX),
        (NaiveDate::MAX, NaiveDate::MAX),
        (NaiveDate::MIN, NaiveDate::MAX),
    ];
    let nows = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        utc("2026-12-07T09:00:00Z"),
        at_hour(near(NaiveDate::MAX, -25), 9).unwrap(),
    ];
    for now in nows {
        for (start, end) in windows {
            for rate in [None, Some(1), Some(3600)] {
                plan_and_check(Window { start, end }, 100, rate, now, Calendar::France);
            }
        }
    }
    assert!(!is_sending_time(DateTime::<Utc>::MAX_UTC, Calendar::France));
}
