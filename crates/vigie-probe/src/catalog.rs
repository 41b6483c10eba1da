//! The catalogue of checks: for each finding id, its CVSS 3.1 vector, its
//! French title, what it means for the commune and what to do. Data files
//! (`data/checks/*.toml`, one per protocol family), so a user can read and
//! extend them; a finding is built from its id, the target and evidence.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use vigie_core::probe::{Finding, severity_of};

use crate::target::Target;

/// The built-in catalogue files, one per protocol family.
pub const BUILTIN: &[(&str, &str)] = &[
    ("remote.toml", include_str!("../data/checks/remote.toml")),
    ("web.toml", include_str!("../data/checks/web.toml")),
    ("infra.toml", include_str!("../data/checks/infra.toml")),
];

/// One check's description, as written in a catalogue file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// `CVSS:3.1/AV:N/AC:L/...`
    pub vector: String,
    pub title: String,
    pub impact: String,
    pub recommendation: String,
    #[serde(default)]
    pub cves: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
}

/// Every known check, by id.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    checks: BTreeMap<String, (Check, f32)>,
}

impl Catalog {
    /// The built-in catalogue; its files are checked by the tests, so this
    /// only fails if a release shipped a broken file.
    pub fn builtin() -> &'static Catalog {
        static BUILT: OnceLock<Catalog> = OnceLock::new();
        BUILT.get_or_init(|| {
            let mut catalog = Catalog::default();
            for (file, text) in BUILTIN {
                if let Err(error) = catalog.add_file(file, text) {
                    eprintln!("vigie-probe: built-in catalogue: {error}");
                }
            }
            catalog
        })
    }

    /// Adds the checks of one TOML file (`["id"]` tables, quoted since ids
    /// contain dots); a later file may
    /// override an earlier one's check.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<usize, CatalogError> {
        let invalid = |problem: String| CatalogError::Invalid {
            file: file.to_owned(),
            problem,
        };
        let table: BTreeMap<String, Check> =
            toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let count = table.len();
        for (id, check) in table {
            let vector: cvss::v3::Vector = check
                .vector
                .parse()
                .map_err(|e| invalid(format!("[{id}] vector {:?}: {e}", check.vector)))?;
            // Scores are published with one decimal.
            let score = (vector.score().value() * 10.0).round() as f32 / 10.0;
            self.checks.insert(id, (check, score));
        }
        Ok(count)
    }

    pub fn get(&self, id: &str) -> Option<(&Check, f32)> {
        self.checks.get(id).map(|(check, score)| (check, *score))
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.checks.keys().map(String::as_str)
    }

    /// The finding `id` on `target`. An id missing from the catalogue is a
    /// bug of the module that asked; it still yields a finding (scored 5.0)
    /// rather than losing what was seen.
    pub fn finding(&self, id: &str, target: &Target, evidence: impl Into<String>) -> Finding {
        let (title, impact, recommendation, vector, cves, score) = match self.get(id) {
            Some((check, score)) => (
                check.title.clone(),
                check.impact.clone(),
                check.recommendation.clone(),
                check.vector.clone(),
                check.cves.clone(),
                score,
            ),
            None => (
                format!("Faiblesse {id}"),
                String::new(),
                String::new(),
                String::new(),
                Vec::new(),
                5.0,
            ),
        };
        Finding {
            id: id.to_owned(),
            host: target.addr,
            port: Some(target.port),
            transport: Some(target.transport),
            cvss: score,
            vector,
            severity: severity_of(score),
            cves,
            title,
            impact,
            recommendation,
            evidence: evidence.into(),
        }
    }
}

/// Shortcut for the built-in catalogue.
pub fn finding(id: &str, target: &Target, evidence: impl Into<String>) -> Finding {
    Catalog::builtin().finding(id, target, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_file_loads() {
        for (file, text) in BUILTIN {
            Catalog::default().add_file(file, text).unwrap();
        }
    }

    #[test]
    fn a_finding_takes_its_score_from_the_vector() {
        let mut catalog = Catalog::default();
        catalog
            .add_file(
                "t.toml",
                r#"["redis.no_auth"]
vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
title = "Redis sans mot de passe"
impact = "n'importe qui lit et modifie les données"
recommendation = "activer requirepass"
"#,
            )
            .unwrap();
        let target = Target::tcp("10.66.0.5".parse().unwrap(), 6379);
        let finding = catalog.finding("redis.no_auth", &target, "PING → PONG");
        assert_eq!(finding.cvss, 9.8);
        assert_eq!(finding.severity, vigie_core::Severity::Critical);
        assert_eq!(finding.port, Some(6379));
        let bad = catalog.add_file(
            "b.toml",
            "[x]\nvector = \"CVSS:3.1/AV:Q\"\ntitle=\"\"\nimpact=\"\"\nrecommendation=\"\"\n",
        );
        assert!(bad.unwrap_err().to_string().contains("b.toml"));
    }
}
