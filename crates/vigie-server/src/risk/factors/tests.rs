//! The factors on hand-built cases (issue 15's proof list).

use chrono::NaiveDate;

use super::*;

const NOW: i64 = 1_780_000_000_000;

fn rules() -> Rules {
    Rules::built_in().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn known(score: u8) -> Factor {
    Factor {
        score: Some(score),
        why: String::new(),
    }
}

fn unknown() -> Factor {
    Factor {
        score: None,
        why: String::new(),
    }
}

#[test]
fn no_data_is_unknown_never_good() {
    let r = rules();
    assert_eq!(pressure(&r, &Attacks::default()).score, None);
    assert_eq!(exposure(&r, None, NOW).score, None);
    assert_eq!(maturity(&r, None, NOW).score, None);
    assert_eq!(
        human(&r, &Awareness::default(), day("2026-06-01")).score,
        None
    );
    assert_eq!(
        combine(&r, &[unknown(), unknown(), unknown(), unknown()]),
        (None, Level::Unknown)
    );
    // One known factor is not enough for a level (min_known = 2).
    assert_eq!(
        combine(&r, &[known(0), unknown(), unknown(), unknown()]),
        (None, Level::Unknown)
    );
    assert!(pressure(&r, &Attacks::default()).why.contains("pas connue"));
}

#[test]
fn a_compromise_raises_pressure_the_most() {
    let r = rules();
    let quiet = Attacks {
        reported_days: 30,
        inbound: 3,
        ..Attacks::default()
    };
    let flooded = Attacks {
        reported_days: 30,
        inbound: 100_000,
        earlier: 10,
        later: 100_000,
        ..Attacks::default()
    };
    let compromised = Attacks {
        reported_days: 30,
        inbound: 3,
        outbound: 1,
        ..Attacks::default()
    };
    let (q, f, c) = (
        pressure(&r, &quiet),
        pressure(&r, &flooded),
        pressure(&r, &compromised),
    );
    assert_eq!(q.score, Some(0));
    assert_eq!(f.score, Some(70), "the most inbound and rising: 60 + 10");
    assert_eq!(c.score, Some(85));
    assert!(
        c.score > f.score,
        "one outbound alert outweighs any inbound flood"
    );
    assert!(
        c.why.starts_with("1 alerte sortante en 30 jours"),
        "{}",
        c.why
    );
    assert!(f.why.contains("en hausse"), "{}", f.why);
    let many = Attacks {
        outbound: 10,
        ..compromised
    };
    assert_eq!(pressure(&r, &many).score, Some(100));
    // A compromise alone makes the risk at least high.
    let (_, level) = combine(&r, &[c, known(0), known(0), unknown()]);
    assert_eq!(level, Level::High);
}

#[test]
fn critical_findings_raise_exposure() {
    let r = rules();
    let clean = Scan {
        finished_ms: NOW - 10 * DAY_MS,
        medium: 1,
        ..Scan::default()
    };
    let critical = Scan {
        critical: 3,
        high: 1,
        worst: Some("Mot de passe faible sur le serveur de fichiers".to_owned()),
        critical_open_since_ms: Some(NOW - 40 * DAY_MS),
        ..clean.clone()
    };
    assert_eq!(exposure(&r, Some(&clean), NOW).score, Some(2));
    let f = exposure(&r, Some(&critical), NOW);
    assert_eq!(f.score, Some(100));
    assert!(
        f.why.contains("3 failles critiques et 1 élevée, dont « Mot de passe faible sur le serveur de fichiers » ; critique ouverte depuis 40 jours"),
        "{}",
        f.why
    );
    let one = Scan {
        critical: 1,
        critical_open_since_ms: Some(NOW - 100 * DAY_MS),
        ..clean.clone()
    };
    assert_eq!(
        exposure(&r, Some(&one), NOW).score,
        Some(30 + 2 + 10),
        "open more than 90 days"
    );
    let stale = Scan {
        finished_ms: NOW - 200 * DAY_MS,
        ..clean.clone()
    };
    assert_eq!(exposure(&r, Some(&stale), NOW).score, Some(2 + 15));
    let too_old = Scan {
        finished_ms: NOW - 800 * DAY_MS,
        ..clean
    };
    assert_eq!(exposure(&r, Some(&too_old), NOW).score, None);
}

#[test]
fn a_follow_up_with_progress_lowers_maturity_risk() {
    let r = rules();
    let first = Audit {
        round: 1,
        created_ms: NOW - 200 * DAY_MS,
        score: Some(40),
        ..Audit::default()
    };
    let follow_up = Audit {
        round: 2,
        created_ms: NOW - 10 * DAY_MS,
        score: Some(55),
        before: Some(40),
        addressed: Some((3, 5)),
    };
    let (a, b) = (
        maturity(&r, Some(&first), NOW),
        maturity(&r, Some(&follow_up), NOW),
    );
    assert_eq!(a.score, Some(60));
    assert_eq!(b.score, Some(45 - 9), "100 − 55, less 15 × 3/5");
    assert_eq!(
        b.why,
        "Pré-diagnostic, suivi n° 1 : 55/100 (+15 depuis le tour précédent) ; 3 sur 5 des manques prioritaires du tour précédent traités."
    );
    let empty = Audit {
        score: None,
        ..first
    };
    assert_eq!(maturity(&r, Some(&empty), NOW).score, None);
}

#[test]
fn clicks_and_passwords_raise_the_human_factor_and_training_lowers_it() {
    let r = rules();
    let exercise = Exercise {
        start: day("2026-03-02"),
        sent: 20,
        clicked: 4,
        submitted: 1,
    };
    let a = Awareness {
        exercise: Some(exercise),
        modules_done: 0,
        modules_total: 6,
    };
    let f = human(&r, &a, day("2026-06-01"));
    assert_eq!(f.score, Some(20 * 2 + 5 * 4));
    assert!(f.why.contains("4 sur 20 personnes ont cliqué"), "{}", f.why);
    assert!(
        f.why.contains("dont 1 a saisi un mot de passe"),
        "{}",
        f.why
    );
    let trained = Awareness {
        modules_done: 6,
        ..a
    };
    assert_eq!(human(&r, &trained, day("2026-06-01")).score, Some(40));
    let training_only = Awareness {
        exercise: None,
        modules_done: 3,
        modules_total: 6,
    };
    assert_eq!(
        human(&r, &training_only, day("2026-06-01")).score,
        Some(50 - 10)
    );
    // An exercise of three years ago says nothing of today.
    assert_eq!(
        human(
            &r,
            &Awareness {
                modules_done: 0,
                ..a
            },
            day("2029-06-01")
        )
        .score,
        None
    );
}

#[test]
fn the_combination_follows_the_weights_and_levels() {
    let r = rules();
    let check = |factors: [Factor; 4], risk: Option<u8>, level: Level| {
        assert_eq!(combine(&r, &factors), (risk, level));
    };
    check(
        [known(0), known(0), known(0), known(0)],
        Some(0),
        Level::Low,
    );
    check(
        [known(40), known(60), known(50), known(20)],
        // (25×40 + 30×60 + 25×50 + 20×20) / 100 = 44.5, rounded.
        Some(45),
        Level::Moderate,
    );
    check(
        [unknown(), known(100), known(60), unknown()],
        // (30×100 + 25×60) / 55 = 81.8; and a factor ≥ 80.
        Some(82),
        Level::Critical,
    );
    check(
        [known(10), known(80), known(0), known(0)],
        Some(27),
        Level::High,
    );
    assert_eq!(
        main_driver(&r, &[known(10), known(80), known(0), known(0)]),
        Some(Kind::Exposure)
    );
    assert_eq!(
        main_driver(&r, &[known(0), unknown(), known(0), unknown()]),
        None
    );
}
