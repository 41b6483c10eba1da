//! Fuzzes a phishing campaign's inputs (issue 11): any bytes as a CSV of
//! targets and as pasted addresses, and the first bytes read as the dates,
//! count, rate and calendar of a sending plan and as a retry's backoff.
//! Any input must give targets or a French refusal, and plans whose every
//! instant is a sending time inside the window: never a panic, an
//! overflow or a send at 21 h.

#![no_main]

use chrono::{DateTime, Days, NaiveDate, Utc};
use vigie_core::local_day;
use vigie_server::phishing::schedule::{
    Calendar, MAX_TARGETS, Window, is_sending_time, next_sending_time, plan, retry_at,
};
use vigie_server::phishing::targets::{
    ImportErrors, MAX_ERRORS_SHOWN, Role, Target, from_csv, from_pasted,
};

/// 2026-07-14, a fixed "now" so a run is repeatable.
const NOW_SECS: i64 = 1_784_000_000;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check_targets(from_csv(data));
    check_targets(from_pasted(&String::from_utf8_lossy(data), Role::Elected));
    if let Some(head) = data.first_chunk::<16>() {
        check_plan(*head);
    }
});

fn check_targets(result: Result<Vec<Target>, ImportErrors>) {
    match result {
        Ok(targets) => {
            assert!(!targets.is_empty() && targets.len() <= MAX_TARGETS);
            for target in &targets {
                assert_eq!(target.email.matches('@').count(), 1);
                assert!(!target.email.contains(char::is_whitespace));
            }
        }
        Err(errors) => {
            assert!(errors.lines().len() <= MAX_ERRORS_SHOWN);
            assert!(errors.total() >= errors.lines().len() && errors.total() > 0);
            assert!(!errors.to_string().is_empty());
        }
    }
}

/// Bytes 0-1: now, in 20-minute steps around 2026-07-14 (or, with byte
/// 9's top bit, in 8-year steps over all chrono reaches); 2: the start,
/// in days from now; 3: the window's length in days; 4-5: the count; 6-7:
/// the rate (0 is no rate, or a zero rate with byte 9's low bit); 8: the
/// calendar; 10-15: a retry's backoff in seconds.
fn check_plan(head: [u8; 16]) {
    let [n0, n1, start, length, rest @ ..] = head;
    let [c0, c1, r0, r1, calendar, wild, backoff @ ..] = rest;
    let steps = i64::from(i16::from_le_bytes([n0, n1]));
    let now = if wild & 0x80 == 0 {
        DateTime::from_timestamp(NOW_SECS + steps * 1201, 0)
    } else {
        DateTime::from_timestamp(steps * (1 << 28), 0)
    };
    let Some(now) = now else { return };
    let today = now.date_naive();
    let offset = i8::from_le_bytes([start]);
    let days = Days::new(offset.unsigned_abs().into());
    let start = if offset >= 0 {
        today.checked_add_days(days)
    } else {
        today.checked_sub_days(days)
    };
    let Some(start) = start else { return };
    let end = start
        .checked_add_days(Days::new(length.into()))
        .unwrap_or(NaiveDate::MAX);
    let count = usize::from(u16::from_le_bytes([c0, c1]));
    let rate = u32::from(u16::from_le_bytes([r0, r1]));
    let rate = (rate != 0 || wild & 1 == 1).then_some(rate);
    let calendar = if calendar & 1 == 0 {
        Calendar::France
    } else {
        Calendar::AlsaceMoselle
    };
    if let Ok(sends) = plan(&Window { start, end }, count, rate, now, calendar) {
        assert_eq!(sends.len(), count);
        for pair in sends.windows(2) {
            assert!(pair[0] <= pair[1]);
        }
        for at in &sends {
            assert!(is_sending_time(*at, calendar) && *at >= now);
            assert!((start..=end).contains(&local_day(*at)));
        }
    }
    let backoff = backoff
        .iter()
        .rev()
        .fold(0_i64, |value, byte| value << 8 | i64::from(*byte));
    for at in [
        retry_at(now, backoff, calendar),
        next_sending_time(now, calendar),
    ] {
        assert!(is_sending_time(at, calendar) || at == DateTime::<Utc>::MAX_UTC);
    }
}
