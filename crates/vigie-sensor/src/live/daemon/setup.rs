//! Starting the live sensor: configuration, capture and filter opened while
//! privileged, privileges dropped, state restored, threads started.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use vigie_lists::Intel;

use crate::engine::{Engine, Settings};
use crate::homenet::HomeNet;
use crate::live::box_config::{self, BoxConfig, FilterFamily, Mode};
use crate::live::capture::{CaptureOptions, LiveCapture};
use crate::live::checkpoint;
use crate::live::filter::{Blocker, Family, FilterOptions};
use crate::live::lists::ListSync;
use crate::live::privilege::drop_privileges;
use crate::live::spool::Spool;
use crate::signatures::Signatures;

use super::delivery::Delivery;
use super::{CaptureLoop, Health, Shared, log, state_file, wall_nanos};

/// Why the sensor could not start or had to stop; each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Config(String),
    #[error("capture : {0}")]
    Capture(String),
    #[error("filtrage : {0}")]
    Filter(String),
    #[error("droits : {0}")]
    Privileges(String),
    #[error("état du capteur : {0}")]
    State(String),
    #[error("lien avec l'observatoire : {0}")]
    Uplink(String),
}

/// Runs the sensor of `config` until `stop` is raised (SIGTERM, SIGINT).
pub fn run(config: &BoxConfig, stop: Arc<AtomicBool>) -> Result<(), DaemonError> {
    let token = box_config::read_token(&config.observatory.token_file)
        .map_err(|e| DaemonError::Config(e.to_string()))?;
    let capture = LiveCapture::open(&capture_options(config))
        .map_err(|e| DaemonError::Capture(e.to_string()))?;
    let home = HomeNet::new(config.network.home_nets.clone());
    let blocker = match config.mode {
        Mode::Filter => Some(
            Blocker::setup(filter_options(config), home.clone())
                .map_err(|e| DaemonError::Filter(e.to_string()))?,
        ),
        Mode::Observe => None,
    };
    let keep = match config.mode {
        Mode::Filter => vec![caps::Capability::CAP_NET_ADMIN],
        Mode::Observe => Vec::new(),
    };
    drop_privileges(&config.capture.user, &keep)
        .map_err(|e| DaemonError::Privileges(e.to_string()))?;
    // Created after the drop, so the unprivileged sensor owns its files.
    let host_key = box_config::load_or_create_host_key(&config.host_key_path())
        .map_err(|e| DaemonError::State(e.to_string()))?;
    let state_path = state_file(&config.storage.state_dir);
    let saved = checkpoint::load(&state_path).map_err(|e| DaemonError::State(e.to_string()))?;
    let mut spool = Spool::open(&config.storage.spool_dir, config.storage.spool_max_bytes())
        .map_err(|e| DaemonError::State(e.to_string()))?;
    let lists = ListSync::open(&config.storage.state_dir.join("lists"))
        .map_err(|e| DaemonError::State(e.to_string()))?;
    if let Some(problem) = lists.cache_problem() {
        log(&format!(
            "cache des listes abîmé ({problem}) : il sera refait"
        ));
    }
    let (intel, versions) = match lists.load_cached() {
        Ok(loaded) => loaded,
        Err(error) => {
            log(&format!(
                "listes en cache illisibles ({error}) : démarrage sans liste"
            ));
            (Intel::empty(), Vec::new())
        }
    };
    let intel = Arc::new(intel);
    let mut engine = Engine::new(Settings {
        config: config.detection.clone(),
        home,
        intel: Arc::clone(&intel),
        signatures: Arc::new(Signatures::builtin()),
        host_key,
    });
    engine.watch_openings(blocker.is_some());
    let (next_seq, incidents_total) = match saved {
        Some(state) => {
            spool
                .discard_from(state.next_seq)
                .map_err(|e| DaemonError::State(e.to_string()))?;
            let next = state.next_seq;
            let total = state.incidents_total;
            engine.restore(state.engine);
            log(&format!(
                "reprise au lot {next} avec {} incident(s) en cours",
                engine.open_incidents()
            ));
            (next, total)
        }
        // A new box (or a lost state file) starts its numbering at the
        // clock in milliseconds: above any number it may have used before,
        // so the observatory never takes a new batch for an old one.
        None => {
            let from_clock = u64::try_from(wall_nanos() / 1_000_000).unwrap_or(0);
            let after_spool = spool.newest().map_or(0, |seq| seq + 1);
            (from_clock.max(after_spool), 0)
        }
    };
    if saved_is_fresh(&state_path) {
        // Commit the numbering so a crash before the first batch cannot
        // reuse it.
        let state = checkpoint::SensorState::new(next_seq, engine.checkpoint());
        checkpoint::save(&state_path, &state).map_err(|e| DaemonError::State(e.to_string()))?;
    }

    let uplink = config
        .observatory
        .uplink(Some(token))
        .map_err(|e| DaemonError::Uplink(e.to_string()))?;
    let shared = Arc::new(Shared {
        spool: Mutex::new(spool),
        committed: AtomicU64::new(next_seq),
        health: Mutex::new(Health {
            lists: versions.clone(),
            ..Health::default()
        }),
        stop: Arc::clone(&stop),
        capture_done: AtomicBool::new(false),
    });
    let (intel_tx, intel_rx) = mpsc::channel();
    let (kick_tx, kick_rx) = mpsc::channel();
    let (defence_tx, defence_rx) = mpsc::channel();
    let delivery = Delivery::new(
        config,
        uplink,
        lists,
        Arc::clone(&shared),
        intel_tx,
        blocker.is_some().then_some(defence_tx),
        kick_rx,
    );
    let delivery_thread = std::thread::Builder::new()
        .name("vigie-delivery".into())
        .spawn(move || delivery.run())
        .map_err(|e| DaemonError::State(e.to_string()))?;
    log(&format!(
        "en service : commune {}, interfaces {}, mode {}, observatoire {}",
        config.commune.as_deref().unwrap_or("non renseignée"),
        config.capture.interfaces.join(", "),
        config.mode.as_str(),
        config.observatory.url
    ));
    let capture_loop = CaptureLoop {
        engine,
        capture,
        blocker,
        intel,
        new_intel: intel_rx,
        territory: crate::live::territory::TerritoryList::default(),
        defence: defence_rx,
        kick: kick_tx,
        shared: Arc::clone(&shared),
        state_path,
        next_seq,
        incidents_total,
        batch_interval: i64::try_from(config.observatory.batch_interval_secs.max(1)).unwrap_or(60)
            * crate::incidents::NANOS_PER_SEC,
        unspooled: Vec::new(),
        lists: versions,
    };
    let outcome = capture_loop.run();
    if outcome.is_err() {
        shared.capture_done.store(true, Ordering::SeqCst);
    }
    let _ = delivery_thread.join();
    log("arrêté");
    outcome
}

fn saved_is_fresh(state_path: &Path) -> bool {
    !state_path.exists()
}

fn capture_options(config: &BoxConfig) -> CaptureOptions {
    CaptureOptions {
        interfaces: config.capture.interfaces.clone(),
        bpf: config.capture.bpf.clone(),
        buffer_bytes: i32::try_from(u64::from(config.capture.buffer_mib) * 1024 * 1024)
            .unwrap_or(i32::MAX),
        ..CaptureOptions::default()
    }
}

fn filter_options(config: &BoxConfig) -> FilterOptions {
    let filter = &config.filter;
    let secs = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
    FilterOptions {
        family: match filter.family {
            FilterFamily::Inet => Family::Inet,
            FilterFamily::Bridge => Family::Bridge,
        },
        table: filter.table.clone(),
        reputation_secs: secs(filter.reputation_secs),
        brute_force_secs: secs(filter.brute_force_secs),
        scan_secs: secs(filter.scan_secs),
        netns: None,
    }
}
