//! What the report says, in the order it says it, as French text ready to
//! print: built once from a `vigie.probe/1` document and shared by the HTML
//! page, the PDF and the terminal summary, so the three never disagree.
//!
//! It must not reorder the top ten (the probe ranked it) nor invent
//! anything the document does not carry.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use vigie_core::Severity;
use vigie_core::probe::{Finding, Host, HostPort, ProbeReport, Service, TopFinding};

use super::french::{
    Counts, duration, intensity, paris_time, plain_action, plural, score, severity_colour,
    severity_ink, severity_label,
};

/// The report's content, French and formatted.
#[derive(Debug, Serialize)]
pub(crate) struct View {
    pub title: String,
    pub commune: Option<String>,
    pub started: String,
    pub finished: String,
    pub duration: String,
    pub lab: bool,
    pub interrupted: bool,
    pub networks: Vec<String>,
    pub excluded: Vec<String>,
    pub intensity: String,
    pub host_count: usize,
    pub counts: Counts,
    pub top: Vec<TopLine>,
    pub hosts: Vec<HostSection>,
}

/// One line of the top ten.
#[derive(Debug, Serialize)]
pub(crate) struct TopLine {
    pub rank: usize,
    pub title: String,
    pub badge: Badge,
    pub cvss: String,
    pub hosts: Vec<String>,
    /// What it means for the commune (from the findings of that check).
    pub impact: Option<String>,
    /// What the town hall does, in plain words.
    pub action: &'static str,
    /// What the IT provider does.
    pub recommendation: String,
}

/// A machine and everything found on it.
#[derive(Debug, Serialize)]
pub(crate) struct HostSection {
    pub address: String,
    pub names: String,
    pub os: Option<String>,
    pub services: Vec<ServiceLine>,
    pub findings: Vec<FindingLine>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceLine {
    pub port: String,
    pub name: String,
    /// Product and version, empty when unknown.
    pub product: String,
    pub tls: bool,
    pub banner: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FindingLine {
    pub id: String,
    pub title: String,
    pub badge: Badge,
    pub cvss: String,
    pub vector: String,
    pub port: Option<String>,
    pub cves: String,
    pub impact: String,
    pub recommendation: String,
    pub evidence: String,
}

/// A severity as shown: French label and colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Badge {
    pub label: &'static str,
    /// Background, `#rrggbb`.
    pub colour: &'static str,
    /// Text on that background, `#rrggbb`.
    pub ink: &'static str,
}

impl Badge {
    pub fn of(severity: Severity) -> Badge {
        Badge {
            label: severity_label(severity),
            colour: severity_colour(severity),
            ink: severity_ink(severity),
        }
    }
}

impl View {
    /// The view of `report`; `commune_name` is the commune's name when the
    /// caller knows it (the document carries only its INSEE code).
    pub fn of(report: &ProbeReport, commune_name: Option<&str>) -> View {
        let names = host_names(&report.hosts);
        let (title, commune) = title_and_commune(report.commune.as_deref(), commune_name);
        View {
            title,
            commune,
            started: paris_time(report.started_at),
            finished: paris_time(report.finished_at),
            duration: duration(report.started_at, report.finished_at),
            lab: report.lab,
            interrupted: report.interrupted,
            networks: report.scope.networks.clone(),
            excluded: report.scope.excluded.clone(),
            intensity: intensity(&report.scope.intensity),
            host_count: report.hosts.len(),
            counts: Counts::of(&report.findings),
            top: report
                .top
                .iter()
                .enumerate()
                .map(|(index, top)| top_line(index + 1, top, report, &names))
                .collect(),
            hosts: host_sections(report),
        }
    }
}

impl View {
    /// « Analyse du 12/03/2025 à 09:14 au 12/03/2025 à 11:02 (heure de
    /// Paris, durée 1 h 48 min). »
    pub fn dates(&self) -> String {
        format!(
            "Analyse du {} au {} (heure de Paris, durée {}).",
            self.started, self.finished, self.duration
        )
    }

    /// « 4 machines examinées · 11 vulnérabilités : 2 critiques, … »
    pub fn summary(&self) -> String {
        format!(
            "{} examinée{} · {}.",
            plural(self.host_count, "machine", "machines"),
            if self.host_count > 1 { "s" } else { "" },
            self.counts.sentence()
        )
    }
}

/// The title and the scope's « Commune » line: `Saint-Étienne (42218)`
/// when the name is known, otherwise the code alone, as the document says.
fn title_and_commune(code: Option<&str>, name: Option<&str>) -> (String, Option<String>) {
    const TITLE: &str = "Rapport de la sonde réseau";
    match (name, code) {
        (Some(name), Some(code)) => {
            let commune = format!("{name} ({code})");
            (format!("{TITLE} — {commune}"), Some(commune))
        }
        (Some(name), None) => (format!("{TITLE} — {name}"), Some(name.to_owned())),
        (None, Some(code)) => (format!("{TITLE} — commune {code}"), Some(code.to_owned())),
        (None, None) => (TITLE.to_owned(), None),
    }
}

/// The first name each host gave, to show machines as people know them.
fn host_names(hosts: &[Host]) -> BTreeMap<IpAddr, &str> {
    hosts
        .iter()
        .filter_map(|host| Some((host.address, host.names.first()?.as_str())))
        .collect()
}

fn top_line(
    rank: usize,
    top: &TopFinding,
    report: &ProbeReport,
    names: &BTreeMap<IpAddr, &str>,
) -> TopLine {
    TopLine {
        rank,
        title: top.title.clone(),
        badge: Badge::of(top.severity),
        cvss: score(top.cvss),
        hosts: top.hosts.iter().map(|hp| host_port(hp, names)).collect(),
        impact: report
            .findings
            .iter()
            .find(|f| f.id == top.id && !f.impact.is_empty())
            .map(|f| f.impact.clone()),
        action: plain_action(top.severity),
        recommendation: top.recommendation.clone(),
    }
}

/// « SECRETARIAT (192.168.1.20), port 445 » or « 192.168.1.20 ».
fn host_port(hp: &HostPort, names: &BTreeMap<IpAddr, &str>) -> String {
    let machine = match names.get(&hp.host) {
        Some(name) => format!("{name} ({})", hp.host),
        None => hp.host.to_string(),
    };
    match hp.port {
        Some(port) => format!("{machine}, port {port}"),
        None => machine,
    }
}

/// Every machine, by address: those described in `hosts`, and any that
/// only a finding names.
fn host_sections(report: &ProbeReport) -> Vec<HostSection> {
    let described: BTreeMap<IpAddr, &Host> = report.hosts.iter().map(|h| (h.address, h)).collect();
    let addresses: BTreeSet<IpAddr> = described
        .keys()
        .copied()
        .chain(report.findings.iter().map(|f| f.host))
        .collect();
    addresses
        .into_iter()
        .map(|address| {
            let host = described.get(&address);
            let mut findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.host == address)
                .collect();
            findings.sort_by(|a, b| b.cvss.total_cmp(&a.cvss).then(a.title.cmp(&b.title)));
            HostSection {
                address: address.to_string(),
                names: host.map(|h| h.names.join(", ")).unwrap_or_default(),
                os: host.and_then(|h| h.os.clone()),
                services: host
                    .map(|h| h.services.iter().map(service_line).collect())
                    .unwrap_or_default(),
                findings: findings.into_iter().map(finding_line).collect(),
            }
        })
        .collect()
}

fn service_line(service: &Service) -> ServiceLine {
    let product = [service.product.as_deref(), service.version.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    ServiceLine {
        port: format!("{}/{}", service.port, transport(service.transport)),
        name: service.name.clone(),
        product,
        tls: service.tls,
        banner: service.banner.clone(),
    }
}

fn transport(transport: vigie_core::probe::Transport) -> &'static str {
    match transport {
        vigie_core::probe::Transport::Tcp => "tcp",
        vigie_core::probe::Transport::Udp => "udp",
    }
}

fn finding_line(finding: &Finding) -> FindingLine {
    FindingLine {
        id: finding.id.clone(),
        title: finding.title.clone(),
        badge: Badge::of(finding.severity),
        cvss: score(finding.cvss),
        vector: finding.vector.clone(),
        port: finding.port.map(|port| match finding.transport {
            Some(t) => format!("{port}/{}", transport(t)),
            None => port.to_string(),
        }),
        cves: finding.cves.join(", "),
        impact: finding.impact.clone(),
        recommendation: finding.recommendation.clone(),
        evidence: finding.evidence.clone(),
    }
}
