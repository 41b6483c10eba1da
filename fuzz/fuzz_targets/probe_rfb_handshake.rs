//! Fuzzes the VNC (RFB) handshake parsers: the version line, then the
//! security offer under each version spoken, VeNCrypt's sub-types and
//! Tight's capability lists; never a panic, and what is read fits in the
//! input.

#![no_main]

use vigie_probe::protocols::remote::vnc::{self, SecurityOffer};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(version) = vnc::parse_version(data) {
        let spoken = version.spoken();
        assert_eq!(spoken.major, 3);
        assert!([3, 7, 8].contains(&spoken.minor));
    }
    for minor in [3, 7, 8] {
        let spoken = vnc::RfbVersion { major: 3, minor };
        match vnc::parse_security(spoken, data) {
            Ok(Some(SecurityOffer::Types(types))) => {
                assert!(!types.is_empty() && types.len() < data.len().max(2));
            }
            Ok(Some(SecurityOffer::Refused(reason))) => {
                assert!(reason.len() <= 3 * vnc::MAX_REASON_LEN);
            }
            Ok(None) | Err(_) => {}
        }
    }
    if let Ok(Some(subtypes)) = vnc::parse_vencrypt_subtypes(data) {
        assert!(2 + 4 * subtypes.len() <= data.len());
    }
    if let Ok(Some((codes, used))) = vnc::parse_tight_capabilities(data) {
        assert_eq!(used, 4 + 16 * codes.len());
        assert!(used <= data.len());
    }
});
