//! The `vigie.heartbeat/1` message: a live sensor's health, sent every
//! minute to its observatory, which shows it on the sensor's page. Counts
//! about the box only; nothing about the commune's traffic beyond totals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const HEARTBEAT_SCHEMA: &str = "vigie.heartbeat/1";

/// Longest list name or version accepted in a heartbeat.
pub const MAX_LIST_FIELD_LEN: usize = 128;
/// Most lists one heartbeat names.
pub const MAX_HEARTBEAT_LISTS: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub schema: String,
    /// The sensor software's version (`vigie --version`).
    pub version: String,
    /// `observe` or `filter`.
    pub mode: String,
    pub started_at: DateTime<Utc>,
    pub uptime_secs: u64,
    /// Since the box was installed (kept across restarts).
    pub packets: u64,
    pub bytes: u64,
    /// Packets the kernel dropped because the sensor did not keep up, and
    /// those the interface itself dropped, since this process started.
    pub kernel_drops: u64,
    pub interface_drops: u64,
    /// Incidents closed and batched since the box was installed.
    pub incidents: u64,
    pub open_incidents: u64,
    /// Batches waiting in the spool for the observatory, and their size.
    pub spool_batches: u64,
    pub spool_bytes: u64,
    /// Incidents whose detail was dropped by a full spool (still counted).
    pub dropped_incidents: u64,
    /// Addresses currently blocked (filter mode).
    #[serde(default)]
    pub blocked_now: u64,
    pub lists: Vec<ListVersion>,
}

/// One list the sensor has loaded, by the observatory's version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListVersion {
    pub name: String,
    pub version: String,
}

impl Heartbeat {
    /// Checks what serde cannot; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.schema != HEARTBEAT_SCHEMA {
            return Err(format!(
                "schema is {:?}, expected {HEARTBEAT_SCHEMA:?}",
                self.schema
            ));
        }
        if self.version.len() > MAX_LIST_FIELD_LEN || self.mode.len() > MAX_LIST_FIELD_LEN {
            return Err("version or mode too long".to_owned());
        }
        if self.lists.len() > MAX_HEARTBEAT_LISTS {
            return Err(format!(
                "lists: {} entries, at most {MAX_HEARTBEAT_LISTS}",
                self.lists.len()
            ));
        }
        for (index, list) in self.lists.iter().enumerate() {
            if list.name.len() > MAX_LIST_FIELD_LEN || list.version.len() > MAX_LIST_FIELD_LEN {
                return Err(format!(
                    "lists[{index}]: name and version have at most {MAX_LIST_FIELD_LEN} characters"
                ));
            }
        }
        Ok(())
    }
}
