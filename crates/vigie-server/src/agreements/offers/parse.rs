//! Reading one offer file: TOML into raw fields with their positions
//! (`toml::Spanned`), then every rule of the format (the data README),
//! each refusal in French naming the file, the line and the field.
//!
//! What it must never do: panic on any text (the fuzz harness feeds it
//! any), or let through an offer `dates` could not follow (a step after
//! an unknown step, a renewal with no way to end).

use std::collections::BTreeSet;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::error::{french, line_of};
use super::sections::{RawDuration, RawEligibility, RawNotice, RawProcessing, RawRenewal, RawStep};
use super::{Duration, MAX_ID_CHARS, MAX_ITEMS, MAX_TEXT_CHARS, Offer, OfferError, Renewal, Word};

impl Offer {
    /// One file, checked on its own; `name` is how errors call it, and
    /// its stem must be the offer's id.
    pub fn parse(name: &str, text: &str) -> Result<Offer, OfferError> {
        let file = File { name, text };
        let raw: RawOffer = toml::from_str(text).map_err(|e| OfferError::Syntax {
            file: name.to_owned(),
            line: e.span().map(|span| line_of(text, span.start)),
            message: french(e.message()),
        })?;
        let id = raw.id.get_ref().trim();
        if !is_id(id) {
            return Err(file.fail(
                raw.id.span(),
                "id",
                "lettres minuscules sans accent, chiffres et « _ » seulement (40 au plus)",
            ));
        }
        let stem = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(name)
            .trim_end_matches(".toml");
        if id != stem {
            return Err(file.fail(
                raw.id.span(),
                "id",
                format!("« {id} » au lieu de « {stem} », le nom du fichier"),
            ));
        }
        let deliverables = file.words(&raw.deliverables, "deliverables")?;
        if deliverables.is_empty() {
            return Err(file.fail(raw.deliverables.span(), "deliverables", "au moins un"));
        }
        let duration = file.duration(&raw.duration)?;
        let renewal = file.renewal(raw.renewal.as_ref(), duration)?;
        let notice = raw.notice.as_ref().map(|n| file.notice(n)).transpose()?;
        if let Renewal::Tacit {
            max_total_months: None,
            ..
        } = renewal
            && notice.is_none()
            && !matches!(duration, Duration::AtMost { .. })
        {
            return Err(file.fail(
                raw.renewal.as_ref().map_or(0..0, Spanned::span),
                "max_total_months",
                "une reconduction sans durée maximale demande un moyen d'en sortir : \
                 un préavis ([notice]) ou une fin par événement (« at_most »)",
            ));
        }
        Ok(Offer {
            id: id.to_owned(),
            title: file.text(&raw.title, "title")?,
            short_name: file.text(&raw.short_name, "short_name")?,
            summary: file.text(&raw.summary, "summary")?,
            source: file.text(&raw.source, "source")?,
            start: file.word(&raw.start, "start")?,
            duration,
            renewal,
            notice,
            steps: file.steps(&raw.steps, &deliverables)?,
            eligibility: raw
                .eligibility
                .as_ref()
                .map(|e| file.eligibility(e))
                .transpose()?
                .unwrap_or_default(),
            cost: file.word(&raw.cost, "cost")?,
            deliverables,
            end_actions: file.words(&raw.end_actions, "end_actions")?,
            grants: file.words(&raw.grants, "grants")?,
            processing: file.processing(&raw.processing)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffer {
    id: Spanned<String>,
    title: Spanned<String>,
    short_name: Spanned<String>,
    summary: Spanned<String>,
    source: Spanned<String>,
    start: Spanned<String>,
    cost: Spanned<String>,
    deliverables: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "empty")]
    end_actions: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "empty")]
    grants: Spanned<Vec<Spanned<String>>>,
    duration: Spanned<RawDuration>,
    renewal: Option<Spanned<RawRenewal>>,
    notice: Option<Spanned<RawNotice>>,
    eligibility: Option<Spanned<RawEligibility>>,
    #[serde(default = "empty")]
    steps: Spanned<Vec<RawStep>>,
    processing: Spanned<RawProcessing>,
}

/// The file being read, for its errors.
pub(super) struct File<'a> {
    name: &'a str,
    text: &'a str,
}

impl File<'_> {
    pub(super) fn fail(
        &self,
        span: Range<usize>,
        field: &str,
        why: impl Into<String>,
    ) -> OfferError {
        OfferError::Field {
            file: self.name.to_owned(),
            line: Some(line_of(self.text, span.start)),
            field: field.to_owned(),
            message: why.into(),
        }
    }

    /// A text field: trimmed, not blank, no control character, not longer
    /// than [`MAX_TEXT_CHARS`].
    pub(super) fn text(&self, value: &Spanned<String>, field: &str) -> Result<String, OfferError> {
        let text = value.get_ref().trim();
        let why = if text.is_empty() {
            "vide"
        } else if text.chars().count() > MAX_TEXT_CHARS {
            "plus de 500 caractères"
        } else if text.chars().any(char::is_control) {
            "un caractère de contrôle (retour à la ligne, tabulation…)"
        } else {
            return Ok(text.to_owned());
        };
        Err(self.fail(value.span(), field, why))
    }

    /// A list of texts: at most [`MAX_ITEMS`], at least `min`.
    pub(super) fn texts(
        &self,
        items: &Spanned<Vec<Spanned<String>>>,
        field: &str,
        min: usize,
    ) -> Result<Vec<String>, OfferError> {
        let count = items.get_ref().len();
        if count < min || count > MAX_ITEMS {
            return Err(self.fail(
                items.span(),
                field,
                format!("{count} éléments : de {min} à {MAX_ITEMS}"),
            ));
        }
        items
            .get_ref()
            .iter()
            .map(|item| self.text(item, field))
            .collect()
    }

    /// One word of `T`'s table.
    pub(super) fn word<T: Word>(
        &self,
        value: &Spanned<String>,
        field: &str,
    ) -> Result<T, OfferError> {
        let word = value.get_ref().trim();
        T::ALL
            .iter()
            .find(|(known, _)| *known == word)
            .map(|(_, value)| *value)
            .ok_or_else(|| {
                let known: Vec<String> = T::ALL.iter().map(|(w, _)| format!("« {w} »")).collect();
                self.fail(
                    value.span(),
                    field,
                    format!("« {word} » inconnu : {}", known.join(", ")),
                )
            })
    }

    /// A list of words, each at most once.
    pub(super) fn words<T: Word + Ord>(
        &self,
        items: &Spanned<Vec<Spanned<String>>>,
        field: &str,
    ) -> Result<Vec<T>, OfferError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for item in items.get_ref() {
            let value: T = self.word(item, field)?;
            if !seen.insert(value) {
                return Err(self.fail(item.span(), field, "présent deux fois"));
            }
            out.push(value);
        }
        Ok(out)
    }

    /// A number of months in `min..=max`.
    pub(super) fn months(
        &self,
        value: &Spanned<i64>,
        field: &str,
        min: u32,
        max: u32,
    ) -> Result<u32, OfferError> {
        u32::try_from(*value.get_ref())
            .ok()
            .filter(|months| (min..=max).contains(months))
            .ok_or_else(|| {
                self.fail(
                    value.span(),
                    field,
                    format!("{} : de {min} à {max} mois", value.get_ref()),
                )
            })
    }
}

/// An offer or step id: lowercase ASCII letters, digits and `_`, starting
/// with a letter.
pub(super) fn is_id(id: &str) -> bool {
    id.len() <= MAX_ID_CHARS
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// An absent list: empty, at the file's start.
pub(super) fn empty<T>() -> Spanned<Vec<T>> {
    Spanned::new(0..0, Vec::new())
}
