//! Fuzzes list loading: any text must load (bad lines counted, never a
//! panic), and lookups on the result must respect the module's promises;
//! a file's kind (header, name) is decided without a panic, and never
//! guessed from a name that looks like an allowlist's.

#![no_main]

use std::net::IpAddr;

use vigie_lists::kind::{self, Kind};
use vigie_lists::{Intel, MAX_PROBLEMS};

/// Whole special-use blocks (bogon entries, as FireHOL level1 has them)
/// never make an address listed; a narrower entry inside one may.
const BOGONS: &str = "10.0.0.0/8\n127.0.0.0/8\n192.168.0.0/16\n224.0.0.0/3\n::/127\nfe80::/10\n";
const IN_BOGONS: [&str; 6] = [
    "10.1.2.3",
    "127.0.0.1",
    "192.168.1.1",
    "224.0.0.251",
    "::1",
    "fe80::1",
];
const PROBES: [&str; 4] = ["1.2.3.4", "8.8.8.8", "2001:db8::1", "::ffff:1.2.3.4"];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line doubles as a file name.
    let label = text.lines().next().unwrap_or_default();
    match kind::decide(label, &text, None) {
        Ok((kind, _)) => {
            if kind::header(&text).is_none() {
                let by_name = label.starts_with(kind::ALLOWLIST_PREFIX);
                assert_eq!(kind == Kind::Allow, by_name);
                assert!(by_name || !kind::looks_like_allowlist(label));
            }
        }
        Err(warning) => assert!(warning.left_out),
    }
    let mut builder = Intel::builder();
    let listed = builder.add_list("fuzz", &text);
    builder.add_list("bogons", BOGONS);
    // The second half of the input doubles as an allowlist.
    let half = String::from_utf8_lossy(data.get(data.len() / 2..).unwrap_or_default());
    builder.add_allowlist(&half);
    let intel = builder.build();

    for stats in intel.stats() {
        assert!(stats.problems.len() <= MAX_PROBLEMS.min(stats.malformed));
    }
    assert_eq!(intel.stats()[0], listed);
    for addr in IN_BOGONS {
        let ip: IpAddr = addr.parse().unwrap();
        if let Some(id) = intel.lookup_ip(ip) {
            assert_eq!(intel.label(id), "fuzz", "{addr} listed by a bogon entry");
        }
    }
    for addr in PROBES {
        if let Some(id) = intel.lookup_ip(addr.parse().unwrap()) {
            assert_eq!(intel.label(id), "fuzz");
        }
    }
    // Addresses made of the input's own bytes, so found entries get probed.
    for chunk in data.chunks(4) {
        if let Ok(octets) = <[u8; 4]>::try_from(chunk) {
            let _ = intel.lookup_ip(IpAddr::from(octets));
        }
    }
    for name in text.lines().chain([text.as_ref()]) {
        if let Some((id, offset)) = intel.lookup_domain(name.as_bytes()) {
            assert_eq!(intel.label(id), "fuzz");
            assert!(offset < name.len());
        }
    }
});
