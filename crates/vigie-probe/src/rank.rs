//! The ten most critical: findings grouped by check, ordered by CVSS base
//! score, then by the CVSS exploitability subscore of their vector (FIRST,
//! CVSS v3.1 §7.1: how easy the attack is), then by exposure (how many
//! hosts), then by id so the order never depends on the scan's timing.
//!
//! What it must not do: drop a host from a group, or keep more than
//! [`TOP_LEN`] groups.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use vigie_core::probe::{Finding, HostPort, TOP_LEN, TopFinding, severity_of};

/// The top of the report, from deduplicated findings.
pub fn top(findings: &[Finding]) -> Vec<TopFinding> {
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    for finding in findings {
        let group = groups
            .entry(&finding.id)
            .or_insert_with(|| Group::new(finding));
        if finding.cvss > group.head.cvss {
            group.head = finding;
        }
        group.hosts.insert((finding.host, finding.port));
    }
    let mut ranked: Vec<Group> = groups.into_values().collect();
    ranked.sort_by(compare);
    ranked.truncate(TOP_LEN);
    ranked.into_iter().map(Group::into_top).collect()
}

/// The CVSS 3.1 exploitability subscore of `vector` (0.0 if it does not
/// parse: a check without a proper vector ranks last among its score).
pub fn exploitability(vector: &str) -> f64 {
    vector
        .parse::<cvss::v3::Vector>()
        .map(|v| v.exploitability().value())
        .unwrap_or(0.0)
}

struct Group<'a> {
    /// The finding that speaks for the group: the highest score.
    head: &'a Finding,
    hosts: BTreeSet<(IpAddr, Option<u16>)>,
}

impl<'a> Group<'a> {
    fn new(head: &'a Finding) -> Group<'a> {
        Group {
            head,
            hosts: BTreeSet::new(),
        }
    }

    fn exposure(&self) -> usize {
        self.hosts
            .iter()
            .map(|(host, _)| host)
            .collect::<BTreeSet<_>>()
            .len()
    }

    fn into_top(self) -> TopFinding {
        TopFinding {
            id: self.head.id.clone(),
            title: self.head.title.clone(),
            cvss: self.head.cvss,
            severity: severity_of(self.head.cvss),
            recommendation: self.head.recommendation.clone(),
            hosts: self
                .hosts
                .into_iter()
                .map(|(host, port)| HostPort { host, port })
                .collect(),
        }
    }
}

/// Most critical first.
fn compare(a: &Group, b: &Group) -> Ordering {
    b.head
        .cvss
        .total_cmp(&a.head.cvss)
        .then_with(|| exploitability(&b.head.vector).total_cmp(&exploitability(&a.head.vector)))
        .then_with(|| b.exposure().cmp(&a.exposure()))
        .then_with(|| a.head.id.cmp(&b.head.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::probe::Transport;

    const NETWORK_EASY: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

    pub fn finding(id: &str, host: &str, port: u16, cvss: f32, vector: &str) -> Finding {
        Finding {
            id: id.to_owned(),
            host: host.parse().unwrap(),
            port: Some(port),
            transport: Some(Transport::Tcp),
            cvss,
            vector: vector.to_owned(),
            severity: severity_of(cvss),
            cves: Vec::new(),
            title: format!("titre {id}"),
            impact: String::new(),
            recommendation: format!("faire {id}"),
            evidence: String::new(),
        }
    }

    #[test]
    fn exploitability_of_vectors() {
        assert!((exploitability(NETWORK_EASY) - 3.887).abs() < 0.01);
        assert!(exploitability("CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H") < 2.0);
        assert_eq!(exploitability("nonsense"), 0.0);
    }

    #[test]
    fn groups_and_hosts() {
        let findings = [
            finding("a", "10.0.0.2", 22, 5.0, NETWORK_EASY),
            finding("a", "10.0.0.1", 22, 5.0, NETWORK_EASY),
            finding("a", "10.0.0.1", 2222, 5.0, NETWORK_EASY),
        ];
        let top = top(&findings);
        assert_eq!(top.len(), 1);
        let hosts: Vec<String> = top[0]
            .hosts
            .iter()
            .map(|h| format!("{}:{:?}", h.host, h.port))
            .collect();
        assert_eq!(
            hosts,
            [
                "10.0.0.1:Some(22)",
                "10.0.0.1:Some(2222)",
                "10.0.0.2:Some(22)"
            ]
        );
        assert_eq!(top[0].recommendation, "faire a");
    }
}
