//! The territory's risk rule as data (`data/risk.toml`, or the file
//! `risk_file` names in vigie.toml): each factor's points, the weights
//! and the level thresholds. Read once at start; every refusal names the
//! file, the line and the field, in French.
//!
//! What it must never do: panic on any text (the `risk_files` fuzz target
//! feeds it any), or accept a rule the scoring cannot follow (weights all
//! zero, thresholds out of order, a window of no day).

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// The built-in rule.
pub const BUILT_IN: &str = include_str!("../../data/risk.toml");
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

type Int = Spanned<i64>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    combine: Spanned<RawCombine>,
    weights: Spanned<RawWeights>,
    levels: Spanned<RawLevels>,
    pressure: RawPressure,
    exposure: RawExposure,
    maturity: RawMaturity,
    human: RawHuman,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCombine {
    min_known: Int,
    escalate_at: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    pressure: Int,
    exposure: Int,
    maturity: Int,
    human: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevels {
    moderate: Int,
    high: Int,
    critical: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPressure {
    days: Int,
    inbound_full: Int,
    inbound_points: Int,
    rising_points: Int,
    outbound_points: Int,
    outbound_each: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExposure {
    critical_points: Int,
    high_points: Int,
    medium_points: Int,
    long_open_days: Int,
    long_open_points: Int,
    stale_days: Int,
    stale_points: Int,
    max_age_days: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaturity {
    progress_points: Int,
    max_age_days: Int,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHuman {
    click_points: Int,
    submit_points: Int,
    no_campaign: Int,
    elearning_points: Int,
    max_age_days: Int,
}

/// Ten years: the longest window or age a rule may name.
const MAX_DAYS: i64 = 3660;

/// One file being checked: its name for errors, its text for lines.
struct File<'a> {
    name: &'a str,
    text: &'a str,
}

impl File<'_> {
    fn fail(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> RiskError {
        RiskError::Field {
            file: self.name.to_owned(),
            line: Some(line_of(self.text, span.start)),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// `value` within `lo..=hi`.
    fn int(&self, field: &str, value: &Int, lo: i64, hi: i64) -> Result<u32, RiskError> {
        let n = *value.get_ref();
        if !(lo..=hi).contains(&n) {
            return Err(self.fail(
                value.span(),
                field,
                format!("{n} n'est pas entre {lo} et {hi}"),
            ));
        }
        u32::try_from(n).map_err(|_| self.fail(value.span(), field, "nombre hors limites"))
    }

    fn points(&self, field: &str, value: &Int) -> Result<u32, RiskError> {
        self.int(field, value, 0, 100)
    }

    fn days(&self, field: &str, value: &Int) -> Result<u32, RiskError> {
        self.int(field, value, 1, MAX_DAYS)
    }
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
        let raw: RawRules = toml::from_str(text).map_err(|e| RiskError::Syntax {
            file: name.to_owned(),
            line: e.span().map(|span| line_of(text, span.start)),
            message: french(e.message()),
        })?;
        let f = File { name, text };
        let combine = raw.combine.get_ref();
        let w = raw.weights.get_ref();
        let weights = [
            f.points("weights.pressure", &w.pressure)?,
            f.points("weights.exposure", &w.exposure)?,
            f.points("weights.maturity", &w.maturity)?,
            f.points("weights.human", &w.human)?,
        ];
        if weights.iter().all(|w| *w == 0) {
            return Err(f.fail(
                raw.weights.span(),
                "weights",
                "au moins un poids doit être supérieur à 0",
            ));
        }
        let l = raw.levels.get_ref();
        let levels = [
            f.int("levels.moderate", &l.moderate, 1, 100)?,
            f.int("levels.high", &l.high, 1, 100)?,
            f.int("levels.critical", &l.critical, 1, 100)?,
        ];
        if !(levels[0] < levels[1] && levels[1] < levels[2]) {
            return Err(f.fail(
                l.high.span(),
                "levels",
                "les seuils doivent croître : moderate < high < critical",
            ));
        }
        let (p, e, m, h) = (&raw.pressure, &raw.exposure, &raw.maturity, &raw.human);
        let exposure = Exposure {
            critical_points: f.points("exposure.critical_points", &e.critical_points)?,
            high_points: f.points("exposure.high_points", &e.high_points)?,
            medium_points: f.points("exposure.medium_points", &e.medium_points)?,
            long_open_days: f.days("exposure.long_open_days", &e.long_open_days)?,
            long_open_points: f.points("exposure.long_open_points", &e.long_open_points)?,
            stale_days: f.days("exposure.stale_days", &e.stale_days)?,
            stale_points: f.points("exposure.stale_points", &e.stale_points)?,
            max_age_days: f.days("exposure.max_age_days", &e.max_age_days)?,
        };
        if exposure.stale_days >= exposure.max_age_days {
            return Err(f.fail(
                e.stale_days.span(),
                "exposure.stale_days",
                "doit être inférieur à exposure.max_age_days",
            ));
        }
        Ok(Rules {
            min_known: f.int("combine.min_known", &combine.min_known, 1, 4)?,
            escalate_at: f.int("combine.escalate_at", &combine.escalate_at, 1, 101)?,
            weights,
            levels,
            pressure: Pressure {
                days: f.int("pressure.days", &p.days, 2, 366)?,
                inbound_full: f.int("pressure.inbound_full", &p.inbound_full, 1, 1_000_000)?,
                inbound_points: f.points("pressure.inbound_points", &p.inbound_points)?,
                rising_points: f.points("pressure.rising_points", &p.rising_points)?,
                outbound_points: f.points("pressure.outbound_points", &p.outbound_points)?,
                outbound_each: f.points("pressure.outbound_each", &p.outbound_each)?,
            },
            exposure,
            maturity: Maturity {
                progress_points: f.points("maturity.progress_points", &m.progress_points)?,
                max_age_days: f.days("maturity.max_age_days", &m.max_age_days)?,
            },
            human: Human {
                click_points: f.points("human.click_points", &h.click_points)?,
                submit_points: f.points("human.submit_points", &h.submit_points)?,
                no_campaign: f.points("human.no_campaign", &h.no_campaign)?,
                elearning_points: f.points("human.elearning_points", &h.elearning_points)?,
                max_age_days: f.days("human.max_age_days", &h.max_age_days)?,
            },
        })
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        match Rules::parse("risque.toml", text) {
            Ok(_) => panic!("accepted, expected « {expected} »"),
            Err(error) => assert_eq!(error.to_string(), expected),
        }
    }

    /// The built-in file with `from` replaced by `to`.
    fn edited(from: &str, to: &str) -> String {
        assert!(BUILT_IN.contains(from), "{from}");
        BUILT_IN.replacen(from, to, 1)
    }

    fn line(needle: &str) -> usize {
        BUILT_IN
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap()
            + 1
    }

    #[test]
    fn the_built_in_rule_is_valid() {
        assert_eq!(Rules::built_in().unwrap(), Rules::default());
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_field() {
        check(
            &edited("high = 50", "high = 10"),
            &format!(
                "risque.toml, ligne {}, champ « levels » : les seuils doivent croître : moderate < high < critical",
                line("high = 50")
            ),
        );
        check(
            &edited("click_points = 2", "click_points = 200"),
            &format!(
                "risque.toml, ligne {}, champ « human.click_points » : 200 n'est pas entre 0 et 100",
                line("click_points")
            ),
        );
        check(
            &edited("days = 30", "dayz = 30"),
            &format!(
                "risque.toml, ligne {} : champ « dayz » inconnu",
                line("days = 30")
            ),
        );
        check(
            &edited("human = 20", "human = \"vingt\""),
            &format!(
                "risque.toml, ligne {} : valeur du mauvais type : il faut un nombre entier, ou une section [ … ]",
                line("human = 20")
            ),
        );
        let zero = BUILT_IN
            .replacen("pressure = 25", "pressure = 0", 1)
            .replacen("exposure = 30", "exposure = 0", 1)
            .replacen("maturity = 25", "maturity = 0", 1)
            .replacen("human = 20", "human = 0", 1);
        assert!(
            Rules::parse("r.toml", &zero)
                .unwrap_err()
                .to_string()
                .contains("« weights » : au moins un poids")
        );
        assert!(
            Rules::parse("r.toml", "[combine]\nmin_known = 2\n")
                .unwrap_err()
                .to_string()
                .contains("manquant")
        );
    }

    #[test]
    fn a_territory_file_is_read_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("risque.toml");
        std::fs::write(&path, edited("pressure = 25", "pressure = 50")).unwrap();
        assert_eq!(Rules::load(Some(&path)).unwrap().weights[0], 50);
        let missing = dir.path().join("absent.toml");
        assert!(
            Rules::load(Some(&missing))
                .unwrap_err()
                .to_string()
                .starts_with(&format!("{} : lecture impossible", missing.display()))
        );
    }
}
