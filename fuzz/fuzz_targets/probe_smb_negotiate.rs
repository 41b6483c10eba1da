//! Fuzzes the SMB answer parsers (SMB1 and SMB2 NEGOTIATE and
//! SESSION_SETUP responses): any bytes give a parsed answer or an error,
//! never a panic; a security blob is always a part of the input.

#![no_main]

use vigie_probe::protocols::remote::smb;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(negotiate) = smb::parse_smb2_negotiate(data) {
        assert!(negotiate.security_blob.len() <= data.len());
        let _ = smb::dialect_name(negotiate.dialect);
    }
    if let Ok(setup) = smb::parse_smb2_session_setup(data) {
        assert!(setup.security_blob.len() <= data.len());
    }
    if let Ok(negotiate) = smb::parse_smb1_negotiate(data) {
        assert!(negotiate.dialect_index != Some(0xFFFF));
    }
    if let Ok(setup) = smb::parse_smb1_session_setup(data) {
        assert!(setup.security_blob.len() <= data.len());
    }
});
