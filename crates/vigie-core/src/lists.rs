//! The lists an observatory serves to its sensors: the manifest a sensor
//! fetches (`GET /api/v1/sensors/lists`) to learn which threat lists and
//! allowlists it must hold and at which version, and the rules a list's
//! name follows on both sides.
//!
//! A list's name is its label in incidents and the name of its file in the
//! sensor's cache, so it is checked wherever it is received: it must never
//! be able to name a path outside that cache.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where a sensor fetches its manifest, relative to the observatory's URL.
pub const MANIFEST_PATH: &str = "/api/v1/sensors/lists";
/// Longest list name.
pub const MAX_LIST_NAME_LEN: usize = 64;
/// Most lists one manifest holds (a sensor loads them all at once).
pub const MAX_MANIFEST_LISTS: usize = 256;
/// Prefix of every allowlist's name: the sensor's loader tells an
/// allowlist from a threat list by it.
pub const ALLOWLIST_PREFIX: &str = "allowlist";

/// Where a sensor fetches one list's current content.
pub fn list_path(name: &str) -> String {
    format!("{MANIFEST_PATH}/{name}")
}

/// What a list is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Known-bad addresses, blocks and domains, reported when seen.
    Threat,
    /// Addresses and domains never reported (nor blocked).
    Allow,
}

impl ListKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Threat => "threat",
            ListKind::Allow => "allow",
        }
    }

    pub fn parse(text: &str) -> Option<ListKind> {
        match text {
            "threat" => Some(ListKind::Threat),
            "allow" => Some(ListKind::Allow),
            _ => None,
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            ListKind::Threat => "menaces",
            ListKind::Allow => "liste blanche",
        }
    }
}

/// Checks a list's name for its kind: 1 to [`MAX_LIST_NAME_LEN`] characters
/// among `a-z`, `0-9` and `_`; an allowlist's starts with
/// [`ALLOWLIST_PREFIX`], a threat list's does not. The error says why, in
/// French (administrators read it).
pub fn check_list_name(name: &str, kind: ListKind) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_LIST_NAME_LEN {
        return Err(format!(
            "nom de liste « {name} » : de 1 à {MAX_LIST_NAME_LEN} caractères"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "nom de liste « {name} » : seulement des minuscules sans accent, des chiffres et « _ »"
        ));
    }
    match (kind, name.starts_with(ALLOWLIST_PREFIX)) {
        (ListKind::Allow, false) => Err(format!(
            "nom de liste « {name} » : le nom d'une liste blanche commence par « {ALLOWLIST_PREFIX} »"
        )),
        (ListKind::Threat, true) => Err(format!(
            "nom de liste « {name} » : seul le nom d'une liste blanche commence par « {ALLOWLIST_PREFIX} »"
        )),
        _ => Ok(()),
    }
}

/// The set of lists one sensor must hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListManifest {
    /// Digest of the whole set (also the response's ETag): it changes when
    /// any list is added, removed or changed.
    pub version: String,
    /// Sorted by name.
    pub lists: Vec<ListEntry>,
}

/// One list of a manifest, at its current version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    pub name: String,
    pub kind: ListKind,
    /// Grows by one with each change of the content.
    pub version: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Entries (addresses, blocks, domains) the observatory read in it.
    pub entries: u64,
}

impl ListManifest {
    /// Checks what serde cannot: names (so that none can name a path),
    /// digests, duplicates, size. The message names the entry.
    pub fn validate(&self) -> Result<(), String> {
        if self.lists.len() > MAX_MANIFEST_LISTS {
            return Err(format!(
                "lists: {} entries, at most {MAX_MANIFEST_LISTS}",
                self.lists.len()
            ));
        }
        if self.version.is_empty() || self.version.len() > 128 {
            return Err("version: empty or longer than 128 characters".to_owned());
        }
        let mut names = std::collections::BTreeSet::new();
        for (index, list) in self.lists.iter().enumerate() {
            check_list_name(&list.name, list.kind).map_err(|e| format!("lists[{index}]: {e}"))?;
            if !is_sha256_hex(&list.sha256) {
                return Err(format!(
                    "lists[{index}].sha256: 64 lowercase hexadecimal digits expected"
                ));
            }
            if !names.insert(list.name.as_str()) {
                return Err(format!("lists[{index}]: {} listed twice", list.name));
            }
        }
        Ok(())
    }
}

/// SHA-256 of `bytes`, lowercase hex: a list's digest in the manifest
/// ([`ListEntry::sha256`]). The observatory computes it when it stores a
/// list and the sensor when it receives one, both with this function, so
/// the two always agree.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `text` is a SHA-256 digest in lowercase hex.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, kind: ListKind, ok: bool) {
        assert_eq!(check_list_name(name, kind).is_ok(), ok, "{name} {kind:?}");
    }

    #[test]
    fn list_names() {
        check("firehol_level1", ListKind::Threat, true);
        check("allowlist_42218", ListKind::Allow, true);
        check("allowlist", ListKind::Allow, true);
        check("mairie", ListKind::Allow, false);
        check("allowlist_x", ListKind::Threat, false);
        check("", ListKind::Threat, false);
        check("../etc/passwd", ListKind::Threat, false);
        check("Firehol", ListKind::Threat, false);
        check("a.b", ListKind::Threat, false);
        check(&"a".repeat(64), ListKind::Threat, true);
        check(&"a".repeat(65), ListKind::Threat, false);
    }

    fn entry(name: &str, kind: ListKind) -> ListEntry {
        ListEntry {
            name: name.to_owned(),
            kind,
            version: 1,
            sha256: "ab".repeat(32),
            entries: 3,
        }
    }

    #[test]
    fn manifest_round_trip_and_checks() {
        let manifest = ListManifest {
            version: "v".to_owned(),
            lists: vec![
                entry("allowlist_x", ListKind::Allow),
                entry("spamhaus_drop", ListKind::Threat),
            ],
        };
        let json = serde_json::to_string(&manifest).unwrap();
        assert!(json.contains(r#""kind":"allow""#), "{json}");
        let back: ListManifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, manifest);
        assert!(back.validate().is_ok());

        let mut twice = manifest.clone();
        twice.lists.push(entry("spamhaus_drop", ListKind::Threat));
        assert!(twice.validate().unwrap_err().contains("twice"));
        let mut bad_digest = manifest.clone();
        bad_digest.lists[0].sha256 = "AB".repeat(32);
        assert!(bad_digest.validate().unwrap_err().contains("sha256"));
        let mut traversal = manifest;
        traversal.lists[1].name = "../x".to_owned();
        assert!(traversal.validate().unwrap_err().starts_with("lists[1]"));
    }

    #[test]
    fn digest_is_lowercase_hex() {
        let digest = sha256_hex(b"abc");
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_hex(&digest));
    }

    #[test]
    fn paths() {
        assert_eq!(list_path("tor_exits"), "/api/v1/sensors/lists/tor_exits");
    }
}
