//! Fuzzes the family's HTTP response reading and the Elasticsearch root
//! answer parser.

#![no_main]

use vigie_probe::protocols::infra::{elasticsearch, http};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(response) = http::parse_response(data) {
        assert!(response.body.len() <= data.len());
    }
    if let Some(length) = http::complete_length(data) {
        assert!(length <= data.len());
    }
    let _ = elasticsearch::parse_root(data);
});
