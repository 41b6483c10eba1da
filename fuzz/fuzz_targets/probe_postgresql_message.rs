//! Fuzzes the PostgreSQL backend message parser and the SCRAM
//! server-first parser.

#![no_main]

use vigie_probe::protocols::infra::postgresql::{messages, scram};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((_, length)) = messages::parse(data) {
        assert!(length <= data.len());
    }
    let client = scram::Client::new("fuzz");
    let _ = client.last(data, "password");
});
