//! Fuzzes the probe's version comparison and the CVE table matching:
//! the input is two versions separated by a NUL byte.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use vigie_probe::protocols::web::version;
use vigie_probe::protocols::web::vulns::{Observed, VulnTable};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\0').unwrap_or((&text, ""));
    if let (Ok(va), Ok(vb)) = (version::parse(a), version::parse(b)) {
        // A total order: antisymmetric, and "below" implies "less".
        assert_eq!(va.cmp(&vb), vb.cmp(&va).reverse());
        if va.is_below(&vb) {
            assert_eq!(va.cmp(&vb), Ordering::Less);
        }
    }
    for product in ["OpenSSH", "Microsoft Exchange", "FortiOS", "nginx"] {
        let observed = Observed {
            product,
            version: a,
            build: Some(b),
            source: "fuzz",
        };
        let _ = VulnTable::builtin().matches(&observed);
    }
});
