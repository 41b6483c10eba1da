//! The box's configuration file (`/etc/vigie/sensor.toml`): commune, mode,
//! observatory and trust, capture, home nets, storage, filter mode and the
//! detection thresholds. One documented example, `data/box.toml`.
//!
//! Loading checks everything the daemon relies on and names the file, the
//! field (and the line when the TOML itself is wrong) in its errors. It
//! never holds the token itself, only the path of the file that does.

mod edit;
mod file;
mod files;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::homenet::Cidr;
use crate::live::uplink::{Trust, Uplink, UplinkError};

pub(crate) use edit::set_key;
pub use files::{HOST_KEY_FILE, load_or_create_host_key, read_host_key, read_token, write_private};

/// The documented example, embedded; `vigie sensor --print-box-config`
/// prints it and `enroll` starts from it.
pub const EXAMPLE_TOML: &str = include_str!("../../../data/box.toml");

/// Where `vigie sensor` looks by default.
pub const DEFAULT_PATH: &str = "/etc/vigie/sensor.toml";

/// The whole configuration, checked, with paths made absolute.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxConfig {
    /// The commune's INSEE code, when the file gives one.
    pub commune: Option<String>,
    pub mode: Mode,
    pub observatory: ObservatorySettings,
    pub capture: CaptureSettings,
    pub network: NetworkSettings,
    pub storage: StorageSettings,
    pub filter: FilterSettings,
    /// `[detection]` merged over the engine's defaults.
    pub detection: Config,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Watch and report.
    #[default]
    Observe,
    /// Also block attackers through nftables.
    Filter,
}

impl Mode {
    /// The name used in the file and in heartbeats.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Observe => "observe",
            Mode::Filter => "filter",
        }
    }
}

/// The nftables family of the filter table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterFamily {
    /// A router: IPv4 and IPv6 forwarding.
    #[default]
    Inet,
    /// A transparent Linux bridge.
    Bridge,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObservatorySettings {
    /// Base URL, without a trailing slash.
    pub url: String,
    /// `http://` accepted (test observatories only).
    pub allow_plain_http: bool,
    pub trust: Trust,
    pub token_file: PathBuf,
    /// The periods below are at least 1 second; see the methods for durations.
    pub batch_interval_secs: u64,
    pub heartbeat_interval_secs: u64,
    pub lists_interval_secs: u64,
    /// How often the territory list's changes are asked for (issue 16).
    pub defence_interval_secs: u64,
    /// Longest wait for one request.
    pub timeout_secs: u64,
    /// Longest wait between two tries when the observatory does not
    /// answer: the retries back off from 1 s up to this.
    pub retry_max_secs: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CaptureSettings {
    /// At least one.
    pub interfaces: Vec<String>,
    pub bpf: Option<String>,
    /// Whom to become after opening the interfaces as root.
    pub user: String,
    pub buffer_mib: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSettings {
    pub home_nets: Vec<Cidr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StorageSettings {
    /// Checkpoint, host key, list cache.
    pub state_dir: PathBuf,
    pub spool_dir: PathBuf,
    pub spool_max_mib: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FilterSettings {
    pub family: FilterFamily,
    pub table: String,
    /// How long to block an address for this reason; 0: do not block for it.
    pub reputation_secs: u64,
    pub brute_force_secs: u64,
    pub scan_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BoxConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    Secret { path: PathBuf, problem: String },
}

impl BoxConfig {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<BoxConfig, BoxConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| BoxConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        BoxConfig::from_toml(&text, path)
    }

    /// Parses `text` as if read from `path`: relative paths are resolved
    /// against `path`'s directory, and errors name `path`.
    pub fn from_toml(text: &str, path: &Path) -> Result<BoxConfig, BoxConfigError> {
        let invalid = |message: String| BoxConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let raw: file::File = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let base = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        raw.resolve(&base, &path.display().to_string())
            .map_err(invalid)
    }

    /// The file form of this configuration, every value explicit (the
    /// detection thresholds too). Loading it gives back the same config.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(&file::File::from_config(self)?)
    }

    /// Writes [`BoxConfig::to_toml`] to `path` atomically, mode 0600.
    pub fn write(&self, path: &Path) -> Result<(), BoxConfigError> {
        let text = self.to_toml().map_err(|e| BoxConfigError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        write_private(path, text.as_bytes())
    }

    /// The file holding the key of the internal hosts' hash.
    pub fn host_key_path(&self) -> PathBuf {
        self.storage.state_dir.join(HOST_KEY_FILE)
    }

    /// The sensor's token, from its file.
    pub fn token(&self) -> Result<String, BoxConfigError> {
        read_token(&self.observatory.token_file)
    }
}

impl ObservatorySettings {
    /// A client for this observatory with its trust and `token`.
    pub fn uplink(&self, token: Option<String>) -> Result<Uplink, UplinkError> {
        if self.url.starts_with("http://") && self.allow_plain_http {
            Uplink::plain_http(&self.url, token, self.timeout())
        } else {
            Uplink::new(&self.url, &self.trust, token, self.timeout())
        }
    }

    pub fn batch_interval(&self) -> Duration {
        Duration::from_secs(self.batch_interval_secs)
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_secs(self.heartbeat_interval_secs)
    }

    pub fn lists_interval(&self) -> Duration {
        Duration::from_secs(self.lists_interval_secs)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

impl StorageSettings {
    /// The spool's bound in bytes.
    pub fn spool_max_bytes(&self) -> u64 {
        self.spool_max_mib.saturating_mul(1024 * 1024)
    }
}
