//! NTP: a client request (mode 3, RFC 5905) gives the server's version
//! and stratum; a mode 7 MON_GETLIST_1 request (ntpd's private "monlist",
//! read-only) that is answered means the server can amplify traffic
//! towards a spoofed victim (`ntp.monlist`, CVE-2013-5211). Two
//! datagrams, nothing else; no control (mode 6) or configuration request.

use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::{Cursor, ParseError};
use crate::protocols::infra::wire::{random, udp_exchange, udp_exchange_once};
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[123];

/// An NTP packet without extensions is 48 bytes (RFC 5905 §7.3).
pub const PACKET_LEN: usize = 48;
const MODE_CLIENT: u8 = 3;
const MODE_SERVER: u8 = 4;
const MODE_PRIVATE: u8 = 7;
/// ntpd's mode 7 implementation number IMPL_XNTPD and request code
/// REQ_MON_GETLIST_1 (ntp_request.h).
const IMPL_XNTPD: u8 = 3;
const REQ_MON_GETLIST_1: u8 = 42;

/// The fields of a mode 3/4 packet the probe uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    pub leap: u8,
    pub version: u8,
    pub mode: u8,
    pub stratum: u8,
    pub reference_id: [u8; 4],
    pub origin: [u8; 8],
}

/// The header of a mode 7 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Private {
    pub response: bool,
    pub mode: u8,
    pub implementation: u8,
    pub request: u8,
    pub error: u8,
    pub items: u16,
}

/// A client request whose transmit timestamp is `nonce`: the server
/// copies it into the origin field, which ties the answer to it.
pub fn client_request(nonce: [u8; 8]) -> [u8; PACKET_LEN] {
    let mut packet = [0u8; PACKET_LEN];
    packet[0] = (4 << 3) | MODE_CLIENT;
    packet[40..48].copy_from_slice(&nonce);
    packet
}

/// MON_GETLIST_1 as ntpdc sends it: version 2, no item, zero-padded.
pub fn monlist_request() -> [u8; PACKET_LEN] {
    let mut packet = [0u8; PACKET_LEN];
    packet[0] = (2 << 3) | MODE_PRIVATE;
    packet[2] = IMPL_XNTPD;
    packet[3] = REQ_MON_GETLIST_1;
    packet
}

pub fn parse_packet(bytes: &[u8]) -> Result<Packet, ParseError> {
    let mut cursor = Cursor::new(bytes, "NTP packet");
    let first = cursor.u8()?;
    let stratum = cursor.u8()?;
    cursor.take(10)?;
    let reference_id = cursor.array()?;
    cursor.take(8)?;
    let origin = cursor.array()?;
    cursor.take(16)?;
    Ok(Packet {
        leap: first >> 6,
        version: (first >> 3) & 0x07,
        mode: first & 0x07,
        stratum,
        reference_id,
        origin,
    })
}

pub fn parse_private(bytes: &[u8]) -> Result<Private, ParseError> {
    let mut cursor = Cursor::new(bytes, "NTP mode 7 packet");
    let first = cursor.u8()?;
    let _sequence = cursor.u8()?;
    let implementation = cursor.u8()?;
    let request = cursor.u8()?;
    let err_items = cursor.u16_be()?;
    Ok(Private {
        response: first & 0x80 != 0,
        mode: first & 0x07,
        implementation,
        request,
        error: (err_items >> 12) as u8,
        items: err_items & 0x0fff,
    })
}

/// A server's answer to our monlist request, without error.
pub fn monlist_answered(private: &Private) -> bool {
    private.response
        && private.mode == MODE_PRIVATE
        && private.request == REQ_MON_GETLIST_1
        && private.error == 0
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let nonce = random::<8>();
    let reply = udp_exchange(target, ctx, &client_request(nonce))
        .await
        .ok()?;
    let packet = parse_packet(&reply).ok()?;
    if packet.mode != MODE_SERVER || packet.origin != nonce {
        return None;
    }
    let reference = if packet.stratum <= 1 {
        // Stratum 1 reference ids are four ASCII characters (GPS, PPS).
        crate::protocols::infra::cursor::printable(&packet.reference_id, 4)
    } else {
        std::net::Ipv4Addr::from(packet.reference_id).to_string()
    };
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "ntp".to_owned(),
        product: None,
        version: Some(format!("v{}", packet.version)),
        tls: false,
        banner: Some(format!("strate {}, référence {reference}", packet.stratum)),
    });
    // Modern servers ignore mode 7: silence is the normal answer, so
    // it is asked once only.
    if let Ok(bytes) = udp_exchange_once(target, ctx, &monlist_request()).await
        && let Ok(private) = parse_private(&bytes)
        && monlist_answered(&private)
    {
        result.findings.push(catalog::finding(
            "ntp.monlist",
            target,
            format!(
                "la requête « monlist » (mode 7) reçoit une réponse de {} octets ({} entrées)",
                bytes.len(),
                private.items
            ),
        ));
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_server_reply() {
        // A chrony answer to a v4 client request (stratum 2, ref 192.0.2.1).
        let mut bytes = [0u8; PACKET_LEN];
        bytes[0] = 0x24;
        bytes[1] = 2;
        bytes[12..16].copy_from_slice(&[192, 0, 2, 1]);
        bytes[24..32].copy_from_slice(&[9; 8]);
        let packet = parse_packet(&bytes).unwrap();
        assert_eq!((packet.version, packet.mode, packet.stratum), (4, 4, 2));
        assert_eq!(packet.origin, [9; 8]);
        assert!(parse_packet(&bytes[..47]).is_err());
    }

    #[test]
    fn writes_requests() {
        let request = client_request([1; 8]);
        assert_eq!(request[0], 0x23);
        assert_eq!(&request[40..], &[1; 8]);
        assert_eq!(&monlist_request()[..4], b"\x17\x00\x03\x2a");
    }

    #[test]
    fn judges_monlist_answers() {
        // ntpd 4.2.6 answering with 6 entries of 72 bytes.
        let answered = parse_private(b"\x97\x00\x03\x2a\x00\x06\x00\x48").unwrap();
        assert!(monlist_answered(&answered));
        // INFO_ERR_REQ (error 4): the request is disabled.
        let refused = parse_private(b"\x97\x00\x03\x2a\x40\x00\x00\x00").unwrap();
        assert!(!monlist_answered(&refused));
        // Our own request echoed by a reflector is not an answer.
        let echo = parse_private(&monlist_request()).unwrap();
        assert!(!monlist_answered(&echo));
        assert!(parse_private(b"\x97\x00").is_err());
    }
}
