//! The sensor's detector thresholds: one serde struct, defaults in one
//! place (`data/sensor.toml`, embedded and printed by `--print-config`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use vigie_core::Severity;

/// The documented default configuration, embedded in the binary.
pub const DEFAULT_TOML: &str = include_str!("../data/sensor.toml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub scan: ScanConfig,
    pub sweep: SweepConfig,
    pub brute_force: BruteForceConfig,
    pub web_exploit: WebExploitConfig,
    pub flood: FloodConfig,
    pub reputation: ReputationConfig,
    pub suspicious_dns: DnsConfig,
    pub limits: Limits,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    pub min_ports: u32,
    pub window: u32,
    pub idle: u32,
    pub severity: Severity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    pub min_hosts: u32,
    pub window: u32,
    pub idle: u32,
    pub severity: Severity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BruteForceConfig {
    pub min_attempts: u32,
    pub window: u32,
    pub idle: u32,
    pub severity: Severity,
    pub login_paths: Vec<String>,
    /// TCP port → service name. TOML keys are strings, hence the map type.
    pub services: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebExploitConfig {
    pub idle: u32,
    pub inspect_form_bodies: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodConfig {
    /// The large site's bars: one second above them is a flood at once.
    pub syn_per_second: u32,
    pub udp_per_second: u32,
    pub icmp_per_second: u32,
    /// The town hall's bars (issue 16): `baseline_factor` times the usual
    /// rate, at least these floors, for `sustain` seconds in a row. SYN
    /// counts only the half-open ones.
    pub syn_half_open_floor: u32,
    pub udp_floor: u32,
    pub icmp_floor: u32,
    pub baseline_factor: u32,
    /// About how many seconds of traffic the usual rate averages.
    pub baseline_secs: u32,
    pub sustain: u32,
    pub idle: u32,
    pub severity: Severity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReputationConfig {
    pub idle: u32,
    pub inbound_severity: Severity,
    pub outbound_severity: Severity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    pub dga_min_names: u32,
    pub dga_min_label_length: u32,
    pub tunnel_min_queries: u32,
    pub tunnel_min_label_length: u32,
    pub tunnel_min_name_length: u32,
    pub window: u32,
    pub idle: u32,
    pub severity: Severity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub flows: usize,
    pub trackers: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid configuration {origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Default for Config {
    fn default() -> Self {
        // The embedded file is checked by a unit test, so this cannot fail
        // in a released binary; the fallback keeps `default()` total anyway.
        Config::from_toml(DEFAULT_TOML, "built-in").unwrap_or_else(|_| Config::fallback())
    }
}

impl Config {
    /// Reads a user's file over the defaults: keys left out keep theirs.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text, &path.display().to_string())
    }

    /// Parses `text` merged over the built-in defaults.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let mut merged: toml::Table = DEFAULT_TOML
            .parse()
            .map_err(|e: toml::de::Error| invalid(format!("built-in defaults: {e}")))?;
        let user: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        merge(&mut merged, user);
        let config: Config = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        config.check().map_err(invalid)?;
        Ok(config)
    }

    /// The services table as numbers, validated by [`Config::check`].
    pub fn auth_services(&self) -> Vec<(u16, String)> {
        self.brute_force
            .services
            .iter()
            .filter_map(|(port, name)| Some((port.parse().ok()?, name.clone())))
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        for port in self.brute_force.services.keys() {
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(format!(
                    "[brute_force.services]: {port:?} is not a TCP port number (1 to 65535)"
                ));
            }
        }
        let positive = [
            ("scan.min_ports", self.scan.min_ports),
            ("sweep.min_hosts", self.sweep.min_hosts),
            ("brute_force.min_attempts", self.brute_force.min_attempts),
            ("flood.syn_per_second", self.flood.syn_per_second),
            ("flood.udp_per_second", self.flood.udp_per_second),
            ("flood.icmp_per_second", self.flood.icmp_per_second),
            ("flood.syn_half_open_floor", self.flood.syn_half_open_floor),
            ("flood.udp_floor", self.flood.udp_floor),
            ("flood.icmp_floor", self.flood.icmp_floor),
            ("flood.baseline_factor", self.flood.baseline_factor),
            ("flood.baseline_secs", self.flood.baseline_secs),
            ("flood.sustain", self.flood.sustain),
            (
                "suspicious_dns.dga_min_names",
                self.suspicious_dns.dga_min_names,
            ),
            (
                "suspicious_dns.tunnel_min_queries",
                self.suspicious_dns.tunnel_min_queries,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if self.limits.flows < 1024 || self.limits.trackers < 1024 {
            return Err("limits.flows and limits.trackers must be at least 1024".to_owned());
        }
        Ok(())
    }

    /// Only reachable if the embedded file were broken; keeps the engine
    /// usable with conservative values.
    fn fallback() -> Config {
        Config {
            scan: ScanConfig {
                min_ports: 15,
                window: 60,
                idle: 300,
                severity: Severity::Low,
            },
            sweep: SweepConfig {
                min_hosts: 10,
                window: 60,
                idle: 300,
                severity: Severity::Low,
            },
            brute_force: BruteForceConfig {
                min_attempts: 10,
                window: 300,
                idle: 600,
                severity: Severity::High,
                login_paths: Vec::new(),
                services: BTreeMap::new(),
            },
            web_exploit: WebExploitConfig {
                idle: 600,
                inspect_form_bodies: true,
            },
            flood: FloodConfig {
                syn_per_second: 1000,
                udp_per_second: 5000,
                icmp_per_second: 500,
                syn_half_open_floor: 100,
                udp_floor: 2000,
                icmp_floor: 100,
                baseline_factor: 10,
                baseline_secs: 3600,
                sustain: 3,
                idle: 10,
                severity: Severity::High,
            },
            reputation: ReputationConfig {
                idle: 3600,
                inbound_severity: Severity::Medium,
                outbound_severity: Severity::Critical,
            },
            suspicious_dns: DnsConfig {
                dga_min_names: 5,
                dga_min_label_length: 10,
                tunnel_min_queries: 20,
                tunnel_min_label_length: 40,
                tunnel_min_name_length: 100,
                window: 600,
                idle: 900,
                severity: Severity::High,
            },
            limits: Limits {
                flows: 65536,
                trackers: 32768,
            },
        }
    }
}

/// Overlays `user` on `base`, table by table, so a user file can change
/// one threshold without repeating the others.
fn merge(base: &mut toml::Table, user: toml::Table) {
    for (key, value) in user {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(user_table))
                if key != "services" =>
            {
                merge(base_table, user_table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse_and_match_the_fallback() {
        let parsed = Config::from_toml("", "test").unwrap();
        let mut fallback = Config::fallback();
        fallback.brute_force.login_paths = parsed.brute_force.login_paths.clone();
        fallback.brute_force.services = parsed.brute_force.services.clone();
        assert_eq!(parsed, fallback);
        assert!(parsed.auth_services().contains(&(22, "ssh".to_owned())));
        assert_eq!(Config::default(), parsed);
    }

    #[test]
    fn a_user_file_changes_only_what_it_names() {
        let config = Config::from_toml("[scan]\nmin_ports = 50\n", "user.toml").unwrap();
        assert_eq!(config.scan.min_ports, 50);
        assert_eq!(config.scan.window, 60);
        assert_eq!(config.sweep, Config::default().sweep);
    }

    #[test]
    fn mistakes_are_named() {
        let check = |text: &str, expected: &str| {
            let err = Config::from_toml(text, "user.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains("user.toml"), "{err}");
            assert!(err.contains(expected), "{text}: {err}");
        };
        check("[scan]\nmin_port = 3\n", "unknown field `min_port`");
        check(
            "[scan]\nmin_ports = 0\n",
            "scan.min_ports must be at least 1",
        );
        check("[scan]\nseverity = \"extreme\"\n", "extreme");
        check("[brute_force.services]\n99999 = \"x\"\n", "not a TCP port");
        check("[scan\n", "line 1");
    }
}
