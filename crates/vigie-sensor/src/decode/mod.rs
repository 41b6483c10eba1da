//! Pure protocol decoders: `&[u8] -> Result<_, _>`, no allocation, no panic
//! on any input. One file per protocol. A malformed packet is an `Err`,
//! counted by the engine and skipped; it is never fatal.
//!
//! Layers 2 to 4 are decoded by [`decode`] into a [`Packet`] that borrows the
//! frame; application protocols ([`dns`], [`http`], [`tls`]) are parsed on
//! demand from a transport payload by the detectors that need them.

use std::net::IpAddr;

pub mod dns;
pub mod http;
pub mod tls;

/// The link layer a capture's frames start with (pcap LINKTYPE_* values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1), with any number of 802.1Q / 802.1ad tags.
    Ethernet,
    /// LINKTYPE_LINUX_SLL (113): Linux "cooked" capture, `tcpdump -i any`.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276).
    LinuxSll2,
    /// LINKTYPE_RAW (101) and the DLT_RAW aliases (12, 14): an IPv4 or IPv6
    /// header first, told apart by its version nibble.
    RawIp,
    /// LINKTYPE_IPV4 (228).
    Ipv4,
    /// LINKTYPE_IPV6 (229).
    Ipv6,
    /// LINKTYPE_NULL (0) and LINKTYPE_LOOP (108): BSD loopback, a 4-byte
    /// address family then IP.
    Null,
}

impl LinkType {
    /// Maps a pcap/pcapng link-type number; `None` for one we do not decode.
    pub fn from_pcap(linktype: u32) -> Option<LinkType> {
        match linktype {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            101 | 12 | 14 => Some(LinkType::RawIp),
            228 => Some(LinkType::Ipv4),
            229 => Some(LinkType::Ipv6),
            0 | 108 => Some(LinkType::Null),
            _ => None,
        }
    }

    /// The pcap number we write for this link type.
    pub fn to_pcap(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::RawIp => 101,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Null => 0,
        }
    }
}

/// A decoded IP packet, borrowing the frame it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Length of the IP packet as its header says (total length for IPv4,
    /// 40 + payload length for IPv6).
    pub ip_len: u32,
    pub transport: Transport<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(Datagram<'a>),
    Icmp(IcmpMessage),
    /// A non-first IP fragment: no transport header to read.
    Fragment {
        protocol: u8,
    },
    /// Another IP protocol (GRE, ESP, ...), by its number.
    Other {
        protocol: u8,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// The bytes after the TCP header (options skipped), clipped to what the
    /// capture holds and to the IP length (Ethernet padding excluded).
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// The bytes after the UDP header, clipped to the UDP length and to what
    /// the capture holds.
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpMessage {
    /// ICMPv6 (true) or ICMP for IPv4 (false): type numbers differ.
    pub v6: bool,
    pub kind: u8,
    pub code: u8,
}

impl IcmpMessage {
    /// An echo request: ping, and the usual way to sweep for live hosts.
    pub fn is_echo_request(&self) -> bool {
        (!self.v6 && self.kind == 8) || (self.v6 && self.kind == 128)
    }
}

/// TCP header flags (RFC 9293 §3.1, plus ECE/CWR from RFC 3168).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub fn has(self, flag: u8) -> bool {
        self.0 & flag == flag
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
}

/// Why a frame could not be decoded. Counted, never fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame truncated in the {layer} header")]
    Truncated { layer: &'static str },
    #[error("bad {layer} header: {problem}")]
    Invalid {
        layer: &'static str,
        problem: &'static str,
    },
    /// Not IP (ARP, LLDP, STP...): not an error of the frame, just nothing
    /// for the detectors.
    #[error("not an IP packet (ethertype {ethertype:#06x})")]
    NotIp { ethertype: u16 },
}

/// Decodes one captured frame of the given link type down to its transport
/// header. Never panics, never allocates.
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    link::decode(link, frame)
}

mod ip;
mod link;
mod transport;
