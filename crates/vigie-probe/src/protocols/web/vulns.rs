//! The curated table of outdated products (`data/vulns.toml`): for each
//! product, the version ranges a flaw or an end of support concerns, the
//! CVE ids and the catalogue check it raises. A version a service announces
//! is matched against it; users extend the table with their own file.
//!
//! It must not guess: a version too short to decide (a build without its
//! revision) matches nothing, and a distribution build known to carry the
//! fix (`OpenSSH_9.2p1 Debian-2+deb12u3`) is treated as fixed.

use std::sync::OnceLock;

use serde::Deserialize;
use vigie_core::probe::Finding;

use super::version::Version;
use crate::catalog;
use crate::target::Target;

/// The built-in table.
pub const BUILTIN: &str = include_str!("../../../data/vulns.toml");

#[derive(Debug, thiserror::Error)]
pub enum VulnsError {
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
}

/// What a service announced.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    /// As the family names it: `OpenSSH`, `nginx`, `Apache httpd`,
    /// `Microsoft IIS httpd`, `Microsoft Exchange`, `FortiOS`, `Citrix
    /// Gateway`, `Ivanti Connect Secure`.
    pub product: &'a str,
    pub version: &'a str,
    /// The distribution's build, as the banner gives it after the version
    /// (`Debian-2+deb12u3`, `Ubuntu-3ubuntu0.10`).
    pub build: Option<&'a str>,
    /// Where the version was read, for the evidence (`bannière SSH`,
    /// `en-tête Server`).
    pub source: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    vuln: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    check: String,
    product: String,
    #[serde(default)]
    cves: Vec<String>,
    ranges: Vec<RawRange>,
    #[serde(default)]
    fixed_builds: Vec<RawBuild>,
    /// For the reader of the file only.
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    from: Option<String>,
    below: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    version: String,
    distribution: String,
    release: String,
}

/// One line of the table, its versions parsed.
#[derive(Clone, Debug)]
pub struct Entry {
    pub check: String,
    pub product: String,
    pub cves: Vec<String>,
    ranges: Vec<(Option<Version>, Option<Version>)>,
    fixed_builds: Vec<(Version, String, Version)>,
}

impl Entry {
    /// Whether `observed` (already known to be this product) is affected.
    fn concerns(&self, version: &Version, build: Option<&str>) -> bool {
        let in_range = self.ranges.iter().any(|(from, below)| {
            from.as_ref().is_none_or(|from| version >= from)
                && below.as_ref().is_none_or(|below| version.is_below(below))
        });
        in_range && !self.is_fixed_build(version, build)
    }

    fn is_fixed_build(&self, version: &Version, build: Option<&str>) -> bool {
        let Some((distribution, release)) = build.and_then(|b| b.split_once('-')) else {
            return false;
        };
        let Ok(release) = Version::parse(release) else {
            return false;
        };
        self.fixed_builds
            .iter()
            .any(|(fixed_version, name, fixed)| {
                fixed_version == version
                    && name.eq_ignore_ascii_case(distribution)
                    && release >= *fixed
            })
    }

    /// The ranges in French, for the evidence: `de 8.5p1 à avant 9.8p1`.
    fn ranges_text(&self) -> String {
        let ranges: Vec<String> = self
            .ranges
            .iter()
            .map(|range| match range {
                (Some(from), Some(below)) => format!("de {from} à avant {below}"),
                (None, Some(below)) => format!("avant {below}"),
                (Some(from), None) => format!("à partir de {from}"),
                (None, None) => "toutes".to_owned(),
            })
            .collect();
        ranges.join(", ")
    }
}

/// The whole table.
#[derive(Clone, Debug, Default)]
pub struct VulnTable {
    entries: Vec<Entry>,
}

impl VulnTable {
    /// The built-in table; a test checks its file, so this only fails (and
    /// says so) if a release shipped a broken one.
    pub fn builtin() -> &'static VulnTable {
        static BUILT: OnceLock<VulnTable> = OnceLock::new();
        BUILT.get_or_init(|| {
            let mut table = VulnTable::default();
            if let Err(error) = table.add_file("vulns.toml", BUILTIN) {
                tracing::error!(%error, "built-in vulnerability table");
            }
            table
        })
    }

    /// Adds the `[[vuln]]` entries of one TOML file; the message of an
    /// error names the file, the entry and the field.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<usize, VulnsError> {
        let invalid = |problem: String| VulnsError::Invalid {
            file: file.to_owned(),
            problem,
        };
        let parsed: File = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let count = parsed.vuln.len();
        for (index, raw) in parsed.vuln.into_iter().enumerate() {
            let entry = Entry::from_raw(raw).map_err(|p| invalid(format!("vuln[{index}]: {p}")))?;
            self.entries.push(entry);
        }
        Ok(count)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entries `observed` falls in.
    pub fn matches(&self, observed: &Observed<'_>) -> Vec<&Entry> {
        let Ok(version) = Version::parse(observed.version) else {
            return Vec::new();
        };
        self.entries
            .iter()
            .filter(|e| e.product.eq_ignore_ascii_case(observed.product))
            .filter(|e| e.concerns(&version, observed.build))
            .collect()
    }

    /// The findings `observed` raises on `target`, each with the CVEs of
    /// its table entry.
    pub fn findings(&self, observed: &Observed<'_>, target: &Target) -> Vec<Finding> {
        self.matches(observed)
            .into_iter()
            .map(|entry| {
                let build = observed.build.map(|b| format!(" {b}")).unwrap_or_default();
                let mut evidence = format!(
                    "{} {}{build} annoncé par {} ; versions concernées : {}",
                    observed.product,
                    observed.version,
                    observed.source,
                    entry.ranges_text()
                );
                // Red Hat and its rebuilds patch without saying so in the
                // banner: the provider has to look at the package.
                if observed.build.is_none() && !entry.fixed_builds.is_empty() {
                    evidence.push_str(
                        " ; la version ne dit pas si la distribution a déjà corrigé la faille : vérifier le paquet installé",
                    );
                }
                let mut finding = catalog::finding(&entry.check, target, evidence);
                if !entry.cves.is_empty() {
                    finding.cves = entry.cves.clone();
                }
                finding
            })
            .collect()
    }
}

impl Entry {
    fn from_raw(raw: RawEntry) -> Result<Entry, String> {
        let version = |field: &str, text: &str| {
            Version::parse(text).map_err(|e| format!("{field} {text:?}: {e}"))
        };
        if raw.ranges.is_empty() {
            return Err("ranges: at least one range".to_owned());
        }
        let mut ranges = Vec::new();
        for range in raw.ranges {
            let from = range.from.map(|t| version("from", &t)).transpose()?;
            let below = range.below.map(|t| version("below", &t)).transpose()?;
            ranges.push((from, below));
        }
        let mut fixed_builds = Vec::new();
        for build in raw.fixed_builds {
            fixed_builds.push((
                version("fixed_builds.version", &build.version)?,
                build.distribution,
                version("fixed_builds.release", &build.release)?,
            ));
        }
        Ok(Entry {
            check: raw.check,
            product: raw.product,
            cves: raw.cves,
            ranges,
            fixed_builds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(product: &str, version: &str, build: Option<&str>) -> Vec<String> {
        let observed = Observed {
            product,
            version,
            build,
            source: "test",
        };
        let table = VulnTable::builtin();
        table
            .matches(&observed)
            .iter()
            .map(|e| e.check.clone())
            .collect()
    }

    #[test]
    fn the_builtin_table_loads_and_names_known_checks() {
        let mut table = VulnTable::default();
        let count = table.add_file("vulns.toml", BUILTIN).unwrap();
        assert!(count >= 10);
        for entry in table.entries() {
            assert!(
                catalog::Catalog::builtin().get(&entry.check).is_some(),
                "{} is not in the catalogue",
                entry.check
            );
        }
    }

    #[test]
    fn regresshion_follows_versions_and_distribution_fixes() {
        let regresshion = vec!["cve.openssh_regresshion".to_owned()];
        assert_eq!(checks("OpenSSH", "9.2p1", None), regresshion);
        assert_eq!(
            checks("OpenSSH", "9.2p1", Some("Debian-2+deb12u2")),
            regresshion
        );
        assert!(checks("OpenSSH", "9.2p1", Some("Debian-2+deb12u3")).is_empty());
        assert!(checks("OpenSSH", "9.2p1", Some("Debian-2+deb12u7")).is_empty());
        assert!(checks("OpenSSH", "8.9p1", Some("Ubuntu-3ubuntu0.10")).is_empty());
        assert_eq!(
            checks("OpenSSH", "8.9p1", Some("Ubuntu-3ubuntu0.6")),
            regresshion
        );
        assert!(checks("OpenSSH", "8.4p1", Some("Debian-5+deb11u3")).is_empty());
        assert!(checks("OpenSSH", "9.8p1", None).is_empty());
        assert!(checks("openssh", "4.3p2", None).contains(&regresshion[0]));
        // OpenBSD's own builds carry no "p" release: not affected, not flagged.
        assert!(checks("OpenSSH", "8.5", None).is_empty());
        // Red Hat's banner has no build: reported, with the caveat.
        let target = Target::tcp("10.66.0.2".parse().unwrap(), 22);
        let observed = Observed {
            product: "OpenSSH",
            version: "8.7",
            build: None,
            source: "la bannière SSH",
        };
        let findings = VulnTable::builtin().findings(&observed, &target);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].cves, ["CVE-2024-6387"]);
        assert!(
            findings[0].evidence.contains("vérifier le paquet"),
            "{}",
            findings[0].evidence
        );
    }

    #[test]
    fn web_servers_and_portals_match_their_ranges() {
        assert!(
            checks("Apache httpd", "2.4.49", None)
                .contains(&"cve.apache_path_traversal".to_owned())
        );
        assert!(checks("Apache httpd", "2.4.51", None).is_empty());
        assert_eq!(
            checks("Apache httpd", "2.2.34", None),
            vec!["web.eol_server"]
        );
        assert_eq!(
            checks("Microsoft IIS httpd", "8.5", None),
            vec!["web.eol_server"]
        );
        assert!(checks("Microsoft IIS httpd", "10.0", None).is_empty());
        assert!(checks("nginx", "1.22.1", None).is_empty());
        assert_eq!(checks("nginx", "1.10.3", None), vec!["web.eol_server"]);
        let exchange = checks("Microsoft Exchange", "15.1.2106.2", None);
        assert!(exchange.contains(&"cve.exchange_proxylogon".to_owned()));
        assert!(exchange.contains(&"cve.exchange_proxyshell".to_owned()));
        // A build without its revision cannot be placed: no alarm but the end of support.
        assert_eq!(
            checks("Microsoft Exchange", "15.1.2176", None),
            vec!["web.eol_server"]
        );
        assert!(checks("FortiOS", "7.2.2", None).contains(&"cve.fortios_sslvpn_heap".to_owned()));
        assert!(checks("FortiOS", "7.4.3", None).is_empty());
        assert!(
            checks("Citrix Gateway", "13.1-48.47", None).contains(&"cve.citrix_bleed".to_owned())
        );
        assert!(checks("Citrix Gateway", "13.1-49.15", None).is_empty());
        assert!(!checks("Ivanti Connect Secure", "22.3R1", None).is_empty());
        assert!(checks("Ivanti Connect Secure", "22.7R2", None).is_empty());
    }

    #[test]
    fn a_broken_user_file_is_named() {
        let mut table = VulnTable::default();
        let error = table
            .add_file(
                "mine.toml",
                "[[vuln]]\ncheck = \"x\"\nproduct = \"p\"\nranges = [{ below = \"1/2\" }]\n",
            )
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mine.toml") && error.contains("vuln[0]"),
            "{error}"
        );
        assert!(
            table
                .add_file(
                    "e.toml",
                    "[[vuln]]\ncheck = \"x\"\nproduct = \"p\"\nranges = []\n"
                )
                .is_err()
        );
    }
}
