//! `scenario.toml`: its fields as written, and the checks serde cannot
//! make (ranges, lengths, the sender's address, the clues' numbering),
//! each error naming the key and the line it is on.
//!
//! What it must not do: accept an unknown key (a typo would silently drop
//! a clue's flag), or a sender that carries a domain or a line break.

use serde::Deserialize;

use super::error::ScenarioError;
use super::{Clue, MAX_CLUES, MAX_ID_CHARS, Theme};

/// Field lengths, in characters.
const MAX_TITLE_CHARS: usize = 120;
const MAX_SUBJECT_CHARS: usize = 200;
const MAX_SENDER_NAME_CHARS: usize = 64;
/// RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
const MAX_LOCAL_PART_BYTES: usize = 64;
const MAX_LABEL_CHARS: usize = 80;
const MAX_EXPLANATION_CHARS: usize = 1200;

/// `scenario.toml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
    pub title: String,
    pub version: u32,
    pub theme: Theme,
    pub difficulty: u8,
    pub sender_name: String,
    pub sender_local_part: String,
    pub subject: String,
    pub clues: Vec<Clue>,
}

/// Checks what serde leaves: `file` names `scenario.toml` in errors,
/// `toml` is its text (for the lines).
pub(super) fn check_fields(
    file: &str,
    toml: &str,
    scenario: &ScenarioFile,
) -> Result<(), ScenarioError> {
    let fault = header_fault(scenario)
        .map(|(key, why)| (key, None, why))
        .or_else(|| clue_fault(scenario).map(|(key, index, why)| (key, Some(index), why)));
    match fault {
        Some((key, clue, why)) => Err(ScenarioError::field(
            file,
            key_line(toml, key, clue),
            key,
            why,
        )),
        None => Ok(()),
    }
}

/// The first top-level field at fault, and why.
fn header_fault(scenario: &ScenarioFile) -> Option<(&'static str, String)> {
    let texts = [
        ("title", &scenario.title, Text::Line, MAX_TITLE_CHARS),
        (
            "sender_name",
            &scenario.sender_name,
            Text::Line,
            MAX_SENDER_NAME_CHARS,
        ),
        (
            "subject",
            &scenario.subject,
            Text::Subject,
            MAX_SUBJECT_CHARS,
        ),
    ];
    if let Some(fault) = texts
        .into_iter()
        .find_map(|(key, value, kind, max)| Some((key, text_fault(value, kind, max)?)))
    {
        return Some(fault);
    }
    if scenario.version == 0 {
        return Some(("version", "doit valoir au moins 1".to_owned()));
    }
    if !(1..=3).contains(&scenario.difficulty) {
        return Some(("difficulty", "doit valoir 1, 2 ou 3".to_owned()));
    }
    if scenario.sender_name.contains(['@', '<', '>', '"']) {
        return Some((
            "sender_name",
            "un nom affiché, sans « @ », « < », « > » ni guillemets : l'adresse vient de sender_local_part et de la configuration".to_owned(),
        ));
    }
    if !is_local_part(&scenario.sender_local_part) {
        return Some((
            "sender_local_part",
            format!(
                "« {} » : la partie avant « @ » seulement (minuscules, chiffres, « . », « - », « _ », {MAX_LOCAL_PART_BYTES} caractères au plus) ; le domaine vient de la configuration",
                scenario.sender_local_part
            ),
        ));
    }
    if scenario.clues.is_empty() || scenario.clues.len() > MAX_CLUES {
        return Some(("clues", format!("de 1 à {MAX_CLUES} indices [[clues]]")));
    }
    None
}

/// The first clue field at fault: its key, the clue's index, and why.
fn clue_fault(scenario: &ScenarioFile) -> Option<(&'static str, usize, String)> {
    scenario.clues.iter().enumerate().find_map(|(index, clue)| {
        if usize::try_from(clue.id).ok() != Some(index + 1) {
            return Some((
                "id",
                index,
                format!(
                    "{} au lieu de {} : les indices se numérotent 1, 2, 3… dans l'ordre du fichier",
                    clue.id,
                    index + 1
                ),
            ));
        }
        [
            ("label", &clue.label, Text::Line, MAX_LABEL_CHARS),
            (
                "explanation",
                &clue.explanation,
                Text::Paragraph,
                MAX_EXPLANATION_CHARS,
            ),
        ]
        .into_iter()
        .find_map(|(key, value, kind, max)| Some((key, index, text_fault(value, kind, max)?)))
    })
}

/// What a text field may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    /// One line, shown as it is.
    Line,
    /// One line with placeholders and clue markers (checked by its
    /// template).
    Subject,
    /// Line breaks allowed, shown as it is.
    Paragraph,
}

/// What is wrong with a text field, if anything: empty, too long, a
/// control character (but a line break in a paragraph), or a placeholder
/// or clue marker where none is rendered.
fn text_fault(value: &str, kind: Text, max: usize) -> Option<String> {
    if value.trim().is_empty() {
        return Some("est vide".to_owned());
    }
    if value.chars().count() > max {
        return Some(format!("dépasse {max} caractères"));
    }
    let control = |c: char| c.is_control() && !(kind == Text::Paragraph && c == '\n');
    if value.chars().any(control) {
        return Some("tient sur une ligne, sans caractère de contrôle".to_owned());
    }
    if kind != Text::Subject && (value.contains("{{") || value.contains("[[")) {
        return Some(
            "ne prend ni repère {{…}} ni marqueur [[…]] (seuls l'objet et les corps du message en ont)"
                .to_owned(),
        );
    }
    None
}

/// `support-messagerie`: a dot-atom local part (RFC 5322 §3.4.1), kept to
/// characters no mail system quotes or folds.
fn is_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL_PART_BYTES
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

/// Lowercase ASCII letters, digits and `-`, neither first nor last.
pub(super) fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The line where `key` is set: at the top level, or in the `clue`-th
/// `[[clues]]` table (checks made after parsing have no position).
pub(super) fn key_line(text: &str, key: &str, clue: Option<usize>) -> Option<usize> {
    let mut tables = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim() == "[[clues]]")
        .map(|(index, _)| index);
    let (from, to) = match clue {
        None => (0, tables.next()),
        Some(n) => {
            let start = tables.nth(n)?;
            (start, tables.next())
        }
    };
    text.lines()
        .enumerate()
        .skip(from)
        .take_while(|(index, _)| to.is_none_or(|end| *index < end))
        .find(|(_, line)| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(index, _)| index + 1)
}

/// The TOML parser's message in French, naming the key.
pub(super) fn french(error: &toml::de::Error) -> String {
    let message = error.message();
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned())
    };
    if let Some(key) = quoted("unknown field `") {
        return format!("champ inconnu « {key} »");
    }
    if let Some(key) = quoted("missing field `") {
        return format!("champ « {key} » manquant");
    }
    if let Some(value) = quoted("unknown variant `") {
        return format!(
            "valeur inconnue « {value} » (thèmes : messagerie, colis, facture, administration, partage, institution)"
        );
    }
    format!("fichier refusé ({})", message.trim())
}
