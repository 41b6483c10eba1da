//! Helpers the families' tests share: a run context, a loopback target,
//! and the findings of a result.

use std::sync::Arc;
use std::time::Duration;

use vigie_core::probe::Finding;
use vigie_probe::target::{Context, PortResult, Target};

/// A context for tests: the given timeout, pause between trials, accounts
/// in play at once (as many attempts under way), budget and candidates.
pub fn context(
    timeout: Duration,
    trial_pause: Duration,
    accounts_at_once: usize,
    budget: usize,
    credentials: &[(&str, &str)],
) -> Context {
    Context {
        timeout,
        password_budget: budget,
        trial_pause,
        accounts_at_once,
        attempts_at_once: accounts_at_once,
        try_passwords: true,
        credentials: Arc::new(
            credentials
                .iter()
                .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
        ),
        ..Context::default()
    }
}

/// A TCP port on 127.0.0.1.
pub fn loopback_tcp(port: u16) -> Target {
    Target::tcp("127.0.0.1".parse().unwrap(), port)
}

/// The ids of a result's findings, sorted.
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
