//! DNS: one recursive query for the root zone's name servers (`. NS`,
//! RD=1), over UDP or TCP. An answer with RA=1 and records means the
//! server resolves for anyone who reaches it (`dns.open_resolver`). It
//! sends no other query: never a name that would make the resolver
//! contact a host for the probe beyond the root servers it already knows.

use vigie_core::probe::{Service, Transport};

use crate::catalog;
use crate::protocols::infra::cursor::{Cursor, ParseError};
use crate::protocols::infra::wire::{Conn, random, udp_exchange};
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[53];

/// Header flag bits (RFC 1035 §4.1.1).
const QR: u16 = 0x8000;
const RD: u16 = 0x0100;
const RA: u16 = 0x0080;
const TYPE_NS: u16 = 2;
const CLASS_IN: u16 = 1;
const HEADER_LEN: usize = 12;

/// What the header of a response says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub questions: u16,
    pub answers: u16,
}

impl Header {
    pub fn is_response(&self) -> bool {
        self.flags & QR != 0
    }

    pub fn recursion_available(&self) -> bool {
        self.flags & RA != 0
    }

    /// RCODE (RFC 1035 §4.1.1): 0 no error, 2 server failure, 5 refused.
    pub fn rcode(&self) -> u16 {
        self.flags & 0x000f
    }
}

/// The `. NS` query with recursion desired.
pub fn root_ns_query(id: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 5);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&RD.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    // The root name is the empty label.
    out.push(0);
    out.extend_from_slice(&TYPE_NS.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// Parses a response's header.
pub fn parse_header(bytes: &[u8]) -> Result<Header, ParseError> {
    let mut cursor = Cursor::new(bytes, "DNS header");
    let header = Header {
        id: cursor.u16_be()?,
        flags: cursor.u16_be()?,
        questions: cursor.u16_be()?,
        answers: cursor.u16_be()?,
    };
    cursor.take(4)?;
    Ok(header)
}

/// Whether `bytes` answer our query `id` as an open resolver would:
/// a response, recursion available, no error and at least one answer.
pub fn is_open_resolver(bytes: &[u8], id: u16) -> Result<bool, ParseError> {
    let header = parse_header(bytes)?;
    if header.id != id || !header.is_response() {
        return Err(ParseError::invalid(
            "DNS response",
            "not an answer to our query",
        ));
    }
    Ok(header.recursion_available() && header.rcode() == 0 && header.answers > 0)
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let id = u16::from_be_bytes(random::<2>());
    let query = root_ns_query(id);
    let reply = match target.transport {
        Transport::Udp => udp_exchange(target, ctx, &query).await.ok()?,
        Transport::Tcp => tcp_exchange(target, ctx, &query).await?,
    };
    let open = is_open_resolver(&reply, id).ok()?;
    let header = parse_header(&reply).ok()?;
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "dns".to_owned(),
        product: None,
        version: None,
        tls: false,
        banner: Some(format!(
            "réponse à « . NS » : code {}, récursion {}",
            header.rcode(),
            if header.recursion_available() {
                "oui"
            } else {
                "non"
            }
        )),
    });
    if open {
        result.findings.push(catalog::finding(
            "dns.open_resolver",
            target,
            format!(
                "requête récursive « . NS » servie sans restriction ({} réponses)",
                header.answers
            ),
        ));
    }
    Some(result)
}

/// DNS over TCP: each message is preceded by its two-byte length
/// (RFC 1035 §4.2.2).
async fn tcp_exchange(target: &Target, ctx: &Context, query: &[u8]) -> Option<Vec<u8>> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    conn.send(&framed).await.ok()?;
    let bytes = conn
        .receive(|b| {
            let length = usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]));
            (b.len() >= length + 2).then_some(length + 2)
        })
        .await
        .ok()?;
    conn.close().await;
    bytes.get(2..).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(id: u16, flags: u16, answers: u16) -> Vec<u8> {
        let mut bytes = root_ns_query(id);
        bytes[2..4].copy_from_slice(&flags.to_be_bytes());
        bytes[6..8].copy_from_slice(&answers.to_be_bytes());
        bytes
    }

    #[test]
    fn writes_the_root_ns_query() {
        assert_eq!(
            root_ns_query(0x1234),
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01"
        );
    }

    #[test]
    fn judges_answers() {
        // Recursion available, NOERROR, 13 root servers: open.
        assert!(is_open_resolver(&response(7, 0x8180, 13), 7).unwrap());
        // REFUSED with RA=0: an authoritative-only or restricted server.
        assert!(!is_open_resolver(&response(7, 0x8105, 0), 7).unwrap());
        // Recursion available but no answer (SERVFAIL offline resolver).
        assert!(!is_open_resolver(&response(7, 0x8182, 0), 7).unwrap());
        // Someone else's id, or a query echoed back: not ours.
        assert!(is_open_resolver(&response(8, 0x8180, 13), 7).is_err());
        assert!(is_open_resolver(&response(7, 0x0100, 13), 7).is_err());
        assert!(is_open_resolver(b"\x00\x07\x81", 7).is_err());
    }
}
