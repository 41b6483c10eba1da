//! Fuzzes the RDP Connection Confirm parser (TPKT, X.224, RDP_NEG_RSP or
//! RDP_NEG_FAILURE): a negotiation or an error, never a panic; the
//! verdict on NLA is defined for whatever it returns.

#![no_main]

use vigie_probe::protocols::remote::rdp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(negotiation) = rdp::parse_negotiation(data) {
        assert!(data.len() >= 11);
        let _ = rdp::nla_verdict(negotiation, None);
        let _ = rdp::nla_verdict(negotiation, Some(negotiation));
    }
});
