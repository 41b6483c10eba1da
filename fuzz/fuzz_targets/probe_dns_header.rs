//! Fuzzes the DNS response header reading of the open resolver check.

#![no_main]

use vigie_probe::protocols::infra::dns;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(header) = dns::parse_header(data) {
        let open = dns::is_open_resolver(data, header.id);
        if header.is_response() {
            assert_eq!(
                open,
                Ok(header.recursion_available() && header.rcode() == 0 && header.answers > 0)
            );
        }
    }
});
