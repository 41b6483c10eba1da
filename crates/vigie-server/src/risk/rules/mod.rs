//! The territory's risk rule as data (`data/risk.toml`, or the file
//! `risk_file` names in vigie.toml): each factor's points, the weights
//! and the level thresholds. Read once at start; every refusal names the
//! file, the line and the field, in French.
//!
//! What it must never do: panic on any text (the `risk_files` fuzz target
//! feeds it any), or accept a rule the scoring cannot follow (weights all
//! zero, thresholds out of order, a window of no day).//!
//! `raw.rs` reads the file's shape (TOML, every key required, unknown
//! keys refused); `check.rs` checks each value's range and the rule as a
//! whole, and builds [`Rules`].

use std::path::Path;

mod check;
mod raw;

/// The built-in rule.
pub const BUILT_IN: &str = include_str!("../../../data/risk.toml");
/// A rule file's size bound, in bytes (the built-in one is 3 KiB).
pub const MAX_FILE_BYTES: usize = 64 * 1024;

/// The rule the scoring follows; every value checked in its range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub min_known: u32,
    pub escalate_at: u32,
    /// pressure, exposure, maturity, human.
    pub weights: [u32; 4],
    /// moderate, high, critical.
    pub levels: [u32; 3],
    pub pressure: Pressure,
    pub exposure: Exposure,
    pub maturity: Maturity,
    pub human: Human,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pressure {
    pub days: u32,
    pub inbound_full: u32,
    pub inbound_points: u32,
    pub rising_points: u32,
    pub outbound_points: u32,
    pub outbound_each: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exposure {
    pub critical_points: u32,
    pub high_points: u32,
    pub medium_points: u32,
    pub long_open_days: u32,
    pub long_open_points: u32,
    pub stale_days: u32,
    pub stale_points: u32,
    pub max_age_days: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Maturity {
    pub progress_points: u32,
    pub max_age_days: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Human {
    pub click_points: u32,
    pub submit_points: u32,
    pub no_campaign: u32,
    pub elearning_points: u32,
    pub max_age_days: u32,
}

impl Default for Rules {
    /// The values of the built-in file (a test keeps them equal), for
    /// the settings' default when even it could not be read.
    fn default() -> Self {
        Rules {
            min_known: 2,
            escalate_at: 80,
            weights: [25, 30, 25, 20],
            levels: [25, 50, 75],
            pressure: Pressure {
                days: 30,
                inbound_full: 300,
                inbound_points: 60,
                rising_points: 10,
                outbound_points: 85,
                outbound_each: 5,
            },
            exposure: Exposure {
                critical_points: 30,
                high_points: 10,
                medium_points: 2,
                long_open_days: 90,
                long_open_points: 10,
                stale_days: 180,
                stale_points: 15,
                max_age_days: 730,
            },
            maturity: Maturity {
                progress_points: 15,
                max_age_days: 1095,
            },
            human: Human {
                click_points: 2,
                submit_points: 4,
                no_campaign: 50,
                elearning_points: 20,
                max_age_days: 730,
            },
        }
    }
}

/// A rule file refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    #[error("{file} : lecture impossible ({cause})")]
    Read { file: String, cause: String },
    #[error("{file}{at} : {message}", at = at(*line))]
    Syntax {
        file: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{file}{at}, champ « {field} » : {message}", at = at(*line))]
    Field {
        file: String,
        line: Option<usize>,
        field: String,
        message: String,
    },
}

fn at(line: Option<usize>) -> String {
    line.map(|n| format!(", ligne {n}")).unwrap_or_default()
}

impl Rules {
    /// The built-in rule (checked by a unit test, so this never fails in
    /// a released build; the error is still returned, not hidden).
    pub fn built_in() -> Result<Rules, RiskError> {
        Rules::parse("data/risk.toml", BUILT_IN)
    }

    /// The file at `path`, or the built-in rule when `None`.
    pub fn load(path: Option<&Path>) -> Result<Rules, RiskError> {
        let Some(path) = path else {
            return Rules::built_in();
        };
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| RiskError::Read {
            file: name.clone(),
            cause: e.to_string(),
        })?;
        if bytes.len() > MAX_FILE_BYTES {
            return Err(RiskError::Read {
                file: name,
                cause: format!("plus de {MAX_FILE_BYTES} octets"),
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| RiskError::Read {
            file: name.clone(),
            cause: "le fichier n'est pas en UTF-8".to_owned(),
        })?;
        Rules::parse(&name, &text)
    }

    /// One rule file; `name` is how errors call it.
    pub fn parse(name: &str, text: &str) -> Result<Rules, RiskError> {
        let raw = raw::read(name, text)?;
        check::rules(name, text, &raw)
    }
}

#[cfg(test)]
mod tests;
