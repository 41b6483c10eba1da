//! The bounded flow table: one entry per conversation (TCP connection, UDP
//! exchange, ICMP echo), so that detectors count connections rather than
//! packets, know who opened a conversation, and look a remote address up in
//! the threat lists once per flow instead of once per packet.

use std::net::IpAddr;

use vigie_lists::LabelId;

use crate::decode::{Packet, TcpFlags, Transport};
use crate::detect::table::BoundedMap;
use crate::incidents::{NANOS_PER_SEC, Nanos};

/// A conversation seen from either side: the endpoints are stored in a
/// canonical order so both directions find the same entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    low: (IpAddr, u16),
    high: (IpAddr, u16),
    protocol: u8,
}

/// What the engine keeps per conversation.
#[derive(Clone, Copy, Debug)]
pub struct FlowState {
    /// The endpoint that opened the conversation (the client).
    pub initiator: IpAddr,
    pub first_seen: Nanos,
    pub last_seen: Nanos,
    /// The client's initial sequence number, to tell a retransmitted SYN
    /// from a new connection reusing the same ports.
    pub isn: u32,
    /// Authentication attempts already counted on this connection.
    pub attempts: u16,
    /// Clear-text login commands seen from the client.
    pub login_commands: u16,
    /// SSH: data segments the server sent, the size of its first short
    /// reply after the key exchange, and how many replies had that size.
    pub server_segments: u16,
    pub reply_size: u16,
    pub reply_count: u16,
    /// SSH: the reply that ended the tries (success or disconnect) was seen.
    pub final_reply: bool,
    /// The threat-list verdict on the remote address, looked up once.
    pub reputation: Option<LabelId>,
    /// Opened by a SYN whose handshake the client has not completed yet
    /// (a half-open connection, for the flood detector).
    pub half_open: bool,
}

/// How a packet relates to its flow.
#[derive(Clone, Copy, Debug)]
pub struct FlowView {
    /// This packet opened the flow (or a new connection on reused ports).
    pub is_new: bool,
    /// This packet was sent by the flow's initiator.
    pub from_initiator: bool,
}

/// Conversations idle this long are over: the next packet starts a new one
/// (RFC 5382 asks NATs to keep established TCP for 2 h 4 min; we only need
/// to tell attempts apart, so shorter is fine).
const TCP_IDLE: Nanos = 300 * NANOS_PER_SEC;
const OTHER_IDLE: Nanos = 60 * NANOS_PER_SEC;

pub struct FlowTable {
    flows: BoundedMap<FlowKey, FlowState>,
}

impl FlowTable {
    pub fn new(capacity: usize) -> Self {
        FlowTable {
            flows: BoundedMap::new(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Flows dropped because the table was full.
    pub fn evicted(&self) -> u64 {
        self.flows.evicted()
    }

    /// Finds or creates the flow of `packet` (TCP, UDP or ICMP echo) and
    /// updates it. `None` for packets that belong to no conversation.
    pub fn track(&mut self, packet: &Packet<'_>, now: Nanos) -> Option<(&mut FlowState, FlowView)> {
        let (src_port, dst_port, protocol, opener) = match packet.transport {
            Transport::Tcp(tcp) => (
                tcp.src_port,
                tcp.dst_port,
                6,
                tcp_opener(tcp.flags, tcp.src_port, tcp.dst_port),
            ),
            Transport::Udp(udp) => (
                udp.src_port,
                udp.dst_port,
                17,
                port_opener(udp.src_port, udp.dst_port),
            ),
            Transport::Icmp(icmp) if icmp.is_echo_request() => (0, 0, 1, Opener::Sender),
            _ => return None,
        };
        let key = FlowKey::new((packet.src, src_port), (packet.dst, dst_port), protocol);
        let initiator = match opener {
            Opener::Sender => packet.src,
            Opener::Receiver => packet.dst,
        };
        let fresh = || FlowState {
            initiator,
            first_seen: now,
            last_seen: now,
            isn: tcp_seq(packet),
            attempts: 0,
            login_commands: 0,
            server_segments: 0,
            reply_size: 0,
            reply_count: 0,
            final_reply: false,
            reputation: None,
            half_open: is_syn(packet),
        };
        let (state, created) = self.flows.get_or_insert_with(key, fresh);
        let idle = if protocol == 6 { TCP_IDLE } else { OTHER_IDLE };
        let restarted = !created
            && (now.saturating_sub(state.last_seen) > idle || is_new_connection(packet, state));
        if restarted {
            *state = fresh();
        }
        state.last_seen = state.last_seen.max(now);
        let view = FlowView {
            is_new: created || restarted,
            from_initiator: packet.src == state.initiator,
        };
        Some((state, view))
    }
}

impl FlowKey {
    fn new(a: (IpAddr, u16), b: (IpAddr, u16), protocol: u8) -> Self {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        FlowKey {
            low,
            high,
            protocol,
        }
    }
}

enum Opener {
    Sender,
    Receiver,
}

/// Who opened a TCP connection, from the first packet we see of it.
fn tcp_opener(flags: TcpFlags, src_port: u16, dst_port: u16) -> Opener {
    match (flags.syn(), flags.ack()) {
        (true, false) => Opener::Sender,
        (true, true) => Opener::Receiver,
        // Picked up mid-stream: the server is most likely the side on the
        // well-known port.
        _ => port_opener(src_port, dst_port),
    }
}

/// Without a handshake, a datagram from a well-known port to an ephemeral
/// one is a server's answer (a DNS or NTP reply whose query we missed).
fn port_opener(src_port: u16, dst_port: u16) -> Opener {
    if src_port < 1024 && dst_port >= 1024 {
        Opener::Receiver
    } else {
        Opener::Sender
    }
}

/// A client's opening SYN (RFC 9293 §3.5).
fn is_syn(packet: &Packet<'_>) -> bool {
    matches!(packet.transport, Transport::Tcp(tcp) if tcp.flags.syn() && !tcp.flags.ack())
}

/// The client's ACK that completes the handshake of `state` (RFC 9293
/// §3.5: its sequence number is the initial one plus one, the SYN's).
pub fn completes_handshake(packet: &Packet<'_>, state: &FlowState) -> bool {
    match packet.transport {
        Transport::Tcp(tcp) => {
            state.half_open
                && packet.src == state.initiator
                && tcp.flags.ack()
                && !tcp.flags.syn()
                && !tcp.flags.rst()
                && tcp.seq == state.isn.wrapping_add(1)
        }
        _ => false,
    }
}

fn tcp_seq(packet: &Packet<'_>) -> u32 {
    match packet.transport {
        Transport::Tcp(tcp) => tcp.seq,
        _ => 0,
    }
}

/// A SYN from the client with another sequence number than the flow's
/// first one: the same ports reused for a new connection attempt.
fn is_new_connection(packet: &Packet<'_>, state: &FlowState) -> bool {
    match packet.transport {
        Transport::Tcp(tcp) => {
            tcp.flags.syn()
                && !tcp.flags.ack()
                && packet.src == state.initiator
                && tcp.seq != state.isn
        }
        _ => false,
    }
}
