//! The four factors of a commune's risk, each scored 0–100 from what the
//! platform knows, with the French sentence saying why, and their
//! combination into one level by the territory's rule (`rules.rs`).
//! Pure functions of their inputs: no clock, no database.
//!
//! What it must never do: score a factor without data as good. No sensor
//! report, no scan, no audit answer, no exercise and no training give
//! `score: None` ("inconnu"), and the combination leaves it out.
//!
//! One file per factor (`pressure.rs`, `exposure.rs`, `maturity.rs`,
//! `human.rs`), each with the inputs it reads; the levels in `level.rs`.

use serde::Serialize;

use super::rules::Rules;

mod exposure;
mod human;
mod level;
mod maturity;
mod pressure;

pub use exposure::{Scan, exposure};
pub use human::{Awareness, Exercise, human};
pub use level::Level;
pub use maturity::{Audit, maturity};
pub use pressure::{Attacks, pressure};

/// A day in Unix milliseconds, for the ages of scans and audit rounds.
const DAY_MS: i64 = 86_400_000;

/// A factor's score and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Factor {
    /// 0 (no sign of risk) to 100; `None`: unknown.
    pub score: Option<u8>,
    pub why: String,
}

impl Factor {
    fn unknown(why: impl Into<String>) -> Factor {
        Factor {
            score: None,
            why: why.into(),
        }
    }

    fn scored(points: i64, why: String) -> Factor {
        // Clamped to 0..=100 first: the cast cannot truncate.
        Factor {
            score: Some(points.clamp(0, 100) as u8),
            why,
        }
    }
}

/// The factors, in the order of the API and the rule's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pressure,
    Exposure,
    Maturity,
    Human,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Pressure, Kind::Exposure, Kind::Maturity, Kind::Human];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Pressure => "Pression d'attaque",
            Kind::Exposure => "Exposition",
            Kind::Maturity => "Maturité",
            Kind::Human => "Facteur humain",
        }
    }

    /// Its name in page addresses (`/risques?vue=…`).
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Pressure => "pression",
            Kind::Exposure => "exposition",
            Kind::Maturity => "maturite",
            Kind::Human => "humain",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Kind::Pressure => 0,
            Kind::Exposure => 1,
            Kind::Maturity => 2,
            Kind::Human => 3,
        }
    }
}

/// The risk (0–100, `None` when too little is known) and its level.
pub fn combine(rules: &Rules, factors: &[Factor; 4]) -> (Option<u8>, Level) {
    let known: Vec<(u32, u32)> = factors
        .iter()
        .zip(rules.weights)
        .filter_map(|(f, w)| f.score.map(|s| (u32::from(s), w)))
        .collect();
    let weights: u32 = known.iter().map(|(_, w)| w).sum();
    if known.len() < rules.min_known as usize || weights == 0 {
        return (None, Level::Unknown);
    }
    let sum: u32 = known.iter().map(|(s, w)| s * w).sum();
    // A mean of values in 0..=100: fits u8.
    let risk = ((sum + weights / 2) / weights).min(100) as u8;
    let mut level = Level::of(rules, Some(risk));
    if known.iter().any(|(s, _)| *s >= rules.escalate_at) && level.rank() < Level::High.rank() {
        level = Level::High;
    }
    (Some(risk), level)
}

/// The known factor that weighs most in the risk (weight × score).
pub fn main_driver(rules: &Rules, factors: &[Factor; 4]) -> Option<Kind> {
    Kind::ALL
        .into_iter()
        .filter_map(|k| {
            let score = factors.get(k.index())?.score?;
            let weight = rules.weights.get(k.index())?;
            Some((k, u32::from(score) * weight))
        })
        .filter(|(_, weighed)| *weighed > 0)
        .max_by_key(|(k, weighed)| (*weighed, std::cmp::Reverse(k.index())))
        .map(|(k, _)| k)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
