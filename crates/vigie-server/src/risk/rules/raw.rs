//! The rule file's shape as TOML: every section and key required, an
//! unknown one refused, each value kept with its position so that a check
//! can name its line.
//!
//! What it must never do: check a value's range (that is `check.rs`), or
//! panic on any text.

use serde::Deserialize;
use toml::Spanned;

use super::RiskError;

pub(super) type Int = Spanned<i64>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    pub(super) combine: Spanned<RawCombine>,
    pub(super) weights: Spanned<RawWeights>,
    pub(super) levels: Spanned<RawLevels>,
    pub(super) pressure: RawPressure,
    pub(super) exposure: RawExposure,
    pub(super) maturity: RawMaturity,
    pub(super) human: RawHuman,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCombine {
    pub(super) min_known: Int,
    pub(super) escalate_at: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeights {
    pub(super) pressure: Int,
    pub(super) exposure: Int,
    pub(super) maturity: Int,
    pub(super) human: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLevels {
    pub(super) moderate: Int,
    pub(super) high: Int,
    pub(super) critical: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPressure {
    pub(super) days: Int,
    pub(super) inbound_full: Int,
    pub(super) inbound_points: Int,
    pub(super) rising_points: Int,
    pub(super) outbound_points: Int,
    pub(super) outbound_each: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExposure {
    pub(super) critical_points: Int,
    pub(super) high_points: Int,
    pub(super) medium_points: Int,
    pub(super) long_open_days: Int,
    pub(super) long_open_points: Int,
    pub(super) stale_days: Int,
    pub(super) stale_points: Int,
    pub(super) max_age_days: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaturity {
    pub(super) progress_points: Int,
    pub(super) max_age_days: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHuman {
    pub(super) click_points: Int,
    pub(super) submit_points: Int,
    pub(super) no_campaign: Int,
    pub(super) elearning_points: Int,
    pub(super) max_age_days: Int,
}

/// The file's text read into its shape; a refusal names the line.
pub(super) fn read(name: &str, text: &str) -> Result<RawRules, RiskError> {
    toml::from_str(text).map_err(|e| RiskError::Syntax {
        file: name.to_owned(),
        line: e.span().map(|span| line_of(text, span.start)),
        message: french(e.message()),
    })
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// The TOML reader's message in French.
fn french(message: &str) -> String {
    let message = message.trim();
    let quoted = |rest: &str| rest.split('`').next().unwrap_or_default().to_owned();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        format!("champ « {} » inconnu", quoted(rest))
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        format!("champ « {} » manquant", quoted(rest))
    } else if message.starts_with("invalid type") {
        "valeur du mauvais type : il faut un nombre entier, ou une section [ … ]".to_owned()
    } else {
        format!("syntaxe TOML incorrecte ({message})")
    }
}
