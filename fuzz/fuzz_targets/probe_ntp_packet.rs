//! Fuzzes the NTP mode 3/4 and mode 7 packet parsers.

#![no_main]

use vigie_probe::protocols::infra::ntp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = ntp::parse_packet(data) {
        assert!(packet.mode < 8 && packet.version < 8);
    }
    if let Ok(private) = ntp::parse_private(data) {
        let _ = ntp::monlist_answered(&private);
    }
});
