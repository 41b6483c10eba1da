//! A campaign's targets, from a CSV file ([`from_csv`]: `email,prenom,role`
//! as a spreadsheet exports it) or from pasted addresses
//! ([`from_pasted`]). Every bad line is reported with its number and what
//! to change, in French; nothing is returned until the whole input is
//! clean (issue 11).
//!
//! Pure: bytes in, targets out. It must never panic on any input, nor keep
//! more than the agreement lists: the address, and the first name and
//! role when the CSV gives them on purpose (a pasted display name is
//! dropped).

mod address;
mod spreadsheet;

use std::collections::HashMap;
use std::fmt;

use crate::fr;

pub use super::schedule::MAX_TARGETS;
pub use address::MAX_EMAIL_BYTES;
pub use spreadsheet::from_csv;

/// The largest file or pasted text: a few hundred agents' lines take a
/// few tens of kilobytes.
pub const MAX_BYTES: usize = 1 << 20;
/// The longest CSV line: an address (254 bytes at most), a first name,
/// a role and separators.
pub const MAX_LINE_BYTES: usize = 1000;
/// The longest first name, in characters.
pub const MAX_FIRST_NAME_CHARS: usize = 100;
/// Errors listed one by one; the rest are counted.
pub const MAX_ERRORS_SHOWN: usize = 50;

/// What a target is in the commune, for results by role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Role {
    #[serde(rename = "agent")]
    Agent,
    #[serde(rename = "elu")]
    Elected,
}

/// One person a campaign writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Trimmed, its domain lower-cased.
    pub email: String,
    pub first_name: Option<String>,
    pub role: Role,
}

/// One refusal; `line` counts from 1 (a CSV's header is line 1), 0 for
/// the whole input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// Why an input gave no targets: its first [`MAX_ERRORS_SHOWN`] errors in
/// line order, and how many there were.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportErrors {
    shown: Vec<LineError>,
    total: usize,
}

impl Role {
    /// As stored and in the API: `agent`, `elu`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Elected => "elu",
        }
    }

    /// `agent`, `élu`.
    pub fn label_fr(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Elected => "élu",
        }
    }

    /// `agents`, `élus`, for results by role.
    pub fn plural_fr(self) -> &'static str {
        match self {
            Role::Agent => "agents",
            Role::Elected => "élus",
        }
    }

    /// The plural as a table's row heading: `Agents`, `Élus`.
    pub fn heading_fr(self) -> &'static str {
        match self {
            Role::Agent => "Agents",
            Role::Elected => "Élus",
        }
    }

    /// A role as people write it in a spreadsheet: `agent`, `élu`, `Élue`,
    /// `ELU`... in any case, accented or not; empty is an agent.
    pub fn parse(text: &str) -> Option<Role> {
        // A decomposed é (e + U+0301), as macOS may write it, reads as e.
        let text = text.trim().to_lowercase().replace('\u{301}', "");
        match text.as_str() {
            "" | "agent" | "agente" => Some(Role::Agent),
            "élu" | "elu" | "élue" | "elue" => Some(Role::Elected),
            _ => None,
        }
    }
}

impl ImportErrors {
    /// The errors listed, in line order.
    pub fn lines(&self) -> &[LineError] {
        &self.shown
    }

    /// Every error found, listed or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// One error about the whole input.
    fn whole(message: String) -> ImportErrors {
        ImportErrors {
            shown: vec![LineError { line: 0, message }],
            total: 1,
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "ligne {} : {}", self.line, self.message)
        }
    }
}

/// One error a line: `ligne 3 : « jean.dupont@ » n'est pas une adresse
/// e-mail valide : rien après le @`, then `… et 12 autres erreurs.`.
impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.shown.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        let more = self.total.saturating_sub(self.shown.len());
        if more > 0 {
            let more = fr::count(more, "autre erreur", "autres erreurs");
            write!(f, "\n… et {more}.")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// The targets of a pasted list: addresses separated by new lines,
/// commas, semicolons or spaces, or written `Prénom Nom <adresse>`, all
/// with `role`. Display names are dropped: a pasted list gives no first
/// names.
pub fn from_pasted(text: &str, role: Role) -> Result<Vec<Target>, ImportErrors> {
    if text.len() > MAX_BYTES {
        return Err(too_big("Le texte collé", text.len()));
    }
    // No line length bound here, unlike the CSV's: a whole recipient list
    // copied from a mail client is one long line.
    let mut import = Import::default();
    for (index, line) in text.lines().enumerate() {
        for entry in address::split_pasted(line) {
            match entry {
                Ok(email) => import.add(index + 1, email, "", role),
                Err((text, reason)) => import.error(index + 1, invalid(text, reason)),
            }
        }
    }
    import.finish("Aucune adresse : collez une adresse par ligne, ou séparées par des virgules.")
}

/// Targets and errors as lines are read.
#[derive(Default)]
struct Import {
    targets: Vec<Target>,
    /// Each address (all lower-cased) and its line, to name duplicates.
    lines: HashMap<String, usize>,
    errors: Vec<LineError>,
    total_errors: usize,
}

impl Import {
    fn error(&mut self, line: usize, message: String) {
        self.total_errors += 1;
        if self.errors.len() < MAX_ERRORS_SHOWN {
            self.errors.push(LineError { line, message });
        }
    }

    /// Checks one target's fields, as typed, and keeps it or says why not.
    fn add(&mut self, line: usize, email: &str, first_name: &str, role: Role) {
        let email = email.trim();
        let email = match address::check(email) {
            Ok(email) => email,
            Err(_) if email.is_empty() => {
                return self.error(line, "adresse e-mail manquante".to_owned());
            }
            Err(reason) => return self.error(line, invalid(email, reason)),
        };
        let first_name = first_name.trim();
        let length = first_name.chars().count();
        if length > MAX_FIRST_NAME_CHARS {
            let message = format!(
                "prénom trop long ({} caractères, {MAX_FIRST_NAME_CHARS} au plus) : « {} »",
                fr::number(i64::try_from(length).unwrap_or(i64::MAX)),
                address::shown(first_name),
            );
            return self.error(line, message);
        }
        if first_name.chars().any(char::is_control) {
            let message = format!(
                "le prénom « {} » contient un caractère de contrôle : retapez-le",
                address::shown(first_name)
            );
            return self.error(line, message);
        }
        match self.lines.get(&email.to_lowercase()) {
            Some(&first) if first == line => {
                self.error(
                    line,
                    format!("l'adresse {email} figure deux fois sur cette ligne"),
                );
            }
            Some(&first) => self.error(
                line,
                format!("l'adresse {email} figure déjà ligne {first} : gardez-en une seule"),
            ),
            None => {
                self.lines.insert(email.to_lowercase(), line);
                self.targets.push(Target {
                    email,
                    first_name: Some(first_name.to_owned()).filter(|name| !name.is_empty()),
                    role,
                });
            }
        }
    }

    /// The targets if every line was clean and there are some, not too
    /// many; `empty` says what to do when there are none.
    fn finish(self, empty: &str) -> Result<Vec<Target>, ImportErrors> {
        let count = self.targets.len();
        if count > MAX_TARGETS {
            let mut errors = ImportErrors {
                shown: self.errors,
                total: self.total_errors + 1,
            };
            let message = format!(
                "{}, c'est plus que le maximum de {} par campagne : découpez la liste en \
                 plusieurs campagnes.",
                fr::count(count, "cible", "cibles"),
                fr::count(MAX_TARGETS, "cible", "cibles"),
            );
            errors.shown.insert(0, LineError { line: 0, message });
            errors.shown.truncate(MAX_ERRORS_SHOWN);
            return Err(errors);
        }
        if self.total_errors > 0 {
            return Err(ImportErrors {
                shown: self.errors,
                total: self.total_errors,
            });
        }
        if count == 0 {
            return Err(ImportErrors::whole(empty.to_owned()));
        }
        Ok(self.targets)
    }
}

/// `« jean.dupont@ » n'est pas une adresse e-mail valide : rien après le @`.
fn invalid(text: &str, reason: &str) -> String {
    format!(
        "« {} » n'est pas une adresse e-mail valide : {reason}",
        address::shown(text)
    )
}

/// An input over [`MAX_BYTES`]; `what` is its name in a sentence.
fn too_big(what: &str, bytes: usize) -> ImportErrors {
    let size = |bytes: usize| fr::size(i64::try_from(bytes).unwrap_or(i64::MAX));
    ImportErrors::whole(format!(
        "{what} fait {}, {} au plus : une liste de cibles tient en bien moins. Vérifiez \
         qu'il s'agit de la bonne liste.",
        size(bytes),
        size(MAX_BYTES),
    ))
}

#[cfg(test)]
mod tests;
