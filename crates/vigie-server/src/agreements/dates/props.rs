//! Property tests over random days and events: periods tile time from
//! the start, a notice's last day is exactly the last, a termination given
//! on any day ends the agreement at a period end its notice fits in (the
//! crisis kit) or when its notice expires (the sensor, the cyber path),
//! never beyond the maximum, and a status never moves back.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::calendar::{boundary, months_after, notice_by, period_end};
use super::periods::Periods;
use super::*;
use crate::agreements::offers::{Catalogue, Party};

fn offer(id: &str) -> Offer {
    Catalogue::built_in().unwrap().get(id).cloned().unwrap()
}

/// A day from 1990 to about 2100, leap years and every month end among
/// them.
fn any_day() -> impl Strategy<Value = NaiveDate> {
    (0_u64..40_000).prop_map(|n| {
        NaiveDate::from_ymd_opt(1990, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(n)))
            .unwrap()
    })
}

/// Any day chrono holds, to the calendar's two ends.
fn any_day_at_all() -> impl Strategy<Value = NaiveDate> {
    let (first, last) = (NaiveDate::MIN, NaiveDate::MAX);
    prop_oneof![
        (first.num_days_from_ce()..=last.num_days_from_ce())
            .prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap()),
        (0_u64..400).prop_map(move |n| last - chrono::Days::new(n)),
        (0_u64..400).prop_map(move |n| first + chrono::Days::new(n)),
        any_day(),
    ]
}

fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(chrono::Days::new(days)).unwrap()
}

fn started(signed: NaiveDate, start: NaiveDate) -> Facts {
    Facts {
        signed_on: Some(signed),
        started_on: Some(start),
        ..Facts::default()
    }
}

proptest! {
    #[test]
    fn a_period_of_months_ends_on_the_eve_of_its_anniversary_or_a_months_end(
        start in any_day(),
        months in 1_u32..=120,
    ) {
        let end = period_end(start, months).unwrap();
        let next = end.succ_opt().unwrap();
        prop_assert!(end >= start);
        prop_assert_eq!(i64::from(next.year()) * 12 + i64::from(next.month0())
            - i64::from(start.year()) * 12 - i64::from(start.month0()),
            i64::from(months) + i64::from(next.day() != start.day()));
        // Either the same day of the month, or the 1st after a short month.
        prop_assert!(next.day() == start.day() || (next.day() == 1 && start.day() > 28));
        if months == 12 {
            let days = (next - start).num_days();
            prop_assert!(days == 365 || days == 366, "{} days", days);
        }
    }

    #[test]
    fn the_last_day_for_notice_is_the_last_that_works(
        end in any_day(),
        months in 0_u32..=24,
    ) {
        let last = notice_by(end, months).unwrap();
        prop_assert!(months_after(last, months).unwrap() <= end);
        prop_assert!(months_after(last.succ_opt().unwrap(), months).unwrap() > end);
    }

    #[test]
    fn renewals_tile_time_from_the_start(
        start in any_day(),
        which in 0_usize..2,
    ) {
        let offer = offer(["cyber_path", "crisis_kit"][which]);
        let periods = Periods::new(&offer, start).unwrap();
        let mut previous: Option<Period> = None;
        for number in 1..=12 {
            let Some(period) = periods.get(number) else {
                prop_assert_eq!(previous.map(|p| p.ends_on), periods.natural_end());
                break;
            };
            prop_assert!(period.starts_on <= period.ends_on);
            match previous {
                None => prop_assert_eq!(period.starts_on, start),
                Some(p) => prop_assert_eq!(p.ends_on.succ_opt(), Some(period.starts_on)),
            }
            if offer.id == "crisis_kit" && number > 1 {
                prop_assert_eq!((period.starts_on.month(), period.starts_on.day()), (1, 1));
                let whole = period.ends_on.month() == 12 && period.ends_on.day() == 31;
                prop_assert!(whole || Some(period.ends_on) == periods.natural_end());
            }
            if offer.id == "cyber_path" {
                prop_assert_eq!(period.ends_on, period_end(start, 12 * number).unwrap());
            }
            for day in [period.starts_on, period.ends_on] {
                prop_assert_eq!(periods.containing(day), Some(period));
            }
            previous = Some(period);
        }
    }

    #[test]
    fn the_kit_never_runs_beyond_eight_years(start in any_day(), after in 0_u64..4_000) {
        let kit = offer("crisis_kit");
        let s = schedule(&kit, &started(start, start), plus(start, after)).unwrap();
        let cap = boundary(start, 96).unwrap().pred_opt().unwrap();
        prop_assert_eq!(s.ends_on, Some(cap));
        if let Some(period) = s.period {
            prop_assert!(period.ends_on <= cap);
            prop_assert!(period.starts_on <= s.on && s.on <= period.ends_on);
        }
        prop_assert_eq!(s.period.is_none(), s.on > cap);
    }

    #[test]
    fn a_kit_termination_on_any_day_ends_at_the_first_period_end_its_notice_fits_in(
        start in any_day(),
        after in 0_u64..3_200,
        commune in any::<bool>(),
    ) {
        let kit = offer("crisis_kit");
        let given = plus(start, after);
        let cap = boundary(start, 96).unwrap().pred_opt().unwrap();
        prop_assume!(given <= cap);
        let by = if commune { Party::Commune } else { Party::Territory };
        let mut facts = started(start, start);
        facts.terminations = vec![Termination::Notice { given_on: given, by }];
        let s = schedule(&kit, &facts, given).unwrap();
        let end = s.ends_on.unwrap();
        let expires = months_after(given, 3).unwrap();
        let periods = Periods::new(&kit, start).unwrap();
        let last = periods.containing(end).unwrap();
        // A period end…
        prop_assert_eq!(last.ends_on, end);
        // …the notice fits in, or the maximum when it does not…
        prop_assert!(end >= expires || end == cap);
        // …and the first such: the period before ended too early.
        if let Some(before) = last.number.checked_sub(1).and_then(|n| periods.get(n)) {
            prop_assert!(before.ends_on < expires);
        }
        prop_assert_eq!(s.status, Status::Ending);
        prop_assert_eq!(s.notice_by, None);
    }

    #[test]
    fn a_termination_any_time_ends_when_its_notice_expires(
        start in any_day(),
        after in 0_u64..1_500,
        sensor in any::<bool>(),
    ) {
        let offer = offer(if sensor { "sensor" } else { "cyber_path" });
        let given = plus(start, after);
        let mut facts = started(start, start);
        facts.terminations = vec![Termination::Notice { given_on: given, by: Party::Territory }];
        let natural = period_end(start, 36).unwrap();
        prop_assume!(!sensor || given <= natural);
        let s = schedule(&offer, &facts, given).unwrap();
        let expires = months_after(given, 2).unwrap();
        let expected = if sensor { expires.min(natural) } else { expires };
        prop_assert_eq!(s.ends_on, Some(expected));
        let after_end = schedule(&offer, &facts, expected.succ_opt().unwrap()).unwrap();
        let status = if expected == natural && expires > natural { Status::Ended } else { Status::Terminated };
        prop_assert_eq!(after_end.status, status);
    }

    #[test]
    fn the_notice_day_given_stops_the_renewal_and_the_next_day_does_not(
        start in any_day(),
        after in 0_u64..2_800,
    ) {
        let kit = offer("crisis_kit");
        let on = plus(start, after);
        let s = schedule(&kit, &started(start, start), on).unwrap();
        prop_assume!(s.notice_by.is_some());
        let last = s.notice_by.unwrap();
        prop_assert!(last >= on);
        let ends = |given: NaiveDate| {
            let mut facts = started(start, start);
            facts.terminations = vec![Termination::Notice { given_on: given, by: Party::Commune }];
            schedule(&kit, &facts, given).unwrap().ends_on.unwrap()
        };
        let in_time = ends(last);
        let late = ends(last.succ_opt().unwrap());
        prop_assert!(in_time < late, "{} then {}", in_time, late);
        // In time, it ends with the period whose last day for notice it was.
        prop_assert_eq!(notice_by(in_time, 3), Some(last));
    }

    #[test]
    fn a_status_never_moves_back(
        which in 0_usize..5,
        signed in any_day(),
        start_after in 0_u64..400,
        terminate_after in proptest::option::of(0_u64..3_000),
        complete_after in proptest::option::of(0_u64..500),
    ) {
        let offer = Catalogue::built_in().unwrap().all().nth(which).cloned().unwrap();
        let start = plus(signed, start_after);
        let mut facts = started(signed, start);
        facts.terminations = terminate_after
            .map(|n| Termination::NonRenewal { given_on: plus(start, n), by: Party::Territory })
            .into_iter()
            .collect();
        facts.completed_on = complete_after.map(|n| plus(start, n));
        let mut previous = Status::Draft;
        let mut day = signed.pred_opt().unwrap();
        for _ in 0..60 {
            let Ok(s) = schedule(&offer, &facts, day) else {
                // A fact the offer refuses is refused whatever the day.
                prop_assert!(schedule(&offer, &facts, signed).is_err());
                return Ok(());
            };
            prop_assert!(s.status >= previous, "{:?} after {:?} on {}", s.status, previous, day);
            previous = s.status;
            day = plus(day, 61);
        }
    }

    #[test]
    fn any_day_of_the_calendar_gives_dates_or_a_refusal(
        which in 0_usize..5,
        signed in any_day_at_all(),
        start in any_day_at_all(),
        given in any_day_at_all(),
        on in any_day_at_all(),
        kind in 0_u8..3,
        completed in proptest::option::of(any_day_at_all()),
    ) {
        let offer = Catalogue::built_in().unwrap().all().nth(which).cloned().unwrap();
        let mut facts = started(signed, start);
        facts.completed_on = completed;
        facts.terminations = vec![match kind {
            0 => Termination::Notice { given_on: given, by: Party::Territory },
            1 => Termination::NonRenewal { given_on: given, by: Party::Commune },
            _ => Termination::Decided { given_on: given, ends_on: given },
        }];
        if let Ok(s) = schedule(&offer, &facts, on) {
            if let Some(period) = s.period {
                prop_assert!(period.starts_on <= on && on <= period.ends_on);
            }
            if let Some(last) = s.notice_by {
                prop_assert!(last >= on);
            }
            let _ = s.deadlines(&offer);
        }
    }
}
