//! RDP ([MS-RDPBCGR]): sends the X.224 Connection Request with an
//! RDP_NEG_REQ (§2.2.1.1) asking for standard RDP security only, then,
//! if the server insists on TLS, for TLS only. A server that accepts
//! either does not enforce Network Level Authentication: anyone reaches
//! its logon screen, and its pre-authentication code, without an account.
//!
//! It must not go past the negotiation: the connection is closed once the
//! Connection Confirm is read, before any TLS or MCS exchange.

use std::io;

use vigie_core::probe::Service;

use super::conn::Connection;
use super::wire::{ParseError, Reader};
use crate::catalog;
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[3389];

/// requestedProtocols values ([MS-RDPBCGR] §2.2.1.1.1).
pub const PROTOCOL_RDP: u32 = 0;
pub const PROTOCOL_SSL: u32 = 1;
pub const PROTOCOL_HYBRID: u32 = 2;

/// RDP_NEG_FAILURE failureCode values (§2.2.1.2.2).
pub const SSL_REQUIRED_BY_SERVER: u32 = 1;
pub const HYBRID_REQUIRED_BY_SERVER: u32 = 5;
pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: u32 = 6;

/// TPKT (RFC 1006 §6): a Connection Confirm is 11 to 19 bytes; anything
/// much longer is not one.
const MAX_TPKT_LEN: usize = 512;

/// The server's answer to the Connection Request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negotiation {
    /// A Connection Confirm without negotiation data: a server before RDP
    /// 5.2 (Windows XP, 2003), which only speaks standard RDP security.
    Legacy,
    /// RDP_NEG_RSP (§2.2.1.2.1).
    Selected { protocol: u32, flags: u8 },
    /// RDP_NEG_FAILURE (§2.2.1.2.2).
    Failure { code: u32 },
}

/// The X.224 Connection Request with an RDP_NEG_REQ for `protocols`.
pub fn connection_request(protocols: u32) -> Vec<u8> {
    // TPKT header (4) + X.224 CR fixed part (7) + RDP_NEG_REQ (8).
    let mut request = vec![0x03, 0x00, 0x00, 19];
    // Length indicator (bytes after it), CR code, DST-REF, SRC-REF, class 0.
    request.extend_from_slice(&[14, 0xE0, 0, 0, 0, 0, 0]);
    // TYPE_RDP_NEG_REQ, flags, length 8, requestedProtocols.
    request.extend_from_slice(&[0x01, 0x00, 0x08, 0x00]);
    request.extend_from_slice(&protocols.to_le_bytes());
    request
}

/// Parses the TPKT-framed X.224 Connection Confirm (§2.2.1.2).
pub fn parse_negotiation(bytes: &[u8]) -> Result<Negotiation, ParseError> {
    let mut tpkt = Reader::new(bytes, "TPKT header");
    let version = tpkt.u8()?;
    tpkt.skip(1)?;
    let length = usize::from(tpkt.u16_be()?);
    if version != 3 || !(11..=MAX_TPKT_LEN).contains(&length) {
        return Err(ParseError::invalid(
            "TPKT header",
            format!("version {version}, length {length}: not an RDP answer"),
        ));
    }
    let body = tpkt.take(length - 4)?;
    let mut x224 = Reader::new(body, "X.224 Connection Confirm");
    let indicator = usize::from(x224.u8()?);
    let code = x224.u8()?;
    if code & 0xF0 != 0xD0 {
        return Err(ParseError::invalid(
            "X.224 Connection Confirm",
            format!("TPDU code {code:#04x}, not a Connection Confirm"),
        ));
    }
    // DST-REF, SRC-REF, class.
    x224.skip(5)?;
    if indicator < 14 || x224.remaining() < 8 {
        return Ok(Negotiation::Legacy);
    }
    let mut neg = Reader::new(x224.take(8)?, "RDP negotiation");
    let kind = neg.u8()?;
    let flags = neg.u8()?;
    let _length = neg.u16_le()?;
    let value = neg.u32_le()?;
    match kind {
        0x02 => Ok(Negotiation::Selected {
            protocol: value,
            flags,
        }),
        0x03 => Ok(Negotiation::Failure { code: value }),
        other => Err(ParseError::invalid(
            "RDP negotiation",
            format!("type {other:#04x} is neither RDP_NEG_RSP nor RDP_NEG_FAILURE"),
        )),
    }
}

/// Whether logging on requires authenticating first, from the answers to
/// the RDP-only request and, when TLS was required, the TLS-only one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NlaVerdict {
    Enforced,
    /// Not enforced; the security layer the server accepted.
    NotEnforced(&'static str),
    Unknown,
}

pub fn nla_verdict(rdp_only: Negotiation, tls_only: Option<Negotiation>) -> NlaVerdict {
    let requires_nla =
        |code| code == HYBRID_REQUIRED_BY_SERVER || code == SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER;
    match (rdp_only, tls_only) {
        (Negotiation::Legacy, _) => {
            NlaVerdict::NotEnforced("sécurité RDP standard (ancien serveur)")
        }
        (
            Negotiation::Selected {
                protocol: PROTOCOL_RDP,
                ..
            },
            _,
        ) => NlaVerdict::NotEnforced("sécurité RDP standard"),
        (Negotiation::Failure { code }, _) if requires_nla(code) => NlaVerdict::Enforced,
        (
            _,
            Some(Negotiation::Selected {
                protocol: PROTOCOL_SSL,
                ..
            }),
        ) => NlaVerdict::NotEnforced("TLS sans authentification préalable"),
        (_, Some(Negotiation::Failure { code })) if requires_nla(code) => NlaVerdict::Enforced,
        _ => NlaVerdict::Unknown,
    }
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let rdp_only = negotiate(target, ctx, PROTOCOL_RDP).await.ok()?;
    let tls_only = match rdp_only {
        Negotiation::Failure {
            code: SSL_REQUIRED_BY_SERVER,
        } => negotiate(target, ctx, PROTOCOL_SSL).await.ok(),
        _ => None,
    };
    let verdict = nla_verdict(rdp_only, tls_only);
    let banner = match verdict {
        NlaVerdict::Enforced => "RDP, NLA requise".to_owned(),
        NlaVerdict::NotEnforced(layer) => format!("RDP, {layer}"),
        NlaVerdict::Unknown => "RDP".to_owned(),
    };
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "rdp".to_owned(),
        product: None,
        version: None,
        tls: false,
        banner: Some(banner),
    });
    result.findings.push(catalog::finding(
        "rdp.exposed",
        target,
        "le bureau à distance Windows (RDP) répond sur ce port",
    ));
    if let NlaVerdict::NotEnforced(layer) = verdict {
        result.findings.push(catalog::finding(
            "rdp.no_nla",
            target,
            format!("le serveur accepte une connexion sans NLA : {layer}"),
        ));
    }
    Some(result)
}

/// One Connection Request and its Confirm, on its own connection.
async fn negotiate(target: &Target, ctx: &Context, protocols: u32) -> io::Result<Negotiation> {
    let mut conn = Connection::open(target, ctx.timeout).await?;
    conn.send(&connection_request(protocols)).await?;
    let header = conn.read_exact(4).await?;
    let length = header
        .get(2..4)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .unwrap_or_default();
    if header.first() != Some(&3) || !(11..=MAX_TPKT_LEN).contains(&length) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a TPKT answer",
        ));
    }
    let body = conn.read_exact(length - 4).await?;
    parse_negotiation(&[header, body].concat())
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        // As in [MS-RDPBCGR] §4.1.1, without the cookie.
        assert_eq!(
            connection_request(PROTOCOL_RDP),
            [3, 0, 0, 19, 14, 0xE0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0]
        );
        assert_eq!(connection_request(PROTOCOL_SSL)[15], 1);
    }

    #[test]
    fn confirms() {
        // Windows 10 asked for RDP only, NLA enforced.
        let failure = [
            3, 0, 0, 19, 14, 0xD0, 0, 0, 0x12, 0x34, 0, 3, 0, 8, 0, 5, 0, 0, 0,
        ];
        assert_eq!(
            parse_negotiation(&failure).unwrap(),
            Negotiation::Failure { code: 5 }
        );
        // [MS-RDPBCGR] §4.1.2 (TLS selected, flags 0x1f in the example).
        let selected = [
            3, 0, 0, 19, 14, 0xD0, 0, 0, 0x12, 0x34, 0, 2, 0x1f, 8, 0, 1, 0, 0, 0,
        ];
        assert_eq!(
            parse_negotiation(&selected).unwrap(),
            Negotiation::Selected {
                protocol: 1,
                flags: 0x1f
            }
        );
        let legacy = [3, 0, 0, 11, 6, 0xD0, 0, 0, 0x12, 0x34, 0];
        assert_eq!(parse_negotiation(&legacy).unwrap(), Negotiation::Legacy);
        assert!(parse_negotiation(&legacy[..10]).is_err());
        assert!(parse_negotiation(b"HTTP/1.1 400 Bad Request\r\n").is_err());
        assert!(parse_negotiation(&[3, 0, 0, 11, 6, 0xE0, 0, 0, 0, 0, 0]).is_err());
        let mut unknown = failure;
        unknown[11] = 9;
        assert!(parse_negotiation(&unknown).is_err());
    }

    #[test]
    fn nla_from_the_answers() {
        let failure = |code| Negotiation::Failure { code };
        let selected = |protocol| Negotiation::Selected { protocol, flags: 0 };
        assert_eq!(nla_verdict(failure(5), None), NlaVerdict::Enforced);
        assert!(matches!(
            nla_verdict(selected(0), None),
            NlaVerdict::NotEnforced(_)
        ));
        assert!(matches!(
            nla_verdict(Negotiation::Legacy, None),
            NlaVerdict::NotEnforced(_)
        ));
        assert!(matches!(
            nla_verdict(failure(1), Some(selected(1))),
            NlaVerdict::NotEnforced(_)
        ));
        assert_eq!(
            nla_verdict(failure(1), Some(failure(5))),
            NlaVerdict::Enforced
        );
        assert_eq!(nla_verdict(failure(1), None), NlaVerdict::Unknown);
        assert_eq!(nla_verdict(failure(2), None), NlaVerdict::Unknown);
    }
}
