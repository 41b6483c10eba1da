//! Tests of [`super`]: frames built, then decoded and their checksums summed
//! independently.

use super::*;
use crate::decode::{self, Datagram, IcmpMessage, LinkType, Packet, TcpFlags, Transport};

const V4_CLIENT: &str = "192.0.2.10:49152";
const V4_SERVER: &str = "198.51.100.7:443";
const V6_CLIENT: &str = "[2001:db8::10]:49152";
const V6_SERVER: &str = "[2001:db8:1::7]:443";

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// Sum of 16-bit big-endian words, written independently of `Checksum`:
/// byte by byte, folded at the end. A correct checksum makes the sum over
/// pseudo-header and segment 0xffff.
fn folded_sum(parts: &[&[u8]]) -> u32 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = 0;
    for (i, byte) in bytes.iter().enumerate() {
        sum += if i % 2 == 0 {
            u32::from(*byte) * 256
        } else {
            u32::from(*byte)
        };
    }
    while sum > 0xffff {
        sum = (sum >> 16) + (sum & 0xffff);
    }
    sum
}

/// Checks the IP and transport checksums of a frame with `tags` VLAN tags.
fn assert_checksums(frame: &[u8], tags: usize) {
    let ip = &frame[14 + 4 * tags..];
    let (protocol, pseudo, segment) = match ip[0] >> 4 {
        4 => {
            assert_eq!(folded_sum(&[&ip[..20]]), 0xffff, "IPv4 header checksum");
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            assert_eq!(total, ip.len());
            let segment = &ip[20..];
            let length = (segment.len() as u16).to_be_bytes();
            let pseudo = [&ip[12..20], &[0, ip[9]], &length[..]].concat();
            (ip[9], pseudo, segment)
        }
        6 => {
            let segment = &ip[40..];
            assert_eq!(
                usize::from(u16::from_be_bytes([ip[4], ip[5]])),
                segment.len()
            );
            let length = (segment.len() as u32).to_be_bytes();
            let pseudo = [&ip[8..40], &length[..], &[0, 0, 0, ip[6]]].concat();
            (ip[6], pseudo, segment)
        }
        version => panic!("IP version {version}"),
    };
    let sum = if protocol == PROTO_ICMP {
        folded_sum(&[segment])
    } else {
        folded_sum(&[&pseudo, segment])
    };
    assert_eq!(sum, 0xffff, "protocol {protocol} checksum");
}

/// Decodes `frame`, checks its checksums and common fields, returns it.
fn check(frame: &[u8], tags: usize, src: IpAddr, dst: IpAddr) -> Packet<'_> {
    assert_checksums(frame, tags);
    let packet = decode::decode(LinkType::Ethernet, frame).unwrap();
    assert_eq!((packet.src, packet.dst, packet.ttl), (src, dst, TTL));
    assert_eq!(packet.ip_len as usize, frame.len() - 14 - 4 * tags);
    packet
}

fn builders() -> [(FrameBuilder, usize); 3] {
    [
        (FrameBuilder::new(), 0),
        (FrameBuilder::new().with_vlan(42), 1),
        (FrameBuilder::default().with_vlan(100).with_vlan(7), 2),
    ]
}

#[test]
fn tcp_round_trips() {
    for (mut builder, tags) in builders() {
        for (src, dst) in [(V4_CLIENT, V4_SERVER), (V6_CLIENT, V6_SERVER)] {
            let (src, dst) = (addr(src), addr(dst));
            let flags = TcpFlags::PSH | TcpFlags::ACK;
            let frame = builder.tcp(src, dst, flags, 1000, 2000, b"GET / HTTP/1.1\r\n\r\n");
            let packet = check(frame, tags, src.ip(), dst.ip());
            let Transport::Tcp(segment) = packet.transport else {
                panic!("not TCP: {packet:?}")
            };
            assert_eq!((segment.src_port, segment.dst_port), (49152, 443));
            assert_eq!((segment.seq, segment.ack), (1000, 2000));
            assert_eq!(
                (segment.flags, segment.window),
                (TcpFlags(flags), TCP_WINDOW)
            );
            assert_eq!(segment.payload, b"GET / HTTP/1.1\r\n\r\n");
        }
    }
}

#[test]
fn udp_round_trips() {
    for (mut builder, tags) in builders() {
        for (src, dst) in [(V4_CLIENT, V4_SERVER), (V6_CLIENT, V6_SERVER)] {
            let (src, dst) = (addr(src), addr(dst));
            // Odd length: the checksum pads the last byte.
            let frame = builder.udp(src, dst, b"odd");
            let packet = check(frame, tags, src.ip(), dst.ip());
            let expected = Datagram {
                src_port: 49152,
                dst_port: 443,
                payload: b"odd",
            };
            assert_eq!(packet.transport, Transport::Udp(expected));
        }
    }
}

#[test]
fn icmp_round_trips() {
    for (mut builder, tags) in builders() {
        for (src, dst, v6) in [(V4_CLIENT, V4_SERVER, false), (V6_CLIENT, V6_SERVER, true)] {
            let (src, dst) = (addr(src).ip(), addr(dst).ip());
            let frame = builder.icmp_echo_request(src, dst, 0x1234, 7);
            let packet = check(frame, tags, src, dst);
            let Transport::Icmp(message) = packet.transport else {
                panic!("not ICMP: {packet:?}")
            };
            assert!(message.is_echo_request());
            assert_eq!(message.v6, v6);
            assert_eq!(&frame[frame.len() - 4..], [0x12, 0x34, 0, 7]);

            // Destination unreachable, port unreachable.
            let (kind, code) = if v6 { (1, 4) } else { (3, 3) };
            let frame = builder.icmp(src, dst, kind, code, &[0, 0, 0, 0, 0x45]);
            let packet = check(frame, tags, src, dst);
            let expected = IcmpMessage { v6, kind, code };
            assert_eq!(packet.transport, Transport::Icmp(expected));
        }
    }
}

#[test]
fn vlan_tags_are_written_outermost_first() {
    let mut builder = FrameBuilder::new().with_vlan(100).with_vlan(0xf007);
    let frame = builder.udp(addr(V4_CLIENT), addr(V4_SERVER), b"");
    assert_eq!(
        frame[12..22],
        [0x81, 0x00, 0, 100, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00]
    );
}

#[test]
fn ipv4_header_fields() {
    let mut builder = FrameBuilder::new();
    let first = builder.tcp(addr(V4_CLIENT), addr(V4_SERVER), TcpFlags::SYN, 1, 0, b"");
    assert_eq!(first[14..16], [0x45, 0]);
    assert_eq!(first[20..22], IPV4_DONT_FRAGMENT.to_be_bytes());
    assert_eq!(first[14 + 20 + 12], 5 << 4, "TCP data offset");
    let first_id = [first[18], first[19]];
    let second = builder.tcp(addr(V4_CLIENT), addr(V4_SERVER), TcpFlags::SYN, 1, 0, b"");
    assert_ne!([second[18], second[19]], first_id);
}

#[test]
fn mixed_families_give_ipv6_with_a_mapped_address() {
    let mut builder = FrameBuilder::new();
    let (src, dst) = (addr(V4_CLIENT), addr(V6_SERVER));
    let frame = builder.udp(src, dst, b"x");
    let mapped_src = IpAddr::V6("::ffff:192.0.2.10".parse().unwrap());
    check(frame, 0, mapped_src, dst.ip());
}

#[test]
fn oversized_payload_is_cut_to_the_ip_length() {
    let payload = vec![0xab; 70_000];
    let mut builder = FrameBuilder::new();
    let frame = builder.tcp(
        addr(V4_CLIENT),
        addr(V4_SERVER),
        TcpFlags::ACK,
        1,
        1,
        &payload,
    );
    assert_eq!(frame.len(), 14 + 65_535);
    let packet = check(frame, 0, addr(V4_CLIENT).ip(), addr(V4_SERVER).ip());
    let Transport::Tcp(segment) = packet.transport else {
        panic!("not TCP")
    };
    assert_eq!(segment.payload.len(), 65_535 - 40);

    let frame = builder.udp(addr(V6_CLIENT), addr(V6_SERVER), &payload);
    assert_eq!(frame.len(), 14 + 40 + 65_535);
    check(frame, 0, addr(V6_CLIENT).ip(), addr(V6_SERVER).ip());
}

#[test]
fn udp_checksum_of_zero_is_sent_as_all_ones() {
    // Search payloads for one whose checksum computes to 0 (RFC 768).
    let mut builder = FrameBuilder::new();
    let (src, dst) = (addr(V4_CLIENT), addr(V4_SERVER));
    let zero = (0..=u16::MAX)
        .map(u16::to_be_bytes)
        .find(|payload| {
            let frame = builder.udp(src, dst, payload);
            frame[14 + 20 + 6..14 + 20 + 8] == [0xff, 0xff]
        })
        .expect("some 2-byte payload sums to zero");
    let frame = builder.udp(src, dst, &zero);
    assert_checksums(frame, 0);
}

#[test]
fn buffer_is_reused() {
    let mut builder = FrameBuilder::new();
    let payload = [0u8; 1400];
    builder.tcp(
        addr(V6_CLIENT),
        addr(V6_SERVER),
        TcpFlags::ACK,
        1,
        1,
        &payload,
    );
    let capacity = builder.buf.capacity();
    for seq in 0..1000 {
        builder.tcp(
            addr(V6_CLIENT),
            addr(V6_SERVER),
            TcpFlags::ACK,
            seq,
            1,
            &payload,
        );
        builder.udp(addr(V4_CLIENT), addr(V4_SERVER), &payload[..seq as usize]);
    }
    assert_eq!(builder.buf.capacity(), capacity);
}
