//! The on-disk spool of batches waiting for the observatory's
//! acknowledgement: one file per batch, named by its zero-padded sequence
//! number, holding the exact JSON body to send.
//!
//! It is bounded in size. When over, the oldest batches that still carry
//! incident detail are rewritten without it (`incidents: []`, `dropped`
//! raised by as many), keeping their daily counters; the same happens when
//! the disk itself is full. What it must never do: drop a whole batch or
//! merge two. A batch may already be stored on the observatory with its
//! acknowledgement lost: a stripped copy is then answered `duplicate` and
//! nothing is counted twice, whereas a merged one would be.
//!
//! Beside the batches: `dropped` (incidents whose detail was dropped, a
//! count kept across restarts), `reserve` (room for rewriting on a full
//! disk) and `rejected/` (batches the observatory refused).

mod files;
mod rejected;
mod reserve;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use vigie_core::Report;

use self::files::{batch_seq, dropped_in, io_error, is_disk_full, read_counter, strip, to_json};
use self::reserve::Reserve;
use super::checkpoint::{TEMP_SUFFIX, write_atomic};

/// The batches waiting in one directory.
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    batches: BTreeMap<u64, Batch>,
    bytes: u64,
    dropped_total: u64,
    /// The dropped counter changed but could not be saved: retried at the
    /// next change.
    dropped_unsaved: bool,
    reserve: Reserve,
}

struct Batch {
    bytes: u64,
    /// Known to carry no incident detail (stripped, empty, or unreadable):
    /// nothing to gain from stripping it.
    bare: bool,
}

/// What a push did beyond spooling the batch.
#[derive(Debug, Default)]
pub struct PushOutcome {
    /// Incidents whose detail was dropped to make room (older batches
    /// stripped, or this one as a last resort); still counted in `daily`.
    pub dropped: u64,
    /// Still over the size limit with no detail left to drop: counters are
    /// never dropped, so the spool exceeds its limit until batches are sent.
    pub over_budget: bool,
    /// Problems met after the batch was safely spooled (an old batch that
    /// could not be rewritten, the dropped counter not saved): to log.
    pub problems: Vec<SpoolError>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {}: cannot {action}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("a batch without a sequence number cannot be spooled")]
    NoSeq,
    #[error("batch {seq} cannot follow batch {last} in the spool: sequence numbers must grow")]
    OutOfOrder { seq: u64, last: u64 },
    #[error("batch {seq} is not in the spool {}", dir.display())]
    NotSpooled { seq: u64, dir: PathBuf },
    #[error("spool {}: the disk is full, even the counters of batch {seq} did not fit: {source}", dir.display())]
    Full {
        seq: u64,
        dir: PathBuf,
        source: io::Error,
    },
    #[error("spool {}: {problem}", path.display())]
    Corrupt { path: PathBuf, problem: String },
}

/// Name of the file counting the incidents whose detail was dropped.
const DROPPED_FILE: &str = "dropped";
const BATCH_EXTENSION: &str = ".json";

impl Spool {
    /// Opens (creating it if needed) the spool in `dir`, removing the
    /// temporary files a crash left and indexing the batches there.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(io_error("create the directory", dir))?;
        let mut spool = Spool {
            dir: dir.to_owned(),
            max_bytes,
            batches: BTreeMap::new(),
            bytes: 0,
            dropped_total: read_counter(&dir.join(DROPPED_FILE))?,
            dropped_unsaved: false,
            reserve: Reserve::open(dir),
        };
        let entries = fs::read_dir(dir).map_err(io_error("list the directory", dir))?;
        for entry in entries {
            let entry = entry.map_err(io_error("list the directory", dir))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(TEMP_SUFFIX) {
                fs::remove_file(&path).map_err(io_error("remove the leftover", &path))?;
            } else if let Some(seq) = batch_seq(&name) {
                let bytes = entry.metadata().map_err(io_error("read", &path))?.len();
                spool.batches.insert(seq, Batch { bytes, bare: false });
                spool.bytes += bytes;
            }
        }
        rejected::clean(&spool.rejected_dir())?;
        Ok(spool)
    }

    /// Spools `report` (its `seq` set, above every spooled one), then drops
    /// the oldest detail while the spool is over its size. Fails only when
    /// the batch could not be written at all, even without its incidents:
    /// the caller then keeps it and tries again later.
    pub fn push(&mut self, report: &Report) -> Result<PushOutcome, SpoolError> {
        let seq = report.seq.ok_or(SpoolError::NoSeq)?;
        if let Some(last) = self.newest()
            && seq <= last
        {
            return Err(SpoolError::OutOfOrder { seq, last });
        }
        let mut outcome = PushOutcome::default();
        // Room for bad days first: acknowledged batches may have freed it.
        self.reserve.make();
        self.store(seq, report, &mut outcome)?;
        while self.bytes > self.max_bytes {
            match self.strip_oldest(&mut outcome.problems) {
                Ok(Some(dropped)) => outcome.dropped += dropped,
                Ok(None) => {
                    outcome.over_budget = true;
                    break;
                }
                Err(problem) => {
                    outcome.problems.push(problem);
                    break;
                }
            }
        }
        if (outcome.dropped > 0 || self.dropped_unsaved)
            && let Err(problem) = self.save_counter()
        {
            outcome.problems.push(problem);
        }
        Ok(outcome)
    }

    /// The oldest spooled batch, to send first.
    pub fn oldest(&self) -> Option<u64> {
        self.batches.keys().next().copied()
    }

    /// The newest spooled batch.
    pub fn newest(&self) -> Option<u64> {
        self.batches.keys().next_back().copied()
    }

    /// The body to send for batch `seq`.
    pub fn read(&self, seq: u64) -> Result<Vec<u8>, SpoolError> {
        if !self.batches.contains_key(&seq) {
            return Err(self.not_spooled(seq));
        }
        let path = self.batch_path(seq);
        fs::read(&path).map_err(io_error("read", &path))
    }

    /// The observatory has batch `seq` (`stored` or `duplicate`): deletes
    /// it. A batch no longer spooled is no error.
    pub fn ack(&mut self, seq: u64) -> Result<(), SpoolError> {
        let Some(batch) = self.batches.get(&seq) else {
            return Ok(());
        };
        let bytes = batch.bytes;
        let path = self.batch_path(seq);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &path)(e)),
        }
        self.batches.remove(&seq);
        self.bytes -= bytes;
        Ok(())
    }

    /// The observatory refuses batch `seq` as invalid: it moves to
    /// `rejected/` with the reason beside it, so one bad batch cannot hold
    /// the queue. `rejected/` keeps only the latest few.
    pub fn reject(&mut self, seq: u64, reason: &str) -> Result<(), SpoolError> {
        let Some(batch) = self.batches.get(&seq) else {
            return Err(self.not_spooled(seq));
        };
        let bytes = batch.bytes;
        let dir = self.rejected_dir();
        let moved = rejected::set_aside(&dir, &self.batch_path(seq))?;
        self.batches.remove(&seq);
        self.bytes -= bytes;
        rejected::note(&moved, reason)?;
        rejected::bound(&dir, self.max_bytes / 4)
    }

    /// Deletes the batches numbered `from` and above: at start, those
    /// spooled after the last checkpoint, which the restored engine will
    /// produce again. Returns how many were deleted.
    pub fn discard_from(&mut self, from: u64) -> Result<usize, SpoolError> {
        let doomed: Vec<u64> = self.batches.range(from..).map(|(&seq, _)| seq).collect();
        for &seq in &doomed {
            let path = self.batch_path(seq);
            // Their dropped detail is dropped no more: the incidents come
            // back whole from the restored engine.
            self.dropped_total = self.dropped_total.saturating_sub(dropped_in(&path));
            self.ack(seq)?;
        }
        if !doomed.is_empty() {
            fs::File::open(&self.dir)
                .and_then(|dir| dir.sync_all())
                .map_err(io_error("sync", &self.dir))?;
            self.save_counter()?;
        }
        Ok(doomed.len())
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Size of the batches waiting, in bytes (the small reserve and the
    /// refused batches aside).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Incidents whose detail the spool dropped, since it was created
    /// (kept across restarts).
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// Writes the new batch; on a full disk, strips older batches' detail
    /// and retries, and as a last resort writes this one without detail
    /// (in the reserve's room if need be).
    fn store(
        &mut self,
        seq: u64,
        report: &Report,
        outcome: &mut PushOutcome,
    ) -> Result<(), SpoolError> {
        let path = self.batch_path(seq);
        let body = to_json(report, &path)?;
        loop {
            match write_atomic(&path, &body) {
                Ok(()) => {
                    self.index(seq, body.len(), report.incidents.is_empty());
                    return Ok(());
                }
                Err(e) if is_disk_full(&e) => {}
                Err(e) => return Err(io_error("write", &path)(e)),
            }
            match self.strip_oldest(&mut outcome.problems) {
                Ok(Some(dropped)) => outcome.dropped += dropped,
                Ok(None) => break,
                Err(problem) => {
                    outcome.problems.push(problem);
                    break;
                }
            }
        }
        let (bare, dropped) = strip(report.clone());
        let body = to_json(&bare, &path)?;
        self.write_in_reserve(&path, &body).map_err(|source| {
            if is_disk_full(&source) {
                SpoolError::Full {
                    seq,
                    dir: self.dir.clone(),
                    source,
                }
            } else {
                io_error("write", &path)(source)
            }
        })?;
        self.index(seq, body.len(), true);
        self.dropped_total += dropped;
        outcome.dropped += dropped;
        Ok(())
    }

    /// Rewrites the oldest batch that may carry detail without it. `None`
    /// when none is left; `Some(0)` when the batch had none after all, or
    /// cannot be read (a problem, and the batch is left as it is: the
    /// observatory will refuse it and the uplink set it aside). An error
    /// only when the rewrite failed: the disk has no room for it.
    fn strip_oldest(&mut self, problems: &mut Vec<SpoolError>) -> Result<Option<u64>, SpoolError> {
        let Some((&seq, batch)) = self.batches.iter_mut().find(|(_, b)| !b.bare) else {
            return Ok(None);
        };
        batch.bare = true;
        let path = self.batch_path(seq);
        let read = fs::read(&path)
            .map_err(io_error("read", &path))
            .and_then(|body| {
                serde_json::from_slice::<Report>(&body).map_err(|e| SpoolError::Corrupt {
                    path: path.clone(),
                    problem: e.to_string(),
                })
            });
        let report = match read {
            Ok(report) => report,
            Err(problem) => {
                problems.push(problem);
                return Ok(Some(0));
            }
        };
        if report.incidents.is_empty() {
            return Ok(Some(0));
        }
        let (bare, dropped) = strip(report);
        let body = to_json(&bare, &path)?;
        if let Err(e) = self.write_in_reserve(&path, &body) {
            // Still whole: worth stripping once there is room.
            if let Some(batch) = self.batches.get_mut(&seq) {
                batch.bare = false;
            }
            return Err(io_error("rewrite", &path)(e));
        }
        self.index(seq, body.len(), true);
        self.dropped_total += dropped;
        Ok(Some(dropped))
    }

    /// Writes atomically; on a full disk, frees the reserve, writes in its
    /// room and makes it again (a stripped batch is smaller than it was, so
    /// the reserve fits again unless this is a new batch).
    fn write_in_reserve(&mut self, path: &Path, body: &[u8]) -> io::Result<()> {
        match write_atomic(path, body) {
            Err(e) if is_disk_full(&e) && self.reserve.release() => {
                let written = write_atomic(path, body);
                self.reserve.make();
                written
            }
            other => other,
        }
    }

    /// Records batch `seq` of `bytes` bytes, replacing its previous entry.
    fn index(&mut self, seq: u64, bytes: usize, bare: bool) {
        let bytes = bytes as u64;
        if let Some(old) = self.batches.insert(seq, Batch { bytes, bare }) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
    }

    fn save_counter(&mut self) -> Result<(), SpoolError> {
        let path = self.dir.join(DROPPED_FILE);
        let saved = write_atomic(&path, self.dropped_total.to_string().as_bytes());
        self.dropped_unsaved = saved.is_err();
        saved.map_err(io_error("write", &path))
    }

    fn batch_path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}{BATCH_EXTENSION}"))
    }

    fn rejected_dir(&self) -> PathBuf {
        self.dir.join("rejected")
    }

    fn not_spooled(&self, seq: u64) -> SpoolError {
        SpoolError::NotSpooled {
            seq,
            dir: self.dir.clone(),
        }
    }
}
