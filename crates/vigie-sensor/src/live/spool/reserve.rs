//! Room kept on the disk for the day it is full. Dropping a batch's detail
//! rewrites it atomically, which needs a little free space before the old
//! file goes; on a disk filled to the last byte (by the spool or by
//! anything else) there is none. The spool keeps a small file of real
//! bytes that it deletes to make that room, and makes again at once.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Enough to rewrite dozens of batches without their detail.
pub(super) const RESERVE_BYTES: usize = 64 * 1024;

pub(super) struct Reserve {
    path: PathBuf,
    present: bool,
}

impl Reserve {
    /// The reserve file in `dir`, made if it is missing and there is room.
    pub(super) fn open(dir: &Path) -> Reserve {
        let path = dir.join("reserve");
        let present = fs::metadata(&path).is_ok_and(|m| m.len() == RESERVE_BYTES as u64);
        let mut reserve = Reserve { path, present };
        reserve.make();
        reserve
    }

    /// Makes the reserve if it is missing. Failing is expected on a full
    /// disk, and only means the next rewrite has no room kept for it.
    pub(super) fn make(&mut self) {
        if self.present {
            return;
        }
        let written = (|| -> io::Result<()> {
            let mut file = File::create(&self.path)?;
            // Real bytes, not a sparse file: the room must be taken.
            file.write_all(&[0u8; RESERVE_BYTES])?;
            file.sync_all()
        })();
        if written.is_err() {
            // Best effort: a partial reserve is recognised by its size and
            // made again anyway.
            let _ = fs::remove_file(&self.path);
        }
        self.present = written.is_ok();
    }

    /// Frees the reserve's room; false when there was none to free.
    pub(super) fn release(&mut self) -> bool {
        if !self.present {
            return false;
        }
        self.present = false;
        fs::remove_file(&self.path).is_ok()
    }
}
