//! Fuzzes telnet option stripping (RFC 854/855): never a panic; what is
//! consumed is within the input, the text never holds more bytes than
//! were consumed, and the refusals answer only DO and WILL.

#![no_main]

use vigie_probe::protocols::remote::telnet::{self, Negotiation};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(stripped) = telnet::strip_options(data) {
        assert!(stripped.consumed <= data.len());
        assert!(stripped.data.len() <= stripped.consumed);
        let asks = stripped
            .negotiations
            .iter()
            .filter(|n| matches!(n, Negotiation::Do(_) | Negotiation::Will(_)))
            .count();
        assert_eq!(telnet::refusals(&stripped.negotiations).len(), 3 * asks);
        // What is left is an incomplete command: parsing it alone again
        // consumes nothing.
        let rest = &data[stripped.consumed..];
        if let Ok(again) = telnet::strip_options(rest) {
            assert_eq!(again.consumed, 0);
        }
    }
    let _ = telnet::is_login_prompt(data);
    let _ = telnet::verdict(data);
});
