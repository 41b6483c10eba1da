//! The box's small private files: the token, the host key, and the
//! atomic, owner-only write they and the configuration share. A secret is
//! never put in an error message, only the file's path.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::BoxConfigError;

/// The host key's file name in the state directory.
pub const HOST_KEY_FILE: &str = "host.key";
/// Longest token accepted from the token file (the observatory's are 64 hex digits).
const MAX_TOKEN_LEN: usize = 512;

/// Writes `bytes` to `path` so that a crash leaves either the old file or
/// the new one, readable by its owner only (0600): a temporary file in the
/// same directory, synced, then renamed over `path`.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), BoxConfigError> {
    let failed = |source| BoxConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // A leftover from a crash of this same pid would make create_new fail.
    let _ = std::fs::remove_file(&temporary);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        // The rename itself survives a power cut only once the directory is synced.
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(failed)
}

/// The sensor's token: the file's first line, trimmed.
pub fn read_token(path: &Path) -> Result<String, BoxConfigError> {
    let secret = |problem: &str| BoxConfigError::Secret {
        path: path.to_path_buf(),
        problem: problem.to_owned(),
    };
    let text = std::fs::read_to_string(path).map_err(|source| BoxConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let token = text.lines().next().unwrap_or_default().trim();
    if token.is_empty() {
        return Err(secret("empty token file (run `vigie sensor enroll`)"));
    }
    if token.len() > MAX_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(secret(
            "not a token (expected one line of printable characters)",
        ));
    }
    Ok(token.to_owned())
}

/// The key of the internal hosts' hash: 64 hex digits in its file.
pub fn read_host_key(path: &Path) -> Result<[u8; 32], BoxConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| BoxConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    crate::live::uplink::parse_pin(text.trim()).map_err(|problem| BoxConfigError::Secret {
        path: path.to_path_buf(),
        problem: format!("not a host key: {problem}"),
    })
}

/// Reads the host key, creating it (32 random bytes, mode 0600, its
/// directory 0700) when the file does not exist yet: the hash of internal
/// hosts must stay the same across restarts.
pub fn load_or_create_host_key(path: &Path) -> Result<[u8; 32], BoxConfigError> {
    if path.exists() {
        return read_host_key(path);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| BoxConfigError::Write {
                path: dir.to_path_buf(),
                source,
            })?;
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| BoxConfigError::Secret {
        path: path.to_path_buf(),
        problem: format!("no system randomness to make a host key: {e}"),
    })?;
    let hex = crate::live::uplink::pin_hex(&key) + "\n";
    write_private(path, hex.as_bytes())?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_replaced_whole_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path), 0o600);
        let leftovers = std::fs::read_dir(dir.path().join("sub")).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn the_host_key_is_made_once_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join(HOST_KEY_FILE);
        let key = load_or_create_host_key(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("state")), 0o700);
        assert_eq!(load_or_create_host_key(&path).unwrap(), key);
        assert_eq!(read_host_key(&path).unwrap(), key);
        assert_ne!(key, [0u8; 32]);
        std::fs::write(&path, "short\n").unwrap();
        let err = read_host_key(&path).unwrap_err().to_string();
        assert!(
            err.contains("host.key") && err.contains("not a host key"),
            "{err}"
        );
    }

    #[test]
    fn tokens_are_read_trimmed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  abc123\n").unwrap();
        assert_eq!(read_token(&path).unwrap(), "abc123");
        std::fs::write(&path, "\n").unwrap();
        let err = read_token(&path).unwrap_err().to_string();
        assert!(err.contains("empty token file"), "{err}");
        let err = read_token(&dir.path().join("absent"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("absent"), "{err}");
    }
}
