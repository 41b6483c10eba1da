//! The live sensor: one capture thread runs the engine on the packets of
//! the configured interfaces and, every batch interval, drains it into the
//! spool and saves a checkpoint; one delivery thread sends the committed
//! batches to the observatory, its heartbeats, and fetches the lists.
//!
//! Exactly-once counting rests on three rules: a batch is spooled before
//! the checkpoint that follows it is saved; only batches below the saved
//! checkpoint's sequence are ever sent; on start, spooled batches at or
//! above it are discarded, because the restored open incidents supersede
//! them. The observatory stores each (sensor, seq) once.
//!
//! What it must not do: stall the packet path on the disk or the network
//! (both happen on the delivery thread, except the small batch write once
//! a minute), or send anything but reports, heartbeats and list requests.

mod delivery;
mod setup;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use vigie_core::{ListVersion, Report};
use vigie_lists::Intel;

use crate::engine::Engine;
use crate::incidents::{NANOS_PER_SEC, Nanos};
use crate::live::capture::{KernelStats, LiveCapture};
use crate::live::checkpoint::{self, SensorState};
use crate::live::filter::Blocker;
use crate::live::spool::Spool;
use crate::live::territory::TerritoryList;

pub use setup::{DaemonError, run};

/// What the delivery thread reads of the capture side for heartbeats.
#[derive(Clone, Debug, Default)]
pub struct Health {
    pub packets: u64,
    pub bytes: u64,
    pub kernel: KernelStats,
    pub incidents: u64,
    pub open_incidents: u64,
    pub blocked_now: u64,
    pub lists: Vec<ListVersion>,
}

/// State both threads share.
pub(crate) struct Shared {
    pub spool: Mutex<Spool>,
    /// Batches below this sequence number are covered by a saved
    /// checkpoint and may be sent.
    pub committed: AtomicU64,
    pub health: Mutex<Health>,
    /// Set by SIGTERM/SIGINT: the capture thread writes its last batch.
    pub stop: Arc<AtomicBool>,
    /// Set by the capture thread once its last batch is committed: the
    /// delivery thread then flushes what it can and ends.
    pub capture_done: AtomicBool,
}

/// The capture side: engine, capture, blocker, and the batch bookkeeping.
pub(crate) struct CaptureLoop {
    pub engine: Engine,
    pub capture: LiveCapture,
    pub blocker: Option<Blocker>,
    pub intel: Arc<Intel>,
    pub new_intel: Receiver<(Arc<Intel>, Vec<ListVersion>)>,
    /// The territory list (issue 16) and its updates from the delivery
    /// thread.
    pub territory: TerritoryList,
    pub defence: Receiver<vigie_core::defence::Update>,
    pub kick: Sender<()>,
    pub shared: Arc<Shared>,
    pub state_path: PathBuf,
    pub next_seq: u64,
    pub incidents_total: u64,
    pub batch_interval: Nanos,
    /// Batches the spool could not take (disk full): retried first.
    pub unspooled: Vec<Report>,
    pub lists: Vec<ListVersion>,
}

impl CaptureLoop {
    /// Runs until the stop flag is raised, then writes the last batch.
    pub fn run(mut self) -> Result<(), DaemonError> {
        let mut now = wall_nanos();
        let mut next_second = now + NANOS_PER_SEC;
        let mut next_batch = now + self.batch_interval;
        while !self.shared.stop.load(Ordering::Relaxed) {
            match self.capture.next_frame() {
                Ok(Some(frame)) => {
                    self.engine
                        .process(frame.ts_nanos, frame.linktype, frame.data, frame.orig_len);
                    now = now.max(frame.ts_nanos);
                }
                Ok(None) => {
                    // A second behind the wall clock: frames still in the
                    // ring may carry times up to then.
                    now = now.max(wall_nanos() - NANOS_PER_SEC);
                    self.engine.advance(now);
                }
                Err(error) => return Err(DaemonError::Capture(error.to_string())),
            }
            if now >= next_second {
                // Packet times lag the wall clock by the ring's latency only;
                // the wall clock also moves batches on a saturated link.
                now = now.max(wall_nanos());
                self.every_second(now);
                next_second = now + NANOS_PER_SEC;
                if now >= next_batch {
                    self.batch();
                    next_batch = now + self.batch_interval;
                }
            }
        }
        self.batch();
        self.shared.capture_done.store(true, Ordering::SeqCst);
        let _ = self.kick.send(());
        Ok(())
    }

    /// Lists swap, blocking, health: work that need not be per packet.
    fn every_second(&mut self, _now: Nanos) {
        while let Ok((intel, versions)) = self.new_intel.try_recv() {
            self.engine.set_intel(Arc::clone(&intel));
            self.intel = intel;
            if let Some(blocker) = self.blocker.as_mut() {
                match blocker.reconcile(&self.intel) {
                    Ok(0) => {}
                    Ok(lifted) => log(&format!(
                        "{lifted} blocage(s) levé(s) : adresses désormais autorisées ou retirées des listes"
                    )),
                    Err(error) => log(&format!("levée des blocages impossible : {error}")),
                }
            }
            self.lists = versions;
            log(&format!(
                "listes mises à jour : {}",
                describe_lists(&self.lists)
            ));
        }
        let mut blocked_now = 0;
        if let Some(blocker) = self.blocker.as_mut() {
            let wall = Utc::now();
            while let Ok(update) = self.defence.try_recv() {
                let delta = self.territory.apply(&update, wall);
                match blocker.territory(&delta, &self.intel) {
                    Ok(_) if delta.reset => log(&format!(
                        "liste du territoire : {} adresse(s) bloquée(s)",
                        self.territory.len()
                    )),
                    Ok(_) => {}
                    Err(error) => log(&format!("liste du territoire non appliquée : {error}")),
                }
            }
            let opened = self.engine.take_opened();
            // An attack whose source the territory list already held was
            // blocked thanks to the other communes (issue 16).
            for incident in &opened {
                if incident.direction == vigie_core::Direction::Inbound
                    && incident
                        .remote
                        .is_some_and(|ip| self.territory.contains(ip, wall))
                {
                    self.territory.count_defended(wall);
                }
            }
            if !opened.is_empty()
                && let Err(error) = blocker.consider(&opened, &self.intel, wall)
            {
                log(&format!("blocage impossible : {error}"));
            }
            blocked_now = blocker.blocked_now().unwrap_or(0);
        }
        let kernel = self.capture.stats().unwrap_or_default();
        let stats = *self.engine.stats();
        if let Ok(mut health) = self.shared.health.lock() {
            health.packets = stats.packets;
            health.bytes = stats.bytes;
            health.kernel = kernel;
            health.incidents = self.incidents_total;
            health.open_incidents = self.engine.open_incidents() as u64;
            health.blocked_now = blocked_now;
            if health.lists != self.lists {
                health.lists = self.lists.clone();
            }
        }
    }

    /// Drains the engine into the next batch, spools it, then saves the
    /// checkpoint that commits it.
    fn batch(&mut self) {
        let mut report = self.engine.drain();
        report.seq = Some(self.next_seq);
        if let Some(blocker) = self.blocker.as_mut() {
            report.blocked = blocker.take_blocked_counts();
            report.defended = self.territory.take_defended();
        }
        self.incidents_total += report.incidents.len() as u64;
        self.next_seq += 1;
        self.unspooled.push(report);
        self.spool_pending();
        let mut state = SensorState::new(self.next_seq, self.engine.checkpoint());
        state.incidents_total = self.incidents_total;
        match checkpoint::save(&self.state_path, &state) {
            Ok(()) => {
                // Batches the spool refused stay below `committed` only
                // once spooled: the delivery thread reads the spool alone.
                self.shared.committed.store(self.next_seq, Ordering::SeqCst);
                let _ = self.kick.send(());
            }
            Err(error) => log(&format!(
                "point de reprise non enregistré ({error}) : les lots attendent le prochain"
            )),
        }
    }

    /// Moves the batches waiting in memory into the spool, oldest first.
    fn spool_pending(&mut self) {
        let Ok(mut spool) = self.shared.spool.lock() else {
            return;
        };
        while let Some(report) = self.unspooled.first() {
            match spool.push(report) {
                Ok(outcome) => {
                    for problem in &outcome.problems {
                        log(&format!("file d'attente : {problem}"));
                    }
                    if outcome.dropped > 0 {
                        log(&format!(
                            "file d'attente pleine : détail de {} incident(s) abandonné, comptage conservé",
                            outcome.dropped
                        ));
                    }
                    self.unspooled.remove(0);
                }
                Err(error) => {
                    log(&format!(
                        "file d'attente sur disque indisponible ({error}) : {} lot(s) gardé(s) en mémoire",
                        self.unspooled.len()
                    ));
                    return;
                }
            }
        }
    }
}

fn describe_lists(lists: &[ListVersion]) -> String {
    if lists.is_empty() {
        return "aucune".to_owned();
    }
    lists
        .iter()
        .map(|l| format!("{} v{}", l.name, l.version))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Wall-clock time in the engine's unit.
pub(crate) fn wall_nanos() -> Nanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One line on stderr (the journal under systemd), with the time.
pub(crate) fn log(message: &str) {
    eprintln!(
        "{} vigie-sensor: {message}",
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
}

/// Where the box keeps its files, from the configuration.
pub(crate) fn state_file(state_dir: &Path) -> PathBuf {
    state_dir.join("state.json")
}

pub(crate) fn seconds(secs: u64) -> Duration {
    Duration::from_secs(secs.max(1))
}
