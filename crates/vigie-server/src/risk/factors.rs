//! The four factors of a commune's risk, each scored 0–100 from what the
//! platform knows, with the French sentence saying why, and their
//! combination into one level by the territory's rule (`rules.rs`).
//! Pure functions of their inputs: no clock, no database.
//!
//! What it must never do: score a factor without data as good. No sensor
//! report, no scan, no audit answer, no exercise and no training give
//! `score: None` ("inconnu"), and the combination leaves it out.

use chrono::NaiveDate;
use serde::Serialize;

use super::rules::Rules;
use crate::fr;

const DAY_MS: i64 = 86_400_000;
/// The fewest incidents in the window's second half for a rise to count:
/// 2 then 3 attacks is noise, not a trend.
const RISING_MIN: i64 = 10;

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

/// The sensor's incidents over the rule's window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attacks {
    /// Days of the window the commune's sensor reported on.
    pub reported_days: i64,
    pub inbound: i64,
    pub outbound: i64,
    /// Incidents (both directions) in the window's first and second half.
    pub earlier: i64,
    pub later: i64,
}

pub fn pressure(rules: &Rules, a: &Attacks) -> Factor {
    let r = &rules.pressure;
    let days = i64::from(r.days);
    if a.reported_days == 0 {
        return Factor::unknown(format!(
            "Aucun boîtier n'a rendu compte ces {days} derniers jours : la pression d'attaque n'est pas connue."
        ));
    }
    let full = i64::from(r.inbound_full).max(1);
    let mut points = (a.inbound.saturating_mul(i64::from(r.inbound_points)) / full)
        .min(i64::from(r.inbound_points));
    let rising = a.later >= RISING_MIN && a.later.saturating_mul(2) >= a.earlier.saturating_mul(3);
    if rising {
        points += i64::from(r.rising_points);
    }
    let mut why = Vec::new();
    if a.outbound > 0 {
        let compromise = i64::from(r.outbound_points).saturating_add(
            i64::from(r.outbound_each).saturating_mul(a.outbound.saturating_sub(1)),
        );
        points = points.max(compromise);
        why.push(format!(
            "{} en {days} jours : une machine de la mairie a contacté une adresse malveillante, signe possible de compromission",
            fr::plural(a.outbound, "alerte sortante", "alertes sortantes")
        ));
    }
    why.push(format!(
        "{} en {days} jours{}",
        fr::plural(a.inbound, "attaque entrante", "attaques entrantes"),
        if rising { ", en hausse" } else { "" }
    ));
    let mut text = why.join(" ; ");
    if a.reported_days < days {
        text.push_str(&format!(
            " (boîtier actif {} sur {days})",
            fr::plural(a.reported_days, "jour", "jours")
        ));
    }
    text.push('.');
    Factor::scored(points, capitalise(&text))
}

/// The probe's last scan, as the exposure reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub finished_ms: i64,
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    /// The title of the scan's worst finding.
    pub worst: Option<String>,
    /// Since when the oldest critical finding of the top ten has been
    /// found by every scan (Unix ms).
    pub critical_open_since_ms: Option<i64>,
    /// Findings of the previous scan's top ten this one no longer has.
    pub fixed: Option<i64>,
}

pub fn exposure(rules: &Rules, scan: Option<&Scan>, now_ms: i64) -> Factor {
    let r = &rules.exposure;
    let Some(scan) = scan else {
        return Factor::unknown(
            "Pas encore de scan de la sonde réseau : l'exposition n'est pas connue.",
        );
    };
    let age = now_ms.saturating_sub(scan.finished_ms).max(0) / DAY_MS;
    if age > i64::from(r.max_age_days) {
        return Factor::unknown(format!(
            "Le dernier scan de la sonde réseau date du {}, trop ancien pour dire l'exposition d'aujourd'hui.",
            fr::date(scan.finished_ms)
        ));
    }
    let mut points = (scan.critical.saturating_mul(i64::from(r.critical_points)))
        .saturating_add(scan.high.saturating_mul(i64::from(r.high_points)))
        .saturating_add(scan.medium.saturating_mul(i64::from(r.medium_points)))
        .min(100);
    let mut text = format!("Scan de la sonde du {} : ", fr::date(scan.finished_ms));
    if scan.critical + scan.high == 0 {
        text.push_str("aucune faille critique ni élevée");
    } else {
        text.push_str(&format!(
            "{} et {}",
            fr::plural(scan.critical, "faille critique", "failles critiques"),
            fr::plural(scan.high, "élevée", "élevées")
        ));
        if let Some(worst) = &scan.worst {
            text.push_str(&format!(", dont « {worst} »"));
        }
    }
    if let Some(since) = scan.critical_open_since_ms.filter(|_| scan.critical > 0) {
        let open = now_ms.saturating_sub(since).max(0) / DAY_MS;
        text.push_str(&format!(
            " ; critique ouverte depuis {}",
            fr::plural(open, "jour", "jours")
        ));
        if open >= i64::from(r.long_open_days) {
            points += i64::from(r.long_open_points);
        }
    }
    if let Some(fixed) = scan.fixed.filter(|n| *n > 0) {
        text.push_str(&format!(
            " ; {} depuis le scan précédent",
            fr::plural(fixed, "faille corrigée", "failles corrigées")
        ));
    }
    if age > i64::from(r.stale_days) {
        points += i64::from(r.stale_points);
        text.push_str(&format!(
            " ; ce scan a {}, à refaire",
            fr::plural(age, "jour", "jours")
        ));
    }
    text.push('.');
    Factor::scored(points, text)
}

/// The pre-audit's last round.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    pub round: i64,
    pub created_ms: i64,
    /// Its score, `None` before any counted answer.
    pub score: Option<u8>,
    /// The round before's score.
    pub before: Option<u8>,
    /// (addressed, of) the round before's top five: answered at their
    /// best in this round.
    pub addressed: Option<(usize, usize)>,
}

pub fn maturity(rules: &Rules, audit: Option<&Audit>, now_ms: i64) -> Factor {
    let r = &rules.maturity;
    let Some(audit) = audit else {
        return Factor::unknown("Pas encore de pré-diagnostic : la maturité n'est pas connue.");
    };
    if now_ms.saturating_sub(audit.created_ms) / DAY_MS > i64::from(r.max_age_days) {
        return Factor::unknown(format!(
            "Le dernier pré-diagnostic date du {}, trop ancien pour dire la maturité d'aujourd'hui.",
            fr::date(audit.created_ms)
        ));
    }
    let Some(score) = audit.score else {
        return Factor::unknown(
            "Le pré-diagnostic est commencé, mais aucune réponse n'est encore comptée.",
        );
    };
    let mut points = 100 - i64::from(score);
    let mut text = if audit.round > 1 {
        format!(
            "Pré-diagnostic, suivi n° {} : {score}/100",
            audit.round.saturating_sub(1)
        )
    } else {
        format!("Pré-diagnostic : {score}/100")
    };
    if let Some(before) = audit.before {
        let delta = i64::from(score) - i64::from(before);
        text.push_str(&match delta {
            0 => " (inchangé depuis le tour précédent)".to_owned(),
            d if d > 0 => format!(" (+{d} depuis le tour précédent)"),
            d => format!(" ({d} depuis le tour précédent)"),
        });
    }
    if let Some((done, of)) = audit.addressed.filter(|(_, of)| *of > 0) {
        let share = i64::try_from(done * 100 / of).unwrap_or(0);
        points -= i64::from(r.progress_points) * share / 100;
        text.push_str(&format!(
            " ; {} sur {of} des manques prioritaires du tour précédent traités",
            fr::number(i64::try_from(done).unwrap_or(0))
        ));
    }
    text.push('.');
    Factor::scored(points, text)
}

/// A phishing exercise's figures (people, each counted once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exercise {
    pub start: NaiveDate,
    pub sent: u64,
    pub clicked: u64,
    pub submitted: u64,
}

/// The last exercise and the e-learning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Awareness {
    pub exercise: Option<Exercise>,
    pub modules_done: usize,
    pub modules_total: usize,
}

pub fn human(rules: &Rules, a: &Awareness, today: NaiveDate) -> Factor {
    let r = &rules.human;
    let exercise = a
        .exercise
        .filter(|e| e.sent > 0 && (today - e.start).num_days() <= i64::from(r.max_age_days));
    let modules = a.modules_done.min(a.modules_total);
    if exercise.is_none() && modules == 0 {
        return Factor::unknown(
            "Ni exercice d'hameçonnage récent ni module de formation suivi : le facteur humain n'est pas connu.",
        );
    }
    let mut parts = Vec::new();
    let mut points = match exercise {
        Some(e) => {
            let rate = |part: u64| part.saturating_mul(100) / e.sent;
            let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            let mut said = format!(
                "dernier exercice d'hameçonnage (le {}) : {} sur {} ont cliqué ({})",
                fr::day_long(e.start),
                fr::number(n(e.clicked)),
                fr::plural(n(e.sent), "personne", "personnes"),
                fr::percent(e.clicked as f64 * 100.0 / e.sent as f64)
            );
            if e.submitted > 0 {
                said.push_str(&format!(
                    ", dont {} un mot de passe",
                    fr::plural(n(e.submitted), "a saisi", "ont saisi")
                ));
            }
            parts.push(said);
            n(rate(e.clicked))
                .saturating_mul(i64::from(r.click_points))
                .saturating_add(n(rate(e.submitted)).saturating_mul(i64::from(r.submit_points)))
                .min(100)
        }
        None => {
            parts.push("pas d'exercice d'hameçonnage récent".to_owned());
            i64::from(r.no_campaign)
        }
    };
    if let Some(share) = (modules * 100).checked_div(a.modules_total) {
        let share = i64::try_from(share).unwrap_or(0);
        points -= i64::from(r.elearning_points) * share / 100;
        parts.push(format!(
            "{} modules de formation sur {} suivis",
            fr::number(i64::try_from(modules).unwrap_or(0)),
            a.modules_total
        ));
    }
    Factor::scored(points, capitalise(&(parts.join(" ; ") + ".")))
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
#[path = "factors_tests.rs"]
mod tests;
