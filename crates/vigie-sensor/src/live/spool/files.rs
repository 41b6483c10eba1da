//! The spool's file names and contents: batch names, the dropped counter,
//! a batch rewritten without its detail, and errors naming the file.

use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;
use vigie_core::Report;

use super::{BATCH_EXTENSION, SpoolError};

/// The batch without its incidents' detail, and how many were dropped.
pub(super) fn strip(mut report: Report) -> (Report, u64) {
    let dropped = report.incidents.len() as u64;
    report.incidents.clear();
    report.dropped += dropped;
    (report, dropped)
}

pub(super) fn to_json(report: &Report, path: &Path) -> Result<Vec<u8>, SpoolError> {
    serde_json::to_vec(report).map_err(|e| io_error("encode", path)(io::Error::other(e)))
}

/// The sequence number of a batch file name (`00000000000000000042.json`).
pub(super) fn batch_seq(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(BATCH_EXTENSION)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The `dropped` field of a spooled batch; 0 if it cannot be read, which
/// at worst leaves the local counter a little high.
pub(super) fn dropped_in(path: &Path) -> u64 {
    #[derive(Deserialize)]
    struct Dropped {
        #[serde(default)]
        dropped: u64,
    }
    fs::read(path)
        .ok()
        .and_then(|body| serde_json::from_slice::<Dropped>(&body).ok())
        .map_or(0, |d| d.dropped)
}

pub(super) fn read_counter(path: &Path) -> Result<u64, SpoolError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error("read", path)(e)),
    };
    text.trim().parse().map_err(|_| SpoolError::Corrupt {
        path: path.to_owned(),
        problem: format!("{:?} is not a count of incidents", text.trim()),
    })
}

/// ENOSPC, or EDQUOT on a disk with quotas: room must be made.
pub(super) fn is_disk_full(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

pub(super) fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SpoolError {
    let path = path.to_owned();
    move |source| SpoolError::Io {
        action,
        path,
        source,
    }
}
