//! Hand-computed cases, one group per offer, with the seeds' real dates
//! where there are some (Chazelles-sur-Lyon's box: the experiment ended on
//! 30 June 2023, seed 001).

use chrono::NaiveDate;

use super::*;
use crate::agreements::offers::{Catalogue, EndAction, Party};

pub(super) fn offer(id: &str) -> Offer {
    Catalogue::built_in().unwrap().get(id).cloned().unwrap()
}

pub(super) fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub(super) fn facts(signed: &str, started: Option<&str>) -> Facts {
    Facts {
        signed_on: Some(day(signed)),
        started_on: started.map(day),
        ..Facts::default()
    }
}

pub(super) fn at(offer: &Offer, facts: &Facts, on: &str) -> Schedule {
    schedule(offer, facts, day(on)).unwrap()
}

pub(super) fn notice(given: &str, by: Party) -> Termination {
    Termination::Notice {
        given_on: day(given),
        by,
    }
}

/// (status, ends_on, notice_by) on `on`.
pub(super) fn check(
    offer: &Offer,
    facts: &Facts,
    on: &str,
    expected: (Status, Option<&str>, Option<&str>),
) {
    let got = at(offer, facts, on);
    assert_eq!(
        (got.status, got.ends_on, got.notice_by),
        (expected.0, expected.1.map(day), expected.2.map(day)),
        "{} on {on}",
        offer.id
    );
}

#[test]
fn sensor_runs_three_years_from_the_attested_installation() {
    let sensor = offer("sensor");
    let chazelles = facts("2023-06-26", Some("2023-07-01"));
    let end = Some("2026-06-30");
    check(
        &sensor,
        &Facts::default(),
        "2023-06-01",
        (Status::Draft, None, None),
    );
    check(
        &sensor,
        &facts("2023-06-26", None),
        "2023-06-28",
        (Status::Signed, None, None),
    );
    check(
        &sensor,
        &chazelles,
        "2023-06-28",
        (Status::Signed, end, None),
    );
    check(
        &sensor,
        &chazelles,
        "2023-07-01",
        (Status::Active, end, None),
    );
    // Ending in its last two months: no notice could end it sooner.
    check(
        &sensor,
        &chazelles,
        "2026-04-30",
        (Status::Active, end, None),
    );
    check(
        &sensor,
        &chazelles,
        "2026-05-01",
        (Status::Ending, end, None),
    );
    check(
        &sensor,
        &chazelles,
        "2026-06-30",
        (Status::Ending, end, None),
    );
    check(
        &sensor,
        &chazelles,
        "2026-07-01",
        (Status::Ended, end, None),
    );
    let schedule = at(&sensor, &chazelles, "2024-01-01");
    assert_eq!(schedule.end_cause, Some(EndCause::Term));
    assert_eq!(schedule.renews_on, None);
    assert_eq!(
        schedule.deadlines(&sensor),
        [
            Deadline {
                day: day("2026-06-30"),
                kind: DeadlineKind::Ends
            },
            Deadline {
                day: day("2026-07-01"),
                kind: DeadlineKind::EndAction {
                    action: EndAction::UninstallSensor
                }
            },
        ]
    );
    // Leap days and ends of months.
    let ends =
        |installed: &str| at(&sensor, &facts("2023-01-02", Some(installed)), "2025-01-01").ends_on;
    assert_eq!(ends("2024-02-29"), Some(day("2027-02-28")));
    assert_eq!(ends("2023-01-31"), Some(day("2026-01-30")));
    assert_eq!(ends("2023-03-01"), Some(day("2026-02-28")));
}

#[test]
fn sensor_terminated_by_the_territory_with_two_months_notice() {
    let sensor = offer("sensor");
    let mut terminated = facts("2023-06-26", Some("2023-07-01"));
    terminated.terminations = vec![notice("2025-03-15", Party::Territory)];
    let natural = Some("2026-06-30");
    let end = Some("2025-05-15");
    check(
        &sensor,
        &terminated,
        "2025-03-14",
        (Status::Active, natural, None),
    );
    check(
        &sensor,
        &terminated,
        "2025-03-15",
        (Status::Ending, end, None),
    );
    check(
        &sensor,
        &terminated,
        "2025-05-15",
        (Status::Ending, end, None),
    );
    check(
        &sensor,
        &terminated,
        "2025-05-16",
        (Status::Terminated, end, None),
    );
    // A notice expiring after the term changes nothing.
    terminated.terminations = vec![notice("2026-06-01", Party::Territory)];
    let late = at(&sensor, &terminated, "2026-06-02");
    assert_eq!(
        (late.ends_on, late.end_cause),
        (Some(day("2026-06-30")), Some(EndCause::Term))
    );
    // Only the Département may give notice (article 6).
    terminated.terminations = vec![notice("2025-03-15", Party::Commune)];
    assert_eq!(
        schedule(&sensor, &terminated, day("2025-04-01"))
            .unwrap_err()
            .to_string(),
        "Seul le territoire peut résilier cette convention (article 6)."
    );
    // A breach after formal notice (article 7): the day decided.
    terminated.terminations = vec![Termination::Decided {
        given_on: day("2024-05-02"),
        ends_on: day("2024-06-01"),
    }];
    check(
        &sensor,
        &terminated,
        "2024-06-02",
        (Status::Terminated, Some("2024-06-01"), None),
    );
}

#[test]
fn cyber_path_renews_until_the_final_minutes() {
    let path = offer("cyber_path");
    let mut signed = facts("2023-09-15", None);
    let schedule = at(&path, &signed, "2023-10-01");
    assert_eq!(schedule.status, Status::Active);
    assert_eq!(
        schedule.period,
        Some(Period {
            number: 1,
            starts_on: day("2023-09-15"),
            ends_on: day("2024-09-14")
        })
    );
    assert_eq!(schedule.renews_on, Some(day("2024-09-15")));
    assert_eq!(schedule.ends_on, None, "renewed until the final minutes");
    assert_eq!(schedule.notice_by, Some(day("2024-07-14")));
    let windows: Vec<(&str, NaiveDate, NaiveDate)> = schedule
        .steps
        .iter()
        .map(|w| (w.step.as_str(), w.opens_on, w.due_on))
        .collect();
    assert_eq!(
        windows,
        [
            ("step_1", day("2023-09-15"), day("2023-09-15")),
            ("step_2", day("2023-12-15"), day("2024-03-15")),
            // A year after step 1: the day after the first year, hence
            // the renewal article 3 provides for.
            ("step_3", day("2024-09-15"), day("2024-09-15")),
        ]
    );
    let kinds: Vec<(NaiveDate, String)> = schedule
        .deadlines(&path)
        .iter()
        .map(|d| (d.day, d.label(&path)))
        .collect();
    let label = |day_text: &str, text: &str| (day(day_text), text.to_owned());
    assert_eq!(
        kinds[0],
        label(
            "2023-09-15",
            "Étape 1 : audit, sécurisation et sensibilisation : au plus tard ce jour"
        )
    );
    assert_eq!(
        kinds[1],
        label(
            "2023-12-15",
            "Étape 2 : réunion de suivi : à partir de ce jour"
        )
    );
    assert_eq!(kinds[3].0, day("2024-07-14"));
    assert_eq!(kinds.len(), 6);

    // Step 1 done on the 20th moves the others.
    signed.steps_done = vec![StepDone {
        step: "step_1".to_owned(),
        on: day("2023-09-20"),
    }];
    let schedule = at(&path, &signed, "2023-10-01");
    assert_eq!(schedule.steps[1].opens_on, day("2023-12-20"));
    assert_eq!(schedule.steps[2].due_on, day("2024-09-20"));
    // Past its day for notice, the next period's.
    check(
        &path,
        &signed,
        "2024-08-01",
        (Status::Active, None, Some("2025-07-14")),
    );
    // The final minutes end it, in its second period.
    signed.completed_on = Some(day("2024-09-20"));
    let last = at(&path, &signed, "2024-09-20");
    assert_eq!(last.period.map(|p| p.number), Some(2));
    assert_eq!(
        (last.ends_on, last.end_cause),
        (Some(day("2024-09-20")), Some(EndCause::Completion))
    );
    check(
        &path,
        &signed,
        "2024-09-21",
        (Status::Ended, Some("2024-09-20"), None),
    );
    // Either party may terminate, with two months' notice.
    signed.completed_on = None;
    signed.terminations = vec![notice("2024-01-10", Party::Commune)];
    check(
        &path,
        &signed,
        "2024-03-11",
        (Status::Terminated, Some("2024-03-10"), None),
    );
}

#[test]
fn awareness_paths_last_three_months_at_most() {
    let path = offer("awareness_2");
    let mut launched = facts("2024-01-10", Some("2024-01-31"));
    check(
        &path,
        &facts("2024-01-10", None),
        "2024-01-20",
        (Status::Signed, None, None),
    );
    check(
        &path,
        &launched,
        "2024-02-15",
        (Status::Active, Some("2024-04-30"), None),
    );
    check(
        &path,
        &launched,
        "2024-05-01",
        (Status::Ended, Some("2024-04-30"), None),
    );
    let steps = at(&path, &launched, "2024-02-15").steps;
    assert_eq!(
        (steps[1].opens_on, steps[1].due_on),
        (day("2024-01-31"), day("2024-04-30"))
    );
    launched.completed_on = Some(day("2024-04-12"));
    check(
        &path,
        &launched,
        "2024-04-13",
        (Status::Ended, Some("2024-04-12"), None),
    );
    let deadlines = at(&path, &launched, "2024-04-12").deadlines(&path);
    let actions: Vec<&DeadlineKind> = deadlines
        .iter()
        .filter(|d| d.day == day("2024-04-13"))
        .map(|d| &d.kind)
        .collect();
    assert_eq!(
        actions,
        [
            &DeadlineKind::EndAction {
                action: EndAction::PurgeCampaigns
            },
            &DeadlineKind::EndAction {
                action: EndAction::CollectDevices
            }
        ]
    );
    // Seed 004 provides no termination and no renewal.
    launched.completed_on = None;
    launched.terminations = vec![notice("2024-02-01", Party::Commune)];
    let error = schedule(&path, &launched, day("2024-02-02")).unwrap_err();
    assert_eq!(error, DateError::NoNotice);
    launched.terminations = vec![Termination::NonRenewal {
        given_on: day("2024-02-01"),
        by: Party::Commune,
    }];
    assert_eq!(
        schedule(&path, &launched, day("2024-02-02")).unwrap_err(),
        DateError::NoRenewal
    );
}
