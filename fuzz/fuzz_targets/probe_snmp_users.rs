//! Fuzzes the reading of the Windows user table (issue 16): an SNMP
//! answer through the BER decoder, then the table's step (a row and its
//! account name, or the end) and the account-name check on raw bytes.

#![no_main]

use vigie_probe::credentials::revealed;
use vigie_probe::protocols::infra::snmp::{ber, users};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(response) = ber::parse(data) {
        if let users::Step::Row { oid, name } = users::step(&response) {
            assert!(oid.starts_with(users::SV_USER_NAME));
            assert!(name.is_none_or(|n| n.len() <= revealed::MAX_NAME_LEN));
        }
    }
    if let Some(name) = revealed::account_name(data) {
        assert!(!name.is_empty() && name.len() <= revealed::MAX_NAME_LEN);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        );
    }
});
