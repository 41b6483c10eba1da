//! The file's form: serde structures with the defaults (the one place they
//! are written in code, matching `data/box.toml`), and the checks turning
//! them into a [`BoxConfig`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    BoxConfig, CaptureSettings, FilterFamily, FilterSettings, Mode, NetworkSettings,
    ObservatorySettings, StorageSettings,
};
use crate::config::{Config, ConfigError};
use crate::homenet::{Cidr, DEFAULT_HOME_NETS};
use crate::live::uplink::{Trust, check_url, parse_pin, pin_hex};

/// Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
const MAX_INTERFACE_NAME: usize = 15;
/// nftables identifiers longer than this are refused by the kernel (NFT_NAME_MAXLEN - 1).
const MAX_TABLE_NAME: usize = 255;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    mode: Mode,
    observatory: ObservatoryFile,
    #[serde(default)]
    capture: CaptureFile,
    #[serde(default)]
    network: NetworkFile,
    #[serde(default)]
    storage: StorageFile,
    #[serde(default)]
    filter: FilterFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detection: Option<toml::Table>,
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ObservatoryFile {
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin_sha256: Option<String>,
    allow_plain_http: bool,
    token_file: PathBuf,
    batch_interval_secs: u64,
    heartbeat_interval_secs: u64,
    lists_interval_secs: u64,
    defence_interval_secs: u64,
    timeout_secs: u64,
    retry_max_secs: u64,
}

impl Default for ObservatoryFile {
    fn default() -> Self {
        ObservatoryFile {
            url: String::new(),
            ca_file: None,
            pin_sha256: None,
            allow_plain_http: false,
            token_file: PathBuf::from("token"),
            batch_interval_secs: 60,
            heartbeat_interval_secs: 60,
            lists_interval_secs: 1800,
            defence_interval_secs: 60,
            timeout_secs: 60,
            retry_max_secs: 300,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CaptureFile {
    interfaces: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpf: Option<String>,
    user: String,
    buffer_mib: u32,
}

impl Default for CaptureFile {
    fn default() -> Self {
        CaptureFile {
            interfaces: Vec::new(),
            bpf: None,
            user: "vigie".to_owned(),
            buffer_mib: 32,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct NetworkFile {
    home_nets: Vec<String>,
}

impl Default for NetworkFile {
    fn default() -> Self {
        NetworkFile {
            home_nets: DEFAULT_HOME_NETS.iter().map(|n| (*n).to_owned()).collect(),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StorageFile {
    state_dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    spool_dir: Option<PathBuf>,
    spool_max_mib: u64,
}

impl Default for StorageFile {
    fn default() -> Self {
        StorageFile {
            state_dir: PathBuf::from("/var/lib/vigie"),
            spool_dir: None,
            spool_max_mib: 64,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FilterFile {
    family: FilterFamily,
    table: String,
    reputation_secs: u64,
    brute_force_secs: u64,
    scan_secs: u64,
}

impl Default for FilterFile {
    fn default() -> Self {
        FilterFile {
            family: FilterFamily::Inet,
            table: "vigie".to_owned(),
            reputation_secs: 3600,
            brute_force_secs: 0,
            scan_secs: 0,
        }
    }
}

impl File {
    /// Checks every value; `base` is the directory relative paths start
    /// from, `origin` names the file in detection errors.
    pub(super) fn resolve(self, base: &Path, origin: &str) -> Result<BoxConfig, String> {
        Ok(BoxConfig {
            commune: check_commune(&self.commune)?,
            mode: self.mode,
            observatory: self.observatory.resolve(base)?,
            capture: self.capture.resolve()?,
            network: NetworkSettings {
                home_nets: parse_nets(&self.network.home_nets)?,
            },
            storage: self.storage.resolve(base)?,
            filter: self.filter.resolve()?,
            detection: detection(self.detection, origin)?,
        })
    }

    pub(super) fn from_config(config: &BoxConfig) -> Result<File, toml::ser::Error> {
        let observatory = &config.observatory;
        let (ca_file, pin_sha256) = match &observatory.trust {
            Trust::SystemRoots => (None, None),
            Trust::CaFile(path) => (Some(path.clone()), None),
            Trust::PinnedSha256(pin) => (None, Some(pin_hex(pin))),
        };
        let filter = &config.filter;
        Ok(File {
            commune: config.commune.clone().unwrap_or_default(),
            mode: config.mode,
            observatory: ObservatoryFile {
                url: observatory.url.clone(),
                ca_file,
                pin_sha256,
                allow_plain_http: observatory.allow_plain_http,
                token_file: observatory.token_file.clone(),
                batch_interval_secs: observatory.batch_interval_secs,
                heartbeat_interval_secs: observatory.heartbeat_interval_secs,
                lists_interval_secs: observatory.lists_interval_secs,
                defence_interval_secs: observatory.defence_interval_secs,
                timeout_secs: observatory.timeout_secs,
                retry_max_secs: observatory.retry_max_secs,
            },
            capture: CaptureFile {
                interfaces: config.capture.interfaces.clone(),
                bpf: config.capture.bpf.clone(),
                user: config.capture.user.clone(),
                buffer_mib: config.capture.buffer_mib,
            },
            network: NetworkFile {
                home_nets: config
                    .network
                    .home_nets
                    .iter()
                    .map(Cidr::to_string)
                    .collect(),
            },
            storage: StorageFile {
                state_dir: config.storage.state_dir.clone(),
                spool_dir: Some(config.storage.spool_dir.clone()),
                spool_max_mib: config.storage.spool_max_mib,
            },
            filter: FilterFile {
                family: filter.family,
                table: filter.table.clone(),
                reputation_secs: filter.reputation_secs,
                brute_force_secs: filter.brute_force_secs,
                scan_secs: filter.scan_secs,
            },
            detection: Some(toml::Table::try_from(&config.detection)?),
        })
    }
}

impl ObservatoryFile {
    fn resolve(self, base: &Path) -> Result<ObservatorySettings, String> {
        let field = |name: &str, problem: String| format!("[observatory] {name}: {problem}");
        if self.url.is_empty() {
            return Err(field(
                "url",
                "missing (the observatory's https:// address)".into(),
            ));
        }
        let scheme = match self.url.split_once("://") {
            Some(("http", _)) if self.allow_plain_http => "http",
            _ => "https",
        };
        let url = check_url(&self.url, scheme).map_err(|e| field("url", e.to_string()))?;
        let trust = match (self.ca_file, self.pin_sha256) {
            (Some(_), Some(_)) => {
                return Err(field(
                    "ca_file and pin_sha256",
                    "give one or the other, not both".into(),
                ));
            }
            (Some(ca), None) => Trust::CaFile(base.join(ca)),
            (None, Some(pin)) => Trust::PinnedSha256(
                parse_pin(&pin).map_err(|problem| field("pin_sha256", problem))?,
            ),
            (None, None) => Trust::SystemRoots,
        };
        if self.token_file.as_os_str().is_empty() {
            return Err(field("token_file", "empty path".into()));
        }
        Ok(ObservatorySettings {
            url,
            allow_plain_http: self.allow_plain_http,
            trust,
            token_file: base.join(self.token_file),
            batch_interval_secs: positive(
                "[observatory] batch_interval_secs",
                self.batch_interval_secs,
            )?,
            heartbeat_interval_secs: positive(
                "[observatory] heartbeat_interval_secs",
                self.heartbeat_interval_secs,
            )?,
            lists_interval_secs: positive(
                "[observatory] lists_interval_secs",
                self.lists_interval_secs,
            )?,
            defence_interval_secs: positive(
                "[observatory] defence_interval_secs",
                self.defence_interval_secs,
            )?,
            timeout_secs: positive("[observatory] timeout_secs", self.timeout_secs)?,
            retry_max_secs: positive("[observatory] retry_max_secs", self.retry_max_secs)?,
        })
    }
}

impl CaptureFile {
    fn resolve(self) -> Result<CaptureSettings, String> {
        if self.interfaces.is_empty() {
            return Err("[capture] interfaces: empty, name at least one interface to watch (e.g. [\"eth1\"])".into());
        }
        for name in &self.interfaces {
            let valid = !name.is_empty()
                && name.len() <= MAX_INTERFACE_NAME
                && !name.contains(['/', ' ', '\t', '\n']);
            if !valid {
                return Err(format!(
                    "[capture] interfaces: {name:?} is not an interface name (1 to {MAX_INTERFACE_NAME} characters, no '/' or space)"
                ));
            }
        }
        if self.user.trim().is_empty() {
            return Err(
                "[capture] user: empty (the user to run as after opening the interfaces)".into(),
            );
        }
        if self.buffer_mib == 0 {
            return Err("[capture] buffer_mib: must be at least 1".into());
        }
        Ok(CaptureSettings {
            interfaces: self.interfaces,
            bpf: self.bpf.filter(|bpf| !bpf.trim().is_empty()),
            user: self.user,
            buffer_mib: self.buffer_mib,
        })
    }
}

impl StorageFile {
    fn resolve(self, base: &Path) -> Result<StorageSettings, String> {
        if self.state_dir.as_os_str().is_empty() {
            return Err("[storage] state_dir: empty path".into());
        }
        if self.spool_max_mib == 0 {
            return Err("[storage] spool_max_mib: must be at least 1".into());
        }
        let state_dir = base.join(self.state_dir);
        let spool_dir = match self.spool_dir {
            Some(dir) => base.join(dir),
            None => state_dir.join("spool"),
        };
        Ok(StorageSettings {
            state_dir,
            spool_dir,
            spool_max_mib: self.spool_max_mib,
        })
    }
}

impl FilterFile {
    fn resolve(self) -> Result<FilterSettings, String> {
        let valid_table = self.table.len() <= MAX_TABLE_NAME
            && self.table.starts_with(|c: char| c.is_ascii_alphabetic())
            && self
                .table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_table {
            return Err(format!(
                "[filter] table: {:?} is not an nftables name (a letter, then letters, digits or _)",
                self.table
            ));
        }
        Ok(FilterSettings {
            family: self.family,
            table: self.table,
            reputation_secs: self.reputation_secs,
            brute_force_secs: self.brute_force_secs,
            scan_secs: self.scan_secs,
        })
    }
}

/// An INSEE code: 5 digits, or 2A/2B and 3 digits for Corsica; empty is
/// "not given".
fn check_commune(code: &str) -> Result<Option<String>, String> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let bytes = code.as_bytes();
    let corsica = bytes.len() == 5
        && bytes[0] == b'2'
        && matches!(bytes[1], b'A' | b'B' | b'a' | b'b')
        && bytes[2..].iter().all(u8::is_ascii_digit);
    let mainland = bytes.len() == 5 && bytes.iter().all(u8::is_ascii_digit);
    if corsica || mainland {
        Ok(Some(code.to_ascii_uppercase()))
    } else {
        Err(format!(
            "commune: {code:?} is not an INSEE code (5 characters such as \"42218\" or \"2A004\")"
        ))
    }
}

fn parse_nets(nets: &[String]) -> Result<Vec<Cidr>, String> {
    if nets.is_empty() {
        return Err("[network] home_nets: empty, give the commune's networks".into());
    }
    nets.iter()
        .enumerate()
        .map(|(index, net)| {
            net.parse()
                .map_err(|e| format!("[network] home_nets[{index}]: {e}"))
        })
        .collect()
}

fn positive(name: &str, value: u64) -> Result<u64, String> {
    if value == 0 {
        return Err(format!("{name}: must be at least 1"));
    }
    Ok(value)
}

/// `[detection]` over the engine's defaults, the way `--config` merges a
/// thresholds file.
fn detection(table: Option<toml::Table>, origin: &str) -> Result<Config, String> {
    let Some(table) = table else {
        return Ok(Config::default());
    };
    let text = toml::to_string(&table).map_err(|e| format!("[detection]: {e}"))?;
    Config::from_toml(&text, origin).map_err(|e| match e {
        ConfigError::Invalid { message, .. } => format!("[detection] {message}"),
        other => format!("[detection] {other}"),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::live::box_config::{BoxConfig, EXAMPLE_TOML};

    #[test]
    fn the_example_shows_the_real_defaults() {
        let path = Path::new("/etc/vigie/sensor.toml");
        let example = BoxConfig::from_toml(EXAMPLE_TOML, path).unwrap();
        let minimal = "[observatory]\nurl = \"https://observatoire.example.fr\"\n\
                       [capture]\ninterfaces = [\"eth1\"]\n";
        assert_eq!(BoxConfig::from_toml(minimal, path).unwrap(), example);
        assert_eq!(
            example.observatory.token_file,
            Path::new("/etc/vigie/token")
        );
    }

    #[test]
    fn communes_are_insee_codes() {
        let check = |code: &str, expected: Option<&str>| {
            assert_eq!(
                super::check_commune(code).ok().flatten().as_deref(),
                expected
            );
        };
        check("42218", Some("42218"));
        check("2a004", Some("2A004"));
        check("", None);
        check("4221", None);
        check("2C004", None);
        assert!(super::check_commune("42 18").is_err());
    }
}
