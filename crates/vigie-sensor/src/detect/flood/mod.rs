//! Floods: packets towards one commune target at a rate above what the
//! commune's link usually carries (SYN per host and port, UDP per host,
//! ICMP echo per host).
//!
//! Two bars, per whole second of capture time (issue 16):
//! - the *town hall's*: for `sustain` seconds in a row, more than
//!   `baseline_factor` times the box's usual rate of that kind
//!   ([`baseline`]) and at least the kind's floor. For SYN it is the
//!   half-open ones that count: SYN whose handshake the client did not
//!   complete in that second, so a busy day (many visitors, every handshake
//!   completed) is no flood;
//! - the *large site's* (`syn_per_second`...): one second above it is a
//!   flood at once, completed or not.
//!
//! A flood opens when a target crosses a bar, counts every packet while it
//! lasts (including the second that led into it), and closes after `idle`
//! seconds under both. A flood from one source reports it; a flood from
//! many (spoofed) sources reports none, as it would name innocent
//! addresses.
//!
//! What it must not do: keep state per source (a spoofed flood has a
//! million), or let a flood raise the usual rate it is judged against.

mod baseline;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use vigie_core::{Category, Direction};

use super::table::BoundedMap;
use crate::config::FloodConfig;
use crate::incidents::{Details, IncidentBook, IncidentKey, NANOS_PER_SEC, Nanos, Rule};
use baseline::Baseline;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloodKind {
    Syn,
    Udp,
    Icmp,
}

impl FloodKind {
    fn rule(self) -> &'static str {
        match self {
            FloodKind::Syn => "flood.syn",
            FloodKind::Udp => "flood.udp",
            FloodKind::Icmp => "flood.icmp",
        }
    }

    fn index(self) -> usize {
        match self {
            FloodKind::Syn => 0,
            FloodKind::Udp => 1,
            FloodKind::Icmp => 2,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    local: IpAddr,
    kind: FloodKind,
    /// Only SYN floods are told apart per port.
    port: u16,
}

struct Meter {
    second: i64,
    count: u64,
    /// SYN only: handshakes the clients completed in this second.
    completed: u64,
    /// This second was accounted by a tick already.
    settled: bool,
    previous_second: i64,
    previous_count: u64,
    first_source: IpAddr,
    many_sources: bool,
    /// Seconds in a row over the town hall's bar, not yet a flood.
    run: Option<Run>,
    /// Start of the flood while one is open.
    flooding_since: Option<Nanos>,
    last_busy_second: i64,
    last_packet: Nanos,
}

#[derive(Clone, Copy)]
struct Run {
    /// The first second, lead-in included.
    start_second: i64,
    seconds: u32,
    events: u64,
}

pub struct FloodDetector {
    config: FloodConfig,
    meters: BoundedMap<Key, Meter>,
    baseline: Baseline,
}

impl FloodDetector {
    pub fn new(config: FloodConfig, capacity: usize) -> Self {
        let baseline = Baseline::new(config.baseline_secs);
        FloodDetector {
            config,
            meters: BoundedMap::new(capacity),
            baseline,
        }
    }

    pub fn packet(
        &mut self,
        book: &mut IncidentBook,
        now: Nanos,
        kind: FloodKind,
        remote: IpAddr,
        local: IpAddr,
        port: u16,
    ) {
        let key = Key {
            local,
            kind,
            port: if kind == FloodKind::Syn { port } else { 0 },
        };
        let second = now.div_euclid(NANOS_PER_SEC);
        self.baseline.count(kind, second);
        let (meter, _) = self
            .meters
            .get_or_insert_with(key, || Meter::new(second, remote));
        if meter.second != second {
            Self::next_second(&self.config, &mut self.baseline, book, &key, meter, second);
        }
        meter.count += 1;
        meter.last_packet = now;
        if remote != meter.first_source {
            meter.many_sources = true;
        }
    }

    /// A client completed its handshake with `local`:`port` (the ACK after
    /// the SYN-ACK): that SYN was no half-open connection.
    pub fn completed(&mut self, book: &mut IncidentBook, now: Nanos, local: IpAddr, port: u16) {
        let key = Key {
            local,
            kind: FloodKind::Syn,
            port,
        };
        let Some(meter) = self.meters.get_mut(&key) else {
            return;
        };
        let second = now.div_euclid(NANOS_PER_SEC);
        if meter.second < second {
            Self::next_second(&self.config, &mut self.baseline, book, &key, meter, second);
        }
        meter.completed += 1;
    }

    /// Settles the seconds that are over (called every second of capture
    /// time and at the end), so a flood that stops is still counted.
    pub fn tick(&mut self, book: &mut IncidentBook, now: Nanos) {
        let second = now.div_euclid(NANOS_PER_SEC);
        let config = &self.config;
        let baseline = &mut self.baseline;
        let idle = i64::from(config.idle);
        self.meters.retain(|key, meter| {
            if meter.second < second && !meter.settled {
                Self::settle(config, baseline, book, key, meter);
                meter.settled = true;
            }
            // Forget meters quiet for a while; an open flood is closed by
            // the book after its own idle time.
            second.saturating_sub(meter.second) <= idle.max(2)
        });
        baseline.roll(second);
    }

    /// The usual packets per second of `kind` this box has learned.
    pub fn usual_rate(&self, kind: FloodKind) -> f64 {
        self.baseline.mean(kind)
    }

    /// The learned usual rates, to save across a restart.
    pub fn baseline(&self) -> [f64; 3] {
        self.baseline.means()
    }

    /// Continues from rates saved before a restart.
    pub fn restore_baseline(&mut self, means: [f64; 3]) {
        self.baseline.restore(means);
    }

    /// The town hall's bar for `kind` now: `baseline_factor` times the
    /// usual rate, at least the floor, at most the large site's bar.
    fn town_hall_bar(config: &FloodConfig, baseline: &Baseline, kind: FloodKind) -> u64 {
        let (floor, ceiling) = match kind {
            FloodKind::Syn => (config.syn_half_open_floor, config.syn_per_second),
            FloodKind::Udp => (config.udp_floor, config.udp_per_second),
            FloodKind::Icmp => (config.icmp_floor, config.icmp_per_second),
        };
        let relative = (f64::from(config.baseline_factor) * baseline.mean(kind)).ceil();
        // `as` saturates on floats: a huge mean gives u64::MAX, then the ceiling.
        (relative as u64)
            .max(u64::from(floor))
            .min(u64::from(ceiling))
    }

    fn next_second(
        config: &FloodConfig,
        baseline: &mut Baseline,
        book: &mut IncidentBook,
        key: &Key,
        meter: &mut Meter,
        second: i64,
    ) {
        if !meter.settled {
            Self::settle(config, baseline, book, key, meter);
        }
        meter.previous_second = meter.second;
        meter.previous_count = meter.count;
        meter.second = second;
        meter.count = 0;
        meter.completed = 0;
        meter.settled = false;
    }

    /// Accounts the finished second of `meter`.
    fn settle(
        config: &FloodConfig,
        baseline: &mut Baseline,
        book: &mut IncidentBook,
        key: &Key,
        meter: &mut Meter,
    ) {
        let ceiling = u64::from(match key.kind {
            FloodKind::Syn => config.syn_per_second,
            FloodKind::Udp => config.udp_per_second,
            FloodKind::Icmp => config.icmp_per_second,
        });
        let measured = match key.kind {
            FloodKind::Syn => meter.count.saturating_sub(meter.completed),
            FloodKind::Udp | FloodKind::Icmp => meter.count,
        };
        let over_ceiling = meter.count >= ceiling;
        let busy = over_ceiling || measured >= Self::town_hall_bar(config, baseline, key.kind);
        let idle = i64::from(config.idle);
        let (start, events) = match meter.flooding_since {
            Some(start) if busy || meter.second.saturating_sub(meter.last_busy_second) <= idle => {
                (start, meter.count)
            }
            _ if busy => {
                let run = meter.extend_run();
                if !over_ceiling && run.seconds < config.sustain.max(1) {
                    meter.last_busy_second = meter.second;
                    baseline.busy(key.kind, meter.second);
                    return;
                }
                meter.run = None;
                let start = run.start_second * NANOS_PER_SEC;
                meter.flooding_since = Some(start);
                (start, run.events)
            }
            _ => {
                meter.flooding_since = None;
                meter.run = None;
                return;
            }
        };
        if busy {
            meter.last_busy_second = meter.second;
            baseline.busy(key.kind, meter.second);
        }
        Self::record(config, book, key, meter, start, events);
    }

    fn record(
        config: &FloodConfig,
        book: &mut IncidentBook,
        key: &Key,
        meter: &Meter,
        start: Nanos,
        events: u64,
    ) {
        let incident = IncidentKey {
            rule: Rule::Fixed(key.kind.rule()),
            direction: Direction::Inbound,
            remote: Some(meter.first_source),
            internal: None,
            port: (key.kind == FloodKind::Syn).then_some(key.port),
            indicator: None,
        };
        let many = meter.many_sources;
        book.record(
            incident.clone(),
            || Details {
                category: Category::Flood,
                severity: config.severity,
                label: None,
                service: None,
                source_known: !many,
            },
            config.idle.max(1),
            start,
            meter.last_packet,
            events,
        );
        if many {
            book.mark_many_sources(&incident);
        }
    }
}

impl Meter {
    fn new(second: i64, source: IpAddr) -> Self {
        Meter {
            second,
            count: 0,
            completed: 0,
            settled: false,
            previous_second: i64::MIN,
            previous_count: 0,
            first_source: source,
            many_sources: false,
            run: None,
            flooding_since: None,
            last_busy_second: i64::MIN,
            last_packet: i64::MIN,
        }
    }

    /// Adds this busy second to the run going on, or starts one (with the
    /// second that led into it, whose packets belong to the flood).
    fn extend_run(&mut self) -> Run {
        let run = match self.run {
            Some(run) if self.last_busy_second == self.second - 1 => Run {
                seconds: run.seconds + 1,
                events: run.events + self.count,
                ..run
            },
            _ if self.previous_second == self.second - 1 => Run {
                start_second: self.previous_second,
                seconds: 1,
                events: self.previous_count + self.count,
            },
            _ => Run {
                start_second: self.second,
                seconds: 1,
                events: self.count,
            },
        };
        self.run = Some(run);
        run
    }
}
