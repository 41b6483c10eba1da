//! Floods: packets towards one commune target at a rate above the
//! threshold (SYN per host and port, UDP per host, ICMP echo per host).
//!
//! Rates are counted per whole second of capture time. A flood opens when
//! a second goes over the rate, counts every packet while it lasts
//! (including the second that led into it), and closes after `idle` seconds
//! under the rate. A flood from one source reports it; a flood from many
//! (spoofed) sources reports none, as it would name innocent addresses.

use std::net::IpAddr;

use vigie_core::{Category, Direction};

use super::table::BoundedMap;
use crate::config::FloodConfig;
use crate::incidents::{Details, IncidentBook, IncidentKey, NANOS_PER_SEC, Nanos, Rule};

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
    previous_second: i64,
    previous_count: u64,
    first_source: IpAddr,
    many_sources: bool,
    /// Start of the flood while one is open.
    flooding_since: Option<Nanos>,
    last_busy_second: i64,
    last_packet: Nanos,
}

pub struct FloodDetector {
    config: FloodConfig,
    meters: BoundedMap<Key, Meter>,
}

impl FloodDetector {
    pub fn new(config: FloodConfig, capacity: usize) -> Self {
        FloodDetector {
            config,
            meters: BoundedMap::new(capacity),
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
        let (meter, _) = self
            .meters
            .get_or_insert_with(key, || Meter::new(second, remote));
        if meter.second != second {
            Self::settle(&self.config, book, &key, meter);
            meter.previous_second = meter.second;
            meter.previous_count = meter.count;
            meter.second = second;
            meter.count = 0;
        }
        meter.count += 1;
        meter.last_packet = now;
        if remote != meter.first_source {
            meter.many_sources = true;
        }
    }

    /// Settles the seconds that are over (called every second of capture
    /// time and at the end), so a flood that stops is still counted.
    pub fn tick(&mut self, book: &mut IncidentBook, now: Nanos) {
        let second = now.div_euclid(NANOS_PER_SEC);
        let config = &self.config;
        let idle = i64::from(config.idle);
        self.meters.retain(|key, meter| {
            if meter.second < second && meter.count > 0 {
                Self::settle(config, book, key, meter);
                meter.previous_second = meter.second;
                meter.previous_count = meter.count;
                meter.count = 0;
            }
            // Forget meters quiet for a while; an open flood is closed by
            // the book after its own idle time.
            second.saturating_sub(meter.second) <= idle.max(2)
        });
    }

    /// Accounts the finished second of `meter`.
    fn settle(config: &FloodConfig, book: &mut IncidentBook, key: &Key, meter: &mut Meter) {
        let threshold = u64::from(match key.kind {
            FloodKind::Syn => config.syn_per_second,
            FloodKind::Udp => config.udp_per_second,
            FloodKind::Icmp => config.icmp_per_second,
        });
        let busy = meter.count >= threshold;
        if busy {
            meter.last_busy_second = meter.second;
        }
        let mut events = meter.count;
        let start = match meter.flooding_since {
            Some(start)
                if meter.second.saturating_sub(meter.last_busy_second)
                    <= i64::from(config.idle) =>
            {
                start
            }
            _ if busy => {
                // The second that led into the flood belongs to it.
                let lead_in = meter.previous_second == meter.second - 1;
                let start_second = if lead_in {
                    meter.previous_second
                } else {
                    meter.second
                };
                if lead_in {
                    events += meter.previous_count;
                }
                meter.flooding_since = Some(start_second * NANOS_PER_SEC);
                start_second * NANOS_PER_SEC
            }
            _ => {
                meter.flooding_since = None;
                return;
            }
        };
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
            previous_second: i64::MIN,
            previous_count: 0,
            first_source: source,
            many_sources: false,
            flooding_since: None,
            last_busy_second: i64::MIN,
            last_packet: i64::MIN,
        }
    }
}
