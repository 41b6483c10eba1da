//! Fuzzes the DNS question parser, UDP and TCP framing, and checks the
//! invariants the detectors rely on for every accepted name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_sensor::decode::dns::{self, MAX_LABEL_LEN, MAX_NAME_LEN, Query};

fn check(query: &Query) {
    let name = query.name();
    assert!(name.len() <= MAX_NAME_LEN);
    assert!(!name.iter().any(u8::is_ascii_uppercase));
    assert_eq!(query.labels().count(), query.label_count());
    let longest = query.labels().map(<[u8]>::len).max().unwrap_or(0);
    assert_eq!(longest, query.longest_label());
    assert!(
        query
            .labels()
            .all(|label| !label.is_empty() && label.len() <= MAX_LABEL_LEN)
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = dns::parse(data) {
        check(&query);
    }
    if let Ok(query) = dns::parse_tcp(data) {
        check(&query);
    }
});
