//! The territory list's rules, pure (no database, no clock): which
//! addresses may ever be listed, what a commune's sightings weigh, when an
//! address enters the list and for how long.
//!
//! What it must not do: list a special address (loopback, unspecified,
//! multicast, broadcast, link-local) or one of the territory's own
//! networks, whatever the evidence; or let one commune alone list an
//! address (each box already blocks what it sees itself).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;
use vigie_core::Category;

const HOUR_MS: i64 = 3600 * 1000;
/// A single commune never lists an address, whatever it saw: the list is
/// what the others know.
pub const MIN_COMMUNES: usize = 2;

/// `[defence]` in `vigie.toml`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DefenceSettings {
    /// Communes an address must have attacked within the window to be
    /// listed, a scan or sweep counting 1 and the heavier attacks
    /// `heavy_weight` (and at least two communes).
    pub communes: f64,
    /// The window, in hours.
    pub window_hours: u32,
    /// What a commune counts for when the address brute-forced it,
    /// exploited its web site or is on a threat list there.
    pub heavy_weight: f64,
    /// How long an address stays on the list the first time, in hours;
    /// each return doubles it.
    pub first_hours: u32,
    /// The longest stay, in days.
    pub max_days: u32,
    /// The territory's own networks (CIDR): never listed.
    pub home_nets: Vec<IpNet>,
    /// How long the list's history is kept, in days (a box whose cursor
    /// is older gets the whole list).
    pub history_days: u32,
}

impl Default for DefenceSettings {
    fn default() -> Self {
        DefenceSettings {
            communes: 3.0,
            window_hours: 24,
            heavy_weight: 1.5,
            first_hours: 24,
            max_days: 30,
            home_nets: Vec::new(),
            history_days: 90,
        }
    }
}

impl DefenceSettings {
    /// Refuses values that would list everything or nothing.
    pub fn check(&self) -> Result<(), String> {
        if !(1.0..=1000.0).contains(&self.communes) {
            return Err("communes : de 1 à 1000".to_owned());
        }
        if !(1.0..=10.0).contains(&self.heavy_weight) {
            return Err("heavy_weight : de 1 à 10".to_owned());
        }
        if self.window_hours == 0 || self.window_hours > 24 * 30 {
            return Err("window_hours : de 1 à 720".to_owned());
        }
        if self.first_hours == 0 || self.max_days == 0 || self.max_days > 365 {
            return Err("first_hours au moins 1, max_days de 1 à 365".to_owned());
        }
        if self.history_days == 0 || self.history_days > 3650 {
            return Err("history_days : de 1 à 3650".to_owned());
        }
        Ok(())
    }

    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_hours) * HOUR_MS
    }

    pub fn history_ms(&self) -> i64 {
        i64::from(self.history_days) * 24 * HOUR_MS
    }

    /// How long an address stays listed when it enters for the
    /// `strikes`-th time (1 the first): doubles each time, capped.
    pub fn stay_ms(&self, strikes: i64) -> i64 {
        let first = i64::from(self.first_hours) * HOUR_MS;
        let max = i64::from(self.max_days) * 24 * HOUR_MS;
        let doublings = u32::try_from(strikes.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        first.saturating_mul(1 << doublings).min(max).max(1)
    }

    /// What one commune's sighting of a category weighs; 0: not evidence
    /// (a flood may be spoofed, a DNS pattern names no attacker).
    pub fn weight(&self, category: Category) -> f64 {
        match category {
            Category::Scan | Category::Sweep => 1.0,
            Category::BruteForce | Category::WebExploit | Category::Reputation => self.heavy_weight,
            Category::Flood | Category::SuspiciousDns => 0.0,
        }
    }

    /// Whether `ip` may ever be listed: not special, not the territory's.
    pub fn may_list(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let special = match ip {
            IpAddr::V4(v4) => {
                v4.is_loopback()
                    || v4.is_unspecified()
                    || v4.is_multicast()
                    || v4.is_broadcast()
                    || v4.is_link_local()
            }
            IpAddr::V6(v6) => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unicast_link_local()
            }
        };
        !special && !self.home_nets.iter().any(|net| net.contains(&ip))
    }
}

/// One commune's incidents of one category from one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub commune: String,
    pub category: Category,
    /// Unix ms.
    pub first_seen: i64,
    pub last_seen: i64,
}

/// What the sightings of one address within the window add up to.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// Each commune counted once, for its heaviest category.
    pub points: f64,
    pub communes: usize,
}

/// Adds up the sightings seen since `since` (Unix ms).
pub fn score(settings: &DefenceSettings, sightings: &[Sighting], since: i64) -> Score {
    let mut per_commune: BTreeMap<&str, f64> = BTreeMap::new();
    for sighting in sightings.iter().filter(|s| s.last_seen >= since) {
        let weight = settings.weight(sighting.category);
        if weight <= 0.0 {
            continue;
        }
        let slot = per_commune.entry(sighting.commune.as_str()).or_insert(0.0);
        *slot = slot.max(weight);
    }
    Score {
        points: per_commune.values().sum(),
        communes: per_commune.len(),
    }
}

/// Whether the sightings list the address at `now`.
pub fn qualifies(settings: &DefenceSettings, sightings: &[Sighting], now: i64) -> bool {
    let score = score(
        settings,
        sightings,
        now.saturating_sub(settings.window_ms()),
    );
    score.communes >= MIN_COMMUNES && score.points + 1e-9 >= settings.communes
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_768_519_800_000;

    fn seen(commune: &str, category: Category, hours_ago: i64) -> Sighting {
        Sighting {
            commune: commune.to_owned(),
            category,
            first_seen: NOW - hours_ago * HOUR_MS,
            last_seen: NOW - hours_ago * HOUR_MS,
        }
    }

    fn check(sightings: &[Sighting], listed: bool) {
        let settings = DefenceSettings::default();
        assert_eq!(
            qualifies(&settings, sightings, NOW),
            listed,
            "{sightings:?}"
        );
    }

    #[test]
    fn threshold_and_weights() {
        use Category::*;
        // Three communes scanned: listed; two: not.
        check(
            &[seen("a", Scan, 1), seen("b", Scan, 1), seen("c", Sweep, 1)],
            true,
        );
        check(&[seen("a", Scan, 1), seen("b", Scan, 1)], false);
        // The same commune twice counts once.
        check(
            &[seen("a", Scan, 1), seen("a", Sweep, 1), seen("b", Scan, 1)],
            false,
        );
        // Brute force, exploits and reputation weigh more: two communes do.
        check(&[seen("a", BruteForce, 1), seen("b", BruteForce, 2)], true);
        check(&[seen("a", WebExploit, 1), seen("b", Reputation, 2)], true);
        check(&[seen("a", BruteForce, 1), seen("b", Scan, 1)], false);
        check(
            &[
                seen("a", BruteForce, 1),
                seen("a", Scan, 1),
                seen("b", Scan, 1),
            ],
            false,
        );
        // One commune alone never lists, however heavy.
        check(&[seen("a", BruteForce, 1), seen("a", WebExploit, 1)], false);
        // Floods and DNS patterns are not evidence.
        check(
            &[
                seen("a", Flood, 1),
                seen("b", Flood, 1),
                seen("c", Flood, 1),
            ],
            false,
        );
        check(
            &[
                seen("a", Scan, 1),
                seen("b", Scan, 1),
                seen("c", SuspiciousDns, 1),
            ],
            false,
        );
    }

    #[test]
    fn window() {
        use Category::*;
        check(
            &[seen("a", Scan, 23), seen("b", Scan, 1), seen("c", Scan, 0)],
            true,
        );
        check(
            &[seen("a", Scan, 25), seen("b", Scan, 1), seen("c", Scan, 0)],
            false,
        );
        let narrow = DefenceSettings {
            window_hours: 2,
            ..DefenceSettings::default()
        };
        let sightings = [seen("a", Scan, 3), seen("b", Scan, 1), seen("c", Scan, 0)];
        assert!(!qualifies(&narrow, &sightings, NOW));
    }

    #[test]
    fn stays_grow_with_repetition() {
        let settings = DefenceSettings::default();
        let hours = |strikes| settings.stay_ms(strikes) / HOUR_MS;
        assert_eq!(hours(1), 24);
        assert_eq!(hours(2), 48);
        assert_eq!(hours(3), 96);
        assert_eq!(hours(5), 384);
        assert_eq!(hours(6), 30 * 24);
        assert_eq!(hours(1000), 30 * 24);
        assert_eq!(hours(0), 24);
    }

    #[test]
    fn never_special_nor_home_addresses() {
        let settings = DefenceSettings {
            home_nets: vec![
                "192.0.2.0/24".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ],
            ..DefenceSettings::default()
        };
        let may = |ip: &str| settings.may_list(ip.parse().unwrap());
        assert!(may("203.0.113.7"));
        assert!(may("10.66.70.2"));
        assert!(!may("192.0.2.44"));
        assert!(!may("::ffff:192.0.2.44"));
        assert!(!may("2001:db8::1"));
        for special in [
            "127.0.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "169.254.0.1",
        ] {
            assert!(!may(special), "{special}");
        }
        for special in ["::1", "::", "ff02::1", "fe80::1"] {
            assert!(!may(special), "{special}");
        }
    }

    #[test]
    fn settings_are_checked() {
        assert!(DefenceSettings::default().check().is_ok());
        let zero = DefenceSettings {
            window_hours: 0,
            ..DefenceSettings::default()
        };
        assert!(zero.check().is_err());
    }
}
