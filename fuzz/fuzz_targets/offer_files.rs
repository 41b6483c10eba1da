//! Fuzzes an offer file (issue 12) and the agreements' date rules: the
//! input is the file, then a NUL byte, then the bytes the facts' days and
//! parties are drawn from. Any text must give an offer or a French
//! refusal; any offer (the file's, or a built-in one when the file is
//! refused) with any days, however far in the calendar, must give a
//! schedule or a French refusal, never a panic or an overflow; a schedule
//! keeps its day inside its period.

#![no_main]

use std::sync::OnceLock;

use chrono::NaiveDate;
use vigie_server::agreements::dates::{self, Facts, StepDone, Termination};
use vigie_server::agreements::offers::Party;
use vigie_server::agreements::{Catalogue, Offer};

/// A day from 4 bytes (any day chrono holds, or none), else `default`.
fn day(bytes: &[u8], index: usize, default: NaiveDate) -> Option<NaiveDate> {
    let chunk = bytes.get(index * 4..index * 4 + 4)?;
    let n = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    // Half the values near the default, so the rules' branches are met.
    if n & 1 == 0 {
        default.checked_add_signed(chrono::Duration::days(i64::from(n >> 1) % 20_000))
    } else {
        NaiveDate::from_num_days_from_ce_opt(n >> 1)
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (file, days) = data.split_at(split);
    let days = days.get(1..).unwrap_or_default();
    let text = String::from_utf8_lossy(file);
    // Parsed once: the built-in files are not what is fuzzed.
    static BUILT_IN: OnceLock<Catalogue> = OnceLock::new();
    let built_in = BUILT_IN.get_or_init(|| match Catalogue::built_in() {
        Ok(catalogue) => catalogue,
        Err(error) => panic!("the built-in offers are refused: {error}"),
    });
    let offer = match Offer::parse("offre.toml", &text) {
        Ok(offer) => {
            assert_eq!(offer.id, "offre");
            assert!(offer.steps.iter().all(|s| s.from_months <= s.to_months));
            offer
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            let pick = usize::from(days.first().copied().unwrap_or(0)) % built_in.len();
            match built_in.all().nth(pick) {
                Some(offer) => offer.clone(),
                None => return,
            }
        }
    };
    let Some(base) = NaiveDate::from_ymd_opt(2024, 3, 15) else {
        return;
    };
    let signed = day(days, 0, base);
    let flags = days.get(1).copied().unwrap_or(0);
    let by = if flags & 1 == 0 {
        Party::Territory
    } else {
        Party::Commune
    };
    let mut facts = Facts {
        signed_on: signed,
        started_on: day(days, 1, base),
        completed_on: if flags & 2 == 0 {
            None
        } else {
            day(days, 2, base)
        },
        ..Facts::default()
    };
    if let Some(given_on) = day(days, 3, base) {
        facts.terminations.push(match flags >> 2 & 3 {
            0 => Termination::Notice { given_on, by },
            1 => Termination::NonRenewal { given_on, by },
            _ => Termination::Decided {
                given_on,
                ends_on: day(days, 4, given_on).unwrap_or(given_on),
            },
        });
    }
    if let (Some(step), Some(on)) = (offer.steps.first(), day(days, 5, base)) {
        facts.steps_done.push(StepDone {
            step: step.id.clone(),
            on,
        });
    }
    for index in 6..9 {
        let Some(on) = day(days, index, base) else {
            continue;
        };
        match dates::schedule(&offer, &facts, on) {
            Ok(schedule) => {
                if let Some(period) = schedule.period {
                    assert!(period.starts_on <= on && on <= period.ends_on);
                }
                if let (Some(last), Some(period)) = (schedule.notice_by, schedule.period) {
                    assert!(last >= on && period.starts_on <= on);
                }
                for deadline in schedule.deadlines(&offer) {
                    assert!(!deadline.label(&offer).is_empty());
                }
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
});
