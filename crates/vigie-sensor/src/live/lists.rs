//! Threat lists and allowlists fetched from the observatory, cached on
//! disk, rebuilt into an [`Intel`] off the packet path and swapped in whole.
//!
//! The cache directory (`state_dir/lists`) holds one directory per set of
//! lists (`set-N/`, one `<name>.txt` file per list, what
//! [`Intel::load_dir`] reads) and `state.json`, which names the current set
//! and its manifest. A new set is written beside the current one, checked
//! and built, and only then does `state.json` move to it (temporary file
//! then rename): a crash at any point leaves the previous set whole.
//!
//! Each list's kind (threat list or allowlist) is the manifest's, never
//! guessed from its file name.
//!
//! What it must not do: write outside its directory whatever names the
//! manifest holds, load a list whose content does not match the manifest's
//! SHA-256, or build the lookup tables on the packet path (the daemon calls
//! [`ListSync::sync`] from its uplink thread).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vigie_core::ListVersion;
use vigie_core::lists::{ListEntry, ListKind, ListManifest, MANIFEST_PATH, list_path, sha256_hex};
use vigie_lists::{Intel, IntelError, Kind};

/// The file naming the current set, in the cache directory.
pub const STATE_FILE: &str = "state.json";
/// Largest manifest accepted: a few hundred lists take a few tens of KiB.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;
const SET_PREFIX: &str = "set-";
const STATE_TMP: &str = "state.json.tmp";

/// The uplink's GET: `get(path, etag)` fetches `path` (relative to the
/// observatory's URL) with `If-None-Match: etag` when given, and answers
/// `None` for 304 Not Modified, else the body and the response's `ETag`.
/// The error is the uplink's description of what failed.
pub type Get<'a> = dyn FnMut(&str, Option<&str>) -> Result<Fetched, String> + 'a;

/// What [`Get`] brings back: the body and the response's `ETag`, or `None`
/// for 304 Not Modified.
pub type Fetched = Option<(Vec<u8>, Option<String>)>;

/// Why a sync or the cache failed. A failed sync leaves the cached set as
/// it was.
#[derive(Debug, thiserror::Error)]
pub enum ListSyncError {
    #[error("cannot fetch {path} from the observatory: {message}")]
    Fetch { path: String, message: String },
    #[error(
        "the observatory answered 304 Not Modified for {path}, which was not a conditional request"
    )]
    UnexpectedNotModified { path: String },
    #[error("bad list manifest from the observatory: {0}")]
    Manifest(String),
    #[error("list {name}: the content's SHA-256 is {actual}, the manifest says {expected}")]
    Digest {
        name: String,
        expected: String,
        actual: String,
    },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Intel(#[from] IntelError),
}

/// What `state.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CacheState {
    /// The manifest's ETag as the observatory sent it, sent back in
    /// `If-None-Match`.
    etag: Option<String>,
    /// The current set's directory name (`set-N`).
    set: String,
    manifest: ListManifest,
}

/// The cached lists and how to bring them up to date.
#[derive(Debug)]
pub struct ListSync {
    dir: PathBuf,
    state: Option<CacheState>,
    problem: Option<String>,
}

impl ListSync {
    /// Opens (creating it if needed) the cache directory. A damaged
    /// `state.json` or a missing set is not fatal: the box starts without
    /// lists and the next sync fetches them all ([`ListSync::cache_problem`]
    /// says what was wrong). Leftovers of an interrupted sync are removed.
    pub fn open(dir: &Path) -> Result<ListSync, ListSyncError> {
        fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        let (state, problem) = match read_state(dir) {
            Ok(state) => (state, None),
            Err(problem) => (None, Some(problem)),
        };
        let sync = ListSync {
            dir: dir.to_owned(),
            state,
            problem,
        };
        sync.remove_leftovers();
        Ok(sync)
    }

    /// What was wrong with the cache found by [`ListSync::open`], if
    /// anything, for the daemon's log.
    pub fn cache_problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The cached set, built: what a box restarting without network uses.
    /// Empty lists when nothing was ever fetched.
    pub fn load_cached(&self) -> Result<(Intel, Vec<ListVersion>), ListSyncError> {
        match &self.state {
            Some(state) => Ok((
                load_set(&self.dir.join(&state.set), &state.manifest)?,
                self.versions(),
            )),
            None => Ok((Intel::empty(), Vec::new())),
        }
    }

    /// The versions of the cached lists, for the heartbeat.
    pub fn versions(&self) -> Vec<ListVersion> {
        self.state
            .as_ref()
            .map(|state| versions(&state.manifest))
            .unwrap_or_default()
    }

    /// Brings the cache up to date with the observatory's manifest,
    /// downloading only the lists whose digest changed. Returns the new
    /// set, built, when a list was added, changed or removed; `None` when
    /// nothing changed. On error nothing is swapped.
    pub fn sync(
        &mut self,
        get: &mut Get<'_>,
    ) -> Result<Option<(Intel, Vec<ListVersion>)>, ListSyncError> {
        let etag = self.state.as_ref().and_then(|state| state.etag.as_deref());
        let Some((body, etag)) = fetch(get, MANIFEST_PATH, etag)? else {
            return Ok(None);
        };
        let manifest = parse_manifest(&body)?;
        let etag = etag.or_else(|| Some(manifest.version.clone()));
        // Without a cache, even an empty set is new: it is written so
        // that the next sync can be answered 304.
        let unchanged = self
            .state
            .as_ref()
            .is_some_and(|state| state.manifest.lists == manifest.lists);
        if unchanged {
            // Same lists under a new set digest (or a server ignoring
            // If-None-Match): remember the ETag, keep the set.
            if let Some(state) = &self.state
                && state.etag != etag
            {
                let state = CacheState {
                    etag,
                    manifest,
                    ..state.clone()
                };
                self.commit(state)?;
            }
            return Ok(None);
        }
        let set = self.next_set_name();
        let set_dir = self.dir.join(&set);
        let built = self.write_set(&set_dir, &manifest, get);
        let intel = match built {
            Ok(intel) => intel,
            Err(e) => {
                let _ = fs::remove_dir_all(&set_dir);
                return Err(e);
            }
        };
        let previous = self.state.as_ref().map(|state| self.dir.join(&state.set));
        let versions = versions(&manifest);
        self.commit(CacheState {
            etag,
            set,
            manifest,
        })?;
        if let Some(previous) = previous {
            // Unchanged lists were hard-linked: removing the old set
            // leaves them in the new one. A failure only leaves garbage
            // that the next `open` removes.
            let _ = fs::remove_dir_all(previous);
        }
        Ok(Some((intel, versions)))
    }

    /// Writes every list of `manifest` into `set_dir` (reusing cached
    /// files whose digest still matches), then builds the set.
    fn write_set(
        &self,
        set_dir: &Path,
        manifest: &ListManifest,
        get: &mut Get<'_>,
    ) -> Result<Intel, ListSyncError> {
        if set_dir.exists() {
            fs::remove_dir_all(set_dir).map_err(io_error("remove", set_dir))?;
        }
        fs::create_dir(set_dir).map_err(io_error("create", set_dir))?;
        for entry in &manifest.lists {
            let target = set_dir.join(file_name(entry));
            if let Some(cached) = self.cached_file(entry) {
                fs::hard_link(&cached, &target)
                    .or_else(|_| fs::copy(&cached, &target).map(|_| ()))
                    .map_err(io_error("copy into", &target))?;
                continue;
            }
            let path = list_path(&entry.name);
            let (body, _) =
                fetch(get, &path, None)?.ok_or(ListSyncError::UnexpectedNotModified { path })?;
            let actual = sha256_hex(&body);
            if actual != entry.sha256 {
                return Err(ListSyncError::Digest {
                    name: entry.name.clone(),
                    expected: entry.sha256.clone(),
                    actual,
                });
            }
            write_synced(&target, &body)?;
        }
        sync_dir(set_dir)?;
        load_set(set_dir, manifest)
    }

    /// The cached file of `entry` when the current set holds it with the
    /// same digest, checked again so that a damaged file is fetched anew.
    fn cached_file(&self, entry: &ListEntry) -> Option<PathBuf> {
        let state = self.state.as_ref()?;
        let known = state
            .manifest
            .lists
            .iter()
            .find(|known| known.name == entry.name && known.kind == entry.kind)?;
        if known.sha256 != entry.sha256 {
            return None;
        }
        let path = self.dir.join(&state.set).join(file_name(entry));
        let bytes = fs::read(&path).ok()?;
        (sha256_hex(&bytes) == entry.sha256).then_some(path)
    }

    /// Makes `state` the current one: temporary file, flushed, renamed.
    fn commit(&mut self, state: CacheState) -> Result<(), ListSyncError> {
        let json = serde_json::to_vec_pretty(&state).map_err(|e| ListSyncError::Io {
            action: "serialise",
            path: self.dir.join(STATE_FILE),
            source: e.into(),
        })?;
        let tmp = self.dir.join(STATE_TMP);
        write_synced(&tmp, &json)?;
        let target = self.dir.join(STATE_FILE);
        fs::rename(&tmp, &target).map_err(io_error("rename into", &target))?;
        sync_dir(&self.dir)?;
        self.state = Some(state);
        Ok(())
    }

    fn next_set_name(&self) -> String {
        let current = self
            .state
            .as_ref()
            .and_then(|state| set_number(&state.set))
            .unwrap_or(0);
        format!("{SET_PREFIX}{}", current.wrapping_add(1))
    }

    /// Removes set directories other than the current one and a temporary
    /// state file: what an interrupted sync leaves.
    fn remove_leftovers(&self) {
        let current = self.state.as_ref().map(|state| state.set.as_str());
        let _ = fs::remove_file(self.dir.join(STATE_TMP));
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if set_number(&name).is_some() && Some(name.as_str()) != current {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Reads `state.json`: `Ok(None)` when there is none, `Err` (what is
/// wrong) when it cannot be used.
fn read_state(dir: &Path) -> Result<Option<CacheState>, String> {
    let path = dir.join(STATE_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let state: CacheState = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is damaged: {e}", path.display()))?;
    state
        .manifest
        .validate()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // The set name becomes a path: only `set-N` is accepted.
    if set_number(&state.set).is_none() || !dir.join(&state.set).is_dir() {
        return Err(format!(
            "{}: set {:?} is missing",
            path.display(),
            state.set
        ));
    }
    Ok(Some(state))
}

fn parse_manifest(body: &[u8]) -> Result<ListManifest, ListSyncError> {
    if body.len() > MAX_MANIFEST_BYTES {
        return Err(ListSyncError::Manifest(format!(
            "{} bytes, at most {MAX_MANIFEST_BYTES}",
            body.len()
        )));
    }
    let manifest: ListManifest =
        serde_json::from_slice(body).map_err(|e| ListSyncError::Manifest(e.to_string()))?;
    manifest.validate().map_err(ListSyncError::Manifest)?;
    Ok(manifest)
}

fn fetch(get: &mut Get<'_>, path: &str, etag: Option<&str>) -> Result<Fetched, ListSyncError> {
    get(path, etag).map_err(|message| ListSyncError::Fetch {
        path: path.to_owned(),
        message,
    })
}

fn versions(manifest: &ListManifest) -> Vec<ListVersion> {
    manifest
        .lists
        .iter()
        .map(|entry| ListVersion {
            name: entry.name.clone(),
            version: entry.version.to_string(),
        })
        .collect()
}

/// A list's file: its name (checked by [`ListManifest::validate`] to be
/// `[a-z0-9_]+`) and `.txt`; the loader takes the stem as the label.
/// Builds a set with each list's kind as the manifest states it (issue 16:
/// never guessed from a file name), and logs what the operator must know
/// about the kinds.
fn load_set(set_dir: &Path, manifest: &ListManifest) -> Result<Intel, ListSyncError> {
    let intel = Intel::load_dir_as(set_dir, |label| {
        manifest
            .lists
            .iter()
            .find(|entry| entry.name == label)
            .map(|entry| match entry.kind {
                ListKind::Threat => Kind::Threat,
                ListKind::Allow => Kind::Allow,
            })
    })?;
    for warning in intel.kind_warnings() {
        super::daemon::log(&format!("attention : {warning}"));
    }
    Ok(intel)
}

fn file_name(entry: &ListEntry) -> String {
    format!("{}.txt", entry.name)
}

fn set_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(SET_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ListSyncError> {
    let mut file = File::create(path).map_err(io_error("create", path))?;
    file.write_all(bytes).map_err(io_error("write", path))?;
    file.sync_all().map_err(io_error("flush", path))
}

/// Flushes a directory's entries, so that a rename survives a power cut.
fn sync_dir(dir: &Path) -> Result<(), ListSyncError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("flush", dir))
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ListSyncError {
    let path = path.to_owned();
    move |source| ListSyncError::Io {
        action,
        path,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_names() {
        assert_eq!(set_number("set-12"), Some(12));
        assert_eq!(set_number("set-"), None);
        assert_eq!(set_number("set-../x"), None);
        assert_eq!(set_number("state.json"), None);
    }
}
