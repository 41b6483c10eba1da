//! The `vigie.probe/1` document: what the network probe found on a
//! commune's network, the hosts and their services, the findings with
//! their CVSS 3.1 score, and the ten most critical in order. The probe
//! writes it (`vigie probe --format json`) and uploads it; the observatory
//! reads it. `docs/probe-schema.md` documents every field.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Severity;

pub const PROBE_SCHEMA: &str = "vigie.probe/1";

/// Bounds a receiver enforces on one document.
pub const MAX_HOSTS: usize = 65_536;
pub const MAX_FINDINGS: usize = 100_000;
pub const MAX_SERVICES_PER_HOST: usize = 1_024;
pub const MAX_TEXT_LEN: usize = 4_096;
/// How many findings the report opens with.
pub const TOP_LEN: usize = 10;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub schema: String,
    /// The commune's INSEE code, from the scope file.
    pub commune: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Run with `--lab`: outside the agreement's working hours, for tests.
    pub lab: bool,
    /// Stopped before the end (Ctrl-C, end of the scan period): the
    /// results cover what was done.
    pub interrupted: bool,
    pub scope: ScopeSummary,
    pub hosts: Vec<Host>,
    pub findings: Vec<Finding>,
    /// The most critical findings, at most [`TOP_LEN`], grouped by check:
    /// each names every host concerned.
    pub top: Vec<TopFinding>,
}

/// What the probe was allowed to look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeSummary {
    pub networks: Vec<String>,
    pub excluded: Vec<String>,
    /// `polite` (default), `normal`.
    pub intensity: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub address: IpAddr,
    /// Names it gave (reverse DNS, SMB, certificate, banner).
    #[serde(default)]
    pub names: Vec<String>,
    /// The operating system, when a service tells it (SMB, banner).
    pub os: Option<String>,
    pub services: Vec<Service>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub port: u16,
    pub transport: Transport,
    /// The protocol: `ssh`, `http`, `https`, `smb`, `rdp`, `ftp`, `telnet`,
    /// `smtp`, `imap`, `pop3`, `mysql`, `postgresql`, `redis`, `mongodb`,
    /// `elasticsearch`, `vnc`, `snmp`, `dns`, `ntp`, `ipp`, `jetdirect`...,
    /// or `unknown`.
    pub name: String,
    /// The product and version as announced (`OpenSSH`, `9.2p1`).
    pub product: Option<String>,
    pub version: Option<String>,
    /// Spoken over TLS.
    #[serde(default)]
    pub tls: bool,
    /// A short, printable extract of what identified it (first banner
    /// line, page title, certificate subject).
    pub banner: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The check that found it, e.g. `smb.v1`, `ftp.anonymous`,
    /// `password.ssh`, `tls.expired`, `cve.openssh_regresshion`.
    pub id: String,
    pub host: IpAddr,
    pub port: Option<u16>,
    pub transport: Option<Transport>,
    /// CVSS 3.1 base score, 0.0 to 10.0.
    pub cvss: f32,
    /// The CVSS 3.1 vector it was computed from.
    pub vector: String,
    pub severity: Severity,
    /// Related CVE identifiers, if any.
    #[serde(default)]
    pub cves: Vec<String>,
    /// French, for the town-hall secretary.
    pub title: String,
    /// What it means for the commune, in French.
    pub impact: String,
    /// What to do, in French, for the IT provider.
    pub recommendation: String,
    /// What the probe saw (never a password that worked: the account name
    /// and "mot de passe trivial" only).
    pub evidence: String,
}

/// One line of the top ten: a check and every host it was found on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopFinding {
    pub id: String,
    pub title: String,
    pub cvss: f32,
    pub severity: Severity,
    pub recommendation: String,
    pub hosts: Vec<HostPort>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPort {
    pub host: IpAddr,
    pub port: Option<u16>,
}

impl ProbeReport {
    /// Checks what serde cannot; the message, in French (it reaches the
    /// user of `vigie probe --upload`), names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.schema != PROBE_SCHEMA {
            return Err(format!(
                "schema : {:?} au lieu de {PROBE_SCHEMA:?} attendu",
                self.schema
            ));
        }
        if self.started_at > self.finished_at {
            return Err("started_at est postérieur à finished_at".to_owned());
        }
        if self.hosts.len() > MAX_HOSTS {
            return Err(format!("hosts : au plus {MAX_HOSTS} hôtes"));
        }
        if self.findings.len() > MAX_FINDINGS {
            return Err(format!("findings : au plus {MAX_FINDINGS} constats"));
        }
        if self.top.len() > TOP_LEN {
            return Err(format!("top : au plus {TOP_LEN} constats"));
        }
        for (index, host) in self.hosts.iter().enumerate() {
            if host.services.len() > MAX_SERVICES_PER_HOST {
                return Err(format!(
                    "hosts[{index}].services : au plus {MAX_SERVICES_PER_HOST} services"
                ));
            }
        }
        for (index, finding) in self.findings.iter().enumerate() {
            finding
                .check()
                .map_err(|problem| format!("findings[{index}] : {problem}"))?;
        }
        Ok(())
    }
}

impl Finding {
    fn check(&self) -> Result<(), String> {
        if !(0.0..=10.0).contains(&self.cvss) {
            return Err(format!("cvss : {} n'est pas entre 0 et 10", self.cvss));
        }
        if self.id.is_empty() || self.id.len() > 64 {
            return Err("id : de 1 à 64 caractères".to_owned());
        }
        for (field, text) in [
            ("title", &self.title),
            ("impact", &self.impact),
            ("recommendation", &self.recommendation),
            ("evidence", &self.evidence),
            ("vector", &self.vector),
        ] {
            if text.len() > MAX_TEXT_LEN {
                return Err(format!("{field} : plus de {MAX_TEXT_LEN} octets"));
            }
        }
        Ok(())
    }
}

/// The CVSS 3.1 qualitative rating of a score (FIRST, CVSS v3.1
/// specification §5): 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10
/// critical. A 0.0 score is reported as low.
pub fn severity_of(score: f32) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        _ => Severity::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_follow_the_cvss_bands() {
        assert_eq!(severity_of(9.8), Severity::Critical);
        assert_eq!(severity_of(9.0), Severity::Critical);
        assert_eq!(severity_of(8.9), Severity::High);
        assert_eq!(severity_of(4.0), Severity::Medium);
        assert_eq!(severity_of(3.9), Severity::Low);
    }
}
