//! Tests of [`super`]: hand-built packets, one case per behaviour.

use super::*;
use crate::decode::{Datagram, TcpFlags};

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
/// A UDP header from port 53 to 1024, length 8 + 3, then "abc".
const UDP_ABC: [u8; 11] = [0, 53, 4, 0, 0, 11, 0, 0, b'a', b'b', b'c'];
/// A TCP SYN from 1234 to 80, data offset 5, no payload.
const TCP_SYN: [u8; 20] = [
    4, 210, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
];

/// An IPv4 header (with options) from 10.0.0.1 to 10.0.0.2, TTL 64.
fn ipv4(options: &[u8], flags_offset: u16, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let header_len = 20 + options.len();
    let total = (header_len + payload.len()) as u16;
    let mut packet = vec![0x40 | (header_len / 4) as u8, 0];
    packet.extend_from_slice(&total.to_be_bytes());
    packet.extend_from_slice(&[0, 1]);
    packet.extend_from_slice(&flags_offset.to_be_bytes());
    packet.extend_from_slice(&[64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    packet.extend_from_slice(options);
    packet.extend_from_slice(payload);
    packet
}

/// An IPv6 header from 2001:db8::1 to 2001:db8::2, hop limit 60.
fn ipv6(next_header: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x60, 0, 0, 0];
    packet.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    packet.extend_from_slice(&[next_header, 60]);
    for last in [1, 2] {
        packet.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        packet.extend_from_slice(&[0; 11]);
        packet.push(last);
    }
    packet.extend_from_slice(payload);
    packet
}

fn udp_abc() -> Transport<'static> {
    Transport::Udp(Datagram {
        src_port: 53,
        dst_port: 1024,
        payload: b"abc",
    })
}

fn check(decoded: Result<Packet<'_>, DecodeError>, expected: Result<Transport<'_>, DecodeError>) {
    assert_eq!(decoded.map(|packet| packet.transport), expected);
}

fn invalid(layer: &'static str, problem: &'static str) -> DecodeError {
    DecodeError::Invalid { layer, problem }
}

#[test]
fn ipv4_fields() {
    let bytes = ipv4(&[], 0x4000, UDP, &UDP_ABC);
    let packet = decode_v4(&bytes).unwrap();
    assert_eq!(packet.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(packet.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!((packet.ttl, packet.ip_len), (64, 31));
    assert_eq!(packet.transport, udp_abc());
}

#[test]
fn ipv4_options_are_skipped() {
    // Router alert (RFC 2113) then NOP padding: IHL 7.
    let options = [0x94, 0x04, 0, 0, 1, 1, 1, 0];
    check(decode_v4(&ipv4(&options, 0, UDP, &UDP_ABC)), Ok(udp_abc()));
    // IHL claims options the capture does not hold.
    let mut packet = ipv4(&[], 0, UDP, &[]);
    packet[0] = 0x4f;
    packet[2..4].copy_from_slice(&60u16.to_be_bytes());
    check(
        decode_v4(&packet),
        Err(DecodeError::Truncated { layer: "IPv4" }),
    );
}

#[test]
fn ipv4_inconsistent_headers() {
    let mut packet = ipv4(&[], 0, UDP, &UDP_ABC);
    packet[0] = 0x44;
    check(
        decode_v4(&packet),
        Err(invalid("IPv4", "header length (IHL) below 5 words")),
    );
    packet[0] = 0x65;
    check(decode_v4(&packet), Err(invalid("IPv4", "version is not 4")));
    packet[0] = 0x45;
    packet[2..4].copy_from_slice(&19u16.to_be_bytes());
    let short = invalid("IPv4", "total length shorter than its header");
    check(decode_v4(&packet), Err(short));
}

#[test]
fn ipv4_padding_and_snaplen() {
    // Ethernet pads to 60 bytes: the padding is not UDP payload.
    let mut padded = ipv4(&[], 0, UDP, &UDP_ABC);
    padded.extend_from_slice(&[0xee; 15]);
    check(decode_v4(&padded), Ok(udp_abc()));
    assert_eq!(decode_v4(&padded).unwrap().ip_len, 31);
    // A capture cut short keeps what it has.
    let packet = ipv4(&[], 0, UDP, &UDP_ABC);
    let cut = Transport::Udp(Datagram {
        src_port: 53,
        dst_port: 1024,
        payload: b"a",
    });
    check(decode_v4(&packet[..29]), Ok(cut));
}

#[test]
fn ipv4_zero_total_length_trusts_the_capture() {
    let mut packet = ipv4(&[], 0, UDP, &UDP_ABC);
    packet[2..4].copy_from_slice(&[0, 0]);
    let decoded = decode_v4(&packet).unwrap();
    assert_eq!((decoded.ip_len, decoded.transport), (31, udp_abc()));
}

#[test]
fn ipv4_fragments() {
    let fragment = Ok(Transport::Fragment { protocol: TCP });
    // Non-first fragment, with or without MF: no transport header.
    check(decode_v4(&ipv4(&[], 0x0001, TCP, &TCP_SYN)), fragment);
    check(decode_v4(&ipv4(&[], 0x2010, TCP, &TCP_SYN)), fragment);
    // First fragment: its transport header is there.
    let bytes = ipv4(&[], 0x2000, TCP, &TCP_SYN);
    let syn = decode_v4(&bytes).unwrap();
    let Transport::Tcp(segment) = syn.transport else {
        panic!("not TCP: {syn:?}")
    };
    assert_eq!(
        (segment.dst_port, segment.flags),
        (80, TcpFlags(TcpFlags::SYN))
    );
    // A tiny first fragment (RFC 1858) splits the TCP header.
    check(decode_v4(&ipv4(&[], 0x2000, TCP, &TCP_SYN[..8])), fragment);
    // Without MF, the same is a truncated segment.
    let truncated = Err(DecodeError::Truncated { layer: "TCP" });
    check(decode_v4(&ipv4(&[], 0, TCP, &TCP_SYN[..8])), truncated);
}

#[test]
fn ipv6_fields() {
    let bytes = ipv6(UDP, &UDP_ABC);
    let packet = decode_v6(&bytes).unwrap();
    assert_eq!(packet.src, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(packet.dst, "2001:db8::2".parse::<IpAddr>().unwrap());
    assert_eq!((packet.ttl, packet.ip_len), (60, 51));
    assert_eq!(packet.transport, udp_abc());
    let mut bad = ipv6(UDP, &UDP_ABC);
    bad[0] = 0x40;
    check(decode_v6(&bad), Err(invalid("IPv6", "version is not 6")));
    check(
        decode_v6(&bad[..39]),
        Err(DecodeError::Truncated { layer: "IPv6" }),
    );
}

#[test]
fn ipv6_padding_and_zero_length() {
    let mut padded = ipv6(UDP, &UDP_ABC);
    padded.extend_from_slice(&[0xee; 9]);
    check(decode_v6(&padded), Ok(udp_abc()));
    // Payload length 0 (offload): the capture is trusted.
    let mut packet = ipv6(UDP, &UDP_ABC);
    packet[4..6].copy_from_slice(&[0, 0]);
    assert_eq!(decode_v6(&packet).unwrap().ip_len, 51);
    // No Next Header with padding after it: the header is trusted.
    let mut empty = ipv6(NO_NEXT_HEADER, &[]);
    empty.extend_from_slice(&[0; 6]);
    let decoded = decode_v6(&empty).unwrap();
    assert_eq!(decoded.ip_len, 40);
    assert_eq!(decoded.transport, Transport::Other { protocol: 59 });
}

#[test]
fn ipv6_extension_chain() {
    let mut chain = Vec::new();
    // Hop-by-hop, 8 bytes: PadN.
    chain.extend_from_slice(&[DESTINATION_OPTIONS, 0, 1, 4, 0, 0, 0, 0]);
    // Destination options, 16 bytes.
    chain.extend_from_slice(&[ROUTING, 1, 1, 12]);
    chain.extend_from_slice(&[0; 12]);
    // Routing, type 4 (SRH) with one segment: 24 bytes.
    chain.extend_from_slice(&[AUTHENTICATION, 2, 4, 0, 0, 0, 0, 0]);
    chain.extend_from_slice(&[0; 16]);
    // Authentication with a 96-bit ICV: payload length 4 → 24 bytes.
    chain.extend_from_slice(&[UDP, 4, 0, 0]);
    chain.extend_from_slice(&[0; 20]);
    chain.extend_from_slice(&UDP_ABC);
    check(decode_v6(&ipv6(HOP_BY_HOP, &chain)), Ok(udp_abc()));
    // Cut inside the authentication header.
    let cut = ipv6(HOP_BY_HOP, &chain[..50]);
    let truncated = DecodeError::Truncated {
        layer: "IPv6 extension",
    };
    check(decode_v6(&cut), Err(truncated));
}

#[test]
fn ipv6_chain_is_bounded() {
    let mut chain = Vec::new();
    for _ in 0..MAX_IPV6_EXTENSION_HEADERS {
        chain.extend_from_slice(&[DESTINATION_OPTIONS, 0, 1, 4, 0, 0, 0, 0]);
    }
    let mut longest = chain.clone();
    longest[(MAX_IPV6_EXTENSION_HEADERS - 1) * 8] = UDP;
    longest.extend_from_slice(&UDP_ABC);
    check(
        decode_v6(&ipv6(DESTINATION_OPTIONS, &longest)),
        Ok(udp_abc()),
    );
    chain.extend_from_slice(&[UDP, 0, 1, 4, 0, 0, 0, 0]);
    chain.extend_from_slice(&UDP_ABC);
    let too_many = invalid("IPv6", "too many extension headers");
    check(decode_v6(&ipv6(DESTINATION_OPTIONS, &chain)), Err(too_many));
}

#[test]
fn ipv6_fragments() {
    let fragment = |offset_flags: u16, payload: &[u8]| {
        let mut bytes = vec![TCP, 0];
        bytes.extend_from_slice(&offset_flags.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 9]);
        bytes.extend_from_slice(payload);
        ipv6(FRAGMENT, &bytes)
    };
    let non_first = Ok(Transport::Fragment { protocol: TCP });
    check(decode_v6(&fragment(185 << 3, b"middle")), non_first);
    check(decode_v6(&fragment(185 << 3 | 1, b"middle")), non_first);
    let bytes = fragment(1, &TCP_SYN);
    let first = decode_v6(&bytes).unwrap();
    assert!(matches!(first.transport, Transport::Tcp(segment) if segment.dst_port == 80));
    check(decode_v6(&fragment(1, &TCP_SYN[..4])), non_first);
}

#[test]
fn ipv6_opaque_payloads() {
    check(
        decode_v6(&ipv6(ESP, &[0; 16])),
        Ok(Transport::Other { protocol: ESP }),
    );
    // ICMP for IPv4 inside IPv6 is no ping.
    check(
        decode_v6(&ipv6(ICMP, &[8, 0, 0, 0])),
        Ok(Transport::Other { protocol: ICMP }),
    );
    check(
        decode_v6(&ipv6(47, &[0; 4])),
        Ok(Transport::Other { protocol: 47 }),
    );
}

#[test]
fn version_nibble_picks_the_decoder() {
    check(decode(&ipv4(&[], 0, UDP, &UDP_ABC)), Ok(udp_abc()));
    check(decode(&ipv6(UDP, &UDP_ABC)), Ok(udp_abc()));
    check(
        decode(&[0x50; 40]),
        Err(invalid("IP", "version is neither 4 nor 6")),
    );
    check(decode(&[]), Err(DecodeError::Truncated { layer: "IP" }));
}
