//! The examination phase: every open TCP port and every UDP port of the
//! list, host by host (a few hosts at once at most), a few ports of a host
//! at once, each in its own task so that a module that panics or hangs
//! costs one port, not the run.
//!
//! The ports that may reveal accounts (anonymous FTP, SNMP: see
//! `credentials::revealed`) take their turn first, and the host's login
//! services wait for what they report before their trials, at most
//! [`REVEAL_WAIT`] run timeouts after the host's examination starts.
//!
//! What it must not do: exceed the per-host concurrency, or wait on a
//! module past `examine_limit`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::Instrument;
use vigie_core::probe::Transport;

use super::collect::Collected;
use super::progress::{Progress, Stage};
use super::{Settings, dispatch, lock};
use crate::credentials::Revealed;
use crate::protocols::{infra, remote};
use crate::scope::Allowed;
use crate::target::{Context, PortResult, Target};

/// How many run timeouts a host's login services wait, from the start of
/// the host's examination, for its revealing ports: an SNMP agent that
/// answers `public` and its user table is done well within two; one that
/// stays silent (its communities tried one timeout each) is not waited for.
pub const REVEAL_WAIT: u32 = 2;

/// Whether examining `target` may reveal account names.
fn reveals_accounts(target: &Target) -> bool {
    match target.transport {
        Transport::Tcp => remote::ftp::PORTS.contains(&target.port),
        Transport::Udp => infra::snmp::PORTS.contains(&target.port),
    }
}

/// Whether `ports` hold a login service whose every wrong password costs
/// seconds: Telnet's `login` answers one only after PAM's 2 to 3 s delay,
/// so its trials are the longest of a host.
fn slow_logins(ports: &[u16]) -> bool {
    ports
        .iter()
        .any(|port| remote::telnet::PORTS.contains(port))
}

pub(super) async fn examine_hosts(
    mut live: Vec<Allowed>,
    mut open: BTreeMap<Allowed, Vec<u16>>,
    settings: &Arc<Settings>,
    progress: &Arc<Progress>,
    collected: &Arc<Mutex<Collected>>,
) {
    let udp = settings.ports.udp.len();
    let total: usize = open.values().map(Vec::len).sum::<usize>() + live.len() * udp;
    progress.add(Stage::Checks, total as u64);
    // The longest examinations start first, so that none of them starts
    // last and ends the run alone (otherwise in address order).
    live.sort_by_key(|addr| !open.get(addr).is_some_and(|ports| slow_logins(ports)));
    let hosts = Arc::new(Semaphore::new(settings.hosts_at_once.max(1)));
    let mut tasks = JoinSet::new();
    for addr in live {
        let ports = open.remove(&addr).unwrap_or_default();
        // Taken here, in order, rather than by each task once it runs.
        let turn = Arc::clone(&hosts).acquire_owned().await;
        let settings = Arc::clone(settings);
        let (progress, collected) = (Arc::clone(progress), Arc::clone(collected));
        let span = tracing::info_span!("host", addr = %addr.addr());
        tasks.spawn(
            async move {
                let _turn = turn;
                examine_host(addr, ports, settings, progress, collected).await;
            }
            .instrument(span),
        );
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(error) = done {
            tracing::error!(%error, "host examination failed");
        }
    }
}

async fn examine_host(
    addr: Allowed,
    tcp_ports: Vec<u16>,
    settings: Arc<Settings>,
    progress: Arc<Progress>,
    collected: Arc<Mutex<Collected>>,
) {
    let permits = Arc::new(Semaphore::new(settings.checks_per_host.max(1)));
    let udp = settings.ports.udp.iter().map(|&port| addr.udp(port));
    let (revealers, others): (Vec<Target>, Vec<Target>) = tcp_ports
        .iter()
        .map(|&port| addr.tcp(port))
        .chain(udp)
        .partition(reveals_accounts);
    let wait = settings.context.timeout * REVEAL_WAIT;
    let ctx = Arc::new(Context {
        revealed: Revealed::expecting(&revealers, wait),
        ..settings.context.clone()
    });
    let mut tasks = JoinSet::new();
    for target in revealers {
        // Their turns are taken before any other port's: a login service
        // waiting for them never holds the turn they need.
        let slot = Arc::clone(&permits).acquire_owned().await;
        let (settings, ctx) = (Arc::clone(&settings), Arc::clone(&ctx));
        tasks.spawn(
            async move {
                let _slot = slot;
                let examined = check(addr, target, &settings, &ctx).await;
                ctx.revealed.settle(&target);
                examined
            }
            .in_current_span(),
        );
    }
    for target in others {
        let (permits, settings, ctx) = (
            Arc::clone(&permits),
            Arc::clone(&settings),
            Arc::clone(&ctx),
        );
        tasks.spawn(
            async move {
                let _slot = permits.acquire_owned().await;
                check(addr, target, &settings, &ctx).await
            }
            .in_current_span(),
        );
    }
    while let Some(done) = tasks.join_next().await {
        progress.done(Stage::Checks);
        match done {
            Ok(Some((target, result))) => lock(&collected).examined(&target, result),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "a protocol module failed"),
        }
    }
}

/// One port; `None` for a UDP port nothing answered on, or when the
/// module took longer than allowed.
async fn check(
    addr: Allowed,
    target: Target,
    settings: &Settings,
    ctx: &Context,
) -> Option<(Target, PortResult)> {
    let work = async {
        match target.transport {
            Transport::Tcp => Some(dispatch::identify_tcp(addr, target.port, settings, ctx).await),
            Transport::Udp => dispatch::identify_udp(addr, target.port, ctx).await,
        }
    };
    match timeout(settings.examine_limit, work).await {
        Ok(result) => result.map(|result| (target, result)),
        Err(_) => {
            tracing::warn!(port = target.port, "examination took too long: abandoned");
            None
        }
    }
}
