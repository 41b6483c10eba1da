//! What the probe must report on the planted lab, checked against its
//! `vigie.probe/1` document: each planted weakness exactly once on its host
//! and port, none on the hardened or the badly behaved host, nothing out of
//! scope, the top ten in order. Each check adds plain problem lines (the
//! family authors read them) rather than stopping at the first.

use std::net::IpAddr;

use vigie_core::probe::{ProbeReport, TOP_LEN, Transport};

use crate::lab::Lab;

/// A weakness planted in the lab: the check id, the host's role in
/// hosts.tsv, the port. Ids from crates/vigie-probe/data/checks/*.toml.
pub struct Planted {
    pub id: &'static str,
    pub role: &'static str,
    pub port: u16,
    pub transport: Transport,
}

const fn tcp(id: &'static str, role: &'static str, port: u16) -> Planted {
    Planted {
        id,
        role,
        port,
        transport: Transport::Tcp,
    }
}

const fn udp(id: &'static str, role: &'static str, port: u16) -> Planted {
    Planted {
        id,
        role,
        port,
        transport: Transport::Udp,
    }
}

pub const PLANTED: &[Planted] = &[
    tcp("password.ssh", "ssh", 22),
    tcp("ftp.anonymous", "ftp", 21),
    tcp("ftp.home_directories", "ftp", 21),
    tcp("telnet.cleartext", "telnet", 23),
    tcp("smb.v1", "smb", 445),
    tcp("redis.no_auth", "redis", 6379),
    tcp("tls.expired", "tls", 443),
    tcp("tls.self_signed", "tls", 443),
    udp("snmp.default_community", "snmp", 161),
    // Issue 16: the Windows user table the SNMP host serves names an
    // account nothing else gives, and its SSH accepts that one only.
    udp("snmp.windows_users", "snmp", 161),
    tcp("password.ssh", "snmp", 22),
];

/// The account only the SNMP host's user table names (lab.sh's
/// REVEALED_USER), and the one its anonymous FTP host's listing shows.
pub const REVEALED_USER: &str = "etatcivil";

/// Findings that are true of the lab without being planted on purpose:
/// not required, not a problem where they are listed. The weak account is
/// a system account, so the telnet host's /bin/login accepts it too.
const ALSO_TRUE: &[(&str, &str)] = &[
    ("password.telnet", "telnet"),
    ("ftp.cleartext", "ftp"),
    ("smb.signing_not_required", "smb"),
];

/// Each planted weakness is found exactly once, on its host and port, and
/// a planted id nowhere else (unless it is also true there).
pub fn planted(report: &ProbeReport, lab: &Lab, problems: &mut Vec<String>) {
    for planted in PLANTED {
        let host = lab.address(planted.role);
        let found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.id == planted.id)
            .collect();
        let right = |f: &&&vigie_core::probe::Finding| {
            f.host == host
                && f.port == Some(planted.port)
                && f.transport.is_none_or(|t| t == planted.transport)
        };
        let where_found: Vec<String> = found
            .iter()
            .map(|f| place(lab, f.host, f.port, f.transport))
            .collect();
        match found.iter().filter(right).count() {
            1 => {}
            0 if found.is_empty() => problems.push(format!(
                "missing: {} on {} ({}:{}/{:?})",
                planted.id, planted.role, host, planted.port, planted.transport
            )),
            0 => problems.push(format!(
                "{}: expected on {} ({host}:{}), found on {}",
                planted.id,
                planted.role,
                planted.port,
                where_found.join(", ")
            )),
            n => problems.push(format!(
                "{}: found {n} times on {} instead of once: {}",
                planted.id,
                planted.role,
                where_found.join(", ")
            )),
        }
    }
    for finding in &report.findings {
        let role = lab.role_of(finding.host);
        let is_planted_id = PLANTED.iter().any(|p| p.id == finding.id);
        let planted_here = PLANTED.iter().any(|p| p.id == finding.id && p.role == role);
        let also_true = ALSO_TRUE
            .iter()
            .any(|(id, r)| *id == finding.id && *r == role);
        let clean = role == "hardened" || role == "odd";
        if is_planted_id && !planted_here && !also_true && !clean {
            problems.push(format!(
                "{} found where it is not planted: {}",
                finding.id,
                place(lab, finding.host, finding.port, finding.transport)
            ));
        }
    }
}

/// Issue 16: the SNMP host's SSH was opened with the account its user
/// table revealed, and no finding names a revealed account beyond the
/// password one (the listing's findings count, never name).
pub fn revealed(report: &ProbeReport, lab: &Lab, problems: &mut Vec<String>) {
    let host = lab.address("snmp");
    let opened = report
        .findings
        .iter()
        .any(|f| f.id == "password.ssh" && f.host == host && f.evidence.contains(REVEALED_USER));
    if !opened {
        problems.push(format!(
            "password.ssh on snmp ({host}:22) does not name the revealed account {REVEALED_USER}"
        ));
    }
    for finding in &report.findings {
        let names = ["etatcivil", "Administrateur", "urbanisme"]
            .iter()
            .any(|name| finding.evidence.contains(name));
        if finding.id != "password.ssh" && names {
            problems.push(format!(
                "{} names a revealed account: {}",
                finding.id, finding.evidence
            ));
        }
    }
}

/// The hardened host and the badly behaved one yield none of the planted
/// ids; their other findings are listed as notes.
pub fn clean_hosts(
    report: &ProbeReport,
    lab: &Lab,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    for role in ["hardened", "odd"] {
        let host = lab.address(role);
        for finding in report.findings.iter().filter(|f| f.host == host) {
            let what = format!(
                "{} on {} ({}): {}",
                finding.id,
                role,
                place(lab, finding.host, finding.port, finding.transport),
                finding.evidence
            );
            if PLANTED.iter().any(|p| p.id == finding.id) {
                problems.push(format!("false positive: {what}"));
            } else {
                notes.push(format!("other finding: {what}"));
            }
        }
    }
}

/// Findings neither planted nor on a clean host, for the notes.
pub fn other_findings(report: &ProbeReport, lab: &Lab, notes: &mut Vec<String>) {
    for finding in &report.findings {
        let role = lab.role_of(finding.host);
        let planted = PLANTED.iter().any(|p| p.id == finding.id);
        let clean = role == "hardened" || role == "odd";
        if planted || clean {
            continue;
        }
        let also_true = ALSO_TRUE
            .iter()
            .any(|(id, r)| *id == finding.id && *r == role);
        notes.push(format!(
            "{} finding: {} on {} ({})",
            if also_true { "expected extra" } else { "other" },
            finding.id,
            role,
            place(lab, finding.host, finding.port, finding.transport)
        ));
    }
}

/// The UDP services the lab runs are listed (nmap, run with `-sT`, only
/// vouches for the TCP ones).
pub fn udp_services(report: &ProbeReport, lab: &Lab, problems: &mut Vec<String>) {
    for host in lab
        .hosts
        .iter()
        .filter(|h| !["excluded", "outside"].contains(&h.role.as_str()))
    {
        for &port in &host.udp {
            let listed = report.hosts.iter().any(|h| {
                h.address == host.address
                    && h.services
                        .iter()
                        .any(|s| s.port == port && s.transport == Transport::Udp)
            });
            if !listed {
                problems.push(format!(
                    "open port missed: the lab runs {}:{port}/udp ({}), the probe does not list it",
                    host.address, host.role
                ));
            }
        }
    }
}

/// Nothing out of scope in the document, and the scope as written.
pub fn scope(report: &ProbeReport, lab: &Lab, problems: &mut Vec<String>) {
    for role in ["excluded", "outside", "probe"] {
        let address = lab.address(role);
        if report.hosts.iter().any(|h| h.address == address) {
            problems.push(format!("the report lists the {role} host {address}"));
        }
        if report.findings.iter().any(|f| f.host == address) {
            problems.push(format!("a finding on the {role} host {address}"));
        }
    }
    if !report.lab {
        problems.push("run with --lab but the report says lab: false".to_owned());
    }
    if report.interrupted {
        problems.push("the report says interrupted: true".to_owned());
    }
    let excluded = lab.address("excluded").to_string();
    if !report
        .scope
        .excluded
        .iter()
        .any(|e| e.starts_with(&excluded))
    {
        problems.push(format!(
            "scope.excluded {:?} does not name {excluded}",
            report.scope.excluded
        ));
    }
}

/// The top ten: at most TOP_LEN entries, by CVSS, highest first, each
/// naming hosts that have a finding of its id.
pub fn top(report: &ProbeReport, problems: &mut Vec<String>) {
    if report.top.len() > TOP_LEN {
        problems.push(format!(
            "top has {} entries (at most {TOP_LEN})",
            report.top.len()
        ));
    }
    for pair in report.top.windows(2) {
        if pair[0].cvss < pair[1].cvss {
            problems.push(format!(
                "top is not ordered by CVSS: {} ({}) before {} ({})",
                pair[0].id, pair[0].cvss, pair[1].id, pair[1].cvss
            ));
        }
    }
    for entry in &report.top {
        for hp in &entry.hosts {
            let backed = report
                .findings
                .iter()
                .any(|f| f.id == entry.id && f.host == hp.host && f.port == hp.port);
            if !backed {
                problems.push(format!(
                    "top entry {} names {}:{:?}, which has no such finding",
                    entry.id, hp.host, hp.port
                ));
            }
        }
    }
    // The most critical findings are all in the top: a finding scored
    // above the last entry of a full top must have its id there.
    if let Some(last) = report.top.last().filter(|_| report.top.len() == TOP_LEN) {
        for finding in &report.findings {
            if finding.cvss > last.cvss && !report.top.iter().any(|t| t.id == finding.id) {
                problems.push(format!(
                    "{} (CVSS {}) is missing from a full top whose last entry scores {}",
                    finding.id, finding.cvss, last.cvss
                ));
            }
        }
    }
}

/// A finding's place as a person reads it: `ssh 10.66.80.10:22/tcp`.
pub fn place(lab: &Lab, host: IpAddr, port: Option<u16>, transport: Option<Transport>) -> String {
    let port = port.map_or(String::new(), |p| format!(":{p}"));
    let transport = match transport {
        Some(Transport::Tcp) => "/tcp",
        Some(Transport::Udp) => "/udp",
        None => "",
    };
    format!("{} {host}{port}{transport}", lab.role_of(host))
}
