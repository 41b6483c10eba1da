//! Fuzzes the NTLMSSP CHALLENGE parser, alone and found inside a blob:
//! names and version or an error, never a panic; names stay short and
//! printable.

#![no_main]

use vigie_probe::protocols::remote::smb;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for parsed in [smb::parse_challenge(data), smb::parse_challenge_in(data)] {
        if let Ok(challenge) = parsed {
            for name in [
                &challenge.target_name,
                &challenge.netbios_computer,
                &challenge.netbios_domain,
                &challenge.dns_computer,
                &challenge.dns_domain,
                &challenge.dns_forest,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!name.is_empty() && name.chars().count() <= 256);
                assert!(!name.chars().any(char::is_control));
            }
            if let Some(version) = challenge.version {
                let _ = smb::release(version);
                let _ = smb::ms17_010_concerned(version);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = smb::version_from_native_os(text);
    }
});
