//! Transport layer: TCP (RFC 9293 §3.1), UDP (RFC 768), ICMP (RFC 792) and
//! ICMPv6 (RFC 4443) headers, read from an IP payload already clipped to the
//! IP length.
//!
//! It must not verify checksums (captures taken on a host carry offloaded,
//! unset ones), look into payloads, nor allocate.

use super::ip::IpVersion;
use super::{Datagram, DecodeError, IcmpMessage, TcpFlags, TcpSegment, Transport};

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMPV6: u8 = 58;

/// TCP header without options (RFC 9293 §3.1).
const TCP_MIN_HEADER_LEN: usize = 20;
/// UDP header (RFC 768).
const UDP_HEADER_LEN: usize = 8;
/// Type, code, checksum (RFC 792, RFC 4443 §2.1).
const ICMP_HEADER_LEN: usize = 4;

/// Decodes the transport header of an IP payload carrying `protocol`.
/// ICMP counts only over IPv4 and ICMPv6 only over IPv6: a host drops the
/// other combination, so detectors must not see it as a ping.
pub(super) fn decode(
    protocol: u8,
    payload: &[u8],
    version: IpVersion,
) -> Result<Transport<'_>, DecodeError> {
    match (protocol, version) {
        (TCP, _) => tcp(payload).map(Transport::Tcp),
        (UDP, _) => udp(payload).map(Transport::Udp),
        (ICMP, IpVersion::V4) => icmp(payload, "ICMP").map(|(kind, code)| {
            Transport::Icmp(IcmpMessage {
                v6: false,
                kind,
                code,
            })
        }),
        (ICMPV6, IpVersion::V6) => icmp(payload, "ICMPv6").map(|(kind, code)| {
            Transport::Icmp(IcmpMessage {
                v6: true,
                kind,
                code,
            })
        }),
        (protocol, _) => Ok(Transport::Other { protocol }),
    }
}

fn tcp(bytes: &[u8]) -> Result<TcpSegment<'_>, DecodeError> {
    const TRUNCATED: DecodeError = DecodeError::Truncated { layer: "TCP" };
    let (fixed, _) = bytes
        .split_first_chunk::<TCP_MIN_HEADER_LEN>()
        .ok_or(TRUNCATED)?;
    let header_len = usize::from(fixed[12] >> 4) * 4;
    if header_len < TCP_MIN_HEADER_LEN {
        return Err(DecodeError::Invalid {
            layer: "TCP",
            problem: "data offset below 5 words",
        });
    }
    // Options are skipped: nothing downstream needs them.
    let payload = bytes.get(header_len..).ok_or(TRUNCATED)?;
    Ok(TcpSegment {
        src_port: u16::from_be_bytes([fixed[0], fixed[1]]),
        dst_port: u16::from_be_bytes([fixed[2], fixed[3]]),
        seq: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
        ack: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
        flags: TcpFlags(fixed[13]),
        window: u16::from_be_bytes([fixed[14], fixed[15]]),
        payload,
    })
}

fn udp(bytes: &[u8]) -> Result<Datagram<'_>, DecodeError> {
    let (fixed, rest) = bytes
        .split_first_chunk::<UDP_HEADER_LEN>()
        .ok_or(DecodeError::Truncated { layer: "UDP" })?;
    let length = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
    if length < UDP_HEADER_LEN {
        return Err(DecodeError::Invalid {
            layer: "UDP",
            problem: "length shorter than its header",
        });
    }
    // The length covers the header; what follows it in the IP payload (or a
    // length beyond the capture) is clipped away.
    let payload = rest.get(..length - UDP_HEADER_LEN).unwrap_or(rest);
    Ok(Datagram {
        src_port: u16::from_be_bytes([fixed[0], fixed[1]]),
        dst_port: u16::from_be_bytes([fixed[2], fixed[3]]),
        payload,
    })
}

/// The type and code of an ICMP or ICMPv6 message.
fn icmp(bytes: &[u8], layer: &'static str) -> Result<(u8, u8), DecodeError> {
    let header = bytes
        .first_chunk::<ICMP_HEADER_LEN>()
        .ok_or(DecodeError::Truncated { layer })?;
    Ok((header[0], header[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(protocol: u8, bytes: &[u8], expected: Result<Transport<'_>, DecodeError>) {
        assert_eq!(decode(protocol, bytes, IpVersion::V4), expected);
    }

    /// A TCP header from 443 to 50000, with `options` and the given flags.
    fn tcp_header(options: &[u8], flags: u8) -> Vec<u8> {
        let offset = ((20 + options.len()) / 4) as u8;
        let mut header = vec![
            0x01, 0xbb, 0xc3, 0x50, 0, 0, 0x10, 0, 0xff, 0xff, 0xff, 0xff,
        ];
        header.extend_from_slice(&[offset << 4, flags, 0x01, 0x00, 0xab, 0xcd, 0, 0]);
        header.extend_from_slice(options);
        header
    }

    #[test]
    fn tcp_fields_and_options() {
        // MSS, SACK permitted, window scale, NOP: data offset 8.
        let options = [2, 4, 5, 0xb4, 4, 2, 3, 3, 7, 1, 1, 1];
        let mut bytes = tcp_header(&options, TcpFlags::SYN | TcpFlags::ACK);
        bytes.extend_from_slice(b"data");
        let expected = TcpSegment {
            src_port: 443,
            dst_port: 50000,
            seq: 4096,
            ack: u32::MAX,
            flags: TcpFlags(0x12),
            window: 256,
            payload: b"data",
        };
        check(TCP, &bytes, Ok(Transport::Tcp(expected)));
    }

    #[test]
    fn tcp_malformed() {
        let truncated = Err(DecodeError::Truncated { layer: "TCP" });
        let bytes = tcp_header(&[2, 4, 5, 0xb4], TcpFlags::SYN);
        check(TCP, &bytes[..19], truncated);
        // The options run past the end.
        check(TCP, &bytes[..22], truncated);
        let mut bad = tcp_header(&[], TcpFlags::SYN);
        bad[12] = 0x40;
        let invalid = DecodeError::Invalid {
            layer: "TCP",
            problem: "data offset below 5 words",
        };
        check(TCP, &bad, Err(invalid));
    }

    #[test]
    fn udp_length_clips_the_payload() {
        let datagram = |payload| {
            Ok(Transport::Udp(Datagram {
                src_port: 53,
                dst_port: 5353,
                payload,
            }))
        };
        let with_length = |length: u16| {
            let mut bytes = vec![0, 53, 0x14, 0xe9];
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend_from_slice(&[0, 0, b'a', b'b', b'c']);
            bytes
        };
        check(UDP, &with_length(11), datagram(b"abc"));
        // Trailing bytes beyond the UDP length are not payload.
        check(UDP, &with_length(9), datagram(b"a"));
        check(UDP, &with_length(8), datagram(b""));
        // A length beyond the capture keeps what was captured.
        check(UDP, &with_length(1000), datagram(b"abc"));
        let invalid = DecodeError::Invalid {
            layer: "UDP",
            problem: "length shorter than its header",
        };
        check(UDP, &with_length(7), Err(invalid));
        let truncated = Err(DecodeError::Truncated { layer: "UDP" });
        check(UDP, &with_length(11)[..7], truncated);
    }

    #[test]
    fn icmp_by_ip_version() {
        let message = |v6, kind, code| Ok(Transport::Icmp(IcmpMessage { v6, kind, code }));
        check(ICMP, &[8, 0, 0xf7, 0xff], message(false, 8, 0));
        check(
            ICMP,
            &[3, 3, 0],
            Err(DecodeError::Truncated { layer: "ICMP" }),
        );
        let v6 = |bytes| decode(ICMPV6, bytes, IpVersion::V6);
        assert_eq!(v6(&[128, 0, 0, 0, 1]), message(true, 128, 0));
        assert_eq!(v6(&[1]), Err(DecodeError::Truncated { layer: "ICMPv6" }));
        // Over the other IP version, neither is ICMP.
        check(
            ICMPV6,
            &[128, 0, 0, 0],
            Ok(Transport::Other { protocol: ICMPV6 }),
        );
        let icmp_over_v6 = decode(ICMP, &[8, 0, 0, 0], IpVersion::V6);
        assert_eq!(icmp_over_v6, Ok(Transport::Other { protocol: ICMP }));
    }

    #[test]
    fn other_protocols_are_named() {
        check(47, &[], Ok(Transport::Other { protocol: 47 }));
        check(132, &[0; 12], Ok(Transport::Other { protocol: 132 }));
    }
}
