//! DNS message decoding (RFC 1035 §4.1): the header and the first question,
//! which is all the detectors need (queried name, type, class).
//!
//! It must not allocate, panic on any input, or follow compression pointers
//! without bound. Answers, authority and additional records are not read.
//!
//! Label bytes are accepted as sent (DNS labels are binary, RFC 2181 §11),
//! except `.`: a label holding a dot would make `a.b` (one label) compare
//! equal to `a` + `b` (two labels), so matching against a domain list could
//! be fooled; such names are rejected. ASCII letters are lowercased (DNS
//! names compare case-insensitively, RFC 4343); nothing is escaped.

use std::fmt;

/// Longest name in text form (RFC 1035 §2.3.4: 255 octets on the wire, that
/// is 253 characters without the first length byte and the root label).
pub const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Compression pointers followed in one name. Pointers must already go
/// strictly backwards, so they cannot loop; this bounds the work on a long
/// backward chain (a real name needs one pointer).
pub const MAX_POINTER_JUMPS: usize = 16;

/// Fixed header length (RFC 1035 §4.1.1).
const HEADER_LEN: usize = 12;
/// Length of the two-byte length prefix of DNS over TCP (RFC 1035 §4.2.2).
const TCP_PREFIX_LEN: usize = 2;

/// Common query types (RFC 1035 §3.2.2 and later registrations).
pub mod qtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    /// Any binary data: a favourite of DNS tunnels.
    pub const NULL: u16 = 10;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const NAPTR: u16 = 35;
    pub const OPT: u16 = 41;
    pub const DS: u16 = 43;
    pub const RRSIG: u16 = 46;
    pub const DNSKEY: u16 = 48;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    /// Incremental zone transfer (RFC 1995).
    pub const IXFR: u16 = 251;
    /// Full zone transfer (RFC 5936).
    pub const AXFR: u16 = 252;
    /// "*": the usual amplification query (RFC 8482 discourages answering).
    pub const ANY: u16 = 255;
}

/// Query classes (RFC 1035 §3.2.4).
pub mod qclass {
    pub const IN: u16 = 1;
    /// CHAOS: `version.bind` and friends, server fingerprinting.
    pub const CH: u16 = 3;
    pub const ANY: u16 = 255;
}

/// The header and first question of a DNS message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub id: u16,
    /// QR bit: a response rather than a query.
    pub is_response: bool,
    pub opcode: u8,
    /// Response code (NXDOMAIN = 3), meaningful in responses only.
    pub rcode: u8,
    pub qtype: u16,
    pub qclass: u16,
    name: [u8; MAX_NAME_LEN],
    name_len: u8,
    label_count: u8,
    longest_label: u8,
}

impl Query {
    /// The question name, ASCII-lowercased, labels joined by `.`, no
    /// trailing dot; the root is the empty name.
    pub fn name(&self) -> &[u8] {
        self.name.get(..usize::from(self.name_len)).unwrap_or(&[])
    }

    /// The labels of the name, left to right (none for the root).
    pub fn labels(&self) -> impl Iterator<Item = &[u8]> {
        // Splitting on '.' is exact: labels holding a dot are rejected.
        self.name()
            .split(|&b| b == b'.')
            .filter(|label| !label.is_empty())
    }

    pub fn label_count(&self) -> usize {
        usize::from(self.label_count)
    }

    /// Length of the longest label: long labels carry data in DNS tunnels.
    pub fn longest_label(&self) -> usize {
        usize::from(self.longest_label)
    }

    /// Appends one label, lowercased, checking the name length limit.
    fn push_label(&mut self, label: &[u8], offset: usize) -> Result<(), DnsError> {
        if label.contains(&b'.') {
            return Err(DnsError::DotInLabel { offset });
        }
        let start = usize::from(self.name_len);
        let sep = usize::from(self.label_count > 0);
        let end = start + sep + label.len();
        let Some(slot) = self.name.get_mut(start..end) else {
            return Err(DnsError::NameTooLong);
        };
        let (dot, text) = slot.split_at_mut(sep);
        dot.fill(b'.');
        for (out, &b) in text.iter_mut().zip(label) {
            *out = b.to_ascii_lowercase();
        }
        // All three fit in a u8: end <= 253, label.len() <= 63, and a
        // 253-byte name has at most 127 labels.
        self.name_len = end as u8;
        self.label_count += 1;
        self.longest_label = self.longest_label.max(label.len() as u8);
        Ok(())
    }
}

impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("id", &self.id)
            .field("is_response", &self.is_response)
            .field("opcode", &self.opcode)
            .field("rcode", &self.rcode)
            .field("qtype", &self.qtype)
            .field("qclass", &self.qclass)
            .field("name", &self.name().escape_ascii().to_string())
            .finish()
    }
}

/// Why a DNS message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("DNS message truncated in the {0}")]
    Truncated(&'static str),
    #[error("DNS message has no question (QDCOUNT is 0)")]
    NoQuestion,
    #[error(
        "DNS name: byte {byte:#04x} at offset {offset} is neither a label length \
         (at most 63) nor a compression pointer (RFC 1035 §4.1.4)"
    )]
    BadLabelType { offset: usize, byte: u8 },
    #[error("DNS name longer than {MAX_NAME_LEN} characters (RFC 1035 §2.3.4)")]
    NameTooLong,
    #[error("DNS label at offset {offset} contains a '.'")]
    DotInLabel { offset: usize },
    #[error(
        "DNS compression pointer at offset {offset} does not point before \
         the data it was reached from"
    )]
    BadPointer { offset: usize },
    #[error("DNS name follows more than {MAX_POINTER_JUMPS} compression pointers")]
    TooManyPointers,
}

/// Reads the header and first question of a DNS message (a UDP payload).
pub fn parse(message: &[u8]) -> Result<Query, DnsError> {
    let Some(header) = message.first_chunk::<HEADER_LEN>() else {
        return Err(DnsError::Truncated("header"));
    };
    let [id_hi, id_lo, flags_hi, flags_lo, qd_hi, qd_lo, ..] = *header;
    if u16::from_be_bytes([qd_hi, qd_lo]) == 0 {
        return Err(DnsError::NoQuestion);
    }
    let mut query = Query {
        id: u16::from_be_bytes([id_hi, id_lo]),
        is_response: flags_hi & 0x80 != 0,
        opcode: (flags_hi >> 3) & 0x0f,
        rcode: flags_lo & 0x0f,
        qtype: 0,
        qclass: 0,
        name: [0; MAX_NAME_LEN],
        name_len: 0,
        label_count: 0,
        longest_label: 0,
    };
    let after_name = read_name(message, HEADER_LEN, &mut query)?;
    let Some(&[t_hi, t_lo, c_hi, c_lo]) = message
        .get(after_name..)
        .and_then(|rest| rest.first_chunk::<4>())
    else {
        return Err(DnsError::Truncated("question type and class"));
    };
    query.qtype = u16::from_be_bytes([t_hi, t_lo]);
    query.qclass = u16::from_be_bytes([c_hi, c_lo]);
    Ok(query)
}

/// Reads a DNS-over-TCP payload: a two-byte length then a message
/// (RFC 1035 §4.2.2). Only the first message of the segment is read; if the
/// segment holds less than the announced length, what is there is parsed,
/// since the question comes first.
pub fn parse_tcp(payload: &[u8]) -> Result<Query, DnsError> {
    let Some((prefix, rest)) = payload.split_first_chunk::<TCP_PREFIX_LEN>() else {
        return Err(DnsError::Truncated("TCP length prefix"));
    };
    let len = usize::from(u16::from_be_bytes(*prefix));
    parse(rest.get(..len).unwrap_or(rest))
}

/// Reads the name starting at `start` into `query` and returns the offset
/// just after it in the question (after the first pointer, if any).
fn read_name(message: &[u8], start: usize, query: &mut Query) -> Result<usize, DnsError> {
    let mut pos = start;
    let mut resume = None;
    // As in dnspython: every pointer must point strictly before the lowest
    // offset reached so far, so targets strictly decrease and cannot loop.
    let mut lowest = start;
    let mut jumps = 0;
    loop {
        let Some(&byte) = message.get(pos) else {
            return Err(DnsError::Truncated("question name"));
        };
        match byte >> 6 {
            0 => {
                // pos < message.len() and byte <= 63: no overflow.
                let label_end = pos + 1 + usize::from(byte);
                if byte == 0 {
                    return Ok(resume.unwrap_or(label_end));
                }
                let Some(label) = message.get(pos + 1..label_end) else {
                    return Err(DnsError::Truncated("question name"));
                };
                query.push_label(label, pos)?;
                pos = label_end;
            }
            0b11 => {
                let Some(&low) = message.get(pos + 1) else {
                    return Err(DnsError::Truncated("question name"));
                };
                let target = usize::from(u16::from_be_bytes([byte & 0x3f, low]));
                if target >= lowest {
                    return Err(DnsError::BadPointer { offset: pos });
                }
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(DnsError::TooManyPointers);
                }
                resume.get_or_insert(pos + 2);
                lowest = target;
                pos = target;
            }
            // 0b01 was the extended label type RFC 6891 §5 retired; 0b10 is
            // reserved (RFC 1035 §4.1.4).
            _ => return Err(DnsError::BadLabelType { offset: pos, byte }),
        }
    }
}

#[cfg(test)]
mod tests;
