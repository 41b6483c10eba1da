//! Why a scenario was refused, in French, for the person who wrote it:
//! the file (its path when it is the territory's), the line where one is
//! known, the field or the mark at fault.

/// A scenario file refused at start (`vigie serve` stops and prints it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The territory's folder cannot be listed.
    #[error("{0} n'est pas un dossier lisible")]
    NotADirectory(String),
    /// A file that exists could not be read (permissions, not UTF-8).
    #[error("{file} : lecture impossible ({cause})")]
    Read { file: String, cause: String },
    /// One of the four files of a scenario is absent.
    #[error(
        "{dir} : fichier {file} manquant (un scénario a scenario.toml, mail.html, mail.txt et landing.html)"
    )]
    Missing { dir: String, file: &'static str },
    /// A file over its size bound.
    #[error("{file} : plus de {limit} octets, la limite de ce fichier")]
    TooLarge { file: String, limit: usize },
    /// A folder whose name is not a scenario id.
    #[error(
        "{dir} : « {id} » n'est pas un identifiant de scénario (minuscules sans accent, chiffres et « - », {max} caractères au plus)",
        max = super::MAX_ID_CHARS
    )]
    Id { dir: String, id: String },
    /// More scenarios than the library holds.
    #[error("{dir} : plus de {limit} scénarios")]
    TooMany { dir: String, limit: usize },
    /// A field of `scenario.toml` refused.
    #[error("{file}{at} : « {field} » {message}", at = at(*line))]
    Field {
        file: String,
        line: Option<usize>,
        field: String,
        message: String,
    },
    /// Anything else in a file: TOML syntax, a placeholder, a clue marker,
    /// an HTML rule.
    #[error("{file}{at} : {message}", at = at(*line))]
    Content {
        file: String,
        line: Option<usize>,
        message: String,
    },
}

impl ScenarioError {
    pub(super) fn field(
        file: &str,
        line: Option<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError::Field {
            file: file.to_owned(),
            line,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub(super) fn content(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        ScenarioError::Content {
            file: file.to_owned(),
            line,
            message: message.into(),
        }
    }
}

/// ", ligne N" when the line is known.
fn at(line: Option<usize>) -> String {
    line.map(|n| format!(", ligne {n}")).unwrap_or_default()
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}
