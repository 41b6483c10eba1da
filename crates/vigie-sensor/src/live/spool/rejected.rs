//! Batches the observatory refused as invalid (HTTP 400), set aside in
//! `rejected/` with the reason beside them, so that one bad batch cannot
//! hold the queue and an administrator can still look at it. Only the
//! latest few are kept: what is refused is never sent again.

use std::fs;
use std::path::{Path, PathBuf};

use super::{BATCH_EXTENSION, SpoolError, io_error};
use crate::live::checkpoint::{TEMP_SUFFIX, write_atomic};

/// At most this many refused batches are kept.
pub(super) const KEEP: usize = 32;
/// Reasons beyond this are cut (a server error page is no reason).
const MAX_REASON: usize = 4096;

/// Removes the temporary files a crash left in `dir`, if it exists.
pub(super) fn clean(dir: &Path) -> Result<(), SpoolError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
            let path = entry.path();
            fs::remove_file(&path).map_err(io_error("remove the leftover", &path))?;
        }
    }
    Ok(())
}

/// Moves `batch` into `dir`; returns where it now is.
pub(super) fn set_aside(dir: &Path, batch: &Path) -> Result<PathBuf, SpoolError> {
    fs::create_dir_all(dir).map_err(io_error("create the directory", dir))?;
    let target = dir.join(batch.file_name().unwrap_or_default());
    fs::rename(batch, &target).map_err(io_error("move to rejected/", batch))?;
    Ok(target)
}

/// Writes why `batch` (set aside) was refused beside it.
pub(super) fn note(batch: &Path, reason: &str) -> Result<(), SpoolError> {
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let path = batch.with_extension("reason");
    let text = format!("{}\n", reason.get(..end).unwrap_or_default());
    write_atomic(&path, text.as_bytes()).map_err(io_error("write", &path))
}

/// Deletes the oldest refused batches beyond [`KEEP`] or beyond `max_bytes`
/// (the newest is always kept).
pub(super) fn bound(dir: &Path, max_bytes: u64) -> Result<(), SpoolError> {
    let entries = fs::read_dir(dir).map_err(io_error("list the directory", dir))?;
    let mut batches: Vec<(PathBuf, u64)> = entries
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .ends_with(BATCH_EXTENSION)
        })
        .map(|entry| {
            let bytes = entry.metadata().map_or(0, |m| m.len());
            (entry.path(), bytes)
        })
        .collect();
    // Zero-padded names: the name order is the sequence order.
    batches.sort();
    let mut total: u64 = batches.iter().map(|(_, bytes)| bytes).sum();
    let mut count = batches.len();
    for (path, bytes) in batches {
        if count <= 1 || (count <= KEEP && total <= max_bytes) {
            break;
        }
        fs::remove_file(&path).map_err(io_error("delete", &path))?;
        let reason = path.with_extension("reason");
        match fs::remove_file(&reason) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &reason)(e)),
        }
        total -= bytes;
        count -= 1;
    }
    Ok(())
}
