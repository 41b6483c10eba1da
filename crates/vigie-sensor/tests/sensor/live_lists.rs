//! `ListSync` against a fake observatory: a `get` closure serving a
//! manifest and list bodies, counting what it is asked.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use vigie_core::lists::{ListEntry, ListKind, ListManifest, MANIFEST_PATH, sha256_hex};
use vigie_lists::Intel;
use vigie_sensor::live::lists::{Fetched, ListSync, ListSyncError};

/// The observatory's lists: name → (kind, version, body); plus what to
/// corrupt and the requests it received.
#[derive(Default)]
struct FakeObservatory {
    lists: BTreeMap<String, (ListKind, u64, String)>,
    /// Lists served with a body other than the manifest says.
    corrupt: Option<String>,
    requests: Vec<(String, Option<String>)>,
}

type Response = Result<Fetched, String>;

impl FakeObservatory {
    fn put(&mut self, name: &str, kind: ListKind, body: &str) {
        let version = self.lists.get(name).map_or(1, |(_, v, _)| v + 1);
        self.lists
            .insert(name.to_owned(), (kind, version, body.to_owned()));
    }

    fn manifest(&self) -> ListManifest {
        let lists: Vec<ListEntry> = self
            .lists
            .iter()
            .map(|(name, (kind, version, body))| ListEntry {
                name: name.clone(),
                kind: *kind,
                version: *version,
                sha256: sha256_hex(body.as_bytes()),
                entries: 1,
            })
            .collect();
        let digest = sha256_hex(serde_json::to_string(&lists).unwrap().as_bytes());
        ListManifest {
            version: digest,
            lists,
        }
    }

    fn get(&mut self, path: &str, etag: Option<&str>) -> Response {
        self.requests
            .push((path.to_owned(), etag.map(str::to_owned)));
        if path == MANIFEST_PATH {
            let manifest = self.manifest();
            let tag = format!("\"{}\"", manifest.version);
            if etag == Some(tag.as_str()) {
                return Ok(None);
            }
            return Ok(Some((serde_json::to_vec(&manifest).unwrap(), Some(tag))));
        }
        let name = path
            .strip_prefix(MANIFEST_PATH)
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(|| format!("HTTP 404 for {path}"))?;
        let (_, _, body) = self.lists.get(name).ok_or("HTTP 404")?;
        let body = if self.corrupt.as_deref() == Some(name) {
            format!("{body}\n198.18.0.1")
        } else {
            body.clone()
        };
        Ok(Some((body.into_bytes(), None)))
    }

    /// List bodies downloaded since the last call.
    fn downloads(&mut self) -> Vec<String> {
        let downloads = self
            .requests
            .iter()
            .filter(|(path, _)| path != MANIFEST_PATH)
            .map(|(path, _)| path.rsplit('/').next().unwrap().to_owned())
            .collect();
        self.requests.clear();
        downloads
    }
}

fn sync(
    lists: &mut ListSync,
    observatory: &mut FakeObservatory,
) -> Result<Option<Intel>, ListSyncError> {
    let mut get = |path: &str, etag: Option<&str>| observatory.get(path, etag);
    Ok(lists.sync(&mut get)?.map(|(intel, _)| intel))
}

fn listed(intel: &Intel, ip: &str) -> Option<String> {
    let ip: IpAddr = ip.parse().unwrap();
    intel.lookup_ip(ip).map(|id| intel.label(id).to_owned())
}

fn sets(dir: &Path) -> Vec<String> {
    let mut sets: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("set-"))
        .collect();
    sets.sort();
    sets
}

fn observatory() -> FakeObservatory {
    let mut observatory = FakeObservatory::default();
    observatory.put("firehol_level1", ListKind::Threat, "203.0.113.0/24\n");
    observatory.put("feodo", ListKind::Threat, "# Feodo\n198.51.100.7\n");
    observatory.put("allowlist_mairie", ListKind::Allow, "203.0.113.10\n");
    observatory
}

#[test]
fn first_sync_builds_the_lists_then_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut observatory = observatory();
    let mut lists = ListSync::open(dir.path()).unwrap();
    let (empty, versions) = lists.load_cached().unwrap();
    assert!(empty.is_empty() && versions.is_empty());

    let intel = sync(&mut lists, &mut observatory).unwrap().unwrap();
    assert_eq!(
        listed(&intel, "203.0.113.9").as_deref(),
        Some("firehol_level1")
    );
    assert_eq!(listed(&intel, "198.51.100.7").as_deref(), Some("feodo"));
    // The allowlist cuts its address out of the threat block.
    assert_eq!(listed(&intel, "203.0.113.10"), None);
    assert_eq!(listed(&intel, "192.0.2.1"), None);
    assert_eq!(
        observatory.downloads(),
        ["allowlist_mairie", "feodo", "firehol_level1"]
    );
    let versions = lists.versions();
    assert_eq!(versions.len(), 3);
    assert_eq!(
        (versions[0].name.as_str(), versions[0].version.as_str()),
        ("allowlist_mairie", "1")
    );

    // Same manifest: asked with its ETag, answered 304, nothing rebuilt.
    assert!(sync(&mut lists, &mut observatory).unwrap().is_none());
    let expected_etag = format!("\"{}\"", observatory.manifest().version);
    assert_eq!(
        observatory.requests,
        [(MANIFEST_PATH.to_owned(), Some(expected_etag))]
    );
    assert!(observatory.downloads().is_empty());
    assert_eq!(sets(dir.path()), ["set-1"]);
}

#[test]
fn a_changed_list_swaps_and_only_it_is_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let mut observatory = observatory();
    let mut lists = ListSync::open(dir.path()).unwrap();
    sync(&mut lists, &mut observatory).unwrap().unwrap();
    observatory.downloads();

    observatory.put("feodo", ListKind::Threat, "198.51.100.8\n");
    observatory.lists.remove("allowlist_mairie");
    let intel = sync(&mut lists, &mut observatory).unwrap().unwrap();
    assert_eq!(observatory.downloads(), ["feodo"]);
    assert_eq!(listed(&intel, "198.51.100.7"), None);
    assert_eq!(listed(&intel, "198.51.100.8").as_deref(), Some("feodo"));
    // The allowlist is gone: its address is listed again.
    assert_eq!(
        listed(&intel, "203.0.113.10").as_deref(),
        Some("firehol_level1")
    );
    let feodo = lists
        .versions()
        .into_iter()
        .find(|v| v.name == "feodo")
        .unwrap();
    assert_eq!(feodo.version, "2");
    // The previous set is removed, the new one holds exactly the lists.
    assert_eq!(sets(dir.path()), ["set-2"]);
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("set-2"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["feodo.txt", "firehol_level1.txt"]);
}

#[test]
fn a_digest_mismatch_fails_and_keeps_the_cached_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut observatory = observatory();
    let mut lists = ListSync::open(dir.path()).unwrap();
    sync(&mut lists, &mut observatory).unwrap().unwrap();

    observatory.put("feodo", ListKind::Threat, "198.51.100.8\n");
    observatory.corrupt = Some("feodo".to_owned());
    let error = sync(&mut lists, &mut observatory).unwrap_err();
    assert!(
        matches!(&error, ListSyncError::Digest { name, .. } if name == "feodo"),
        "{error}"
    );
    assert_eq!(sets(dir.path()), ["set-1"]);
    let (intel, versions) = lists.load_cached().unwrap();
    assert_eq!(listed(&intel, "198.51.100.7").as_deref(), Some("feodo"));
    assert_eq!(listed(&intel, "198.18.0.1"), None);
    assert!(
        versions
            .iter()
            .any(|v| v.name == "feodo" && v.version == "1")
    );

    // Fixed on the observatory: the next sync goes through.
    observatory.corrupt = None;
    let intel = sync(&mut lists, &mut observatory).unwrap().unwrap();
    assert_eq!(listed(&intel, "198.51.100.8").as_deref(), Some("feodo"));
}

#[test]
fn the_cache_works_offline_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut observatory = observatory();
    {
        let mut lists = ListSync::open(dir.path()).unwrap();
        sync(&mut lists, &mut observatory).unwrap().unwrap();
    }
    let mut lists = ListSync::open(dir.path()).unwrap();
    assert_eq!(lists.cache_problem(), None);
    let (intel, versions) = lists.load_cached().unwrap();
    assert_eq!(
        listed(&intel, "203.0.113.9").as_deref(),
        Some("firehol_level1")
    );
    assert_eq!(versions.len(), 3);

    // No network: the sync fails, the cache stays.
    let mut offline =
        |_: &str, _: Option<&str>| -> Response { Err("connection refused".to_owned()) };
    let error = lists.sync(&mut offline).unwrap_err();
    assert!(error.to_string().contains("connection refused"), "{error}");
    assert_eq!(lists.versions().len(), 3);
}

#[test]
fn leftovers_and_a_damaged_state_are_survived() {
    let dir = tempfile::tempdir().unwrap();
    let mut observatory = observatory();
    let mut lists = ListSync::open(dir.path()).unwrap();
    sync(&mut lists, &mut observatory).unwrap().unwrap();
    // An interrupted sync left a half-written set.
    std::fs::create_dir(dir.path().join("set-7")).unwrap();
    let lists = ListSync::open(dir.path()).unwrap();
    assert_eq!(sets(dir.path()), ["set-1"]);
    assert_eq!(lists.versions().len(), 3);

    std::fs::write(dir.path().join("state.json"), "{ not json").unwrap();
    let mut lists = ListSync::open(dir.path()).unwrap();
    assert!(lists.cache_problem().unwrap().contains("damaged"));
    let (intel, _) = lists.load_cached().unwrap();
    assert!(intel.is_empty());
    observatory.downloads();
    let intel = sync(&mut lists, &mut observatory).unwrap().unwrap();
    assert_eq!(observatory.downloads().len(), 3);
    assert_eq!(listed(&intel, "198.51.100.7").as_deref(), Some("feodo"));
}

#[test]
fn a_manifest_naming_a_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut lists = ListSync::open(dir.path()).unwrap();
    let manifest = serde_json::json!({
        "version": "x",
        "lists": [{ "name": "../../etc/cron", "kind": "threat", "version": 1,
                    "sha256": sha256_hex(b"x"), "entries": 1 }]
    });
    let mut get = |_: &str, _: Option<&str>| -> Response {
        Ok(Some((manifest.to_string().into_bytes(), None)))
    };
    let error = lists.sync(&mut get).unwrap_err();
    assert!(matches!(error, ListSyncError::Manifest(_)), "{error}");
    assert!(sets(dir.path()).is_empty());
}

#[test]
fn an_empty_set_is_cached_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut observatory = FakeObservatory::default();
    let mut lists = ListSync::open(dir.path()).unwrap();
    let intel = sync(&mut lists, &mut observatory).unwrap().unwrap();
    assert!(intel.is_empty());
    // Now the observatory can answer 304.
    assert!(sync(&mut lists, &mut observatory).unwrap().is_none());
    assert!(observatory.requests.last().unwrap().1.is_some());
    observatory.put("feodo", ListKind::Threat, "198.51.100.7\n");
    let intel = sync(&mut lists, &mut observatory).unwrap().unwrap();
    assert_eq!(listed(&intel, "198.51.100.7").as_deref(), Some("feodo"));
}
