//! Port scans and network sweeps: one source opening conversations to many
//! ports of one host (`scan`), or to one port of many hosts (`sweep`).
//!
//! A probe is a packet that opens a conversation from outside: a SYN
//! (half-open scans such as `nmap -sS` or masscan, and full connect scans
//! alike), a FIN, NULL or XMAS packet out of the blue, the first datagram of
//! a UDP exchange, an ICMP echo request. Retransmissions do not count: the
//! flow table has already seen them. Events are distinct ports (scan) or
//! distinct hosts (sweep), so a scan of 1,000 ports is one incident of 1,000.

use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;

use vigie_core::{Category, Direction};

use super::table::BoundedMap;
use super::{DistinctSet, Window};
use crate::config::{ScanConfig, SweepConfig};
use crate::incidents::{Details, IncidentBook, IncidentKey, Nanos, Rule};

/// How a probe opens its conversation; each kind is its own rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Technique {
    Syn,
    Fin,
    Null,
    Xmas,
    Udp,
    IcmpEcho,
}

impl Technique {
    fn scan_rule(self) -> &'static str {
        match self {
            Technique::Syn => "scan.syn",
            Technique::Fin => "scan.fin",
            Technique::Null => "scan.null",
            Technique::Xmas => "scan.xmas",
            Technique::Udp => "scan.udp",
            Technique::IcmpEcho => "scan.icmp",
        }
    }

    fn sweep_rule(self) -> &'static str {
        match self {
            Technique::Udp => "sweep.udp",
            Technique::IcmpEcho => "sweep.icmp",
            _ => "sweep.tcp",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ScanKey {
    remote: IpAddr,
    local: IpAddr,
    technique: Technique,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SweepKey {
    remote: IpAddr,
    technique: Technique,
    port: u16,
}

struct Candidate {
    window: Window,
    seen: DistinctSet<u64>,
}

pub struct ProbeDetector {
    scan: ScanConfig,
    sweep: SweepConfig,
    scans: BoundedMap<ScanKey, Candidate>,
    sweeps: BoundedMap<SweepKey, Candidate>,
    hasher: foldhash::fast::FixedState,
}

impl ProbeDetector {
    pub fn new(scan: ScanConfig, sweep: SweepConfig, capacity: usize) -> Self {
        ProbeDetector {
            scan,
            sweep,
            scans: BoundedMap::new(capacity),
            sweeps: BoundedMap::new(capacity),
            hasher: foldhash::fast::FixedState::with_seed(0x5eed_u64),
        }
    }

    /// A probe from `remote` to `local:port` (port 0 for ICMP).
    pub fn probe(
        &mut self,
        book: &mut IncidentBook,
        now: Nanos,
        remote: IpAddr,
        local: IpAddr,
        port: u16,
        technique: Technique,
    ) {
        self.scan_probe(book, now, remote, local, port, technique);
        let host = self.hasher.hash_one(local);
        let key = SweepKey {
            remote,
            technique,
            port: if technique == Technique::IcmpEcho {
                0
            } else {
                port
            },
        };
        let cfg = &self.sweep;
        let (candidate, _) = self.sweeps.get_or_insert_with(key, || Candidate::new(now));
        if let Some((events, start)) =
            candidate.observe(now, host, cfg.min_hosts, cfg.window, cfg.idle)
        {
            let port = (technique != Technique::IcmpEcho).then_some(port);
            book.record(
                probe_key(technique.sweep_rule(), remote, port),
                || details(Category::Sweep, cfg.severity),
                cfg.idle,
                start,
                now,
                events,
            );
        }
    }

    fn scan_probe(
        &mut self,
        book: &mut IncidentBook,
        now: Nanos,
        remote: IpAddr,
        local: IpAddr,
        port: u16,
        technique: Technique,
    ) {
        if technique == Technique::IcmpEcho {
            return;
        }
        let cfg = &self.scan;
        let key = ScanKey {
            remote,
            local,
            technique,
        };
        let (candidate, _) = self.scans.get_or_insert_with(key, || Candidate::new(now));
        if let Some((events, start)) =
            candidate.observe(now, u64::from(port), cfg.min_ports, cfg.window, cfg.idle)
        {
            // One incident per source and technique, however many hosts it
            // scans: one attack, its events summed over the hosts.
            book.record(
                probe_key(technique.scan_rule(), remote, None),
                || details(Category::Scan, cfg.severity),
                cfg.idle,
                start,
                now,
                events,
            );
        }
    }
}

impl Candidate {
    fn new(now: Nanos) -> Self {
        Candidate {
            window: Window::new(now),
            seen: DistinctSet::default(),
        }
    }

    /// Adds a probed value; returns the events to record (all of them when
    /// the threshold is crossed, then one per new value) and the start.
    fn observe(
        &mut self,
        now: Nanos,
        value: u64,
        threshold: u32,
        window: u32,
        idle: u32,
    ) -> Option<(u64, Nanos)> {
        if self.window.advance(now, window, idle) {
            self.seen = DistinctSet::default();
        }
        if !self.seen.insert(value) {
            return None;
        }
        let events = self.window.crossed(self.seen.len() as u64, threshold, 1)?;
        Some((events, self.window.start))
    }
}

fn probe_key(rule: &'static str, remote: IpAddr, port: Option<u16>) -> IncidentKey {
    IncidentKey {
        rule: Rule::Fixed(rule),
        direction: Direction::Inbound,
        remote: Some(remote),
        internal: None,
        port,
        indicator: None,
    }
}

fn details(category: Category, severity: vigie_core::Severity) -> Details {
    Details {
        category,
        severity,
        label: None,
        service: None,
        source_known: true,
    }
}
