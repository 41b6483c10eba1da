//! Fuzzes what the observatory reads from outside before any database
//! work: a sensor's report batch (with the ingest's own checks: dates,
//! bounded counts, checked sums, the spool's `daily` counters), a
//! heartbeat, the server's configuration file, an e-learning module file
//! (issue 11) and a file sent to the documentation kit, recognised by its
//! bytes. Any bytes must give a value or a French refusal, never a panic
//! or an overflow.

#![no_main]

use std::path::Path;

use vigie_server::config::Config;
use vigie_server::sensors::{check_heartbeat, check_report};

/// 2026-07-14, a fixed "now" so a run is repeatable.
const NOW_MS: i64 = 1_784_000_000_000;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(incidents) = check_report(data, NOW_MS) {
        assert!(incidents <= vigie_core::report::MAX_INCIDENTS);
    }
    let _ = check_heartbeat(data);
    let text = String::from_utf8_lossy(data);
    let _ = Config::parse(Path::new("/etc/vigie/vigie.toml"), &text);
    if let Ok(module) = vigie_server::elearning::Module::parse("module.toml", &text) {
        assert!(vigie_server::elearning::QUESTIONS.contains(&module.quiz.len()));
        assert!(module.quiz.iter().all(|q| q.answer < q.choices.len()));
    }
    let _ = vigie_server::kit::sniff::recognise(data);
});
