//! Reputation: traffic from or to an address, or a name (DNS query, TLS
//! SNI, HTTP Host), that is on a threat-intelligence list.
//!
//! Lists apply to the remote side only. An inbound hit is a known attacker
//! knocking; an outbound hit (a commune machine contacting a listed host) is
//! the serious case, as it can mean a compromised machine: its severity is
//! the highest, and the machine is told apart by a keyed hash. One incident
//! per remote address or listed name, direction and list; events are
//! conversations (flows) or queries.

use std::net::IpAddr;
use std::sync::Arc;

use vigie_core::{Category, Direction};
use vigie_lists::{Intel, LabelId};

use crate::config::ReputationConfig;
use crate::incidents::{Details, IncidentBook, IncidentKey, Nanos, Rule};

/// Where a listed name was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameSource {
    Dns,
    TlsSni,
    HttpHost,
}

impl NameSource {
    fn rule(self) -> &'static str {
        match self {
            NameSource::Dns => "reputation.dns",
            NameSource::TlsSni => "reputation.tls_sni",
            NameSource::HttpHost => "reputation.http_host",
        }
    }
}

pub struct ReputationDetector {
    config: ReputationConfig,
    intel: Arc<Intel>,
}

impl ReputationDetector {
    pub fn new(config: ReputationConfig, intel: Arc<Intel>) -> Self {
        ReputationDetector { config, intel }
    }

    /// Swaps the threat lists between two packets. Returns the previous
    /// ones, so the caller can free a large list off the capture thread.
    pub fn set_intel(&mut self, intel: Arc<Intel>) -> Arc<Intel> {
        std::mem::replace(&mut self.intel, intel)
    }

    pub fn is_active(&self) -> bool {
        !self.intel.is_empty()
    }

    pub fn lookup_ip(&self, remote: IpAddr) -> Option<LabelId> {
        self.intel.lookup_ip(remote)
    }

    /// A new conversation with a listed remote address. All conversations
    /// with one address make one incident, whatever the ports.
    pub fn listed_flow(
        &self,
        book: &mut IncidentBook,
        now: Nanos,
        label: LabelId,
        direction: Direction,
        (remote, local): (IpAddr, IpAddr),
    ) {
        let internal = (direction == Direction::Outbound).then_some(local);
        self.record(
            book,
            now,
            label,
            direction,
            Some(remote),
            internal,
            None,
            None,
            "reputation.ip",
        );
    }

    /// A name looked up or contacted by commune machine `local`, through
    /// `remote` (the server contacted, if it is outside).
    pub fn name(
        &self,
        book: &mut IncidentBook,
        now: Nanos,
        source: NameSource,
        name: &[u8],
        local: IpAddr,
        remote: Option<IpAddr>,
    ) {
        let Some((label, offset)) = self.intel.lookup_domain(name) else {
            return;
        };
        // Only the listed part of the name leaves the box: for a hit on
        // `evil.example` through `a1b2.evil.example`, the report says
        // `evil.example`.
        let listed = name.get(offset..).unwrap_or(name);
        let indicator: Box<str> = String::from_utf8_lossy(listed).into();
        self.record(
            book,
            now,
            label,
            Direction::Outbound,
            remote,
            Some(local),
            None,
            Some(indicator),
            source.rule(),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        book: &mut IncidentBook,
        now: Nanos,
        label: LabelId,
        direction: Direction,
        remote: Option<IpAddr>,
        internal: Option<IpAddr>,
        port: Option<u16>,
        indicator: Option<Box<str>>,
        rule: &'static str,
    ) {
        let severity = match direction {
            Direction::Inbound => self.config.inbound_severity,
            Direction::Outbound => self.config.outbound_severity,
        };
        let label_name = self.intel.label(label);
        book.record(
            IncidentKey {
                rule: Rule::Fixed(rule),
                direction,
                remote,
                internal,
                port,
                indicator,
            },
            || Details {
                category: Category::Reputation,
                severity,
                label: Some(label_name.to_owned()),
                service: None,
                source_known: true,
            },
            self.config.idle,
            now,
            now,
            1,
        );
    }
}
