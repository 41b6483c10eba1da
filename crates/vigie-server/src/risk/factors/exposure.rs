//! Exposure: the probe's last scan (critical, high and medium findings,
//! how long a critical one has stayed open, what was fixed since the
//! scan before) and its age.
//!
//! What it must never do: score a commune never scanned, or scanned too
//! long ago, as unexposed: both are "unknown".

use super::{DAY_MS, Factor};
use crate::fr;
use crate::risk::rules::Rules;

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
