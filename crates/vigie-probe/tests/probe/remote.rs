#![allow(clippy::unwrap_used)]
//! The remote family against servers on 127.0.0.1: small fake servers
//! written here (they count what the probe sends: the password budget,
//! no command after a login, refusals of telnet options), and the real
//! Debian services when the test runs as root and they are installed
//! (Samba with SMB1, vsftpd with anonymous login, inetutils telnetd),
//! each started on a loopback port with a private configuration in a
//! temporary directory and stopped at the end.

mod fakes;
mod live;

use std::sync::Arc;
use std::time::Duration;

use vigie_core::probe::Finding;
use vigie_probe::target::{Context, PortResult, Target};

/// A context for tests: short pause, the given candidates.
pub fn context(budget: usize, credentials: &[(&str, &str)]) -> Context {
    Context {
        timeout: Duration::from_secs(3),
        password_budget: budget,
        trial_pause: Duration::from_millis(10),
        accounts_at_once: 2,
        try_passwords: true,
        credentials: Arc::new(
            credentials
                .iter()
                .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
        ),
    }
}

pub fn target(port: u16) -> Target {
    Target::tcp("127.0.0.1".parse().unwrap(), port)
}

pub fn ids(result: &PortResult) -> Vec<&str> {
    let mut ids: Vec<&str> = result.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids
}

pub fn finding<'a>(result: &'a PortResult, id: &str) -> &'a Finding {
    result
        .findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(result)))
}

/// Every finding of the family is in the catalogue: a title and a score
/// from its vector, not the fallback.
pub fn assert_catalogued(result: &PortResult) {
    for finding in &result.findings {
        assert!(
            !finding.vector.is_empty(),
            "{} not in the catalogue",
            finding.id
        );
        assert!(!finding.recommendation.is_empty(), "{}", finding.id);
    }
}
