//! Checks a list's content with the sensor's own parser (`vigie-lists`), so that what the
//! observatory accepts is what its sensors will load: content where
//! nothing parses is refused, a few bad lines are counted and, when the
//! administrator uploaded them, quoted. Fetched content is never quoted
//! (issue 14): the list page would show what an internal address answered.
//!
//! It must not block the server's threads: parsing tens of MiB takes a
//! moment, so it runs on tokio's blocking pool.

use vigie_core::lists::{ListKind, sha256_hex};
use vigie_lists::{Intel, ListStats};

use super::{ListError, MAX_LIST_BYTES};

/// Content that passed, as stored and served.
#[derive(Clone, Debug)]
pub(super) struct Checked {
    pub text: String,
    pub sha256: String,
    pub entries: i64,
    pub malformed: i64,
    /// The first bad lines, quoted (empty when none).
    pub problems: String,
}

/// Where content comes from, which says whether its bad lines may be
/// quoted back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// Pasted or uploaded by the administrator, who may read it again.
    Uploaded,
    /// Fetched from a URL: only line numbers are shown.
    Fetched,
}

/// Checks `bytes` as the content of list `name` of `kind`.
pub(super) async fn check(
    name: &str,
    kind: ListKind,
    origin: Origin,
    bytes: Vec<u8>,
) -> Result<Checked, ListError> {
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || check_now(&name, kind, origin, bytes))
        .await
        .map_err(|e| ListError::Content(format!("vérification interrompue : {e}")))?
}

fn check_now(
    name: &str,
    kind: ListKind,
    origin: Origin,
    bytes: Vec<u8>,
) -> Result<Checked, ListError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(ListError::Content(format!(
            "{} octets, au plus {} Mio",
            bytes.len(),
            MAX_LIST_BYTES / (1024 * 1024)
        )));
    }
    // A NUL byte means a binary file (an archive, an image): PostgreSQL's
    // TEXT cannot hold it anyway.
    if bytes.contains(&0) {
        return Err(ListError::Content(
            "fichier binaire (archive compressée ?) : une liste est un fichier texte".to_owned(),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let mut builder = Intel::builder();
    let stats = match kind {
        ListKind::Threat => builder.add_list(name, &text),
        ListKind::Allow => builder.add_allowlist(&text),
    };
    if stats.entries() == 0 {
        let detail = if stats.malformed > 0 {
            format!(
                " ; {} ligne(s) illisible(s), dont {}",
                stats.malformed,
                problems(&stats, origin)
            )
        } else {
            String::new()
        };
        return Err(ListError::Content(format!(
            "aucune adresse, aucun bloc ni domaine reconnu{detail}"
        )));
    }
    Ok(Checked {
        sha256: sha256_hex(text.as_bytes()),
        entries: count(stats.entries()),
        malformed: count(stats.malformed),
        problems: problems(&stats, origin),
        text,
    })
}

/// `ligne 3 (« 1.2.3 »), ligne 9 (« foo bar »)`; for fetched content,
/// `ligne 3, ligne 9`.
fn problems(stats: &ListStats, origin: Origin) -> String {
    stats
        .problems
        .iter()
        .map(|p| match origin {
            Origin::Uploaded => format!("ligne {} (« {} »)", p.line, p.excerpt),
            Origin::Fetched => format!("ligne {}", p.line),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_bad_lines_are_counted() {
        let checked = check_now(
            "spamhaus_drop",
            ListKind::Threat,
            Origin::Uploaded,
            b"; Spamhaus DROP\n1.10.16.0/20 ; SBL256894\nnot an address\n198.51.100.7\n".to_vec(),
        )
        .unwrap();
        assert_eq!(checked.entries, 2);
        assert_eq!(checked.malformed, 1);
        assert!(
            checked.problems.starts_with("ligne 3 ("),
            "{}",
            checked.problems
        );
        assert_eq!(checked.sha256.len(), 64);
    }

    #[test]
    fn nothing_parsing_is_refused() {
        let error = check_now(
            "x",
            ListKind::Threat,
            Origin::Uploaded,
            b"<html>404</html>\n".to_vec(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("aucune adresse"), "{error}");
        let empty = check_now("x", ListKind::Threat, Origin::Uploaded, Vec::new()).unwrap_err();
        assert!(matches!(empty, ListError::Content(_)));
        let binary = check_now(
            "x",
            ListKind::Threat,
            Origin::Uploaded,
            vec![0x1f, 0x8b, 0, 1],
        )
        .unwrap_err();
        assert!(binary.to_string().contains("binaire"), "{binary}");
    }

    #[test]
    fn allowlists_parse_as_allowlists() {
        let checked = check_now(
            "allowlist_x",
            ListKind::Allow,
            Origin::Uploaded,
            b"mairie.example.fr\n".to_vec(),
        )
        .unwrap();
        assert_eq!(checked.entries, 1);
    }

    #[test]
    fn fetched_content_is_never_quoted() {
        let secret = b"203.0.113.7\nroot:x:0:0:root:/root:/bin/bash\n".to_vec();
        let checked = check_now("x", ListKind::Threat, Origin::Fetched, secret.clone()).unwrap();
        assert_eq!(checked.problems, "ligne 2");
        let quoted = check_now("x", ListKind::Threat, Origin::Uploaded, secret).unwrap();
        assert!(quoted.problems.contains("root:x"), "{}", quoted.problems);
        let error = check_now(
            "x",
            ListKind::Threat,
            Origin::Fetched,
            b"<html>secret interne</html>\n".to_vec(),
        )
        .unwrap_err()
        .to_string();
        assert!(!error.contains("secret"), "{error}");
        assert!(error.contains("ligne 1"), "{error}");
    }
}
