//! Fuzzes the territory list's changes as a box reads them from the
//! observatory (`vigie_core::defence`): any bytes are refused or read,
//! never a panic, within the entry cap, and what is read writes back to
//! the same update.

#![no_main]

use vigie_core::defence::{MAX_ENTRIES, parse, write};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(update) = parse(data) {
        assert!(update.changes.len() <= MAX_ENTRIES);
        assert_eq!(parse(write(&update).as_bytes()), Ok(update));
    }
});
