//! Fuzzes the FTP reply parser (RFC 959 §4.2, single and multi-line) and
//! the greeting's product: a reply within the input, "need more" or an
//! error, never a panic.

#![no_main]

use vigie_probe::protocols::remote::ftp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(Some((reply, used))) = ftp::parse_reply(data) {
        assert!(used <= data.len() && used <= ftp::MAX_REPLY_LEN);
        assert!((100..600).contains(&reply.code));
        assert!(!reply.lines.is_empty());
        let _ = ftp::product(&reply.text());
    }
    let _ = ftp::matches_banner(data);
});
