//! Why a signature file was refused, naming the file and the signature at
//! fault so that whoever edits it can fix it at once.

use std::fmt;

/// A signature file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("{origin}: TOML syntax error at line {line}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("{origin}: signature #{index} ({id:?}): {problem}")]
    Invalid {
        origin: String,
        /// 1-based position of the signature in its file.
        index: usize,
        id: String,
        problem: SignatureProblem,
    },
    #[error("{origin}: {count} signatures, more than the {max} a set can hold")]
    TooMany {
        origin: String,
        count: usize,
        max: usize,
    },
    #[error("{origin}: cannot build the pattern matcher: {message}")]
    Matcher { origin: String, message: String },
}

/// What is wrong with one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureProblem {
    BadId,
    DuplicateId {
        previous: String,
    },
    UnknownCategory(String),
    UnknownSeverity(String),
    EmptyDescription,
    NoPatterns,
    /// 1-based index of a pattern that is empty once normalised.
    EmptyPattern(usize),
    /// 1-based index of a pattern too short to be specific.
    ShortPattern(usize, String),
}

impl fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureProblem::BadId => f.write_str(
                "the id must start with \"web.\" and use only lowercase letters, digits, \
                 '.', '_' and '-'",
            ),
            SignatureProblem::DuplicateId { previous } => {
                write!(f, "this id is already used by {previous}")
            }
            SignatureProblem::UnknownCategory(category) => write!(
                f,
                "unknown category {category:?} (expected one of: {})",
                super::CATEGORIES.join(", ")
            ),
            SignatureProblem::UnknownSeverity(severity) => write!(
                f,
                "unknown severity {severity:?} (expected low, medium, high or critical)"
            ),
            SignatureProblem::EmptyDescription => f.write_str("the description is empty"),
            SignatureProblem::NoPatterns => f.write_str("the pattern list is empty"),
            SignatureProblem::EmptyPattern(n) => write!(f, "pattern {n} is empty"),
            SignatureProblem::ShortPattern(n, pattern) => write!(
                f,
                "pattern {n} ({pattern:?}) is shorter than {} bytes once normalised and \
                 would match ordinary traffic",
                super::MIN_PATTERN_LEN
            ),
        }
    }
}
