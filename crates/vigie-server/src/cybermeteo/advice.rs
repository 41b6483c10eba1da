//! What a commune should do, in plain French: one data file per category
//! of attack (`data/advice/<category>.toml`) with advice per weather
//! level, plus `general.toml` (a sunny day, an outbound incident, a
//! silent box),
//! `contacts.toml` (who to call) and `services.toml` (the attacked
//! service as a commune names it). Embedded in the binary, parsed once and
//! checked by a test: a missing level or an unknown contact fails the build's tests.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use vigie_core::Category;

use super::weather::Level;

/// Advice for one situation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advice {
    /// One sentence: what is happening.
    pub summary: String,
    /// What to do, in order.
    pub steps: Vec<String>,
    /// Keys of `contacts.toml`, in the order to call them.
    pub call: Vec<String>,
    /// The one thing to do at once, when it cannot wait for the steps.
    #[serde(default)]
    pub urgent: Option<String>,
}

/// Someone to call.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub how: String,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    phrase: String,
    cloud: Advice,
    rain: Advice,
    storm: Advice,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GeneralFile {
    sun: Advice,
    outbound: Advice,
    silent: Advice,
}

/// Every advice file, parsed.
#[derive(Debug)]
pub struct Book {
    categories: BTreeMap<&'static str, CategoryFile>,
    general: GeneralFile,
    contacts: BTreeMap<String, Contact>,
    services: BTreeMap<String, String>,
}

const CATEGORY_FILES: [(&str, &str); 7] = [
    ("scan", include_str!("../../data/advice/scan.toml")),
    ("sweep", include_str!("../../data/advice/sweep.toml")),
    (
        "brute_force",
        include_str!("../../data/advice/brute_force.toml"),
    ),
    (
        "web_exploit",
        include_str!("../../data/advice/web_exploit.toml"),
    ),
    ("flood", include_str!("../../data/advice/flood.toml")),
    (
        "reputation",
        include_str!("../../data/advice/reputation.toml"),
    ),
    (
        "suspicious_dns",
        include_str!("../../data/advice/suspicious_dns.toml"),
    ),
];

/// Parses one embedded file; an error names it.
fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| format!("data/advice/{name}.toml: {e}"))
}

impl Book {
    /// Parses the embedded files; an error names the file.
    fn parse() -> Result<Book, String> {
        let mut categories = BTreeMap::new();
        for (name, text) in CATEGORY_FILES {
            categories.insert(name, parse(name, text)?);
        }
        Ok(Book {
            categories,
            general: parse("general", include_str!("../../data/advice/general.toml"))?,
            contacts: parse("contacts", include_str!("../../data/advice/contacts.toml"))?,
            services: parse("services", include_str!("../../data/advice/services.toml"))?,
        })
    }

    /// The advice book, parsed on first use. The files are embedded and
    /// checked by `every_category_and_level_has_advice`, so a parse error
    /// cannot reach a running server; if it did, pages show no advice.
    pub fn get() -> Option<&'static Book> {
        static BOOK: OnceLock<Option<Book>> = OnceLock::new();
        BOOK.get_or_init(|| match Book::parse() {
            Ok(book) => Some(book),
            Err(e) => {
                tracing::error!("advice files: {e}");
                None
            }
        })
        .as_ref()
    }

    /// Advice for a day of `level` dominated by `category` (`None`: no
    /// attack to speak of, or no data).
    pub fn for_day(&self, category: Option<&str>, level: Level) -> Option<&Advice> {
        let file = category.and_then(|c| self.categories.get(c));
        match (level, file) {
            (Level::Sun, _) => Some(&self.general.sun),
            (Level::Cloud, Some(file)) => Some(&file.cloud),
            (Level::Rain, Some(file)) => Some(&file.rain),
            (Level::Storm, Some(file)) => Some(&file.storm),
            _ => None,
        }
    }

    /// What to do now when a town-hall machine contacted a malicious host.
    pub fn outbound(&self) -> &Advice {
        &self.general.outbound
    }

    /// What to do when the commune's box gives no sign of life.
    pub fn silent(&self) -> &Advice {
        &self.general.silent
    }

    /// `des essais de mots de passe`: the category as a sentence says it.
    pub fn phrase(&self, category: &str) -> Option<&str> {
        self.categories.get(category).map(|f| f.phrase.as_str())
    }

    /// `la messagerie` for `imap`; `None` for a service not listed.
    pub fn service(&self, service: &str) -> Option<&str> {
        self.services
            .get(&service.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The contacts of `advice`, `{territoire}` replaced by `territory`.
    pub fn contacts(&self, advice: &Advice, territory: &str) -> Vec<Contact> {
        advice
            .call
            .iter()
            .filter_map(|key| self.contacts.get(key))
            .map(|c| Contact {
                name: c.name.replace("{territoire}", territory),
                how: c.how.replace("{territoire}", territory),
                url: c.url.clone(),
            })
            .collect()
    }

    /// The national help, shown on every commune page.
    pub fn national_help(&self) -> Vec<Contact> {
        ["cyber17", "cybermalveillance"]
            .iter()
            .filter_map(|key| self.contacts.get(*key))
            .cloned()
            .collect()
    }
}

/// Every category the box reports has a file (checked by a test).
pub fn categories() -> impl Iterator<Item = &'static str> {
    Category::ALL.iter().map(|c| c.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_category_and_level_has_advice() {
        let book = Book::parse().unwrap();
        for category in categories() {
            assert!(book.phrase(category).is_some(), "{category}: no file");
            for level in [Level::Cloud, Level::Rain, Level::Storm] {
                let advice = book.for_day(Some(category), level).unwrap();
                assert!(!advice.summary.is_empty() && !advice.steps.is_empty());
            }
        }
        let all = book
            .categories
            .values()
            .flat_map(|f| [&f.cloud, &f.rain, &f.storm])
            .chain([
                &book.general.sun,
                &book.general.outbound,
                &book.general.silent,
            ]);
        for advice in all {
            for key in &advice.call {
                assert!(book.contacts.contains_key(key), "unknown contact {key}");
            }
            for text in advice.steps.iter().chain([&advice.summary]) {
                assert!(text.ends_with('.') || text.ends_with(')'), "{text:?}");
            }
        }
        assert!(!book.outbound().steps.is_empty() && book.outbound().urgent.is_some());
        assert_eq!(book.national_help().len(), 2);
        assert_eq!(book.service("IMAP"), Some("la messagerie"));
        let contacts = book.contacts(book.outbound(), "Département de la Loire");
        assert!(contacts.iter().any(|c| c.name.contains("Loire")));
    }
}
