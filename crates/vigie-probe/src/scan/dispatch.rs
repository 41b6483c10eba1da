//! Routing an open port to the protocol family that knows it: by port
//! first, then by what the service says first (banner), then, for
//! services that wait for the client, the web family (HTTP, TLS), SMB,
//! RDP, Redis and PostgreSQL; else the service is recorded as `unknown`
//! with its banner.
//!
//! Each family (`protocols::{remote,web,infra}`) exposes
//! `claims(port, transport)`, `claims_banner(first_bytes)` and
//! `examine(target, ctx)`.
//!
//! What it must not do: build a `Target` from anything but an [`Allowed`]
//! address, or give a family more than one port at a time.

use std::future::Future;
use std::pin::Pin;

use vigie_core::probe::{Service, Transport};

use super::Settings;
use super::tcp;
use crate::protocols;
use crate::scope::Allowed;
use crate::target::{Context, PortResult, Target};

/// A family's examination of one port.
pub type Examination<'a> = Pin<Box<dyn Future<Output = Option<PortResult>> + Send + 'a>>;

/// A protocol family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// SMB, RDP, VNC, Telnet, FTP.
    Remote,
    /// HTTP(S), TLS, SSH, products against the CVE table.
    Web,
    /// Databases and caches, SNMP, DNS, NTP, printers, mail.
    Infra,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Remote, Family::Web, Family::Infra];

    pub fn name(self) -> &'static str {
        match self {
            Family::Remote => "remote",
            Family::Web => "web",
            Family::Infra => "infra",
        }
    }

    /// Whether the family examines this port by default.
    pub fn claims(self, port: u16, transport: Transport) -> bool {
        match self {
            Family::Remote => protocols::remote::claims(port, transport),
            Family::Web => protocols::web::claims(port, transport),
            Family::Infra => protocols::infra::claims(port, transport),
        }
    }

    /// Whether the family recognises a service from its first bytes.
    pub fn claims_banner(self, first_bytes: &[u8]) -> bool {
        match self {
            Family::Remote => protocols::remote::claims_banner(first_bytes),
            Family::Web => protocols::web::claims_banner(first_bytes),
            Family::Infra => protocols::infra::claims_banner(first_bytes),
        }
    }

    /// Boxed with an explicit `Send` bound: the compiler then checks the
    /// families' futures at one lifetime, which spares the scanner's
    /// spawned tasks the higher-ranked `Send` errors of rust-lang/rust#110338.
    pub fn examine<'a>(self, target: &'a Target, ctx: &'a Context) -> Examination<'a> {
        match self {
            Family::Remote => Box::pin(protocols::remote::examine(target, ctx)),
            Family::Web => Box::pin(protocols::web::examine(target, ctx)),
            Family::Infra => Box::pin(protocols::infra::examine(target, ctx)),
        }
    }
}

/// Identifies and examines one open TCP port with the host's context;
/// always says something, if only `unknown`.
pub async fn identify_tcp(
    addr: Allowed,
    port: u16,
    settings: &Settings,
    ctx: &Context,
) -> PortResult {
    let target = addr.tcp(port);
    let mut tried = Vec::new();
    for family in Family::ALL {
        if family.claims(port, Transport::Tcp) {
            tried.push(family);
            if let Some(result) = family.examine(&target, ctx).await {
                return result;
            }
        }
    }
    let first_bytes = tcp::banner(addr, port, settings.connect_timeout, settings.banner_wait).await;
    let Some(first_bytes) = first_bytes.filter(|bytes| !bytes.is_empty()) else {
        // Silent: the service waits for the client, as HTTP and TLS do,
        // and SMB, RDP, Redis and PostgreSQL.
        if !tried.contains(&Family::Web)
            && let Some(result) = Family::Web.examine(&target, ctx).await
        {
            return result;
        }
        if let Some(result) = protocols::remote::examine_silent(&target, ctx).await {
            return result;
        }
        if let Some(result) = protocols::infra::examine_silent(&target, ctx).await {
            return result;
        }
        return unknown(&target, &[]);
    };
    for family in Family::ALL {
        if !tried.contains(&family)
            && family.claims_banner(&first_bytes)
            && let Some(result) = family.examine(&target, ctx).await
        {
            return result;
        }
    }
    unknown(&target, &first_bytes)
}

/// Hands one UDP port to the families that speak its protocol (they send
/// the protocol's own request); `None` if nothing answered.
pub async fn identify_udp(addr: Allowed, port: u16, ctx: &Context) -> Option<PortResult> {
    let target = addr.udp(port);
    for family in Family::ALL {
        if family.claims(port, Transport::Udp)
            && let Some(result) = family.examine(&target, ctx).await
        {
            return Some(result);
        }
    }
    None
}

/// A service no family recognised, with what it said first.
pub fn unknown(target: &Target, first_bytes: &[u8]) -> PortResult {
    PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "unknown".to_owned(),
        product: None,
        version: None,
        tls: false,
        banner: tcp::printable(first_bytes),
    })
}
