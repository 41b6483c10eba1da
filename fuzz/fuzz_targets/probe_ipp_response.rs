//! Fuzzes the IPP response parser, alone and behind its HTTP answer.

#![no_main]

use vigie_probe::protocols::infra::printer::{self, ipp};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(response) = ipp::parse(data) {
        assert!(response.attributes.len() <= ipp::MAX_ATTRIBUTES);
    }
    let _ = printer::parse_ipp_answer(data);
});
