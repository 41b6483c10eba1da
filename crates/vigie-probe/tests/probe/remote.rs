#![allow(clippy::unwrap_used)]
//! The remote family against servers on 127.0.0.1: small fake servers
//! written here (they count what the probe sends: the password budget,
//! no command after a login, refusals of telnet options), and the real
//! Debian services when the test runs as root and they are installed
//! (Samba with SMB1, vsftpd with anonymous login, inetutils telnetd),
//! each started on a loopback port with a private configuration in a
//! temporary directory and stopped at the end.

mod fakes;
mod homes;
mod live;

use std::time::Duration;

use crate::support;
use vigie_probe::target::{Context, PortResult};

/// A context for tests: short pause, two accounts at once, the given
/// candidates.
pub fn context(budget: usize, credentials: &[(&str, &str)]) -> Context {
    support::context(
        Duration::from_secs(3),
        Duration::from_millis(10),
        2,
        budget,
        credentials,
    )
}

pub use support::{finding, ids, loopback_tcp as target};

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
