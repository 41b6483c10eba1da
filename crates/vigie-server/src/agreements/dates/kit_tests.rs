//! Hand-computed cases of the crisis kit (seed 002: to 31 December,
//! renewed each year for 8 years at most, terminated each year with three
//! months' notice), the facts refused, and facts counted from their day.

use chrono::NaiveDate;

use super::tests::{at, check, day, facts, notice, offer};
use super::*;
use crate::agreements::offers::Party;

#[test]
fn crisis_kit_renews_each_year_for_eight_years_at_most() {
    let kit = offer("crisis_kit");
    let notified = facts("2024-03-01", Some("2024-03-15"));
    let cap = Some("2032-03-14");
    let schedule = at(&kit, &notified, "2024-06-01");
    assert_eq!(
        schedule.period.map(|p| (p.starts_on, p.ends_on)),
        Some((day("2024-03-15"), day("2024-12-31")))
    );
    assert_eq!(schedule.renews_on, Some(day("2025-01-01")));
    check(
        &kit,
        &notified,
        "2024-06-01",
        (Status::Active, cap, Some("2024-09-30")),
    );
    check(
        &kit,
        &notified,
        "2024-09-30",
        (Status::Active, cap, Some("2024-09-30")),
    );
    check(
        &kit,
        &notified,
        "2024-10-01",
        (Status::Active, cap, Some("2025-09-30")),
    );
    // The eighth year is the last whole one; the ninth period stops at
    // eight years from the notification: no renewal left to refuse.
    let eighth = at(&kit, &notified, "2031-10-01");
    assert_eq!(eighth.period.map(|p| p.number), Some(8));
    assert_eq!(eighth.notice_by, None);
    let ninth = at(&kit, &notified, "2032-01-01");
    assert_eq!(
        ninth.period.map(|p| (p.number, p.ends_on)),
        Some((9, day("2032-03-14")))
    );
    assert_eq!(ninth.renews_on, None);
    check(&kit, &notified, "2031-12-14", (Status::Active, cap, None));
    check(&kit, &notified, "2031-12-15", (Status::Ending, cap, None));
    check(&kit, &notified, "2032-03-15", (Status::Ended, cap, None));
    // Notified on 1 January: eight calendar years.
    let january = facts("2023-12-20", Some("2024-01-01"));
    let last = at(&kit, &january, "2031-06-01");
    assert_eq!(last.period.map(|p| p.number), Some(8));
    assert_eq!(last.ends_on, Some(day("2031-12-31")));
    // Notified on 31 December: a first period of one day.
    let eve = facts("2024-12-01", Some("2024-12-31"));
    check(
        &kit,
        &eve,
        "2024-12-31",
        (Status::Active, Some("2032-12-30"), Some("2025-09-30")),
    );
}

#[test]
fn crisis_kit_termination_takes_effect_at_the_year_end_the_notice_fits_in() {
    let kit = offer("crisis_kit");
    let end_after = |given: &str, by: Party| {
        let mut f = facts("2024-03-01", Some("2024-03-15"));
        f.terminations = vec![notice(given, by)];
        let s = at(&kit, &f, given);
        assert_eq!(s.status, Status::Ending);
        assert_eq!(s.notice_by, None);
        s.ends_on.unwrap()
    };
    assert_eq!(end_after("2024-09-30", Party::Commune), day("2024-12-31"));
    assert_eq!(end_after("2024-10-01", Party::Territory), day("2025-12-31"));
    assert_eq!(end_after("2031-09-30", Party::Commune), day("2031-12-31"));
    // Too late for 2031: the maximum comes first.
    assert_eq!(end_after("2031-10-01", Party::Commune), day("2032-03-14"));
    // Every day of a leap year, notified on 1 January.
    let mut given = day("2024-01-01");
    while given <= day("2024-12-31") {
        let mut f = facts("2023-12-20", Some("2024-01-01"));
        f.terminations = vec![Termination::NonRenewal {
            given_on: given,
            by: Party::Commune,
        }];
        let expected = if given <= day("2024-09-30") {
            "2024-12-31"
        } else {
            "2025-12-31"
        };
        assert_eq!(
            at(&kit, &f, "2024-12-31").ends_on,
            Some(day(expected)),
            "{given}"
        );
        given = given.succ_opt().unwrap();
    }
}

#[test]
fn facts_the_agreement_does_not_allow_are_refused_in_french() {
    let kit = offer("crisis_kit");
    let mut f = facts("2024-03-01", Some("2024-03-15"));
    f.terminations = vec![notice("2024-02-01", Party::Commune)];
    assert_eq!(
        schedule(&kit, &f, day("2024-06-01"))
            .unwrap_err()
            .to_string(),
        "La résiliation du 1er février 2024 précède la signature de la convention (1er mars 2024)."
    );
    f.terminations = vec![
        notice("2024-09-30", Party::Commune),
        notice("2025-02-01", Party::Territory),
    ];
    assert_eq!(
        schedule(&kit, &f, day("2024-06-01"))
            .unwrap_err()
            .to_string(),
        "La résiliation du 1er février 2025 vient après la fin de la convention (31 décembre 2024)."
    );
    f.terminations = vec![Termination::Decided {
        given_on: day("2024-05-02"),
        ends_on: day("2024-05-01"),
    }];
    assert!(matches!(
        schedule(&kit, &f, day("2024-06-01")),
        Err(DateError::EndBeforeDecision { .. })
    ));
    f.terminations = Vec::new();
    f.completed_on = Some(day("2024-06-01"));
    assert_eq!(
        schedule(&kit, &f, day("2024-06-01")),
        Err(DateError::NoCompletion)
    );
    f.completed_on = None;
    f.steps_done = vec![StepDone {
        step: "step_9".to_owned(),
        on: day("2024-04-01"),
    }];
    assert_eq!(
        schedule(&kit, &f, day("2024-06-01"))
            .unwrap_err()
            .to_string(),
        "« step_9 » n'est pas une étape de cette offre."
    );
    let unsigned = Facts {
        terminations: vec![notice("2024-02-01", Party::Commune)],
        ..Facts::default()
    };
    assert_eq!(
        schedule(&kit, &unsigned, day("2024-06-01"))
            .unwrap_err()
            .to_string(),
        "La résiliation ne peut pas être enregistrée avant la signature de la convention."
    );
    let far = Facts {
        started_on: Some(NaiveDate::MAX),
        ..facts("2024-03-01", None)
    };
    assert_eq!(
        schedule(&kit, &far, day("2024-06-01")),
        Err(DateError::OutOfRange)
    );
}

#[test]
fn a_fact_counts_from_its_day() {
    let kit = offer("crisis_kit");
    let mut f = facts("2024-03-01", Some("2024-03-15"));
    f.terminations = vec![notice("2025-05-01", Party::Commune)];
    check(
        &kit,
        &f,
        "2025-04-30",
        (Status::Active, Some("2032-03-14"), Some("2025-09-30")),
    );
    check(
        &kit,
        &f,
        "2025-05-01",
        (Status::Ending, Some("2025-12-31"), None),
    );
    // Before the signature: a draft, whose start is already set.
    check(
        &kit,
        &f,
        "2024-02-01",
        (Status::Draft, Some("2032-03-14"), None),
    );
}
