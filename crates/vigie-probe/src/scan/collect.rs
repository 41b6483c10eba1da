//! What a run has established so far, kept as it comes in, so that an
//! interrupted run still reports everything finished before the stop; and
//! the `vigie.probe/1` document built from it.
//!
//! What it must not do: keep a finding about another address than the
//! one examined, the same (check, host, port) twice, or text longer than
//! the schema allows.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use vigie_core::probe::{
    Finding, Host, MAX_FINDINGS, MAX_TEXT_LEN, PROBE_SCHEMA, ProbeReport, ScopeSummary, Service,
    Transport,
};

use crate::rank;
use crate::target::{PortResult, Target};

/// The run's facts that are not results.
#[derive(Clone, Debug)]
pub struct RunFacts {
    pub commune: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub lab: bool,
    pub interrupted: bool,
    pub scope: ScopeSummary,
}

#[derive(Debug, Default)]
pub struct Collected {
    hosts: BTreeMap<IpAddr, HostEntry>,
}

#[derive(Debug, Default)]
struct HostEntry {
    names: BTreeSet<String>,
    os: Option<String>,
    services: BTreeMap<(u16, Transport), Service>,
    findings: Vec<Finding>,
}

impl Collected {
    /// A live host, maybe without any open port.
    pub fn alive(&mut self, addr: IpAddr) {
        self.hosts.entry(addr).or_default();
    }

    /// An open port, `unknown` until examined.
    pub fn open(&mut self, target: &Target) {
        let host = self.hosts.entry(target.addr).or_default();
        host.services
            .entry((target.port, target.transport))
            .or_insert_with(|| super::dispatch::unknown(target, &[]).service);
    }

    /// What a family established on `target`.
    pub fn examined(&mut self, target: &Target, result: PortResult) {
        let host = self.hosts.entry(target.addr).or_default();
        let mut service = result.service;
        service.port = target.port;
        service.transport = target.transport;
        service.banner = service.banner.map(clip);
        host.services
            .insert((target.port, target.transport), service);
        host.names.extend(result.names.into_iter().map(clip));
        if let Some(os) = result.os {
            host.os = Some(clip(os));
        }
        for finding in result.findings {
            if finding.host != target.addr {
                tracing::warn!(id = %finding.id, host = %finding.host, examined = %target.addr, "finding about another host dropped");
                continue;
            }
            host.findings.push(clip_finding(finding));
        }
    }

    /// The document: hosts by address, services by port, findings once per
    /// (check, host, port) — the highest score kept — and the top ten.
    pub fn into_report(self, facts: RunFacts) -> ProbeReport {
        let mut unique: BTreeMap<(IpAddr, Option<u16>, String), Finding> = BTreeMap::new();
        let mut hosts = Vec::with_capacity(self.hosts.len());
        for (address, entry) in self.hosts {
            for finding in entry.findings {
                let key = (finding.host, finding.port, finding.id.clone());
                match unique.get(&key) {
                    Some(kept) if kept.cvss >= finding.cvss => {}
                    _ => {
                        unique.insert(key, finding);
                    }
                }
            }
            hosts.push(Host {
                address,
                names: entry.names.into_iter().collect(),
                os: entry.os,
                services: entry.services.into_values().collect(),
            });
        }
        let mut findings: Vec<Finding> = unique.into_values().collect();
        findings.truncate(MAX_FINDINGS);
        let top = rank::top(&findings);
        ProbeReport {
            schema: PROBE_SCHEMA.to_owned(),
            commune: facts.commune,
            started_at: facts.started_at,
            finished_at: facts.finished_at.max(facts.started_at),
            lab: facts.lab,
            interrupted: facts.interrupted,
            scope: facts.scope,
            hosts,
            findings,
            top,
        }
    }
}

fn clip_finding(mut finding: Finding) -> Finding {
    finding.title = clip(finding.title);
    finding.impact = clip(finding.impact);
    finding.recommendation = clip(finding.recommendation);
    finding.evidence = clip(finding.evidence);
    finding.vector = clip(finding.vector);
    finding.cvss = if finding.cvss.is_finite() {
        finding.cvss.clamp(0.0, 10.0)
    } else {
        0.0
    };
    finding
}

/// Cuts a text to the schema's limit, on a character boundary.
fn clip(mut text: String) -> String {
    if text.len() > MAX_TEXT_LEN {
        let mut end = MAX_TEXT_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_characters_whole() {
        let long = "é".repeat(MAX_TEXT_LEN);
        let clipped = clip(long);
        assert!(clipped.len() <= MAX_TEXT_LEN);
        assert!(clipped.chars().all(|c| c == 'é'));
    }
}
