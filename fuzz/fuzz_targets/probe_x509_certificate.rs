//! Fuzzes the probe's certificate facts extraction (x509-parser wrapper).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_probe::protocols::web::tls::cert;

fuzz_target!(|data: &[u8]| {
    if let Ok(facts) = cert::parse_certificate(data) {
        let _ = facts.weak_key();
        let _ = facts.key_text();
        assert!(facts.names.len() <= 32);
    }
});
