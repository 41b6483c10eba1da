//! Link layer: strips the capture's link header (Ethernet II and its stacked
//! VLAN tags, Linux cooked capture v1/v2, BSD loopback, or none) and hands
//! the IP packet to [`super::ip`].
//!
//! It must not look past the link header nor allocate; anything that is not
//! IPv4 or IPv6 (ARP, LLDP, STP, 802.3 frames) is [`DecodeError::NotIp`].

use super::ip;
use super::{DecodeError, LinkType, Packet};

/// EtherType of IPv4 (RFC 894).
const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6 (RFC 2464).
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Tag protocol identifiers of a VLAN tag: the 802.1Q C-tag, the 802.1ad
/// S-tag, and 0x9100, the pre-standard QinQ tag some switches still send.
const VLAN_TPIDS: [u16; 3] = [0x8100, 0x88a8, 0x9100];
/// Most VLAN tags skipped before giving up. 802.1ad stacks two and real
/// networks rarely exceed three; the bound keeps a hostile frame of nothing
/// but tags from costing more than a normal one.
const MAX_VLAN_TAGS: usize = 8;

/// Destination MAC, source MAC, EtherType (IEEE 802.3 clause 3.1.1).
const ETHERNET_HEADER_LEN: usize = 14;
/// Tag control information then the inner EtherType (IEEE 802.1Q §9.6).
const VLAN_TAG_LEN: usize = 4;
/// Packet type, ARPHRD type, address length, 8-byte address, protocol
/// (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html).
const SLL_HEADER_LEN: usize = 16;
/// Protocol, reserved, interface index, ARPHRD type, packet type, address
/// length, 8-byte address (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
const SLL2_HEADER_LEN: usize = 20;
/// The address family of a BSD loopback header, in the byte order of the
/// host that captured (tcpdump.org/linktypes/LINKTYPE_NULL.html).
const NULL_HEADER_LEN: usize = 4;
/// AF_INET, the same on every BSD.
const AF_INET: u32 = 2;
/// AF_INET6: 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
const AF_INET6: [u32; 3] = [24, 28, 30];

/// Decodes a frame of the given link type down to its transport header.
pub(super) fn decode(link: LinkType, frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match link {
        LinkType::Ethernet => {
            let (header, rest) = frame
                .split_first_chunk::<ETHERNET_HEADER_LEN>()
                .ok_or(DecodeError::Truncated { layer: "Ethernet" })?;
            by_ethertype(u16::from_be_bytes([header[12], header[13]]), rest)
        }
        LinkType::LinuxSll => {
            let (header, rest) = frame
                .split_first_chunk::<SLL_HEADER_LEN>()
                .ok_or(DecodeError::Truncated { layer: "Linux SLL" })?;
            by_ethertype(u16::from_be_bytes([header[14], header[15]]), rest)
        }
        LinkType::LinuxSll2 => {
            let (header, rest) =
                frame
                    .split_first_chunk::<SLL2_HEADER_LEN>()
                    .ok_or(DecodeError::Truncated {
                        layer: "Linux SLL2",
                    })?;
            by_ethertype(u16::from_be_bytes([header[0], header[1]]), rest)
        }
        LinkType::RawIp => ip::decode(frame),
        LinkType::Ipv4 => ip::decode_v4(frame),
        LinkType::Ipv6 => ip::decode_v6(frame),
        LinkType::Null => loopback(frame),
    }
}

/// Skips any VLAN tags, then decodes the IP packet the EtherType announces.
/// Linux cooked captures use the same protocol numbers, so they share it.
fn by_ethertype(mut ethertype: u16, mut rest: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let mut tags = 0;
    while VLAN_TPIDS.contains(&ethertype) {
        if tags == MAX_VLAN_TAGS {
            return Err(DecodeError::Invalid {
                layer: "VLAN",
                problem: "too many stacked VLAN tags",
            });
        }
        let (tag, after) = rest
            .split_first_chunk::<VLAN_TAG_LEN>()
            .ok_or(DecodeError::Truncated { layer: "VLAN" })?;
        ethertype = u16::from_be_bytes([tag[2], tag[3]]);
        rest = after;
        tags += 1;
    }
    match ethertype {
        ETHERTYPE_IPV4 => ip::decode_v4(rest),
        ETHERTYPE_IPV6 => ip::decode_v6(rest),
        // Includes 802.3 frames, whose field is a length below 0x0600: their
        // LLC payload is STP, CDP and the like, never IP in practice.
        other => Err(DecodeError::NotIp { ethertype: other }),
    }
}

/// BSD loopback: the family is in the capturing host's byte order, which the
/// file does not record, but the values we accept are small, so reading it
/// both ways tells them apart.
fn loopback(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let (family, rest) = frame
        .split_first_chunk::<NULL_HEADER_LEN>()
        .ok_or(DecodeError::Truncated { layer: "loopback" })?;
    let little = u32::from_le_bytes(*family);
    let big = u32::from_be_bytes(*family);
    if little == AF_INET || big == AF_INET {
        ip::decode_v4(rest)
    } else if AF_INET6.contains(&little) || AF_INET6.contains(&big) {
        ip::decode_v6(rest)
    } else {
        // No EtherType here: report the family, saturated, as the number.
        let family = u16::try_from(little.min(big)).unwrap_or(u16::MAX);
        Err(DecodeError::NotIp { ethertype: family })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{TcpFlags, Transport};
    use crate::synth::FrameBuilder;

    const V4: [&str; 2] = ["192.0.2.1:40000", "198.51.100.2:80"];
    const V6: [&str; 2] = ["[2001:db8::1]:40000", "[2001:db8::2]:80"];
    const PAYLOAD: &[u8] = b"GET / HTTP/1.1\r\n";

    /// An Ethernet frame with `tags` VLAN tags carrying a TCP segment.
    fn ethernet(addrs: [&str; 2], tags: u16) -> Vec<u8> {
        let mut builder = (0..tags).fold(FrameBuilder::new(), |b, tag| b.with_vlan(tag + 1));
        let [src, dst] = addrs.map(|addr| addr.parse().unwrap());
        builder.tcp(src, dst, TcpFlags::ACK, 1, 1, PAYLOAD).to_vec()
    }

    /// The IP packet inside an untagged frame.
    fn ip_packet(addrs: [&str; 2]) -> Vec<u8> {
        ethernet(addrs, 0)[14..].to_vec()
    }

    fn with_header(header: &[u8], packet: &[u8]) -> Vec<u8> {
        [header, packet].concat()
    }

    /// Decodes and checks the source address and TCP payload.
    fn check(link: LinkType, frame: &[u8], addrs: [&str; 2]) {
        let packet = decode(link, frame).unwrap();
        let src: std::net::SocketAddr = addrs[0].parse().unwrap();
        assert_eq!(packet.src, src.ip(), "{link:?}");
        let Transport::Tcp(segment) = packet.transport else {
            panic!("{link:?}: not TCP: {packet:?}")
        };
        assert_eq!(segment.payload, PAYLOAD, "{link:?}");
    }

    #[test]
    fn every_link_type() {
        for addrs in [V4, V6] {
            let packet = ip_packet(addrs);
            let (ethertype, families): (&[u8], [u32; 1]) = match addrs {
                V4 => (&[0x08, 0x00], [2]),
                _ => (&[0x86, 0xdd], [28]),
            };
            check(LinkType::Ethernet, &ethernet(addrs, 0), addrs);
            let sll = [&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0], ethertype].concat();
            check(LinkType::LinuxSll, &with_header(&sll, &packet), addrs);
            let sll2 = [
                ethertype,
                &[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0],
            ]
            .concat();
            check(LinkType::LinuxSll2, &with_header(&sll2, &packet), addrs);
            check(LinkType::RawIp, &packet, addrs);
            for family in families {
                let little = with_header(&family.to_le_bytes(), &packet);
                check(LinkType::Null, &little, addrs);
                check(
                    LinkType::Null,
                    &with_header(&family.to_be_bytes(), &packet),
                    addrs,
                );
            }
        }
        check(LinkType::Ipv4, &ip_packet(V4), V4);
        check(LinkType::Ipv6, &ip_packet(V6), V6);
    }

    #[test]
    fn every_bsd_ipv6_family() {
        let packet = ip_packet(V6);
        for family in AF_INET6 {
            check(
                LinkType::Null,
                &with_header(&family.to_le_bytes(), &packet),
                V6,
            );
            check(
                LinkType::Null,
                &with_header(&family.to_be_bytes(), &packet),
                V6,
            );
        }
        let unknown = with_header(&17u32.to_le_bytes(), &packet);
        assert_eq!(
            decode(LinkType::Null, &unknown),
            Err(DecodeError::NotIp { ethertype: 17 })
        );
    }

    #[test]
    fn vlan_stacks() {
        for tags in [1, 2, MAX_VLAN_TAGS as u16] {
            check(LinkType::Ethernet, &ethernet(V4, tags), V4);
        }
        // 802.1ad outer tag and the old QinQ one, around an 802.1Q tag.
        let frame = ethernet(V6, 3);
        let mut mixed = frame.clone();
        mixed[12..14].copy_from_slice(&[0x88, 0xa8]);
        mixed[16..18].copy_from_slice(&[0x91, 0x00]);
        check(LinkType::Ethernet, &mixed, V6);
        let too_many = ethernet(V4, MAX_VLAN_TAGS as u16 + 1);
        let expected = DecodeError::Invalid {
            layer: "VLAN",
            problem: "too many stacked VLAN tags",
        };
        assert_eq!(decode(LinkType::Ethernet, &too_many), Err(expected));
        // Tagged SLL (as some drivers leave it).
        let sll = [[0; 14].as_slice(), &[0x81, 0x00, 0, 5, 0x86, 0xdd]].concat();
        check(LinkType::LinuxSll, &with_header(&sll, &ip_packet(V6)), V6);
    }

    #[test]
    fn not_ip() {
        let frame = ethernet(V4, 0);
        for ethertype in [0x0806, 0x88cc, 0x0026] {
            let mut other = frame.clone();
            other[12..14].copy_from_slice(&u16::to_be_bytes(ethertype));
            assert_eq!(
                decode(LinkType::Ethernet, &other),
                Err(DecodeError::NotIp { ethertype })
            );
        }
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut builder = FrameBuilder::new();
        let [src, dst] = V4.map(|addr| addr.parse().unwrap());
        let mut frame = builder.tcp(src, dst, TcpFlags::SYN, 1, 0, b"").to_vec();
        assert_eq!(frame.len(), 54);
        frame.resize(60, 0xee);
        let packet = decode(LinkType::Ethernet, &frame).unwrap();
        assert!(matches!(packet.transport, Transport::Tcp(segment) if segment.payload.is_empty()));
        assert_eq!(packet.ip_len, 40);
    }

    /// Every prefix of a valid frame decodes to an error naming a truncated
    /// header, or, once the headers are whole, to the shorter payload.
    #[test]
    fn every_truncation() {
        let v4 = ethernet(V4, 2);
        let v6 = ethernet(V6, 0);
        let sll2 = with_header(
            &[
                0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
            ],
            &ip_packet(V6),
        );
        let null = with_header(&2u32.to_le_bytes(), &ip_packet(V4));
        for (link, frame) in [
            (LinkType::Ethernet, v4),
            (LinkType::Ethernet, v6),
            (LinkType::LinuxSll2, sll2),
            (LinkType::Null, null),
            (LinkType::RawIp, ip_packet(V6)),
        ] {
            let headers = frame.len() - PAYLOAD.len();
            for len in 0..=frame.len() {
                match decode(link, &frame[..len]) {
                    Err(DecodeError::Truncated { .. }) if len < headers => {}
                    Ok(Packet {
                        transport: Transport::Tcp(segment),
                        ..
                    }) if len >= headers => assert_eq!(segment.payload, &PAYLOAD[..len - headers]),
                    other => panic!("{link:?} cut at {len}: {other:?}"),
                }
            }
        }
    }
}
