//! Fuzzes the HTTP/1.x request parser and the header accessors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_sensor::decode::http::{self, MAX_HEADERS, MAX_REQUEST_LINE};

fuzz_target!(|data: &[u8]| {
    let _ = http::looks_like_request(data);
    let Ok(request) = http::parse_request(data) else {
        return;
    };
    assert!(request.target.len() < MAX_REQUEST_LINE);
    assert!(request.headers().len() <= MAX_HEADERS);
    assert!(request.headers_complete || request.body.is_empty());
    for header in request.headers() {
        assert!(!header.name.is_empty());
        if let Ok(name) = std::str::from_utf8(header.name) {
            assert!(request.header(name).is_some());
        }
    }
    for name in ["host", "Content-Type", "user-agent", ""] {
        let _ = request.header(name);
    }
});
