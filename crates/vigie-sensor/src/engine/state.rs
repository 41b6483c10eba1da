//! What a live sensor needs from the engine beyond `process` and `drain`:
//! its state saved and restored across restarts, wall-clock time passing
//! when no packet comes, threat lists swapped while it runs, and the
//! incidents that just opened (filter mode). None of it changes how a
//! capture file is analysed.
//!
//! What it must not do: let the saved state leave the box (it holds
//! internal addresses, see [`BookState`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vigie_lists::Intel;

use super::{Engine, Stats};
use crate::incidents::{BookState, Nanos, Opened};

/// What a live sensor saves to continue where it stopped: the incidents
/// still open (and any closed but not drained yet), and the counters with
/// the marker of the previous drain, so that the first drain after a
/// restore counts exactly the packets seen since the last drain before the
/// save. Written only to the checkpoint file on the box: incident keys
/// hold internal addresses.
///
/// The detectors' candidate windows, the flood meters and the flow table
/// are not saved: they hold seconds to minutes of traffic and are rebuilt
/// by it. The usual rates the flood detector learned over an hour are
/// (three numbers; a state saved before them restores none). An attack going on across a restart extends its saved incident
/// (one incident, not two) once its detector sees it cross the threshold
/// again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EngineState {
    book: BookState,
    stats: Stats,
    drained: Stats,
    period_first_ts: Option<Nanos>,
    #[serde(default)]
    flood_baseline: Option<[f64; 3]>,
}

impl EngineState {
    /// Incidents open when the state was saved.
    pub fn open_incidents(&self) -> usize {
        self.book.open_count()
    }

    /// The engine's cumulative counters when the state was saved.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Engine {
    /// The state to save. The daemon drains before it saves, so no closed
    /// incident is normally waiting; any that is, is saved too.
    pub fn checkpoint(&self) -> EngineState {
        EngineState {
            book: self.book.checkpoint(),
            stats: self.stats,
            drained: self.drained,
            period_first_ts: self.period_first_ts,
            flood_baseline: Some(self.flood.baseline()),
        }
    }

    /// Continues from a saved state; meant for a fresh engine built from
    /// the same settings (above all the same host key, or hashes of
    /// internal hosts change). Replaces the engine's incidents and counters.
    pub fn restore(&mut self, state: EngineState) {
        self.book.restore(state.book);
        self.stats = state.stats;
        self.drained = state.drained;
        self.period_first_ts = state.period_first_ts;
        if let Some(means) = state.flood_baseline {
            self.flood.restore_baseline(means);
        }
        // The next packet or `advance` settles time at once: incidents
        // that went quiet while the sensor was down close then.
        self.next_tick = i64::MIN;
    }

    /// Lets time pass without a packet: settles the flood meters and closes
    /// idle incidents as a packet at `now` would, without counting one. A
    /// live sensor calls it on a quiet network so incidents still close.
    pub fn advance(&mut self, now: Nanos) {
        if now >= self.next_tick {
            self.tick(now);
        }
    }

    /// Swaps the threat lists between two packets (the new ones are built
    /// on another thread). Conversations already marked keep their mark.
    /// Returns the previous lists, to be freed off the capture thread.
    pub fn set_intel(&mut self, intel: Arc<Intel>) -> Arc<Intel> {
        self.reputation.set_intel(intel)
    }

    /// Incidents open now.
    pub fn open_incidents(&self) -> usize {
        self.book.open_count()
    }

    /// Starts or stops keeping the incidents that open, for
    /// [`take_opened`](Self::take_opened). Off by default, and then free.
    pub fn watch_openings(&mut self, on: bool) {
        self.book.watch_openings(on);
    }

    /// The incidents opened since the previous call, at most
    /// [`MAX_OPENED`](crate::incidents::MAX_OPENED): a filtering sensor
    /// blocks an attacker within a second instead of when the incident
    /// closes.
    pub fn take_opened(&mut self) -> Vec<Opened> {
        self.book.take_opened()
    }

    /// Openings left out because too many happened between two calls of
    /// [`take_opened`](Self::take_opened), since watching began.
    pub fn opened_overflow(&self) -> u64 {
        self.book.opened_overflow()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use vigie_core::{Category, Direction};

    use super::super::Settings;
    use super::*;
    use crate::decode::TcpFlags;
    use crate::incidents::NANOS_PER_SEC;
    use crate::synth::FrameBuilder;

    const T0: Nanos = 1_795_338_000 * NANOS_PER_SEC;

    /// A SYN scan of `ports` ports, one per millisecond from `start`.
    fn scan(engine: &mut Engine, start: Nanos, ports: std::ops::Range<u16>) -> Nanos {
        let mut frames = FrameBuilder::new();
        let src: SocketAddr = "203.0.113.66:40000".parse().unwrap();
        let mut now = start;
        for port in ports {
            let dst = SocketAddr::new("192.168.1.10".parse().unwrap(), port);
            let frame = frames.tcp(src, dst, TcpFlags::SYN, 1, 0, &[]);
            engine.process(now, 1, frame, frame.len() as u32);
            now += 1_000_000;
        }
        now
    }

    #[test]
    fn time_passing_without_packets_closes_incidents() {
        let mut engine = Engine::new(Settings::default());
        let end = scan(&mut engine, T0, 1..200);
        assert_eq!(engine.open_incidents(), 1);
        engine.advance(end + 10 * NANOS_PER_SEC);
        assert_eq!(engine.open_incidents(), 1);
        engine.advance(end + 3600 * NANOS_PER_SEC);
        assert_eq!(engine.open_incidents(), 0);
        let batch = engine.drain();
        assert_eq!((batch.incidents.len(), batch.packets), (1, 199));
    }

    #[test]
    fn a_restored_engine_counts_only_what_came_after_the_last_drain() {
        let mut engine = Engine::new(Settings::default());
        let mid = scan(&mut engine, T0, 1..100);
        assert_eq!(engine.drain().packets, 99);
        let end = scan(&mut engine, mid, 100..150);
        let text = serde_json::to_string(&engine.checkpoint()).unwrap();
        let state: EngineState = serde_json::from_str(&text).unwrap();
        assert_eq!((state.open_incidents(), state.stats().packets), (1, 149));

        let mut restored = Engine::new(Settings::default());
        restored.restore(state);
        scan(&mut restored, end, 150..300);
        let report = restored.finish();
        assert_eq!(report.packets, 50 + 150);
        assert_eq!(report.incidents.len(), 1);
        assert_eq!(report.incidents[0].events, 299);
    }

    #[test]
    fn openings_are_seen_as_they_happen() {
        let mut engine = Engine::new(Settings::default());
        engine.watch_openings(true);
        scan(&mut engine, T0, 1..200);
        let opened = engine.take_opened();
        assert_eq!(opened.len(), 1);
        assert_eq!(
            (opened[0].category, opened[0].direction, opened[0].remote),
            (
                Category::Scan,
                Direction::Inbound,
                Some("203.0.113.66".parse().unwrap())
            )
        );
        assert!(engine.take_opened().is_empty());
        assert_eq!(engine.opened_overflow(), 0);
    }

    #[test]
    fn new_lists_apply_to_the_next_packets() {
        let mut engine = Engine::new(Settings::default());
        let mut builder = Intel::builder();
        builder.add_list("attackers", "203.0.113.66\n");
        let previous = engine.set_intel(Arc::new(builder.build()));
        assert!(previous.is_empty());
        scan(&mut engine, T0, 1..3);
        let report = engine.finish();
        assert!(
            report
                .incidents
                .iter()
                .any(|i| i.category == Category::Reputation),
            "{:#?}",
            report.incidents
        );
    }
}
