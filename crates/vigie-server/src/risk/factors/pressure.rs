//! Attack pressure: the sensor's incidents over the rule's window, their
//! trend, and outbound incidents (a town-hall machine talking to a
//! malicious host) weighing most.
//!
//! What it must never do: score a commune whose box did not report as
//! unattacked: no reported day is "unknown".

use super::{Factor, capitalise};
use crate::fr;
use crate::risk::rules::Rules;

/// The fewest incidents in the window's second half for a rise to count:
/// 2 then 3 attacks is noise, not a trend.
const RISING_MIN: i64 = 10;

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
