//! Fuzzes the TLS ClientHello server-name extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_sensor::decode::tls;

fuzz_target!(|data: &[u8]| {
    let looks = tls::looks_like_client_hello(data);
    if let Ok(sni) = tls::client_hello_sni(data) {
        // Only a handshake record holding a ClientHello yields an answer.
        assert!(looks);
        assert!(sni.is_none_or(|name| !name.is_empty() && name.len() < data.len()));
    }
});
