//! The scenarios known to the server: the built-in ones (files of
//! `data/scenarios/`, compiled in), then the territory's folder, whose
//! scenarios replace a built-in one of the same id or add to them; each
//! checked whole, with errors naming the file, the line and the field.
//!
//! What it must not do: accept a file it has not checked, read a file
//! beyond its size bound, or keep half a library (one bad scenario stops
//! the start, with its reason).

use std::path::Path;

use super::error::{ScenarioError, line_of};
use super::fields::{ScenarioFile, check_fields, french, is_id, key_line};
use super::template::{Placeholder, Template};
use super::{
    HTML_NAMES, LANDING_NAMES, MAX_LANDING_BYTES, MAX_MAIL_BYTES, MAX_TOML_BYTES, SUBJECT_NAMES,
    Scenario, Sources, TEXT_NAMES, html,
};

/// Scenarios one library may hold, built-in ones included.
pub const MAX_SCENARIOS: usize = 64;

/// A file's name, its bound, and how a scenario's sources hold it.
const FILES: [(&str, usize); 4] = [
    ("scenario.toml", MAX_TOML_BYTES),
    ("mail.html", MAX_MAIL_BYTES),
    ("mail.txt", MAX_MAIL_BYTES),
    ("landing.html", MAX_LANDING_BYTES),
];

macro_rules! builtin {
    ($($id:literal),* $(,)?) => {
        [$((
            $id,
            super::Sources {
                toml: include_str!(concat!("../../../data/scenarios/", $id, "/scenario.toml")),
                html: include_str!(concat!("../../../data/scenarios/", $id, "/mail.html")),
                text: include_str!(concat!("../../../data/scenarios/", $id, "/mail.txt")),
                landing: include_str!(concat!("../../../data/scenarios/", $id, "/landing.html")),
            },
        )),*]
    };
}

/// The built-in scenarios (`data/scenarios/<id>/`).
pub(super) const BUILTIN: [(&str, Sources<'static>); 6] = builtin![
    "messagerie-expiration",
    "colis-douane",
    "facture-impayee",
    "remboursement-impots",
    "document-partage",
    "circulaire-prefecture",
];

/// Every scenario a campaign may use, sorted by title.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Library {
    scenarios: Vec<Scenario>,
}

impl Library {
    /// The built-in scenarios, checked.
    pub fn builtin() -> Result<Library, ScenarioError> {
        let mut library = Library::default();
        for (id, sources) in &BUILTIN {
            let scenario = Scenario::parse(id, &format!("data/scenarios/{id}"), sources)?;
            library.put(scenario);
        }
        library.sort();
        Ok(library)
    }

    /// The built-in scenarios, then each folder of `dir` (a folder named
    /// after a built-in scenario replaces it). Files and folders starting
    /// with `.` are skipped; any other folder must be a whole scenario.
    pub fn load(dir: Option<&Path>) -> Result<Library, ScenarioError> {
        let mut library = Library::builtin()?;
        let Some(dir) = dir else {
            return Ok(library);
        };
        let shown = dir.display().to_string();
        let mut folders: Vec<_> = std::fs::read_dir(dir)
            .map_err(|_| ScenarioError::NotADirectory(shown.clone()))?
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .collect();
        folders.sort();
        for id in folders {
            let folder = dir.join(&id);
            let scenario = read(&id, &folder)?;
            library.put(scenario);
            if library.scenarios.len() > MAX_SCENARIOS {
                return Err(ScenarioError::TooMany {
                    dir: shown,
                    limit: MAX_SCENARIOS,
                });
            }
        }
        library.sort();
        Ok(library)
    }

    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|scenario| scenario.id == id)
    }

    /// Sorted by title.
    pub fn all(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios.iter()
    }

    pub fn len(&self) -> usize {
        self.scenarios.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }

    /// Adds `scenario`, or replaces the one with its id.
    fn put(&mut self, scenario: Scenario) {
        match self.scenarios.iter_mut().find(|s| s.id == scenario.id) {
            Some(known) => *known = scenario,
            None => self.scenarios.push(scenario),
        }
    }

    fn sort(&mut self) {
        self.scenarios
            .sort_by_cached_key(|scenario| (collation_key(&scenario.title), scenario.id.clone()));
    }
}

/// Reads the four files of the territory's `folder`, each within its
/// bound, and checks them.
fn read(id: &str, folder: &Path) -> Result<Scenario, ScenarioError> {
    let shown = folder.display().to_string();
    if !is_id(id) {
        return Err(ScenarioError::Id {
            dir: shown,
            id: id.to_owned(),
        });
    }
    // Each read to the end, so that the first file in order is the one
    // an error names.
    let [toml, html, text, landing] =
        FILES.map(|(name, limit)| read_file(folder, &shown, name, limit));
    Scenario::parse(
        id,
        &shown,
        &Sources {
            toml: &toml?,
            html: &html?,
            text: &text?,
            landing: &landing?,
        },
    )
}

/// One file of `folder` (`shown` in errors), within `limit` bytes.
fn read_file(
    folder: &Path,
    shown: &str,
    name: &'static str,
    limit: usize,
) -> Result<String, ScenarioError> {
    let path = folder.join(name);
    let file = path.display().to_string();
    let Ok(metadata) = std::fs::metadata(&path) else {
        return Err(ScenarioError::Missing {
            dir: shown.to_owned(),
            file: name,
        });
    };
    if metadata.len() > limit as u64 {
        return Err(ScenarioError::TooLarge { file, limit });
    }
    std::fs::read_to_string(&path).map_err(|e| ScenarioError::Read {
        file,
        cause: e.to_string(),
    })
}

/// [`Scenario::parse`].
pub(super) fn parse(id: &str, dir: &str, sources: &Sources) -> Result<Scenario, ScenarioError> {
    check_bounds(id, dir, sources)?;
    let toml_file = format!("{dir}/scenario.toml");
    let file: ScenarioFile = toml::from_str(sources.toml).map_err(|e| {
        let line = e.span().map(|span| line_of(sources.toml, span.start));
        ScenarioError::content(&toml_file, line, french(&e))
    })?;
    check_fields(&toml_file, sources.toml, &file)?;
    let html_file = format!("{dir}/mail.html");
    let text_file = format!("{dir}/mail.txt");
    let landing_file = format!("{dir}/landing.html");
    let subject = subject(&toml_file, sources.toml, &file.subject)?;
    let html = Template::parse(&html_file, sources.html, HTML_NAMES, true)?;
    let text = Template::parse(&text_file, sources.text, TEXT_NAMES, true)?;
    let landing = Template::parse(&landing_file, sources.landing, LANDING_NAMES, false)?;
    html::check_mail(&html_file, sources.html)?;
    html::check_landing(&landing_file, sources.landing)?;
    for (template, file, name) in [
        (&html, &html_file, Placeholder::Link),
        (&html, &html_file, Placeholder::Image),
        (&text, &text_file, Placeholder::Link),
        (&landing, &landing_file, Placeholder::Action),
    ] {
        require(template, file, name)?;
    }
    check_markers(
        &file,
        sources.toml,
        [
            (&subject, &toml_file),
            (&html, &html_file),
            (&text, &text_file),
        ],
    )?;
    Ok(Scenario {
        id: id.to_owned(),
        title: file.title,
        version: file.version,
        theme: file.theme,
        difficulty: file.difficulty,
        sender_name: file.sender_name,
        sender_local_part: file.sender_local_part,
        clues: file.clues,
        subject,
        html,
        text,
        landing,
    })
}

/// The id's syntax and each file's size.
fn check_bounds(id: &str, dir: &str, sources: &Sources) -> Result<(), ScenarioError> {
    if !is_id(id) {
        return Err(ScenarioError::Id {
            dir: dir.to_owned(),
            id: id.to_owned(),
        });
    }
    let texts = [sources.toml, sources.html, sources.text, sources.landing];
    match FILES
        .into_iter()
        .zip(texts)
        .find(|((_, limit), text)| text.len() > *limit)
    {
        Some(((name, limit), _)) => Err(ScenarioError::TooLarge {
            file: format!("{dir}/{name}"),
            limit,
        }),
        None => Ok(()),
    }
}

/// The subject's template; its errors are on the line of its key in
/// `scenario.toml` (`file`, whose text is `toml`).
fn subject(file: &str, toml: &str, subject: &str) -> Result<Template, ScenarioError> {
    Template::parse(file, subject, SUBJECT_NAMES, true).map_err(|e| match e {
        ScenarioError::Content { message, .. } => {
            ScenarioError::field(file, key_line(toml, "subject", None), "subject", message)
        }
        other => other,
    })
}

/// `name` appears in `template` (of `file`) at least once.
fn require(template: &Template, file: &str, name: Placeholder) -> Result<(), ScenarioError> {
    if template.uses(name) {
        return Ok(());
    }
    Err(ScenarioError::content(
        file,
        None,
        format!(
            "« {{{{{}}}}} » manquant : il y faut au moins une fois",
            name.word()
        ),
    ))
}

/// Every clue is shown somewhere (in the subject, in mail.html, or on the
/// sender); every marker names a clue. `marked` is the subject, mail.html
/// and mail.txt, with their file names.
fn check_markers(
    file: &ScenarioFile,
    toml: &str,
    marked: [(&Template, &String); 3],
) -> Result<(), ScenarioError> {
    let known = |id: u32| file.clues.iter().any(|clue| clue.id == id);
    for (index, (template, name)) in marked.into_iter().enumerate() {
        if let Some((id, line)) = template.clues().find(|(id, _)| !known(*id)) {
            // The subject's marks are on the line of its key.
            let line = if index == 0 {
                key_line(toml, "subject", None)
            } else {
                Some(line)
            };
            return Err(ScenarioError::content(
                name,
                line,
                format!("« [[indice {id}]] » ne correspond à aucun indice de scenario.toml"),
            ));
        }
    }
    let [(subject, _), (html, html_file), _] = marked;
    for (index, clue) in file.clues.iter().enumerate() {
        let shown = clue.sender
            || subject.clues().any(|(id, _)| id == clue.id)
            || html.clues().any(|(id, _)| id == clue.id);
        if !shown {
            return Err(ScenarioError::content(
                html_file,
                None,
                format!(
                    "l'indice {} (scenario.toml, ligne {}) n'est marqué nulle part : ajoutez « [[indice {}]]…[[/indice]] » autour des mots qui le montrent (ou « sender = true » si c'est l'expéditeur)",
                    clue.id,
                    key_line(toml, "id", Some(index)).unwrap_or(0),
                    clue.id
                ),
            ));
        }
    }
    Ok(())
}

/// Titles sorted as a French reader expects: accents do not send « État »
/// after « Zone ».
fn collation_key(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'œ' => 'o',
            other => other,
        })
        .collect()
}
