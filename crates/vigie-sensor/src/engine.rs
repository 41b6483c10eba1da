//! The engine: takes packets one by one (from a capture file now, a live
//! interface later, unchanged), decodes them, tells inbound from outbound,
//! keeps the flow table, and hands each packet to the detectors that care.
//! `finish` closes every open incident and returns the report.
//!
//! Everything is driven by capture time, never by the wall clock, so the
//! same capture always gives the same report. What a live sensor needs on
//! top (checkpoint and restore, time passing without packets, threat lists
//! swapped, openings watched) is in `engine/state.rs`.

mod state;

use std::io::Read;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vigie_core::{Direction, Report};
use vigie_lists::Intel;

use crate::capture::{CaptureError, CaptureReader};
use crate::config::Config;
use crate::decode::{self, DecodeError, LinkType, Packet, TcpFlags, Transport, dns, http, tls};
use crate::detect::brute_force::BruteForceDetector;
use crate::detect::dns::DnsDetector;
use crate::detect::flood::{FloodDetector, FloodKind};
use crate::detect::probe::{ProbeDetector, Technique};
use crate::detect::reputation::{NameSource, ReputationDetector};
use crate::detect::web::WebDetector;
use crate::flow::{self, FlowState, FlowTable};
use crate::homenet::{HomeNet, Side};
use crate::incidents::{IncidentBook, NANOS_PER_SEC, Nanos, to_utc};
use crate::signatures::Signatures;

pub use crate::incidents::Opened;
pub use state::EngineState;

/// What the engine is built from.
pub struct Settings {
    pub config: Config,
    pub home: HomeNet,
    pub intel: Arc<Intel>,
    pub signatures: Arc<Signatures>,
    /// Keys the hash standing for internal hosts in outbound incidents.
    pub host_key: [u8; 32],
}

impl Default for Settings {
    /// Default thresholds, the private ranges as home, no threat list, the
    /// built-in signatures and a random host key.
    fn default() -> Self {
        Settings {
            config: Config::default(),
            home: HomeNet::default(),
            intel: Arc::new(Intel::empty()),
            signatures: Arc::new(Signatures::builtin()),
            host_key: random_key(),
        }
    }
}

/// A fresh random key; falls back to a time-derived one if the system has
/// no randomness to give, which only weakens the hash's secrecy.
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    if getrandom::fill(&mut key).is_err() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        key = *blake3::hash(&now.to_le_bytes()).as_bytes();
    }
    key
}

/// Counters of what went through the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// Frames whose headers could not be decoded.
    pub malformed: u64,
    /// Frames that are not IP (ARP, LLDP...).
    pub not_ip: u64,
    /// Frames of a link type we do not decode.
    pub unsupported_link: u64,
    pub first_ts: Option<Nanos>,
    pub last_ts: Option<Nanos>,
}

pub struct Engine {
    home: HomeNet,
    flows: FlowTable,
    probes: ProbeDetector,
    brute_force: BruteForceDetector,
    web: WebDetector,
    flood: FloodDetector,
    reputation: ReputationDetector,
    dns: DnsDetector,
    book: IncidentBook,
    stats: Stats,
    /// The counters at the previous drain, and the first packet since.
    drained: Stats,
    period_first_ts: Option<Nanos>,
    next_tick: Nanos,
}

/// One packet placed relative to the commune.
#[derive(Clone, Copy)]
struct Parties {
    remote: IpAddr,
    local: IpAddr,
    /// The packet travels from outside in.
    inbound: bool,
}

impl Engine {
    pub fn new(settings: Settings) -> Engine {
        let Settings {
            config,
            home,
            intel,
            signatures,
            host_key,
        } = settings;
        let capacity = config.limits.trackers;
        let services = config.auth_services();
        Engine {
            home,
            flows: FlowTable::new(config.limits.flows),
            probes: ProbeDetector::new(config.scan.clone(), config.sweep.clone(), capacity),
            brute_force: BruteForceDetector::new(config.brute_force.clone(), &services, capacity),
            web: WebDetector::new(config.web_exploit.clone(), signatures),
            flood: FloodDetector::new(config.flood.clone(), capacity),
            reputation: ReputationDetector::new(config.reputation.clone(), intel),
            dns: DnsDetector::new(config.suspicious_dns.clone(), capacity),
            book: IncidentBook::new(host_key),
            stats: Stats::default(),
            drained: Stats::default(),
            period_first_ts: None,
            next_tick: i64::MIN,
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Flows currently held (bounded by the configured limit).
    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    /// Reads every frame of a capture. On a read error the frames before it
    /// have been analysed; the caller decides whether to report them.
    pub fn read_capture<R: Read>(
        &mut self,
        reader: &mut CaptureReader<R>,
    ) -> Result<(), CaptureError> {
        while let Some(frame) = reader.next_frame()? {
            self.process(frame.ts_nanos, frame.linktype, frame.data, frame.orig_len);
        }
        Ok(())
    }

    /// Analyses one frame captured at `ts` (nanoseconds since the epoch).
    pub fn process(&mut self, ts: Nanos, linktype: u32, frame: &[u8], wire_len: u32) {
        let stats = &mut self.stats;
        stats.packets += 1;
        stats.bytes += u64::from(wire_len.max(frame.len() as u32));
        stats.first_ts = Some(stats.first_ts.map_or(ts, |first| first.min(ts)));
        self.period_first_ts = Some(self.period_first_ts.map_or(ts, |first| first.min(ts)));
        stats.last_ts = Some(stats.last_ts.map_or(ts, |last| last.max(ts)));
        if ts >= self.next_tick {
            self.tick(ts);
        }
        let Some(link) = LinkType::from_pcap(linktype) else {
            self.stats.unsupported_link += 1;
            return;
        };
        let packet = match decode::decode(link, frame) {
            Ok(packet) => packet,
            Err(DecodeError::NotIp { .. }) => {
                self.stats.not_ip += 1;
                return;
            }
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        let parties = match (self.home.side(packet.src), self.home.side(packet.dst)) {
            (Side::External, Side::Home) => Parties {
                remote: packet.src,
                local: packet.dst,
                inbound: true,
            },
            (Side::Home, Side::External) => Parties {
                remote: packet.dst,
                local: packet.src,
                inbound: false,
            },
            // Machines asking the town hall's own resolver (often the
            // internet box): their queries are the commune's DNS too.
            (Side::Home, Side::Home) => return self.internal(ts, &packet),
            _ => return,
        };
        self.flow_packet(ts, &packet, parties);
    }

    /// Closes idle incidents and settles flood meters, once per second of
    /// capture time.
    fn tick(&mut self, now: Nanos) {
        self.flood.tick(&mut self.book, now);
        self.book.close_idle(now);
        self.next_tick = now.saturating_add(NANOS_PER_SEC);
    }

    /// Ends the analysis: closes all incidents and builds the report.
    pub fn finish(mut self) -> Report {
        let end = self.stats.last_ts.unwrap_or(0);
        self.flood
            .tick(&mut self.book, end.saturating_add(2 * NANOS_PER_SEC));
        self.book.close_all();
        self.drain()
    }

    /// The next batch of a live sensor: the incidents closed since the
    /// previous drain and the traffic seen since then. Open incidents stay
    /// in the engine and come in the batch after they close, so the batches
    /// of a run add up exactly to the report of the whole run: nothing
    /// counted twice, nothing lost.
    pub fn drain(&mut self) -> Report {
        let (incidents, daily) = self.book.take_closed();
        let since = self.drained;
        let mut report = Report::empty();
        report.packets = self.stats.packets - since.packets;
        report.bytes = self.stats.bytes - since.bytes;
        report.malformed = self.stats.malformed - since.malformed;
        if report.packets > 0 {
            report.first_seen = self.period_first_ts.map(to_utc);
            report.last_seen = self.stats.last_ts.map(to_utc);
        }
        report.incidents = incidents;
        report.daily = daily;
        self.drained = self.stats;
        self.period_first_ts = None;
        report
    }

    fn internal(&mut self, now: Nanos, packet: &Packet<'_>) {
        if let Some(query) = dns_query(packet) {
            self.dns_query(now, packet.src, None, &query);
        }
    }

    fn flow_packet(&mut self, now: Nanos, packet: &Packet<'_>, parties: Parties) {
        let tracked = self.flows.track(packet, now);
        if parties.inbound {
            // Datagrams answering a conversation a commune machine opened
            // (a QUIC download, DNS replies) are no flood, however fast.
            let opened_by_remote = tracked
                .as_ref()
                .is_none_or(|(flow, _)| flow.initiator == parties.remote);
            flood_meter(
                &mut self.flood,
                &mut self.book,
                now,
                packet,
                parties,
                opened_by_remote,
            );
        }
        let Some((flow, view)) = tracked else {
            return;
        };
        if parties.inbound
            && flow.half_open
            && !view.is_new
            && flow::completes_handshake(packet, flow)
        {
            flow.half_open = false;
            if let Transport::Tcp(tcp) = packet.transport {
                self.flood
                    .completed(&mut self.book, now, parties.local, tcp.dst_port);
            }
        }
        if view.is_new {
            if self.reputation.is_active() {
                flow.reputation = self.reputation.lookup_ip(parties.remote);
                if let Some(label) = flow.reputation {
                    let direction = if flow.initiator == parties.remote {
                        Direction::Inbound
                    } else {
                        Direction::Outbound
                    };
                    self.reputation.listed_flow(
                        &mut self.book,
                        now,
                        label,
                        direction,
                        (parties.remote, parties.local),
                    );
                }
            }
            if parties.inbound
                && view.from_initiator
                && let Some((technique, port)) = probe_technique(packet)
            {
                self.probes.probe(
                    &mut self.book,
                    now,
                    parties.remote,
                    parties.local,
                    port,
                    technique,
                );
            }
        }
        match packet.transport {
            Transport::Tcp(tcp) if !tcp.payload.is_empty() && view.from_initiator => {
                if parties.inbound {
                    let target = (parties.remote, parties.local, tcp.dst_port);
                    Self::inbound_data(
                        &mut self.brute_force,
                        &mut self.web,
                        &mut self.book,
                        flow,
                        now,
                        target,
                        tcp.payload,
                    );
                } else {
                    self.outbound_data(now, parties, tcp.dst_port, tcp.payload);
                }
            }
            Transport::Tcp(tcp)
                if !tcp.payload.is_empty()
                    && !parties.inbound
                    && flow.initiator == parties.remote =>
            {
                let target = (parties.remote, parties.local, tcp.src_port);
                if self.brute_force.is_login_port(tcp.src_port) {
                    self.brute_force.server_data(
                        &mut self.book,
                        flow,
                        now,
                        target,
                        tcp.payload.len(),
                    );
                }
            }
            Transport::Udp(_) if !parties.inbound => {
                if let Some(query) = dns_query(packet) {
                    self.dns_query(now, parties.local, Some(parties.remote), &query);
                }
            }
            _ => {}
        }
    }

    /// Client data from outside to a commune server: logins and web requests.
    fn inbound_data(
        brute_force: &mut BruteForceDetector,
        web: &mut WebDetector,
        book: &mut IncidentBook,
        flow: &mut FlowState,
        now: Nanos,
        target: (IpAddr, IpAddr, u16),
        payload: &[u8],
    ) {
        let (remote, _, port) = target;
        if brute_force.is_login_port(port) {
            brute_force.client_data(book, flow, now, target, payload);
        } else if http::looks_like_request(payload)
            && let Ok(request) = http::parse_request(payload)
        {
            brute_force.http_request(book, now, target, request.method, request.target);
            web.request(book, now, remote, port, &request);
        }
    }

    /// Client data from a commune machine to outside: only the names it
    /// contacts are looked at, and only against the threat lists.
    fn outbound_data(&mut self, now: Nanos, parties: Parties, port: u16, payload: &[u8]) {
        if port == 53 {
            if let Ok(query) = dns::parse_tcp(payload) {
                self.dns_query(now, parties.local, Some(parties.remote), &query);
            }
            return;
        }
        if !self.reputation.is_active() {
            return;
        }
        let contacted = if tls::looks_like_client_hello(payload) {
            tls::client_hello_sni(payload)
                .ok()
                .flatten()
                .map(|sni| (sni, NameSource::TlsSni))
        } else if http::looks_like_request(payload) {
            http::parse_request(payload)
                .ok()
                .and_then(|request| request.header("host"))
                .map(|host| (strip_port(host), NameSource::HttpHost))
        } else {
            None
        };
        let Some((name, source)) = contacted else {
            return;
        };
        // Names are matched lowercased (RFC 4343); at most 253 characters.
        let mut lowered = [0u8; 253];
        let Some(slot) = lowered.get_mut(..name.len()) else {
            return;
        };
        slot.copy_from_slice(name);
        slot.make_ascii_lowercase();
        self.reputation.name(
            &mut self.book,
            now,
            source,
            slot,
            parties.local,
            Some(parties.remote),
        );
    }

    fn dns_query(
        &mut self,
        now: Nanos,
        client: IpAddr,
        server: Option<IpAddr>,
        query: &dns::Query,
    ) {
        if query.is_response || query.opcode != 0 {
            return;
        }
        if self.reputation.is_active() {
            self.reputation.name(
                &mut self.book,
                now,
                NameSource::Dns,
                query.name(),
                client,
                server,
            );
        }
        self.dns.query(&mut self.book, now, client, query);
    }
}

/// Meters the packets that can make a flood towards a commune machine.
fn flood_meter(
    flood: &mut FloodDetector,
    book: &mut IncidentBook,
    now: Nanos,
    packet: &Packet<'_>,
    parties: Parties,
    opened_by_remote: bool,
) {
    let (kind, port) = match packet.transport {
        Transport::Tcp(tcp) if tcp.flags.syn() && !tcp.flags.ack() => {
            (FloodKind::Syn, tcp.dst_port)
        }
        Transport::Udp(udp) if opened_by_remote => (FloodKind::Udp, udp.dst_port),
        Transport::Icmp(icmp) if icmp.is_echo_request() => (FloodKind::Icmp, 0),
        _ => return,
    };
    flood.packet(book, now, kind, parties.remote, parties.local, port);
}

/// A DNS query over UDP to port 53 (RFC 1035 §4.2.1).
fn dns_query(packet: &Packet<'_>) -> Option<dns::Query> {
    match packet.transport {
        Transport::Udp(udp) if udp.dst_port == 53 => dns::parse(udp.payload).ok(),
        _ => None,
    }
}

/// How a packet that opens a conversation from outside probes, and which
/// port it probes.
fn probe_technique(packet: &Packet<'_>) -> Option<(Technique, u16)> {
    match packet.transport {
        Transport::Tcp(tcp) => {
            let flags = tcp.flags.0
                & (TcpFlags::SYN
                    | TcpFlags::ACK
                    | TcpFlags::FIN
                    | TcpFlags::RST
                    | TcpFlags::PSH
                    | TcpFlags::URG);
            let technique = match flags {
                f if f & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN => Technique::Syn,
                TcpFlags::FIN => Technique::Fin,
                0 => Technique::Null,
                f if f == TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG => Technique::Xmas,
                _ => return None,
            };
            Some((technique, tcp.dst_port))
        }
        Transport::Udp(udp) => Some((Technique::Udp, udp.dst_port)),
        Transport::Icmp(icmp) if icmp.is_echo_request() => Some((Technique::IcmpEcho, 0)),
        _ => None,
    }
}

/// `host:port` → `host` (RFC 9110 §7.2), leaving IPv6 literals alone.
fn strip_port(host: &[u8]) -> &[u8] {
    if host.first() == Some(&b'[') {
        return host;
    }
    match host.iter().rposition(|&b| b == b':') {
        Some(i) => host.get(..i).unwrap_or(host),
        None => host,
    }
}
