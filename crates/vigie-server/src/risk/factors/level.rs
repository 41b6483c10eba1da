//! A risk level, of the whole or of one factor on the map, and its
//! words: the API's, the page's and the stylesheet's.
//!
//! What it must never do: rank "unknown" as a good level; it is below
//! every known one, never among them.

use serde::Serialize;

use crate::risk::rules::Rules;

/// A risk level (of the whole, or of one factor on the map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Moderate,
    High,
    Critical,
    Unknown,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Critical,
        Level::High,
        Level::Moderate,
        Level::Low,
        Level::Unknown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Level::Low => "Faible",
            Level::Moderate => "Modéré",
            Level::High => "Élevé",
            Level::Critical => "Critique",
            Level::Unknown => "Inconnu",
        }
    }

    /// The stylesheet's class (map paths, swatches).
    pub fn css_class(self) -> &'static str {
        match self {
            Level::Low => "rl",
            Level::Moderate => "rm",
            Level::High => "rh",
            Level::Critical => "rc",
            Level::Unknown => "ru",
        }
    }

    /// Higher is worse; unknown is below every known level.
    pub fn rank(self) -> u8 {
        match self {
            Level::Unknown => 0,
            Level::Low => 1,
            Level::Moderate => 2,
            Level::High => 3,
            Level::Critical => 4,
        }
    }

    /// `as_str` for storage: the API's words.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Moderate => "moderate",
            Level::High => "high",
            Level::Critical => "critical",
            Level::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Level {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == text)
            .unwrap_or(Level::Unknown)
    }

    /// The level of a 0–100 value by the rule's thresholds.
    pub fn of(rules: &Rules, value: Option<u8>) -> Level {
        let Some(value) = value.map(u32::from) else {
            return Level::Unknown;
        };
        let [moderate, high, critical] = rules.levels;
        if value >= critical {
            Level::Critical
        } else if value >= high {
            Level::High
        } else if value >= moderate {
            Level::Moderate
        } else {
            Level::Low
        }
    }
}
