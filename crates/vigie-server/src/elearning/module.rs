//! The modules as data (`data/elearning/*.toml`, format in that
//! directory's README): built into the binary, read and checked whole once
//! (`parse`, with French errors that name the file, the line and the
//! field). A module is a short page of content and a quiz;
//! [`Module::mark`] scores a set of answers.
//!
//! What it must never do: panic on a file's bytes (the fuzz harness feeds
//! it any), or accept a quiz whose right answer is not one of its choices.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The built-in modules, in the order the list shows them.
const FILES: [(&str, &str); 6] = [
    (
        "mots-de-passe.toml",
        include_str!("../../data/elearning/mots-de-passe.toml"),
    ),
    (
        "hameconnage.toml",
        include_str!("../../data/elearning/hameconnage.toml"),
    ),
    (
        "mises-a-jour.toml",
        include_str!("../../data/elearning/mises-a-jour.toml"),
    ),
    (
        "sauvegardes.toml",
        include_str!("../../data/elearning/sauvegardes.toml"),
    ),
    (
        "mobilite.toml",
        include_str!("../../data/elearning/mobilite.toml"),
    ),
    (
        "incident.toml",
        include_str!("../../data/elearning/incident.toml"),
    ),
];

/// A quiz has this many questions: enough to cover the page, few enough
/// to answer in two minutes.
pub const QUESTIONS: std::ops::RangeInclusive<usize> = 4..=6;
/// Choices per question.
pub const CHOICES: std::ops::RangeInclusive<usize> = 2..=5;
/// The announced reading time, in minutes.
pub(super) const MINUTES: std::ops::RangeInclusive<i64> = 1..=30;
/// The longest text of one field (a paragraph, an explanation).
pub(super) const MAX_TEXT_CHARS: usize = 2_000;
/// The longest identifier: it appears in links.
pub(super) const MAX_ID_CHARS: usize = 40;

/// Every module, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalogue {
    pub modules: Vec<Module>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// The file's name without `.toml`: `[a-z0-9-]`, in links.
    pub id: String,
    /// Bumped when a question or its right answer changes; each
    /// completion keeps the version it was answered in.
    pub version: String,
    pub title: String,
    pub minutes: u32,
    /// One sentence for the list of modules.
    pub summary: String,
    pub sections: Vec<Section>,
    pub quiz: Vec<Question>,
    /// Where the advice comes from, shown under the content.
    pub sources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub list: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub text: String,
    pub choices: Vec<String>,
    /// The right choice, from 0.
    pub answer: usize,
    /// Shown after answering, whatever the answer.
    pub explanation: String,
}

/// One question as marked: what was chosen, and whether it was right.
#[derive(Clone, Debug, PartialEq)]
pub struct Marked {
    pub chosen: usize,
    pub right: bool,
}

impl Module {
    /// Marks `answers` (question index → choice index, both from 0): one
    /// [`Marked`] per question, or the questions left unanswered or
    /// answered with a choice that does not exist (from 1, as the page
    /// numbers them).
    pub fn mark(&self, answers: &BTreeMap<usize, usize>) -> Result<Vec<Marked>, Vec<usize>> {
        let mut marked = Vec::with_capacity(self.quiz.len());
        let mut missing = Vec::new();
        for (index, question) in self.quiz.iter().enumerate() {
            match answers.get(&index) {
                Some(&chosen) if chosen < question.choices.len() => marked.push(Marked {
                    chosen,
                    right: chosen == question.answer,
                }),
                _ => missing.push(index + 1),
            }
        }
        if missing.is_empty() {
            Ok(marked)
        } else {
            Err(missing)
        }
    }
}

impl Catalogue {
    /// Files given as (name, content), in the order the list shows them;
    /// module ids are unique.
    pub fn parse(files: &[(&str, &str)]) -> Result<Catalogue, String> {
        let mut ids = BTreeSet::new();
        let mut modules = Vec::with_capacity(files.len());
        for (name, text) in files {
            let module = Module::parse(name, text)?;
            if !ids.insert(module.id.clone()) {
                return Err(format!(
                    "{name} : le module « {} » existe deux fois",
                    module.id
                ));
            }
            modules.push(module);
        }
        Ok(Catalogue { modules })
    }

    pub fn get(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|module| module.id == id)
    }
}

/// The built-in modules, read once. The error names the file, the line
/// and the field; `vigie serve` refuses to start on it, and a unit test
/// keeps the shipped files valid.
pub fn catalogue() -> Result<&'static Catalogue, &'static str> {
    static CATALOGUE: OnceLock<Result<Catalogue, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| Catalogue::parse(&FILES))
        .as_ref()
        .map_err(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_modules_are_valid() {
        let catalogue = catalogue().unwrap();
        let ids: Vec<&str> = catalogue.modules.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "mots-de-passe",
                "hameconnage",
                "mises-a-jour",
                "sauvegardes",
                "mobilite",
                "incident"
            ]
        );
        for module in &catalogue.modules {
            assert!(QUESTIONS.contains(&module.quiz.len()), "{}", module.id);
            // Not always the same place for the right answer.
            let places: BTreeSet<usize> = module.quiz.iter().map(|q| q.answer).collect();
            assert!(
                places.len() > 1,
                "{}: the right answer is always at one place",
                module.id
            );
        }
    }
}
