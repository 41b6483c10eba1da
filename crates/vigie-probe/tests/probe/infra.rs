#![allow(clippy::unwrap_used)]
//! The infra family against servers on 127.0.0.1: small fake servers
//! written here (they record what the probe sends: no byte to a printer's
//! raw port, no MAIL FROM, AUTH attempts within the budget; garbage and
//! silence give no finding and no panic), and the real Debian services
//! when the test runs as root and they are installed (redis-server,
//! snmpd, PostgreSQL, MariaDB), each started on a loopback port with a
//! private configuration in a temporary directory and stopped at the end.

mod fakes;
mod live;
mod servers;

use std::time::Duration;

use crate::support;
use vigie_probe::target::{Context, PortResult, Target};

/// A context for tests: short pause, one account at a time, the given
/// candidates.
pub fn context(budget: usize, credentials: &[(&str, &str)]) -> Context {
    support::context(
        Duration::from_secs(2),
        Duration::from_millis(10),
        1,
        budget,
        credentials,
    )
}

pub use support::{finding, ids, loopback_tcp as tcp};

pub fn udp(port: u16) -> Target {
    Target::udp("127.0.0.1".parse().unwrap(), port)
}

/// Every finding is in the catalogue (a vector, a French title), and its
/// evidence never holds a password from the candidates.
pub fn assert_catalogued(result: &PortResult, ctx: &Context) {
    for finding in &result.findings {
        assert!(!finding.vector.is_empty(), "{} not catalogued", finding.id);
        assert!(!finding.title.starts_with("Faiblesse"), "{}", finding.id);
        // A password that is also an account name may rightly appear.
        let users: Vec<&str> = ctx.credentials.iter().map(|(u, _)| u.as_str()).collect();
        for (_, password) in ctx.credentials.iter() {
            if password.len() >= 4 && !users.contains(&password.as_str()) {
                assert!(
                    !finding.evidence.contains(password.as_str()),
                    "{}: evidence {:?} shows a password",
                    finding.id,
                    finding.evidence
                );
            }
        }
    }
}

/// Every infra check id used by the code is in the catalogue.
#[test]
fn every_infra_check_is_catalogued() {
    let catalog = vigie_probe::catalog::Catalog::builtin();
    for id in [
        "redis.no_auth",
        "password.redis",
        "mongodb.no_auth",
        "elasticsearch.no_auth",
        "mysql.no_auth",
        "password.mysql",
        "postgresql.no_auth",
        "password.postgresql",
        "snmp.default_community",
        "snmp.weak_community",
        "snmp.windows_users",
        "dns.open_resolver",
        "ntp.monlist",
        "printer.exposed",
        "smtp.cleartext_auth",
        "mail.cleartext",
    ] {
        let (check, score) = catalog.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(score > 0.0 && !check.title.is_empty(), "{id}");
    }
}
