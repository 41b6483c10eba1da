//! What a live sensor persists to restart where it stopped: the next batch
//! sequence number and the engine's open incidents and counters, saved
//! after each batch is spooled.
//!
//! Written atomically (a temporary file in the same directory, synced, then
//! renamed over the old one, and the directory synced), so a crash or a
//! power cut leaves either the previous checkpoint or the new one, never a
//! mix. What it must not do: leave the box. The engine's state holds
//! internal addresses (see [`EngineState`]).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::EngineState;

/// The format this sensor writes and reads; a file of another version is
/// refused rather than misread.
pub const FORMAT_VERSION: u32 = 1;

/// Everything a live sensor needs to continue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SensorState {
    /// Format of the file, [`FORMAT_VERSION`].
    pub version: u32,
    /// The sequence number of the next batch: every batch below it is in
    /// the spool or already acknowledged.
    pub next_seq: u64,
    pub engine: EngineState,
    pub saved_at: DateTime<Utc>,
    /// Incidents batched since the box was installed (its heartbeat shows it).
    #[serde(default)]
    pub incidents_total: u64,
}

impl SensorState {
    /// A state of the current format, saved now.
    pub fn new(next_seq: u64, engine: EngineState) -> Self {
        SensorState {
            version: FORMAT_VERSION,
            next_seq,
            engine,
            saved_at: Utc::now(),
            incidents_total: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read the checkpoint {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write the checkpoint {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("the checkpoint {} is corrupt: {problem}", path.display())]
    Corrupt { path: PathBuf, problem: String },
    #[error(
        "the checkpoint {} has format version {found}, this sensor reads version {FORMAT_VERSION}",
        path.display()
    )]
    Version { path: PathBuf, found: u32 },
}

/// Saves `state` to `path`, replacing the previous checkpoint atomically.
pub fn save(path: &Path, state: &SensorState) -> Result<(), CheckpointError> {
    let write = |source| CheckpointError::Write {
        path: path.to_owned(),
        source,
    };
    let bytes = serde_json::to_vec(state).map_err(|e| write(io::Error::other(e)))?;
    write_atomic(path, &bytes).map_err(write)
}

/// The saved state; `None` when there is none (first start).
pub fn load(path: &Path) -> Result<Option<SensorState>, CheckpointError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CheckpointError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let corrupt = |e: serde_json::Error| CheckpointError::Corrupt {
        path: path.to_owned(),
        problem: e.to_string(),
    };
    // The version first, so a future format is refused by its number
    // rather than by whatever field it changed.
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let Version { version } = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if version != FORMAT_VERSION {
        return Err(CheckpointError::Version {
            path: path.to_owned(),
            found: version,
        });
    }
    serde_json::from_slice(&bytes).map(Some).map_err(corrupt)
}

/// Writes `bytes` to `path` so that a crash leaves the old content or the
/// new, whole: a temporary file beside it, synced, renamed over it, and the
/// directory synced so the rename itself survives a power cut.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = temp_path(path);
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        // Best effort: a leftover temporary file is removed at the next
        // start anyway, and the write error is the one worth reporting.
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    File::open(dir)?.sync_all()
}

/// The temporary name for `path`: the same name with [`TEMP_SUFFIX`].
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(TEMP_SUFFIX);
    path.with_file_name(name)
}

pub(crate) const TEMP_SUFFIX: &str = ".tmp";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Settings};

    fn state(next_seq: u64) -> SensorState {
        SensorState::new(next_seq, Engine::new(Settings::default()).checkpoint())
    }

    #[test]
    fn a_saved_state_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(load(&path).unwrap().is_none());
        save(&path, &state(41)).unwrap();
        save(&path, &state(42)).unwrap();
        let loaded = load(&path).unwrap().unwrap();
        assert_eq!((loaded.version, loaded.next_seq), (FORMAT_VERSION, 42));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"], "no temporary file left");
    }

    #[test]
    fn a_bad_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let check = |content: &str, expected: &str| {
            fs::write(&path, content).unwrap();
            let message = load(&path).unwrap_err().to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains(expected), "{message}");
        };
        check("{\"version\": 1, \"next_seq\": 3", "EOF");
        check("", "EOF");
        check("{\"version\": 7}", "format version 7");
        check("{\"version\": 1, \"next_seq\": \"x\"}", "line 1");
        check("{\"next_seq\": 1}", "missing field `version`");
    }

    #[test]
    fn an_unwritable_place_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("state.json");
        let message = save(&path, &state(1)).unwrap_err().to_string();
        assert!(message.contains("missing/state.json"), "{message}");
    }
}
