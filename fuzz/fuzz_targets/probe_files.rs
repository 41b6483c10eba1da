//! Fuzzes the files a person gives the probe or its observatory: the scope
//! file, a port list, a password dictionary, an extra vulnerability table
//! or checks catalogue, and a `vigie.probe/1` document as the observatory
//! receives it. Any bytes must give a value or an error, never a panic; a
//! scope that loads admits only addresses it allows, and a probe document
//! that validates survives a round trip.

#![no_main]

use vigie_core::probe::ProbeReport;
use vigie_probe::catalog::Catalog;
use vigie_probe::credentials::{self, Words, likely, parse_dictionary};
use vigie_probe::protocols::web::vulns::VulnTable;
use vigie_probe::scan::ports::PortList;
use vigie_probe::scope::Scope;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(scope) = Scope::parse("perimetre.toml", &text) {
        let words = Words::new(scope.name(), scope.postcode(), 2026, scope.agents());
        let _ = credentials::candidates(&credentials::dictionary(), &words);
        for allowed in scope.addresses().iter().take(1024) {
            assert!(scope.allows(allowed.addr()));
        }
    }
    if let Ok(list) = PortList::parse("ports.toml", &text) {
        assert!(!list.discovery.is_empty());
        assert!(!list.tcp.contains(&0) && !list.udp.contains(&0));
    }
    if let Ok(pairs) = parse_dictionary("mots.txt", &text) {
        assert!(pairs.len() <= text.lines().count());
    }
    // The likely-password and account files, with any words.
    if likely::check("likely-passwords.txt", &text, true).is_ok() {
        let agents = [text.to_string()];
        let words = Words::new(Some(&text), Some(&text), 2026, &agents);
        for usual in likely::accounts(likely::ACCOUNTS, &words) {
            let _ = likely::passwords(&text, &usual, &words);
        }
    }
    let _ = VulnTable::default().add_file("vulns.toml", &text);
    let _ = Catalog::default().add_file("checks.toml", &text);
    if let Ok(report) = serde_json::from_slice::<ProbeReport>(data)
        && report.validate().is_ok()
    {
        let bytes = serde_json::to_vec(&report).unwrap();
        let again: ProbeReport = serde_json::from_slice(&bytes).unwrap();
        assert!(again.validate().is_ok());
    }
});
