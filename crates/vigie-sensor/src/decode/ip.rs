//! IP layer: the IPv4 header (RFC 791) and the IPv6 header with its chain of
//! extension headers (RFC 8200 §4). Hands the transport layer the payload
//! clipped to the length the header declares, so that Ethernet padding never
//! reaches a TCP payload.
//!
//! It must not reassemble fragments (a non-first fragment is reported as
//! such), verify the IPv4 header checksum (captures are full of offloaded,
//! unset checksums), nor allocate.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::transport;
use super::{DecodeError, Packet, Transport};

/// Which IP carries a transport header: ICMP and ICMPv6 differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IpVersion {
    V4,
    V6,
}

/// IPv4 header without options (RFC 791 §3.1).
const IPV4_MIN_HEADER_LEN: usize = 20;
/// IPv6 fixed header (RFC 8200 §3).
const IPV6_HEADER_LEN: usize = 40;
/// RFC 8200 §4.1: each extension header occurs at most once, Destination
/// Options at most twice, so a legitimate chain has at most seven (ESP
/// included, which ends our walk). Longer chains are an evasion attempt
/// (RFC 9098) and would cost an unbounded walk.
const MAX_IPV6_EXTENSION_HEADERS: usize = 8;

/// IPv6 extension header and next-header numbers (IANA "Assigned Internet
/// Protocol Numbers"; RFC 8200 §4.3 to §4.6, RFC 4302, RFC 4303).
const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const ESP: u8 = 50;
const AUTHENTICATION: u8 = 51;
const NO_NEXT_HEADER: u8 = 59;
const DESTINATION_OPTIONS: u8 = 60;

/// IPv4 flags and fragment offset field (RFC 791 §3.1).
const IPV4_MORE_FRAGMENTS: u16 = 0x2000;
const IPV4_OFFSET_MASK: u16 = 0x1fff;

/// Where a packet sits in a fragmented datagram.
#[derive(Clone, Copy, Debug, Default)]
struct Fragmentation {
    /// Fragment offset, in 8-byte units; 0 for the first fragment.
    offset: u16,
    more: bool,
}

/// Decodes an IPv4 or IPv6 packet, told apart by its version nibble
/// (LINKTYPE_RAW).
pub(super) fn decode(bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match bytes.first().map(|byte| byte >> 4) {
        None => Err(DecodeError::Truncated { layer: "IP" }),
        Some(4) => decode_v4(bytes),
        Some(6) => decode_v6(bytes),
        Some(_) => Err(DecodeError::Invalid {
            layer: "IP",
            problem: "version is neither 4 nor 6",
        }),
    }
}

/// Decodes an IPv4 packet and its transport header.
pub(super) fn decode_v4(bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    const TRUNCATED: DecodeError = DecodeError::Truncated { layer: "IPv4" };
    let (fixed, _) = bytes
        .split_first_chunk::<IPV4_MIN_HEADER_LEN>()
        .ok_or(TRUNCATED)?;
    let invalid = |problem| DecodeError::Invalid {
        layer: "IPv4",
        problem,
    };
    if fixed[0] >> 4 != 4 {
        return Err(invalid("version is not 4"));
    }
    let header_len = usize::from(fixed[0] & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER_LEN {
        return Err(invalid("header length (IHL) below 5 words"));
    }
    let total_len = u16::from_be_bytes([fixed[2], fixed[3]]);
    // A total length of 0 is what segmentation offload leaves in packets
    // captured on the sending host (Wireshark's "TSO" case): trust the
    // capture then.
    let (ip_len, packet) = match usize::from(total_len) {
        0 => (u32::try_from(bytes.len()).unwrap_or(u32::MAX), bytes),
        len if len < header_len => return Err(invalid("total length shorter than its header")),
        len => (u32::from(total_len), bytes.get(..len).unwrap_or(bytes)),
    };
    let payload = packet.get(header_len..).ok_or(TRUNCATED)?;
    let flags_offset = u16::from_be_bytes([fixed[6], fixed[7]]);
    let fragmentation = Fragmentation {
        offset: flags_offset & IPV4_OFFSET_MASK,
        more: flags_offset & IPV4_MORE_FRAGMENTS != 0,
    };
    let src = Ipv4Addr::from([fixed[12], fixed[13], fixed[14], fixed[15]]);
    let dst = Ipv4Addr::from([fixed[16], fixed[17], fixed[18], fixed[19]]);
    Ok(Packet {
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        ttl: fixed[8],
        ip_len,
        transport: transport_of(fixed[9], payload, IpVersion::V4, fragmentation)?,
    })
}

/// Decodes an IPv6 packet, walks its extension headers, and decodes the
/// transport header that ends the chain.
pub(super) fn decode_v6(bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    const TRUNCATED: DecodeError = DecodeError::Truncated { layer: "IPv6" };
    let (head, rest) = bytes.split_first_chunk::<8>().ok_or(TRUNCATED)?;
    let (src, rest) = rest.split_first_chunk::<16>().ok_or(TRUNCATED)?;
    let (dst, rest) = rest.split_first_chunk::<16>().ok_or(TRUNCATED)?;
    if head[0] >> 4 != 6 {
        return Err(DecodeError::Invalid {
            layer: "IPv6",
            problem: "version is not 6",
        });
    }
    let payload_len = u16::from_be_bytes([head[4], head[5]]);
    let next_header = head[6];
    // A payload length of 0 with a payload is a jumbogram (RFC 2675) or, far
    // more often, segmentation offload on the capturing host: trust the
    // capture then, as for IPv4.
    let payload = match usize::from(payload_len) {
        0 if next_header != NO_NEXT_HEADER => rest,
        len => rest.get(..len).unwrap_or(rest),
    };
    let ip_len = match payload_len {
        0 => IPV6_HEADER_LEN.saturating_add(payload.len()),
        len => IPV6_HEADER_LEN + usize::from(len),
    };
    Ok(Packet {
        src: IpAddr::V6(Ipv6Addr::from(*src)),
        dst: IpAddr::V6(Ipv6Addr::from(*dst)),
        ttl: head[7],
        ip_len: u32::try_from(ip_len).unwrap_or(u32::MAX),
        transport: extension_chain(next_header, payload)?,
    })
}

/// Walks the IPv6 extension headers (RFC 8200 §4) up to the transport
/// header, noting the Fragment header on the way.
fn extension_chain(mut next_header: u8, mut bytes: &[u8]) -> Result<Transport<'_>, DecodeError> {
    const TRUNCATED: DecodeError = DecodeError::Truncated {
        layer: "IPv6 extension",
    };
    let mut fragmentation = Fragmentation::default();
    // One more turn than the limit: the last one may be the transport.
    for _ in 0..=MAX_IPV6_EXTENSION_HEADERS {
        let (following, header_len) = match next_header {
            // Length in 8-octet units, not counting the first 8 (RFC 8200 §4.3).
            HOP_BY_HOP | ROUTING | DESTINATION_OPTIONS => {
                let [following, len] = *bytes.first_chunk::<2>().ok_or(TRUNCATED)?;
                (following, (usize::from(len) + 1) * 8)
            }
            // Length in 4-octet units, minus 2 (RFC 4302 §2.2).
            AUTHENTICATION => {
                let [following, len] = *bytes.first_chunk::<2>().ok_or(TRUNCATED)?;
                (following, (usize::from(len) + 2) * 4)
            }
            // Fixed 8 bytes; offset in 8-octet units, then M flag (RFC 8200 §4.5).
            FRAGMENT => {
                let fragment = bytes.first_chunk::<8>().ok_or(TRUNCATED)?;
                let offset_flags = u16::from_be_bytes([fragment[2], fragment[3]]);
                fragmentation = Fragmentation {
                    offset: offset_flags >> 3,
                    more: offset_flags & 1 != 0,
                };
                if fragmentation.offset != 0 {
                    return Ok(Transport::Fragment {
                        protocol: fragment[0],
                    });
                }
                (fragment[0], 8)
            }
            // Encrypted, or nothing: no transport header we could read.
            ESP | NO_NEXT_HEADER => {
                return Ok(Transport::Other {
                    protocol: next_header,
                });
            }
            protocol => return transport_of(protocol, bytes, IpVersion::V6, fragmentation),
        };
        bytes = bytes.get(header_len..).ok_or(TRUNCATED)?;
        next_header = following;
    }
    Err(DecodeError::Invalid {
        layer: "IPv6",
        problem: "too many extension headers",
    })
}

/// Decodes the transport header unless the packet is a non-first fragment.
/// A first fragment too short for its transport header (a "tiny fragment",
/// RFC 1858) is reported as a fragment, not as a truncated capture.
fn transport_of(
    protocol: u8,
    payload: &[u8],
    version: IpVersion,
    fragmentation: Fragmentation,
) -> Result<Transport<'_>, DecodeError> {
    if fragmentation.offset != 0 {
        return Ok(Transport::Fragment { protocol });
    }
    match transport::decode(protocol, payload, version) {
        Err(DecodeError::Truncated { .. }) if fragmentation.more => {
            Ok(Transport::Fragment { protocol })
        }
        decoded => decoded,
    }
}

#[cfg(test)]
mod tests;
