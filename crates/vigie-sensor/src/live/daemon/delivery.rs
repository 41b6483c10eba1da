//! The delivery thread: sends committed batches oldest first, heartbeats
//! every minute, fetches the lists every 30 minutes and, in filter mode,
//! the territory list's changes every minute (issue 16); backs off with jitter
//! when the observatory is unreachable. All the network waits happen here,
//! never on the capture thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use chrono::Utc;
use vigie_core::defence::{DEFENCE_PATH, Update};
use vigie_core::{HEARTBEAT_SCHEMA, Heartbeat, ListVersion};
use vigie_lists::Intel;

use crate::live::box_config::BoxConfig;
use crate::live::lists::ListSync;
use crate::live::uplink::{BACKOFF_START, Backoff, Delivery as Answer, Fetched, Uplink};

use super::{Shared, log, seconds};

/// How long a stopping sensor keeps trying to hand over its last batches.
const FLUSH_ON_STOP: Duration = Duration::from_secs(10);

pub(super) struct Delivery {
    uplink: Uplink,
    lists: ListSync,
    shared: Arc<Shared>,
    new_intel: Sender<(Arc<Intel>, Vec<ListVersion>)>,
    /// Territory list updates for the capture thread (filter mode only).
    defence: Option<Sender<Update>>,
    /// The cursor of the last update received (0: ask for a snapshot).
    defence_cursor: i64,
    defence_every: Duration,
    kick: Receiver<()>,
    heartbeat_every: Duration,
    lists_every: Duration,
    mode: &'static str,
    started: Instant,
    started_at: chrono::DateTime<Utc>,
    backoff: Backoff,
    /// The observatory refused the token: stop sending until restarted.
    refused: bool,
}

/// What one delivery attempt gave.
enum Step {
    /// A batch was delivered or set aside: try the next one at once.
    Progress,
    /// Nothing committed to send.
    Idle,
    /// The observatory could not be reached: wait.
    Failed,
}

impl Delivery {
    pub(super) fn new(
        config: &BoxConfig,
        uplink: Uplink,
        lists: ListSync,
        shared: Arc<Shared>,
        new_intel: Sender<(Arc<Intel>, Vec<ListVersion>)>,
        defence: Option<Sender<Update>>,
        kick: Receiver<()>,
    ) -> Delivery {
        Delivery {
            uplink,
            lists,
            shared,
            new_intel,
            defence,
            defence_cursor: 0,
            defence_every: seconds(config.observatory.defence_interval_secs),
            kick,
            heartbeat_every: seconds(config.observatory.heartbeat_interval_secs),
            lists_every: seconds(config.observatory.lists_interval_secs),
            mode: config.mode.as_str(),
            started: Instant::now(),
            started_at: Utc::now(),
            backoff: Backoff::with_bounds(
                BACKOFF_START,
                seconds(config.observatory.retry_max_secs),
            ),
            refused: false,
        }
    }

    pub(super) fn run(mut self) {
        let mut next_heartbeat = Instant::now();
        let mut next_lists = Instant::now();
        let mut next_defence = Instant::now();
        let mut retry_at = Instant::now();
        let mut stop_deadline: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if self.shared.capture_done.load(Ordering::SeqCst) {
                let deadline = *stop_deadline.get_or_insert(now + FLUSH_ON_STOP);
                if now >= deadline || self.nothing_to_send() || self.refused {
                    return;
                }
            }
            if now >= retry_at && !self.refused {
                match self.deliver_one() {
                    Step::Progress => {
                        self.backoff.reset();
                        continue;
                    }
                    Step::Idle => self.backoff.reset(),
                    Step::Failed => retry_at = now + self.backoff.next_delay(),
                }
            }
            if now >= next_heartbeat {
                self.heartbeat();
                next_heartbeat = now + self.heartbeat_every;
            }
            if now >= next_lists {
                self.sync_lists();
                next_lists = now + self.lists_every;
            }
            if self.defence.is_some() && now >= next_defence && !self.refused {
                self.sync_defence();
                next_defence = now + self.defence_every;
            }
            let wake = [retry_at, next_heartbeat, next_lists, next_defence]
                .into_iter()
                .filter(|at| *at > now)
                .min()
                .unwrap_or(now + Duration::from_secs(1));
            let wait = wake
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1));
            match self.kick.recv_timeout(wait) {
                // A new batch: try at once unless backing off.
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    if stop_deadline.is_none() {
                        stop_deadline = Some(Instant::now() + FLUSH_ON_STOP);
                    }
                }
            }
        }
    }

    fn nothing_to_send(&self) -> bool {
        self.shared
            .spool
            .lock()
            .map(|spool| spool.oldest().is_none())
            .unwrap_or(true)
    }

    /// Sends the oldest committed batch.
    fn deliver_one(&mut self) -> Step {
        let committed = self.shared.committed.load(Ordering::SeqCst);
        let batch = {
            let Ok(spool) = self.shared.spool.lock() else {
                return Step::Failed;
            };
            match spool.oldest() {
                Some(seq) if seq < committed => spool.read(seq).map(|body| (seq, body)),
                _ => return Step::Idle,
            }
        };
        let (seq, body) = match batch {
            Ok(batch) => batch,
            Err(error) => {
                log(&format!("lot illisible dans la file d'attente : {error}"));
                return Step::Failed;
            }
        };
        match self.uplink.send_report(&body) {
            Ok(answer) => {
                if let Ok(mut spool) = self.shared.spool.lock()
                    && let Err(error) = spool.ack(seq)
                {
                    log(&format!(
                        "lot {seq} livré mais non retiré de la file : {error}"
                    ));
                }
                if matches!(answer, Answer::Duplicate) {
                    log(&format!("lot {seq} déjà reçu par l'observatoire"));
                }
                Step::Progress
            }
            Err(error) if error.is_retryable() => {
                log(&format!(
                    "observatoire injoignable, nouvel essai plus tard : {error}"
                ));
                Step::Failed
            }
            Err(error) if error.is_unauthorized() => {
                log(&format!(
                    "l'observatoire refuse le jeton de ce boîtier ({error}) : plus aucun envoi ; réenrôlez le boîtier"
                ));
                self.refused = true;
                Step::Failed
            }
            Err(error) => {
                log(&format!(
                    "lot {seq} refusé par l'observatoire, mis de côté : {error}"
                ));
                if let Ok(mut spool) = self.shared.spool.lock()
                    && let Err(e) = spool.reject(seq, &error.to_string())
                {
                    log(&format!("lot {seq} impossible à mettre de côté : {e}"));
                    return Step::Failed;
                }
                Step::Progress
            }
        }
    }

    fn heartbeat(&mut self) {
        if self.refused {
            return;
        }
        let health = self
            .shared
            .health
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default();
        let (spool_batches, spool_bytes, dropped) = self
            .shared
            .spool
            .lock()
            .map(|s| (s.len() as u64, s.bytes(), s.dropped_total()))
            .unwrap_or_default();
        let heartbeat = Heartbeat {
            schema: HEARTBEAT_SCHEMA.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            mode: self.mode.to_owned(),
            started_at: self.started_at,
            uptime_secs: self.started.elapsed().as_secs(),
            packets: health.packets,
            bytes: health.bytes,
            kernel_drops: health.kernel.dropped,
            interface_drops: health.kernel.if_dropped,
            incidents: health.incidents,
            open_incidents: health.open_incidents,
            spool_batches,
            spool_bytes,
            dropped_incidents: dropped,
            blocked_now: health.blocked_now,
            lists: health.lists,
        };
        if let Err(error) = self.uplink.heartbeat(&heartbeat) {
            log(&format!("signal de vie non transmis : {error}"));
        }
    }

    /// Fetches the territory list's changes since the last cursor; `304`
    /// costs nothing more. The body is parsed here, bounded, and the
    /// update handed to the capture thread, which blocks.
    fn sync_defence(&mut self) {
        let Some(sender) = &self.defence else {
            return;
        };
        let path = format!("{DEFENCE_PATH}?since={}", self.defence_cursor);
        match self.uplink.get(&path, None) {
            Ok(Fetched::NotModified) => {}
            Ok(Fetched::Body { bytes, .. }) => match vigie_core::defence::parse(&bytes) {
                Ok(update) => {
                    self.defence_cursor = update.cursor;
                    let _ = sender.send(update);
                }
                Err(error) => log(&format!("liste du territoire illisible : {error}")),
            },
            Err(error) => log(&format!("liste du territoire non mise à jour : {error}")),
        }
    }

    /// Fetches the lists' changes; a new set is built here, off the packet
    /// path, and handed to the capture thread whole.
    fn sync_lists(&mut self) {
        let uplink = &self.uplink;
        let mut get = |path: &str, etag: Option<&str>| match uplink.get(path, etag) {
            Ok(Fetched::NotModified) => Ok(None),
            Ok(Fetched::Body { bytes, etag }) => Ok(Some((bytes, etag))),
            Err(error) => Err(error.to_string()),
        };
        match self.lists.sync(&mut get) {
            Ok(Some((intel, versions))) => {
                let _ = self.new_intel.send((Arc::new(intel), versions));
            }
            Ok(None) => {}
            Err(error) => log(&format!("listes non mises à jour : {error}")),
        }
    }
}
