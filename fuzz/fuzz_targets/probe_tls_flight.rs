//! Fuzzes the probe's parser of a TLS server's first flight (ServerHello,
//! Certificate, ServerHelloDone, alerts) for the hand-built handshake.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_probe::protocols::web::tls::legacy;

fuzz_target!(|data: &[u8]| {
    if let Ok(flight) = legacy::parse_server_flight(data) {
        assert!(flight.certificates.len() <= legacy::MAX_CHAIN);
        let total: usize = flight.certificates.iter().map(Vec::len).sum();
        assert!(total <= data.len());
        for version in legacy::LegacyVersion::DEPRECATED {
            let _ = flight.accepts(version);
        }
    }
});
