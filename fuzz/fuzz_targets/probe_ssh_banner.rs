//! Fuzzes the probe's SSH identification line parser (RFC 4253 §4.2).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_probe::protocols::web::ssh::banner;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = banner::parse_banner(data) {
        assert!(parsed.line.starts_with("SSH-"));
        assert!(parsed.line.len() < banner::MAX_LINE_LEN);
        assert!(!parsed.software.is_empty());
        let _ = parsed.product();
        let _ = parsed.os();
    }
});
