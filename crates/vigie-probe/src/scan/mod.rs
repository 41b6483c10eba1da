//! A run of the probe: discovery of the live hosts of the scope, TCP
//! connect scan of the port list, then each open port (and each UDP port
//! of the list) handed to the protocol family that knows it; results are
//! collected as they come, so a stop (Ctrl-C, end of the working hours)
//! keeps them.
//!
//! What it must not do: contact an address the scope did not admit (the
//! addresses come from [`Scope::addresses`] as [`Allowed`] values, the only
//! kind the sockets of this module and the `Target`s accept), start outside
//! the scope's period and hours, or go on once they end.

pub mod collect;
pub mod discovery;
pub mod dispatch;
pub mod icmp;
pub mod pacing;
pub mod ports;
pub mod progress;
pub mod tcp;

mod checks;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{Datelike, Utc};
use vigie_core::probe::ProbeReport;

pub use ports::PortList;
pub use progress::{Progress, Stage};
pub use tokio_util::sync::CancellationToken;

use crate::credentials;
use crate::scope::{Allowed, Intensity, Scope, ScopeError};
use crate::target::Context;
use collect::{Collected, RunFacts};
use pacing::Pacer;

/// How often a running scan checks that it is still inside the period and
/// the working hours.
const WINDOW_CHECK: Duration = Duration::from_secs(30);

/// How a run behaves; [`Settings::for_scope`] derives it from the scope.
#[derive(Clone, Debug)]
pub struct Settings {
    pub ports: PortList,
    /// Connecting, in discovery, the port scan and the banner grab: a LAN
    /// answers in milliseconds.
    pub connect_timeout: Duration,
    /// How long a silent service is given to speak first.
    pub banner_wait: Duration,
    /// Connections at once, discovery and port scan.
    pub connections: usize,
    /// New connections per second, discovery and port scan.
    pub rate: u32,
    /// Hosts whose ports are examined at the same time.
    pub hosts_at_once: usize,
    /// Ports of one host examined at the same time.
    pub checks_per_host: usize,
    /// Longest examination of one port, password trials included; past it
    /// the port stays `unknown` (a safety net: modules time out sooner).
    pub examine_limit: Duration,
    /// Read the kernel's neighbour table (ARP) in discovery.
    pub neighbours: bool,
    /// Send one ICMP echo request per address in discovery, if the system
    /// allows an unprivileged ping socket.
    pub icmp: bool,
    /// What the protocol modules get.
    pub context: Context,
}

impl Settings {
    /// The scope's intensity and ports, the built-in port list, and the
    /// dictionary with the commune's words for this year.
    pub fn for_scope(scope: &Scope) -> Settings {
        let year = Utc::now().with_timezone(&chrono_tz::Europe::Paris).year();
        let words = credentials::Words::new(scope.name(), scope.postcode(), year, scope.agents());
        let candidates = credentials::candidates(&credentials::dictionary(), &words);
        let (connections, rate, hosts_at_once, checks_per_host) = match scope.intensity() {
            Intensity::Polite => (16, 100, 1, 2),
            Intensity::Normal => (64, 400, 8, 4),
        };
        // Password trials on one service: polite, one account after the
        // other, one attempt at a time; normal, every account in play and
        // 4 attempts under way (4 connections, well under sshd's
        // `MaxStartups` of 10), an account's pause leaving its turn to the
        // next.
        let (accounts_at_once, attempts_at_once) = match scope.intensity() {
            Intensity::Polite => (1, 1),
            Intensity::Normal => (usize::MAX, 4),
        };
        Settings {
            ports: PortList::builtin().with_override(scope.ports()),
            connect_timeout: Duration::from_secs(1),
            banner_wait: Duration::from_secs(1),
            connections,
            rate,
            hosts_at_once,
            checks_per_host,
            examine_limit: Duration::from_secs(300),
            neighbours: true,
            icmp: true,
            context: Context {
                credentials: Arc::new(candidates),
                words: Arc::new(words),
                accounts_at_once,
                attempts_at_once,
                ..Context::default()
            },
        }
    }
}

/// Runs the probe on `scope` until done or `cancel`led; a stop keeps the
/// results so far, with `interrupted: true`. Refuses to start outside the
/// scope's period or, unless lab, its working hours.
pub async fn run(
    scope: &Scope,
    settings: Settings,
    progress: Arc<Progress>,
    cancel: CancellationToken,
) -> Result<ProbeReport, ScopeError> {
    scope.may_run(Utc::now())?;
    let started_at = Utc::now();
    let collected = Arc::new(Mutex::new(Collected::default()));
    let settings = Arc::new(settings);
    let interrupted = tokio::select! {
        () = scan(scope, &settings, &progress, &collected) => false,
        () = cancel.cancelled() => {
            tracing::info!("run cancelled: in-flight checks abandoned");
            true
        }
        error = window_closes(scope) => {
            tracing::warn!(%error, "scan window closed: run stopped");
            true
        }
    };
    progress.finish();
    let collected = std::mem::take(&mut *lock(&collected));
    Ok(collected.into_report(RunFacts {
        commune: scope.commune().map(str::to_owned),
        started_at,
        finished_at: Utc::now(),
        lab: scope.is_lab(),
        interrupted,
        scope: scope.summary(),
    }))
}

async fn scan(
    scope: &Scope,
    settings: &Arc<Settings>,
    progress: &Arc<Progress>,
    collected: &Arc<Mutex<Collected>>,
) {
    let pacer = Pacer::new(settings.connections, settings.rate);
    let addresses = scope.addresses();
    tracing::info!(addresses = addresses.len(), "discovery");
    let live = discovery::live_hosts(&addresses, settings, &pacer, progress).await;
    {
        let mut collected = lock(collected);
        live.iter().for_each(|addr| collected.alive(addr.addr()));
    }
    tracing::info!(live = live.len(), "port scan");
    let open = port_scan(&live, settings, &pacer, progress, collected).await;
    checks::examine_hosts(live, open, settings, progress, collected).await;
}

/// Connect scan of the TCP list on the live hosts, port by port across the
/// hosts so that no host gets all the connections at once.
async fn port_scan(
    live: &[Allowed],
    settings: &Settings,
    pacer: &Pacer,
    progress: &Arc<Progress>,
    collected: &Arc<Mutex<Collected>>,
) -> BTreeMap<Allowed, Vec<u16>> {
    let ports = &settings.ports.tcp;
    progress.add(Stage::Ports, (live.len() * ports.len()) as u64);
    let items = Pairs {
        hosts: live.to_vec(),
        ports: ports.clone(),
        next: 0,
    };
    let wait = settings.connect_timeout;
    let found = pacer
        .each(items, |(addr, port)| {
            let progress = Arc::clone(progress);
            let collected = Arc::clone(collected);
            async move {
                let state = tcp::connect(addr, port, wait).await;
                progress.done(Stage::Ports);
                (state == tcp::PortState::Open).then(|| {
                    lock(&collected).open(&addr.tcp(port));
                    (addr, port)
                })
            }
        })
        .await;
    let mut open: BTreeMap<Allowed, Vec<u16>> = BTreeMap::new();
    for (addr, port) in found {
        open.entry(addr).or_default().push(port);
    }
    open.values_mut().for_each(|ports| ports.sort_unstable());
    open
}

/// Every (host, port) pair, port by port. An owned iterator rather than
/// nested closures over borrowed lists, so that the run's future is `Send`.
struct Pairs {
    hosts: Vec<Allowed>,
    ports: Vec<u16>,
    next: usize,
}

impl Iterator for Pairs {
    type Item = (Allowed, u16);

    fn next(&mut self) -> Option<(Allowed, u16)> {
        let port = *self.ports.get(self.next.checked_div(self.hosts.len())?)?;
        let host = *self.hosts.get(self.next % self.hosts.len())?;
        self.next += 1;
        Some((host, port))
    }
}

/// Completes when the scope no longer lets the run go on.
async fn window_closes(scope: &Scope) -> ScopeError {
    loop {
        tokio::time::sleep(WINDOW_CHECK).await;
        if let Err(error) = scope.may_run(Utc::now()) {
            return error;
        }
    }
}

fn lock(collected: &Mutex<Collected>) -> MutexGuard<'_, Collected> {
    collected.lock().unwrap_or_else(PoisonError::into_inner)
}
