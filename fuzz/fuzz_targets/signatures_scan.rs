//! Fuzzes the signature matcher with the built-in set: any field must scan
//! without a panic, report each signature once, and scan the same way twice.

#![no_main]

use std::sync::OnceLock;

use vigie_sensor::signatures::{SigId, Signatures};

fn signatures() -> &'static Signatures {
    static BUILTIN: OnceLock<Signatures> = OnceLock::new();
    BUILTIN.get_or_init(Signatures::builtin)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let signatures = signatures();
    let mut scratch = Vec::new();
    let mut hits: Vec<SigId> = Vec::new();
    signatures.scan_field(data, &mut scratch, &mut hits);
    for (i, id) in hits.iter().enumerate() {
        assert!(usize::from(id.0) < signatures.len());
        assert!(signatures.get(*id).id.starts_with("web."));
        assert!(!hits[..i].contains(id), "duplicate hit {id:?}");
    }
    let mut again = Vec::new();
    signatures.scan_field(data, &mut scratch, &mut again);
    assert_eq!(hits, again);
    // Appending to existing hits adds nothing new.
    signatures.scan_field(data, &mut scratch, &mut hits);
    assert_eq!(hits, again);
});
