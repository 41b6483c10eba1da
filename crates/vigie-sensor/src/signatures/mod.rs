//! Web-exploit signatures: the data (`data/signatures.toml`, embedded as
//! the built-in set, plus an optional user file) and the matcher that finds
//! them in request fields (target URI, header values, form bodies).
//!
//! Every pattern is a literal, matched case-insensitively on the
//! [normalised](normalize) field by one Aho-Corasick automaton over the
//! patterns of all signatures, so the cost of a scan does not grow with the
//! number of signatures.
//!
//! What it must not do: keep or return any byte of the scanned field (only
//! signature ids leave it), allocate per scan once the scratch buffer has
//! grown, or panic on any field.

mod error;
mod normalize;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Deserialize;
use vigie_core::Severity;

pub use error::{SignatureError, SignatureProblem};
pub use normalize::MAX_FIELD_LEN;

/// The built-in signature file.
const BUILTIN: &str = include_str!("../../data/signatures.toml");
const BUILTIN_ORIGIN: &str = "built-in signatures (data/signatures.toml)";

/// Categories a signature may have; the report groups incidents by them.
pub const CATEGORIES: [&str; 9] = [
    "log4shell",
    "shellshock",
    "path_traversal",
    "sql_injection",
    "command_injection",
    "xss",
    "sensitive_file",
    "webshell",
    "scanner",
];

/// Shortest pattern accepted, once normalised: shorter literals (`$(`,
/// `|a`) turn up in ordinary URIs and would drown real attacks.
pub const MIN_PATTERN_LEN: usize = 3;

/// Index of a signature in its [`Signatures`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SigId(pub u16);

/// One signature, as written in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Stable name, `web.` followed by lowercase words: the incident's rule.
    pub id: String,
    /// One of [`CATEGORIES`].
    pub category: String,
    pub severity: Severity,
    /// What the attack is, in plain French, for the mayor.
    pub description: String,
    /// The literals as written; matching uses their normalised form.
    pub patterns: Vec<String>,
}

/// Placeholder returned by [`Signatures::get`] for an id from another set,
/// rather than panicking.
static UNKNOWN: Signature = Signature {
    id: String::new(),
    category: String::new(),
    severity: Severity::Low,
    description: String::new(),
    patterns: Vec::new(),
};

/// A validated set of signatures and its matcher. Immutable; `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Signatures {
    signatures: Vec<Signature>,
    /// Which signature each automaton pattern belongs to.
    owners: Vec<SigId>,
    matcher: AhoCorasick,
    origin: String,
}

/// The file's shape; unknown keys are refused so that a typo (`pattern`
/// for `patterns`) is an error rather than a silently empty signature.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFile {
    #[serde(default)]
    signature: Vec<RawSignature>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    id: String,
    category: String,
    severity: String,
    description: String,
    patterns: Vec<String>,
}

impl Signatures {
    /// The embedded `data/signatures.toml`.
    ///
    /// # Panics
    /// Only if the embedded file is invalid, which a unit test rules out
    /// for every build whose tests pass.
    pub fn builtin() -> Signatures {
        Signatures::from_toml(BUILTIN, BUILTIN_ORIGIN)
            .unwrap_or_else(|err| panic!("the built-in signature file is invalid: {err}"))
    }

    /// Parses and validates a signature file; `origin` (usually its path)
    /// names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Signatures, SignatureError> {
        let file: SignatureFile = toml::from_str(text).map_err(|err| SignatureError::Syntax {
            origin: origin.to_owned(),
            line: err.span().map_or(0, |span| line_of(text, span.start)),
            message: err.message().to_owned(),
        })?;
        let mut signatures: Vec<Signature> = Vec::with_capacity(file.signature.len());
        for (position, raw) in file.signature.into_iter().enumerate() {
            let index = position + 1;
            let invalid = |problem| SignatureError::Invalid {
                origin: origin.to_owned(),
                index,
                id: raw.id.clone(),
                problem,
            };
            if let Some(previous) = signatures.iter().position(|s| s.id == raw.id) {
                return Err(invalid(SignatureProblem::DuplicateId {
                    previous: format!("signature #{}", previous + 1),
                }));
            }
            let signature = validate(&raw).map_err(invalid)?;
            signatures.push(signature);
        }
        Signatures::assemble(signatures, origin.to_owned())
    }

    /// Adds `other` (a user's file) to this set. An id present in both is
    /// an error: a user file adds signatures, it does not silently replace
    /// built-in ones.
    pub fn merge(self, other: Signatures) -> Result<Signatures, SignatureError> {
        let mut signatures = self.signatures;
        for (position, signature) in other.signatures.into_iter().enumerate() {
            if signatures.iter().any(|s| s.id == signature.id) {
                return Err(SignatureError::Invalid {
                    origin: other.origin,
                    index: position + 1,
                    id: signature.id,
                    problem: SignatureProblem::DuplicateId {
                        previous: format!("a signature of {}", self.origin),
                    },
                });
            }
            signatures.push(signature);
        }
        Signatures::assemble(signatures, format!("{} + {}", self.origin, other.origin))
    }

    /// Scans one field (URI, header value, form body) and appends to `hits`
    /// each signature found that `hits` does not hold yet. `scratch` holds
    /// the normalised field; reuse it across calls to avoid allocating.
    pub fn scan_field(&self, field: &[u8], scratch: &mut Vec<u8>, hits: &mut Vec<SigId>) {
        if field.is_empty() {
            return;
        }
        let field = field.get(..MAX_FIELD_LEN).unwrap_or(field);
        let text = if normalize::is_canonical(field) {
            field
        } else {
            normalize::normalize(field, scratch);
            scratch.as_slice()
        };
        for found in self.matcher.find_overlapping_iter(text) {
            if let Some(&id) = self.owners.get(found.pattern().as_usize())
                && !hits.contains(&id)
            {
                hits.push(id);
            }
        }
    }

    /// The signature behind an id this set returned (an empty placeholder
    /// for an id from another set).
    pub fn get(&self, id: SigId) -> &Signature {
        self.signatures.get(usize::from(id.0)).unwrap_or(&UNKNOWN)
    }

    /// The id of the signature named `id`, if any.
    pub fn find(&self, id: &str) -> Option<SigId> {
        let index = self.signatures.iter().position(|s| s.id == id)?;
        u16::try_from(index).ok().map(SigId)
    }

    pub fn iter(&self) -> impl Iterator<Item = (SigId, &Signature)> {
        (0..=u16::MAX).map(SigId).zip(&self.signatures)
    }

    pub fn len(&self) -> usize {
        self.signatures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// Builds the matcher over the normalised patterns of all signatures.
    fn assemble(signatures: Vec<Signature>, origin: String) -> Result<Signatures, SignatureError> {
        let max = usize::from(u16::MAX) + 1;
        if signatures.len() > max {
            return Err(SignatureError::TooMany {
                origin,
                count: signatures.len(),
                max,
            });
        }
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (id, signature) in (0..=u16::MAX).map(SigId).zip(&signatures) {
            for pattern in &signature.patterns {
                let mut normalised = Vec::new();
                normalize::normalize(pattern.as_bytes(), &mut normalised);
                patterns.push(normalised);
                owners.push(id);
            }
        }
        // A full DFA: about a megabyte for the built-in set, and the
        // fastest scan; patterns are few enough for its build to stay cheap.
        let matcher = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|err| SignatureError::Matcher {
                origin: origin.clone(),
                message: err.to_string(),
            })?;
        Ok(Signatures {
            signatures,
            owners,
            matcher,
            origin,
        })
    }
}

/// Checks one signature's fields; the caller adds where it is.
fn validate(raw: &RawSignature) -> Result<Signature, SignatureProblem> {
    let id_ok = raw.id.strip_prefix("web.").is_some_and(|rest| {
        !rest.is_empty()
            && raw.id.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
    });
    if !id_ok {
        return Err(SignatureProblem::BadId);
    }
    if !CATEGORIES.contains(&raw.category.as_str()) {
        return Err(SignatureProblem::UnknownCategory(raw.category.clone()));
    }
    let severity: Severity = raw
        .severity
        .parse()
        .map_err(|_| SignatureProblem::UnknownSeverity(raw.severity.clone()))?;
    if raw.description.trim().is_empty() {
        return Err(SignatureProblem::EmptyDescription);
    }
    if raw.patterns.is_empty() {
        return Err(SignatureProblem::NoPatterns);
    }
    let mut normalised = Vec::new();
    for (position, pattern) in raw.patterns.iter().enumerate() {
        normalize::normalize(pattern.as_bytes(), &mut normalised);
        if normalised.iter().all(|&b| b == b' ') {
            return Err(SignatureProblem::EmptyPattern(position + 1));
        }
        if normalised.len() < MIN_PATTERN_LEN {
            return Err(SignatureProblem::ShortPattern(
                position + 1,
                pattern.clone(),
            ));
        }
    }
    Ok(Signature {
        id: raw.id.clone(),
        category: raw.category.clone(),
        severity,
        description: raw.description.trim().to_owned(),
        patterns: raw.patterns.clone(),
    })
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;
