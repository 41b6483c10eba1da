//! Data and infrastructure services: databases and caches (Redis,
//! MongoDB, Elasticsearch, MySQL/MariaDB, PostgreSQL), SNMP, DNS, NTP,
//! printers (IPP, JetDirect, LPD) and mail (SMTP, POP3, IMAP).
//!
//! Each protocol module identifies its service and runs its checks; this
//! module routes a target to the right one, by port or, on an unusual
//! port, by the greeting the service sends first. What none of them may
//! do: write, configure or delete anything (only read-only commands),
//! send a byte to a printer's raw ports, query a DNS name beyond the root
//! zone, or try more passwords than `ctx.password_budget` per account.

pub mod cursor;
pub mod dns;
pub mod elasticsearch;
pub mod http;
pub mod mail;
pub mod mongodb;
pub mod mysql;
pub mod ntp;
pub mod postgresql;
pub mod printer;
pub mod redis;
pub mod snmp;
pub mod trials;
pub mod wire;

use vigie_core::probe::Transport;

use crate::target::{Context, PortResult, Target};

/// The family's protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Redis,
    MongoDb,
    Elasticsearch,
    MySql,
    PostgreSql,
    Snmp,
    Dns,
    Ntp,
    Ipp,
    JetDirect,
    Lpd,
    Smtp,
    Pop3,
    Imap,
    /// SMTPS, IMAPS, POP3S: TLS from the first byte.
    MailTls,
}

/// The protocol served by default on `port` over `transport`.
pub fn protocol_for(port: u16, transport: Transport) -> Option<Protocol> {
    let tcp: &[(&[u16], Protocol)] = &[
        (redis::PORTS, Protocol::Redis),
        (mongodb::PORTS, Protocol::MongoDb),
        (elasticsearch::PORTS, Protocol::Elasticsearch),
        (mysql::PORTS, Protocol::MySql),
        (postgresql::PORTS, Protocol::PostgreSql),
        (dns::PORTS, Protocol::Dns),
        (printer::IPP_PORTS, Protocol::Ipp),
        (printer::JETDIRECT_PORTS, Protocol::JetDirect),
        (printer::LPD_PORTS, Protocol::Lpd),
        (mail::SMTP_PORTS, Protocol::Smtp),
        (mail::POP3_PORTS, Protocol::Pop3),
        (mail::IMAP_PORTS, Protocol::Imap),
        (mail::TLS_PORTS, Protocol::MailTls),
    ];
    let udp: &[(&[u16], Protocol)] = &[
        (snmp::PORTS, Protocol::Snmp),
        (dns::PORTS, Protocol::Dns),
        (ntp::PORTS, Protocol::Ntp),
    ];
    let table = match transport {
        Transport::Tcp => tcp,
        Transport::Udp => udp,
    };
    table
        .iter()
        .find(|(ports, _)| ports.contains(&port))
        .map(|(_, protocol)| *protocol)
}

/// Whether this family examines `port` by default.
pub fn claims(port: u16, transport: Transport) -> bool {
    protocol_for(port, transport).is_some()
}

/// Whether the first bytes a TCP service sent are one of ours: an SMTP,
/// POP3 or IMAP greeting, or a MySQL handshake.
pub fn claims_banner(first_bytes: &[u8]) -> bool {
    banner_protocol(first_bytes).is_some()
}

fn banner_protocol(first_bytes: &[u8]) -> Option<Protocol> {
    match mail::banner_protocol(first_bytes) {
        Some("smtp") => Some(Protocol::Smtp),
        Some("pop3") => Some(Protocol::Pop3),
        Some("imap") => Some(Protocol::Imap),
        _ if mysql::matches_banner(first_bytes) => Some(Protocol::MySql),
        _ => None,
    }
}

/// Examines one open port: by its default protocol, or, for a TCP port
/// that is not ours by default, by the greeting it sends.
pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let protocol = match protocol_for(target.port, target.transport) {
        Some(protocol) => protocol,
        None if target.transport == Transport::Tcp => {
            let mut conn = wire::Conn::open(target, ctx).await.ok()?;
            let first = conn.receive(|b| (!b.is_empty()).then_some(b.len())).await;
            conn.close().await;
            banner_protocol(&first.ok()?)?
        }
        None => return None,
    };
    let result = run(protocol, target, ctx).await;
    if result.is_none() {
        tracing::debug!(%target.addr, target.port, ?protocol, "no answer from the expected protocol");
    }
    result
}

/// A TCP service that said nothing first, on a port not known for it:
/// Redis and PostgreSQL wait for the client, so each is asked in its own
/// protocol (a PING; a startup message, no password); `None` when neither
/// answers.
pub async fn examine_silent(target: &Target, ctx: &Context) -> Option<PortResult> {
    if target.transport != Transport::Tcp {
        return None;
    }
    for protocol in [Protocol::Redis, Protocol::PostgreSql] {
        if protocol_for(target.port, target.transport) != Some(protocol)
            && let Some(result) = run(protocol, target, ctx).await
        {
            return Some(result);
        }
    }
    None
}

/// Runs one protocol's examination.
pub async fn run(protocol: Protocol, target: &Target, ctx: &Context) -> Option<PortResult> {
    match protocol {
        Protocol::Redis => redis::examine(target, ctx).await,
        Protocol::MongoDb => mongodb::examine(target, ctx).await,
        Protocol::Elasticsearch => elasticsearch::examine(target, ctx).await,
        Protocol::MySql => mysql::examine(target, ctx).await,
        Protocol::PostgreSql => postgresql::examine(target, ctx).await,
        Protocol::Snmp => snmp::examine(target, ctx).await,
        Protocol::Dns => dns::examine(target, ctx).await,
        Protocol::Ntp => ntp::examine(target, ctx).await,
        Protocol::Ipp => printer::examine_ipp(target, ctx).await,
        Protocol::JetDirect => printer::examine_jetdirect(target, ctx).await,
        Protocol::Lpd => printer::examine_lpd(target, ctx).await,
        Protocol::Smtp => mail::examine_smtp(target, ctx).await,
        Protocol::Pop3 => mail::examine_pop3(target, ctx).await,
        Protocol::Imap => mail::examine_imap(target, ctx).await,
        Protocol::MailTls => Some(mail::name_tls(target)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_its_ports_on_the_right_transport() {
        assert!(claims(6379, Transport::Tcp));
        assert!(claims(161, Transport::Udp));
        assert!(!claims(161, Transport::Tcp));
        assert!(claims(53, Transport::Udp) && claims(53, Transport::Tcp));
        assert!(claims(9100, Transport::Tcp));
        assert!(!claims(22, Transport::Tcp));
        assert!(!claims(6379, Transport::Udp));
    }

    #[test]
    fn claims_greetings_on_unusual_ports() {
        assert!(claims_banner(b"220 mx ESMTP Postfix\r\n"));
        assert!(claims_banner(b"+OK POP3 ready\r\n"));
        assert!(claims_banner(b"* OK IMAP4rev1 ready\r\n"));
        assert!(!claims_banner(b"220 FTP server ready\r\n"));
        assert!(!claims_banner(b"SSH-2.0-OpenSSH_9.2p1\r\n"));
        assert!(!claims_banner(b""));
    }
}
