//! Builds well-formed Ethernet II frames carrying TCP, UDP, ICMP or ICMPv6
//! over IPv4 or IPv6, with every checksum right so that `tcpdump -vv` and
//! Wireshark show them clean.
//!
//! Frames are written into one reusable buffer: after the first frames have
//! grown it, building one allocates nothing, which the benchmark generator
//! (millions of frames) relies on. It must never be used on the analysis
//! path, and it never panics, whatever its arguments.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Locally administered unicast MACs (IEEE 802 U/L bit set): they can never
/// be a real vendor's.
const SRC_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const DST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
/// The 12-bit VLAN identifier of a tag (IEEE 802.1Q §9.6).
const VLAN_ID_MASK: u16 = 0x0fff;

/// Linux's default TTL and hop limit.
const TTL: u8 = 64;
/// Don't Fragment (RFC 791 §3.1), set as by every modern stack (RFC 1191).
const IPV4_DONT_FRAGMENT: u16 = 0x4000;
/// Linux's initial window on Ethernet (44 MSS of 1460).
const TCP_WINDOW: u16 = 64240;
/// Data offset 5: a TCP header without options.
const TCP_DATA_OFFSET: u8 = 5 << 4;

const IPV4_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
const TCP_HEADER_LEN: usize = 20;
const UDP_HEADER_LEN: usize = 8;
const ICMP_HEADER_LEN: usize = 4;
/// Both the IPv4 total length and the IPv6 payload length are 16 bits.
const MAX_IP_LENGTH_FIELD: usize = u16::MAX as usize;

const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;

/// Echo request types of ICMP (RFC 792) and ICMPv6 (RFC 4443 §4.1).
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMPV6_ECHO_REQUEST: u8 = 128;

/// Builds one frame at a time into a reusable buffer; each method returns
/// the frame, valid until the next call.
///
/// The IP version follows the addresses. Source and destination of different
/// families are a programming error: the frame is then IPv6, with the IPv4
/// address written as IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2),
/// which any family can be and which decodes back to IPv6 addresses.
///
/// A payload too large for the 16-bit IP length is cut to fit.
#[derive(Clone, Debug)]
pub struct FrameBuilder {
    buf: Vec<u8>,
    /// 802.1Q tags, outermost first.
    vlans: Vec<u16>,
    /// IPv4 identification, counting up so successive frames differ as on a
    /// real host; harmless with DF set (RFC 6864).
    ip_id: u16,
}

impl Default for FrameBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameBuilder {
    pub fn new() -> Self {
        FrameBuilder {
            buf: Vec::with_capacity(2048),
            vlans: Vec::new(),
            ip_id: 0,
        }
    }

    /// Adds one 802.1Q tag to every frame; called again, it stacks another
    /// tag inside the previous ones. Only the low 12 bits of `vlan_id` count.
    pub fn with_vlan(mut self, vlan_id: u16) -> Self {
        self.vlans.push(vlan_id & VLAN_ID_MASK);
        self
    }

    /// A TCP segment; `flags` uses the [`crate::decode::TcpFlags`] bits.
    pub fn tcp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        flags: u8,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) -> &[u8] {
        let addrs = Addrs::new(src.ip(), dst.ip());
        let payload = addrs.fit(TCP_HEADER_LEN, payload);
        let ip_start = self.start(&addrs, PROTO_TCP);
        let l4_start = self.buf.len();
        self.buf.extend_from_slice(&src.port().to_be_bytes());
        self.buf.extend_from_slice(&dst.port().to_be_bytes());
        self.buf.extend_from_slice(&seq.to_be_bytes());
        self.buf.extend_from_slice(&ack.to_be_bytes());
        self.buf.extend_from_slice(&[TCP_DATA_OFFSET, flags]);
        self.buf.extend_from_slice(&TCP_WINDOW.to_be_bytes());
        // Checksum (filled in by `finish`) and urgent pointer.
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(payload);
        self.finish(&addrs, PROTO_TCP, ip_start, l4_start + 16)
    }

    /// A UDP datagram.
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> &[u8] {
        let addrs = Addrs::new(src.ip(), dst.ip());
        let payload = addrs.fit(UDP_HEADER_LEN, payload);
        let udp_len = u16::try_from(UDP_HEADER_LEN + payload.len()).unwrap_or(u16::MAX);
        let ip_start = self.start(&addrs, PROTO_UDP);
        let l4_start = self.buf.len();
        self.buf.extend_from_slice(&src.port().to_be_bytes());
        self.buf.extend_from_slice(&dst.port().to_be_bytes());
        self.buf.extend_from_slice(&udp_len.to_be_bytes());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(payload);
        self.finish(&addrs, PROTO_UDP, ip_start, l4_start + 6)
    }

    /// An echo request ("ping"): ICMP over IPv4, ICMPv6 over IPv6, with no
    /// data after the identifier and sequence number.
    pub fn icmp_echo_request(&mut self, src: IpAddr, dst: IpAddr, id: u16, seq: u16) -> &[u8] {
        let kind = match Addrs::new(src, dst) {
            Addrs::V4(..) => ICMP_ECHO_REQUEST,
            Addrs::V6(..) => ICMPV6_ECHO_REQUEST,
        };
        let [id_high, id_low] = id.to_be_bytes();
        let [seq_high, seq_low] = seq.to_be_bytes();
        self.icmp(src, dst, kind, 0, &[id_high, id_low, seq_high, seq_low])
    }

    /// Any ICMP (IPv4) or ICMPv6 (IPv6) message; `body` is everything after
    /// the checksum, the 4 "rest of header" bytes included.
    pub fn icmp(&mut self, src: IpAddr, dst: IpAddr, kind: u8, code: u8, body: &[u8]) -> &[u8] {
        let addrs = Addrs::new(src, dst);
        let protocol = match addrs {
            Addrs::V4(..) => PROTO_ICMP,
            Addrs::V6(..) => PROTO_ICMPV6,
        };
        let body = addrs.fit(ICMP_HEADER_LEN, body);
        let ip_start = self.start(&addrs, protocol);
        let l4_start = self.buf.len();
        self.buf.extend_from_slice(&[kind, code, 0, 0]);
        self.buf.extend_from_slice(body);
        self.finish(&addrs, protocol, ip_start, l4_start + 2)
    }

    /// Writes the Ethernet header, VLAN tags and IP header with its lengths
    /// and checksum left at zero; returns where the IP header starts.
    fn start(&mut self, addrs: &Addrs, protocol: u8) -> usize {
        self.buf.clear();
        self.buf.extend_from_slice(&DST_MAC);
        self.buf.extend_from_slice(&SRC_MAC);
        for &vlan in &self.vlans {
            self.buf.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
            self.buf.extend_from_slice(&vlan.to_be_bytes());
        }
        let ethertype = match addrs {
            Addrs::V4(..) => ETHERTYPE_IPV4,
            Addrs::V6(..) => ETHERTYPE_IPV6,
        };
        self.buf.extend_from_slice(&ethertype.to_be_bytes());
        let ip_start = self.buf.len();
        match addrs {
            Addrs::V4(src, dst) => {
                self.ip_id = self.ip_id.wrapping_add(1);
                // Version 4, IHL 5, DSCP 0, total length (later).
                self.buf.extend_from_slice(&[0x45, 0, 0, 0]);
                self.buf.extend_from_slice(&self.ip_id.to_be_bytes());
                self.buf
                    .extend_from_slice(&IPV4_DONT_FRAGMENT.to_be_bytes());
                // TTL, protocol, header checksum (later).
                self.buf.extend_from_slice(&[TTL, protocol, 0, 0]);
                self.buf.extend_from_slice(&src.octets());
                self.buf.extend_from_slice(&dst.octets());
            }
            Addrs::V6(src, dst) => {
                // Version 6, traffic class and flow label 0.
                self.buf.extend_from_slice(&[0x60, 0, 0, 0]);
                // Payload length (later), next header, hop limit.
                self.buf.extend_from_slice(&[0, 0, protocol, TTL]);
                self.buf.extend_from_slice(&src.octets());
                self.buf.extend_from_slice(&dst.octets());
            }
        }
        ip_start
    }

    /// Fills in the IP length fields and the checksums once the transport
    /// header and payload are written.
    fn finish(
        &mut self,
        addrs: &Addrs,
        protocol: u8,
        ip_start: usize,
        checksum_at: usize,
    ) -> &[u8] {
        let ip_header_len = match addrs {
            Addrs::V4(..) => IPV4_HEADER_LEN,
            Addrs::V6(..) => IPV6_HEADER_LEN,
        };
        let l4_start = ip_start + ip_header_len;
        // `fit` has kept both lengths within 16 bits.
        let l4_len = self.buf.len().saturating_sub(l4_start);
        let l4_len = u16::try_from(l4_len).unwrap_or(u16::MAX);
        let mut sum = Checksum::default();
        match addrs {
            Addrs::V4(src, dst) => {
                let total = u16::try_from(ip_header_len + usize::from(l4_len)).unwrap_or(u16::MAX);
                self.put_u16(ip_start + 2, total);
                let header = Checksum::of(self.buf.get(ip_start..l4_start).unwrap_or_default());
                self.put_u16(ip_start + 10, header);
                // RFC 9293 §3.1 / RFC 768; ICMP has no pseudo-header (RFC 792).
                if protocol != PROTO_ICMP {
                    sum.add(&src.octets());
                    sum.add(&dst.octets());
                    sum.add(&[0, protocol]);
                    sum.add(&l4_len.to_be_bytes());
                }
            }
            Addrs::V6(src, dst) => {
                self.put_u16(ip_start + 4, l4_len);
                // RFC 8200 §8.1: addresses, 32-bit length, next header.
                sum.add(&src.octets());
                sum.add(&dst.octets());
                sum.add(&u32::from(l4_len).to_be_bytes());
                sum.add(&[0, 0, 0, protocol]);
            }
        }
        sum.add(self.buf.get(l4_start..).unwrap_or_default());
        let checksum = match sum.finish() {
            // RFC 768: a computed 0 is sent as all ones, 0 meaning "none".
            0 if protocol == PROTO_UDP => 0xffff,
            checksum => checksum,
        };
        self.put_u16(checksum_at, checksum);
        &self.buf
    }

    fn put_u16(&mut self, at: usize, value: u16) {
        if let Some(slot) = self.buf.get_mut(at..at + 2) {
            slot.copy_from_slice(&value.to_be_bytes());
        }
    }
}

/// The two addresses of a frame, of one family.
enum Addrs {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

impl Addrs {
    /// Mixed families become IPv6 with the IPv4 one mapped (see
    /// [`FrameBuilder`]).
    fn new(src: IpAddr, dst: IpAddr) -> Addrs {
        match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => Addrs::V4(src, dst),
            (src, dst) => Addrs::V6(mapped(src), mapped(dst)),
        }
    }

    /// Cuts `payload` so that the IP length field can hold it after a
    /// transport header of `header_len` bytes.
    fn fit<'p>(&self, header_len: usize, payload: &'p [u8]) -> &'p [u8] {
        let ip_overhead = match self {
            Addrs::V4(..) => IPV4_HEADER_LEN,
            // The IPv6 payload length does not count the fixed header.
            Addrs::V6(..) => 0,
        };
        let room = MAX_IP_LENGTH_FIELD - ip_overhead - header_len;
        payload.get(..room).unwrap_or(payload)
    }
}

fn mapped(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The Internet checksum (RFC 1071): one's complement of the one's
/// complement sum of 16-bit words.
#[derive(Default)]
struct Checksum(u64);

impl Checksum {
    fn of(bytes: &[u8]) -> u16 {
        let mut sum = Checksum::default();
        sum.add(bytes);
        sum.finish()
    }

    /// Adds big-endian words; an odd length is padded with a zero byte, so
    /// only the last slice added may be odd.
    fn add(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(2);
        for word in &mut words {
            if let &[high, low] = word {
                self.0 += u64::from(u16::from_be_bytes([high, low]));
            }
        }
        if let &[last] = words.remainder() {
            self.0 += u64::from(last) << 8;
        }
    }

    fn finish(self) -> u16 {
        let mut sum = self.0;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        // The loop leaves at most 16 bits.
        !(sum as u16)
    }
}

#[cfg(test)]
mod tests;
