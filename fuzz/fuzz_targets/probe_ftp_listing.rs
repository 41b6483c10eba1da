//! Fuzzes what an anonymous FTP listing of home directories reads (issue
//! 16): a passive-mode reply (`227`/`229`) to a data port, an `NLST`
//! answer to entries, the home folder and the account names among them;
//! bounded, never a panic.

#![no_main]

use vigie_probe::credentials::revealed;
use vigie_probe::protocols::remote::ftp::{self, listing};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(Some((reply, _))) = ftp::parse_reply(data) {
        if let Some(port) = listing::passive_port(&reply) {
            assert_ne!(port, 0);
        }
    }
    let entries = listing::names(data);
    assert!(entries.len() <= listing::MAX_ENTRIES);
    assert!(entries.iter().all(|e| !e.contains(['\n', '/'])));
    let _ = listing::home_folder(&entries);
    let accounts = listing::accounts(&entries);
    assert!(accounts.len() <= revealed::MAX_REVEALED);
    for account in &accounts {
        assert!(account.len() <= revealed::MAX_NAME_LEN);
        assert!(!account.contains(['\r', '\n', ' ', '$']));
    }
});
