//! The examination phase: every open TCP port and every UDP port of the
//! list, host by host (a few hosts at once at most), a few ports of a host
//! at once, each in its own task so that a module that panics or hangs
//! costs one port, not the run.
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
use crate::scope::Allowed;
use crate::target::{PortResult, Target};

pub(super) async fn examine_hosts(
    live: Vec<Allowed>,
    mut open: BTreeMap<Allowed, Vec<u16>>,
    settings: &Arc<Settings>,
    progress: &Arc<Progress>,
    collected: &Arc<Mutex<Collected>>,
) {
    let udp = settings.ports.udp.len();
    let total: usize = open.values().map(Vec::len).sum::<usize>() + live.len() * udp;
    progress.add(Stage::Checks, total as u64);
    let hosts = Arc::new(Semaphore::new(settings.hosts_at_once.max(1)));
    let mut tasks = JoinSet::new();
    for addr in live {
        let ports = open.remove(&addr).unwrap_or_default();
        let (hosts, settings) = (Arc::clone(&hosts), Arc::clone(settings));
        let (progress, collected) = (Arc::clone(progress), Arc::clone(collected));
        let span = tracing::info_span!("host", addr = %addr.addr());
        tasks.spawn(
            async move {
                let _turn = hosts.acquire_owned().await;
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
    let mut tasks = JoinSet::new();
    let udp = settings.ports.udp.iter().map(|&port| addr.udp(port));
    for target in tcp_ports.iter().map(|&port| addr.tcp(port)).chain(udp) {
        let (permits, settings) = (Arc::clone(&permits), Arc::clone(&settings));
        tasks.spawn(
            async move {
                let _slot = permits.acquire_owned().await;
                check(addr, target, &settings).await
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
async fn check(addr: Allowed, target: Target, settings: &Settings) -> Option<(Target, PortResult)> {
    let work = async {
        match target.transport {
            Transport::Tcp => Some(dispatch::identify_tcp(addr, target.port, settings).await),
            Transport::Udp => dispatch::identify_udp(addr, target.port, &settings.context).await,
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
