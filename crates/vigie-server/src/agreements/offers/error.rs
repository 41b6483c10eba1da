//! Why an offer file was refused, in French, for the person who wrote
//! it: the file (its path when it is the territory's), the line where one
//! is known, the field at fault.

/// An offer file refused at start (`vigie serve` stops and prints it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    /// The territory's folder cannot be listed.
    #[error("{0} n'est pas un dossier lisible")]
    NotADirectory(String),
    /// A file that exists could not be read (permissions, not UTF-8).
    #[error("{file} : lecture impossible ({cause})")]
    Read { file: String, cause: String },
    /// A file over [`super::MAX_FILE_BYTES`].
    #[error("{file} : plus de {limit} octets, la limite d'un fichier d'offre")]
    TooLarge { file: String, limit: usize },
    /// More offers than a catalogue holds.
    #[error("{dir} : plus de {limit} offres")]
    TooMany { dir: String, limit: usize },
    /// A field refused.
    #[error("{file}{at}, champ « {field} » : {message}", at = at(*line))]
    Field {
        file: String,
        line: Option<usize>,
        field: String,
        message: String,
    },
    /// The TOML itself: syntax, an unknown or missing field, a wrong type.
    #[error("{file}{at} : {message}", at = at(*line))]
    Syntax {
        file: String,
        line: Option<usize>,
        message: String,
    },
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

/// The TOML reader's message in French: the field it names, or what kind
/// of value was expected; a syntax error keeps the reader's words.
pub(super) fn french(message: &str) -> String {
    let message = message.trim();
    let quoted = |rest: &str| rest.split('`').next().unwrap_or_default().to_owned();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        format!("champ « {} » inconnu", quoted(rest))
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        format!("champ « {} » manquant", quoted(rest))
    } else if message.starts_with("invalid type") {
        let wanted = match message.rsplit("expected ").next().unwrap_or_default() {
            w if w.contains("integer") || w.contains("u32") || w.contains("i64") => {
                "un nombre entier"
            }
            w if w.contains("string") => "un texte entre guillemets",
            w if w.contains("sequence") => "une liste entre crochets",
            w if w.contains("struct") || w.contains("map") => "une section [ … ]",
            _ => "une autre sorte de valeur",
        };
        format!("valeur du mauvais type : il faut {wanted}")
    } else if message.starts_with("invalid value") {
        format!("valeur refusée ({message})")
    } else {
        format!("syntaxe TOML incorrecte ({message})")
    }
}
