//! Fuzzes the risk map's rule file (issue 15, `risk_file`): any text must
//! give a rule or a French refusal naming the file, never a panic; a rule
//! accepted always scores every factor and the combination within 0–100,
//! whatever the data it is given (the bytes after a NUL).

#![no_main]

use vigie_server::risk::Rules;
use vigie_server::risk::factors::{self, Attacks, Audit, Awareness, Exercise, Factor, Scan};

/// An i64 from 8 bytes at `index` (0 when short).
fn int(bytes: &[u8], index: usize) -> i64 {
    bytes
        .get(index * 8..index * 8 + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, i64::from_le_bytes)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (file, numbers) = data.split_at(split);
    let text = String::from_utf8_lossy(file);
    let rules = match Rules::parse("risque.toml", &text) {
        Ok(rules) => rules,
        Err(error) => {
            assert!(error.to_string().starts_with("risque.toml"));
            return;
        }
    };
    let n = |i| int(numbers, i);
    let now = 1_780_000_000_000;
    let attacks = Attacks {
        reported_days: n(0),
        inbound: n(1),
        outbound: n(2),
        earlier: n(3),
        later: n(4),
    };
    let scan = Scan {
        finished_ms: n(5),
        critical: n(6),
        high: n(7),
        medium: n(8),
        worst: None,
        critical_open_since_ms: Some(n(9)),
        fixed: Some(n(10)),
    };
    let audit = Audit {
        round: n(11),
        created_ms: n(12),
        score: u8::try_from(n(13).rem_euclid(101)).ok(),
        before: u8::try_from(n(14).rem_euclid(101)).ok(),
        addressed: Some((n(15).rem_euclid(6) as usize, 5)),
    };
    let Some(start) = chrono::NaiveDate::from_num_days_from_ce_opt(730_000 + (n(16) % 1000) as i32)
    else {
        return;
    };
    let sent = n(17).unsigned_abs() % 10_000;
    let awareness = Awareness {
        exercise: Some(Exercise {
            start,
            sent,
            clicked: n(18).unsigned_abs() % (sent + 1),
            submitted: n(19).unsigned_abs() % (sent + 1),
        }),
        modules_done: n(20).unsigned_abs() as usize % 10,
        modules_total: 6,
    };
    let all: [Factor; 4] = [
        factors::pressure(&rules, &attacks),
        factors::exposure(&rules, Some(&scan), now),
        factors::maturity(&rules, Some(&audit), now),
        factors::human(&rules, &awareness, start),
    ];
    for factor in &all {
        assert!(factor.score.is_none_or(|s| s <= 100));
        assert!(!factor.why.is_empty());
    }
    let (risk, _) = factors::combine(&rules, &all);
    assert!(risk.is_none_or(|r| r <= 100));
});
