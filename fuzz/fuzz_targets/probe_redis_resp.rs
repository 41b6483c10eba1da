//! Fuzzes the Redis RESP reply parser: any bytes give a reply within the
//! input or an error, never a panic; a parsed reply never claims more
//! bytes than it was given.

#![no_main]

use vigie_probe::protocols::infra::redis::resp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((_, length)) = resp::parse(data) {
        assert!(length <= data.len());
        assert_eq!(resp::complete_length(data), Some(length));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = resp::info_field(text, "redis_version");
    }
});
