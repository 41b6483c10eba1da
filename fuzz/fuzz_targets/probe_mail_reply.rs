//! Fuzzes the SMTP, POP3 and IMAP reply parsers and the greeting routing.

#![no_main]

use vigie_probe::protocols::infra::mail::{self, reply};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((parsed, length)) = reply::parse_smtp(data) {
        assert!(length <= data.len());
        assert!(parsed.lines.len() <= reply::MAX_LINES);
        let _ = reply::product(&parsed.lines.join(" "));
    }
    let _ = reply::smtp_complete(data);
    let _ = reply::parse_pop_capa(data);
    let _ = reply::pop_capa_complete(data);
    let _ = reply::imap_capabilities(data);
    let _ = reply::imap_tagged_complete("a1")(data);
    let _ = mail::banner_protocol(data);
});
