//! Fuzzes the MySQL/MariaDB packet framing, greeting and reply parsers.

#![no_main]

use vigie_probe::protocols::infra::mysql::{self, packet};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((_, payload, length)) = packet::split(data) {
        assert!(length <= data.len());
        if let Ok(greeting) = packet::parse_greeting(payload) {
            let _ = greeting.product();
        }
        let _ = packet::parse_reply(payload);
    }
    let _ = packet::parse_greeting(data);
    let _ = packet::parse_reply(data);
    let _ = mysql::matches_banner(data);
});
