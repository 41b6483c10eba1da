//! The port lists: `data/ports.toml` (discovery, TCP, UDP), which users
//! extend, and the scope file's `[ports]` override.
//!
//! What it must not do: accept port 0 or an empty discovery list.

use serde::Deserialize;

use crate::scope::PortsOverride;

/// The built-in lists.
pub const BUILTIN: &str = include_str!("../../data/ports.toml");

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortList {
    /// Tried on every address of the scope to find the live hosts.
    pub discovery: Vec<u16>,
    /// Connect-scanned on every live host.
    pub tcp: Vec<u16>,
    /// Handed to the protocol families (SNMP, DNS, NTP requests).
    pub udp: Vec<u16>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file} : {problem}")]
pub struct PortListError {
    pub file: String,
    pub problem: String,
}

impl PortList {
    /// Parses a port list file; duplicates are dropped, order kept.
    pub fn parse(file: &str, text: &str) -> Result<PortList, PortListError> {
        let fail = |problem: String| PortListError {
            file: file.to_owned(),
            problem,
        };
        let mut list: PortList = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        if list.discovery.is_empty() {
            return Err(fail("la liste discovery est vide".to_owned()));
        }
        for ports in [&mut list.discovery, &mut list.tcp, &mut list.udp] {
            if ports.contains(&0) {
                return Err(fail("le port 0 n'existe pas".to_owned()));
            }
            dedup(ports);
        }
        Ok(list)
    }

    /// The built-in lists (checked by a test).
    pub fn builtin() -> PortList {
        PortList::parse("ports.toml", BUILTIN).unwrap_or_else(|error| {
            tracing::error!(%error, "built-in port list");
            PortList {
                discovery: vec![445, 80, 443, 22],
                tcp: vec![21, 22, 23, 80, 443, 445, 3389],
                udp: vec![161],
            }
        })
    }

    /// These lists with the scope's replacements.
    pub fn with_override(mut self, ports: &PortsOverride) -> PortList {
        if let Some(tcp) = &ports.tcp {
            self.tcp = tcp.clone();
            dedup(&mut self.tcp);
        }
        if let Some(udp) = &ports.udp {
            self.udp = udp.clone();
            dedup(&mut self.udp);
        }
        self
    }
}

fn dedup(ports: &mut Vec<u16>) {
    let mut seen = std::collections::HashSet::new();
    ports.retain(|port| seen.insert(*port));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_list_loads() {
        let list = PortList::parse("ports.toml", BUILTIN).unwrap();
        assert!(list.tcp.contains(&445) && list.tcp.contains(&3389));
        assert_eq!(list.udp, [53, 123, 161]);
        assert!(list.discovery.iter().all(|p| list.tcp.contains(p)));
    }

    #[test]
    fn overrides_and_errors() {
        let list = PortList::builtin().with_override(&PortsOverride {
            tcp: Some(vec![22, 22, 80]),
            udp: None,
        });
        assert_eq!(list.tcp, [22, 80]);
        assert_eq!(list.udp, [53, 123, 161]);
        let bad = PortList::parse("mine.toml", "discovery = [0]\ntcp = []\nudp = []").unwrap_err();
        assert!(bad.to_string().contains("mine.toml"));
        assert!(PortList::parse("m", "discovery = [70000]\ntcp = []\nudp = []").is_err());
    }
}
