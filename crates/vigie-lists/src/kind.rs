//! What a list file is for: a threat list (what it holds is reported) or an
//! allowlist (what it holds never is). Issue 16: a file named `allow.txt`
//! used to load as a threat list labelled "allow", and turned the
//! territory's own website into a critical outbound incident.
//!
//! The kind is said, in order of precedence, by:
//! 1. whoever hands the file over with its kind (the observatory's manifest
//!    for the box's cached lists: [`Intel::load_dir_as`](crate::Intel::load_dir_as));
//! 2. a header, the file's first non-blank line: `# vigie-list: allow` or
//!    `# vigie-list: threat` (a comment to every other tool);
//! 3. for files written before headers existed, the name: `allowlist*` is
//!    an allowlist, anything else a threat list, *except* a name that
//!    looks like an allowlist (`allow.txt`, `whitelist.txt`,
//!    `liste_blanche.txt`, `trusted.txt`...), which is left out with a
//!    warning until a header says what it is.
//!
//! What it must not do: guess. Reading an allowlist as a threat list
//! reports the commune's own services as attackers, reading a threat list
//! as an allowlist hides attackers: a doubtful file loads as neither, and
//! the warning (French, for the box's log and the operator) says how to
//! settle it.

/// The header's key, on the file's first non-blank line after `#`.
pub const HEADER_KEY: &str = "vigie-list";
/// Prefix of an allowlist's file name when the file has no header.
pub const ALLOWLIST_PREFIX: &str = "allowlist";

/// Parts of a name that mean "allowed" to people (English and French),
/// compared with the name lowercased and stripped of everything but
/// letters and digits.
const ALLOW_WORDS: [&str; 10] = [
    "allow",
    "whitelist",
    "white",
    "blanche",
    "passlist",
    "safelist",
    "trusted",
    "confiance",
    "exception",
    "autorise",
];

/// What a list is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Threat,
    Allow,
}

impl Kind {
    /// The header's value (`allow`, `threat`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Threat => "threat",
            Kind::Allow => "allow",
        }
    }

    fn label_fr(self) -> &'static str {
        match self {
            Kind::Threat => "liste de menaces",
            Kind::Allow => "liste blanche",
        }
    }
}

/// Something about a file's kind the operator must hear of, in French.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindWarning {
    /// The file's label (its name without extension).
    pub label: String,
    /// True when the file was left out: neither reported nor allowed.
    pub left_out: bool,
    pub message: String,
}

impl std::fmt::Display for KindWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The kind a header gives `text`: `None` without a header, `Some(Err)`
/// with the value found when the header names no kind.
pub fn header(text: &str) -> Option<Result<Kind, String>> {
    let first = text
        .lines()
        .map(|line| line.trim_start_matches('\u{feff}').trim())
        .find(|line| !line.is_empty())?;
    let rest = first.strip_prefix('#')?.trim();
    let (key, value) = rest.split_once(':')?;
    if !key.trim().eq_ignore_ascii_case(HEADER_KEY) {
        return None;
    }
    let value = value.trim().to_ascii_lowercase();
    Some(match value.as_str() {
        "allow" | "allowlist" => Ok(Kind::Allow),
        "threat" => Ok(Kind::Threat),
        _ => Err(value),
    })
}

/// True when a name reads like an allowlist's to a person, whatever its
/// prefix (`allow`, `Whitelist-2024`, `liste_blanche`, `trusted_hosts`).
pub fn looks_like_allowlist(label: &str) -> bool {
    let folded: String = label
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ALLOW_WORDS.iter().any(|word| folded.contains(word))
}

/// Decides the kind of the file `label` holding `text`, given the kind its
/// provider states (if any). `Ok` with the kind and maybe a warning to
/// log; `Err` with the warning when the file must be left out.
pub fn decide(
    label: &str,
    text: &str,
    stated: Option<Kind>,
) -> Result<(Kind, Option<KindWarning>), KindWarning> {
    let warning = |left_out, message: String| KindWarning {
        label: label.to_owned(),
        left_out,
        message,
    };
    let header = header(text);
    if let Some(stated) = stated {
        let note = match header {
            Some(Ok(said)) if said != stated => Some(warning(
                false,
                format!(
                    "liste « {label} » : l'en-tête dit {}, l'observatoire dit {} ; \
                     l'observatoire fait foi",
                    said.label_fr(),
                    stated.label_fr()
                ),
            )),
            _ => None,
        };
        return Ok((stated, note));
    }
    let by_name = if label.starts_with(ALLOWLIST_PREFIX) {
        Kind::Allow
    } else {
        Kind::Threat
    };
    match header {
        Some(Ok(said)) if said != by_name && label.starts_with(ALLOWLIST_PREFIX) => Ok((
            said,
            Some(warning(
                false,
                format!(
                    "liste « {label} » : son nom commence par « {ALLOWLIST_PREFIX} » mais son \
                     en-tête dit {} ; l'en-tête fait foi",
                    said.label_fr()
                ),
            )),
        )),
        Some(Ok(said)) => Ok((said, None)),
        Some(Err(value)) => Err(warning(
            true,
            format!(
                "ATTENTION : liste « {label} » ignorée : l'en-tête « # {HEADER_KEY}: {value} » \
                 ne dit ni « allow » (liste blanche) ni « threat » (liste de menaces)"
            ),
        )),
        None if by_name == Kind::Threat && looks_like_allowlist(label) => Err(warning(
            true,
            format!(
                "ATTENTION : liste « {label} » ignorée : son nom ressemble à celui d'une liste \
                 blanche, mais elle n'en est pas une (seuls les fichiers « {ALLOWLIST_PREFIX}* » \
                 en sont sans en-tête). Chargée comme liste de menaces, elle signalerait comme \
                 attaques les adresses qu'elle devait protéger. Écrire en première ligne \
                 « # {HEADER_KEY}: allow » pour une liste blanche, ou « # {HEADER_KEY}: threat » \
                 pour une liste de menaces"
            ),
        )),
        None => Ok((by_name, None)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test: a panic is the failure report

    use super::*;
    use crate::Intel;

    fn check(label: &str, text: &str, stated: Option<Kind>, expected: Option<Kind>, warns: bool) {
        let decided = decide(label, text, stated);
        match (&decided, expected) {
            (Ok((kind, warning)), Some(expected)) => {
                assert_eq!(*kind, expected, "{label}");
                assert_eq!(warning.is_some(), warns, "{label}: {warning:?}");
            }
            (Err(warning), None) => assert!(warning.left_out && warns, "{label}"),
            _ => panic!("{label}: {decided:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn issue16_a_list_named_like_an_allowlist_needs_a_header() {
        let site = "mairie.example.fr\n203.0.113.10\n";
        for label in [
            "allow",
            "whitelist",
            "Liste_Blanche",
            "trusted_hosts",
            "allowed",
        ] {
            check(label, site, None, None, true);
            let allow = format!("# vigie-list: allow\n{site}");
            check(label, &allow, None, Some(Kind::Allow), false);
            let threat = format!("\n# Vigie-List : THREAT\n{site}");
            check(label, &threat, None, Some(Kind::Threat), false);
        }
        let message = decide("allow", site, None).unwrap_err().message;
        assert!(message.contains("« allow » ignorée"), "{message}");
        assert!(message.contains("# vigie-list: allow"), "{message}");
    }

    #[test]
    fn existing_files_keep_their_kind() {
        check("allowlist", "1.2.3.4\n", None, Some(Kind::Allow), false);
        check(
            "allowlist_42218",
            "1.2.3.4\n",
            None,
            Some(Kind::Allow),
            false,
        );
        check("botnet_c2", "1.2.3.4\n", None, Some(Kind::Threat), false);
        check(
            "firehol_level1",
            "# FireHOL\n1.2.3.4\n",
            None,
            Some(Kind::Threat),
            false,
        );
    }

    #[test]
    fn a_header_or_the_provider_decides() {
        let threat = "# vigie-list: threat\n1.2.3.4\n";
        check("allowlist_x", threat, None, Some(Kind::Threat), true);
        check(
            "botnet",
            "# vigie-list: allow\n",
            None,
            Some(Kind::Allow),
            false,
        );
        check("allow", "# vigie-list: maybe\n", None, None, true);
        // The observatory's manifest says what a cached list is.
        check(
            "allow",
            "1.2.3.4\n",
            Some(Kind::Threat),
            Some(Kind::Threat),
            false,
        );
        check("allow", threat, Some(Kind::Allow), Some(Kind::Allow), true);
        // Only the first non-blank line is a header.
        assert_eq!(header("1.2.3.4\n# vigie-list: allow\n"), None);
        assert_eq!(header("# other: allow\n"), None);
        assert_eq!(
            header("\u{feff}# vigie-list: allowlist"),
            Some(Ok(Kind::Allow))
        );
    }

    #[test]
    fn names_that_read_as_allowlists() {
        for yes in [
            "allow",
            "ALLOWED-hosts",
            "whitelist",
            "liste-blanche",
            "safelist",
            "exceptions",
        ] {
            assert!(looks_like_allowlist(yes), "{yes}");
        }
        for no in [
            "botnet_c2",
            "tor_exit",
            "firehol_level1",
            "spamhaus_drop",
            "known_attacker",
        ] {
            assert!(!looks_like_allowlist(no), "{no}");
        }
    }

    /// Issue 16: `allow.txt` used to become a threat list labelled "allow",
    /// and the territory's own site a critical outbound incident.
    #[test]
    fn issue16_a_file_named_allow_is_no_threat_list() {
        let dir = tempfile::tempdir().unwrap();
        let site = "mairie.example.fr\n203.0.113.10\n";
        std::fs::write(dir.path().join("allow.txt"), site).unwrap();
        std::fs::write(dir.path().join("botnet_c2.txt"), "198.51.100.7\n").unwrap();
        let intel = Intel::load_dir(dir.path()).unwrap();
        assert_eq!(intel.lookup_domain(b"mairie.example.fr"), None);
        assert_eq!(intel.lookup_ip(addr("203.0.113.10")), None);
        assert!(intel.lookup_ip(addr("198.51.100.7")).is_some());
        let warnings = intel.kind_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].left_out && warnings[0].label == "allow");
        assert!(warnings[0].message.contains("ressemble"), "{}", warnings[0]);

        // With its header it is the allowlist it was meant to be: even a
        // list naming the site does not report it.
        std::fs::write(
            dir.path().join("allow.txt"),
            format!("# vigie-list: allow\n{site}"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("botnet_c2.txt"),
            "example.fr\n203.0.113.0/24\n",
        )
        .unwrap();
        let intel = Intel::load_dir(dir.path()).unwrap();
        assert!(intel.kind_warnings().is_empty());
        assert_eq!(intel.lookup_domain(b"mairie.example.fr"), None);
        assert_eq!(intel.lookup_ip(addr("203.0.113.10")), None);
        assert!(intel.lookup_ip(addr("203.0.113.11")).is_some());
        assert!(intel.is_allowlisted(addr("203.0.113.10")));

        // A provider that states the kind is believed over the name.
        let intel = Intel::load_dir_as(dir.path(), |label| {
            (label == "allow").then_some(Kind::Threat)
        })
        .unwrap();
        assert!(intel.lookup_domain(b"mairie.example.fr").is_some());
    }

    fn addr(text: &str) -> std::net::IpAddr {
        text.parse().unwrap()
    }
}
