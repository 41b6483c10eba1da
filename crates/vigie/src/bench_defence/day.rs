//! The day the defence bench replays, decided in advance and
//! deterministic: which box sees which source in which minute. No I/O
//! here, so the shape of the day is tested without a database.
//!
//! Three kinds of sources, as a territory's boxes see the internet:
//! - a few *mass scanners* (10 % of the incidents), seen every day by
//!   thousands of communes: listed, and kept listed all day;
//! - *campaigns* (10 %): a large pool of addresses drawn with a steep
//!   skew, so that a few thousand of them qualify in the day (three
//!   communes, or two that each saw a heavy attack) and most are seen
//!   once or twice; a new pool each day;
//! - *lone* sources (80 %): an address seen once, by one commune.
//!
//! Of the incidents, 3 % are outbound (a machine of the commune calling a
//! listed address) and 5 % floods or DNS patterns: the list's job reads
//! the first not at all and weighs the second at nothing.

use std::net::Ipv4Addr;

use vigie_core::Category;

use crate::bench_national::traffic::mix;

/// Minutes in the day, one run of the list's job each.
pub const MINUTES: u64 = 24 * 60;
pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = MINUTES as i64 * MINUTE_MS;
/// Most mass scanners on the internet's side.
const MASS_MAX: u64 = 200;
/// Most campaign addresses a day (two days' pools fit in 28 bits).
const CAMPAIGN_POOL_MAX: u64 = 1 << 27;
/// The share of a campaign's incidents that weigh more than a scan
/// (brute force and exploits: [`kind`]).
const HEAVY: f64 = 0.7;

/// The territory's day.
#[derive(Clone, Copy, Debug)]
pub struct Day {
    /// Boxes, one per commune.
    pub boxes: u32,
    /// Incidents stored by the territory in the day.
    pub total: u64,
}

/// Who sent an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Mass(u64),
    /// A campaign's address: its rank in the pool (0 the busiest) and the
    /// day of the pool (0 yesterday, 1 today).
    Campaign {
        rank: u64,
        day: u64,
    },
    Lone(u64),
}

/// One incident of the day, as a box would have reported it.
#[derive(Clone, Copy, Debug)]
pub struct Drawn {
    /// The box (and commune) index.
    pub sensor: u32,
    pub source: Source,
    pub category: Category,
    pub rule: &'static str,
    pub severity: &'static str,
    pub target_port: Option<i64>,
    pub outbound: bool,
    /// Milliseconds into its minute.
    pub offset_ms: i64,
    pub events: i64,
}

impl Day {
    pub fn new(boxes: u32, per_box: u32) -> Day {
        Day {
            boxes: boxes.max(1),
            total: u64::from(boxes.max(1)) * u64::from(per_box),
        }
    }

    /// Mass scanners: one per 35,000 incidents a day, 200 at most.
    pub fn mass_scanners(&self) -> u64 {
        (self.total / 35_000).clamp(1, MASS_MAX)
    }

    /// The campaign pool: two addresses for every incident of the day.
    pub fn campaign_pool(&self) -> u64 {
        (self.total * 2).clamp(10, CAMPAIGN_POOL_MAX)
    }

    /// Incidents stored in `minute` (the day's total spread evenly).
    pub fn incidents_in(&self, minute: u64) -> u64 {
        let upto = |m: u64| self.total * m / MINUTES;
        upto(minute + 1) - upto(minute)
    }

    /// The `index`th incident of `minute`.
    pub fn incident(&self, minute: u64, index: u64) -> Drawn {
        let draw = |salt: u64| mix(minute, index, salt);
        let sensor = (draw(1) % u64::from(self.boxes)) as u32;
        let class = draw(2) % 100;
        let source = match class {
            0..=9 => Source::Mass(draw(3) % self.mass_scanners()),
            10..=19 => Source::Campaign {
                rank: self.campaign_rank(draw(3)),
                day: 1,
            },
            _ => Source::Lone(draw(3)),
        };
        let (category, rule, severity, target_port) = kind(source, draw(4) % 20);
        Drawn {
            sensor,
            source,
            category,
            rule,
            severity,
            target_port,
            outbound: matches!(source, Source::Lone(_)) && draw(5) % 100 < 4,
            offset_ms: (draw(6) % MINUTE_MS as u64) as i64,
            events: 1 + (draw(7) % 40) as i64,
        }
    }

    /// A rank in the campaign pool, skewed: `pool × u²` for `u` uniform.
    fn campaign_rank(&self, seed: u64) -> u64 {
        let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
        ((self.campaign_pool() as f64 * u * u) as u64).min(self.campaign_pool() - 1)
    }

    /// About how many of a day's campaign addresses the list's rule
    /// takes: seen by three communes, or by two with heavy attacks both
    /// (each a chance of [`HEAVY`]); an address's sightings counted as
    /// Poisson draws of its expected number.
    pub fn campaign_listed(&self) -> u64 {
        let pool = self.campaign_pool() as f64;
        let incidents = self.total as f64 * 0.1;
        let listed: f64 = (0..self.campaign_pool())
            .map(|rank| {
                let rank = rank as f64;
                let share = ((rank + 1.0) / pool).sqrt() - (rank / pool).sqrt();
                let mean = incidents * share;
                let none = (-mean).exp();
                let (one, two) = (mean * none, mean * mean / 2.0 * none);
                (1.0 - none - one - two) + HEAVY * HEAVY * two
            })
            .sum();
        listed.round() as u64
    }
}

impl Source {
    /// The address: each kind in its own first octet, so they never meet.
    pub fn address(self) -> Ipv4Addr {
        match self {
            // 71.6.x.y: a scanning company's block.
            Source::Mass(n) => Ipv4Addr::from(0x4706_0000 | (n as u32 & 0xffff)),
            // A bijection of (day, rank) on 28 bits: a first octet of
            // 16, then 24 bits.
            Source::Campaign { rank, day } => {
                const FIRST: [u32; 16] = [
                    45, 46, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 92,
                ];
                let n = (rank + day * CAMPAIGN_POOL_MAX) as u32;
                let m = n.wrapping_mul(0x9e37_79b1) & 0x0fff_ffff;
                Ipv4Addr::from(FIRST[(m >> 24) as usize] << 24 | (m & 0x00ff_ffff))
            }
            Source::Lone(seed) => {
                const FIRST: [u32; 8] = [5, 37, 62, 91, 109, 176, 185, 212];
                let first = FIRST[(seed % FIRST.len() as u64) as usize];
                Ipv4Addr::from(first << 24 | ((seed >> 8) as u32 & 0x00ff_ffff))
            }
        }
    }
}

/// What a source does to a town hall: mass scanners scan, campaigns try
/// passwords and exploits, lone sources a bit of everything.
fn kind(source: Source, draw: u64) -> (Category, &'static str, &'static str, Option<i64>) {
    const SCAN: (Category, &str, &str, Option<i64>) =
        (Category::Scan, "scan.syn", "low", Some(3389));
    const SWEEP: (Category, &str, &str, Option<i64>) = (Category::Sweep, "sweep.icmp", "low", None);
    const BRUTE: (Category, &str, &str, Option<i64>) =
        (Category::BruteForce, "brute_force.ssh", "medium", Some(22));
    const EXPLOIT: (Category, &str, &str, Option<i64>) = (
        Category::WebExploit,
        "web.path_traversal",
        "high",
        Some(443),
    );
    const LISTED: (Category, &str, &str, Option<i64>) =
        (Category::Reputation, "reputation.ip", "medium", Some(443));
    const FLOOD: (Category, &str, &str, Option<i64>) =
        (Category::Flood, "flood.syn", "high", Some(80));
    const DNS: (Category, &str, &str, Option<i64>) =
        (Category::SuspiciousDns, "dns.dga", "medium", Some(53));
    match (source, draw) {
        (Source::Mass(_), 0..=15) => SCAN,
        (Source::Mass(_), 16..=17) => SWEEP,
        (Source::Mass(_), _) => EXPLOIT,
        (Source::Campaign { .. }, 0..=9) => BRUTE,
        (Source::Campaign { .. }, 10..=13) => EXPLOIT,
        (Source::Campaign { .. }, _) => SCAN,
        (Source::Lone(_), 0..=9) => SCAN,
        (Source::Lone(_), 10..=14) => BRUTE,
        (Source::Lone(_), 15..=16) => EXPLOIT,
        (Source::Lone(_), 17) => LISTED,
        (Source::Lone(_), 18) => FLOOD,
        (Source::Lone(_), _) => DNS,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn the_day_holds_its_total_and_its_shares() {
        let day = Day::new(1_000, 144);
        let counts: Vec<u64> = (0..MINUTES).map(|m| day.incidents_in(m)).collect();
        assert_eq!(counts.iter().sum::<u64>(), 144_000);
        assert!(counts.iter().all(|&c| c == 100));
        let drawn: Vec<Drawn> = (0..20_000).map(|i| day.incident(i % 60, i)).collect();
        let share = |f: &dyn Fn(&Drawn) -> bool| drawn.iter().filter(|d| f(d)).count();
        let mass = share(&|d| matches!(d.source, Source::Mass(_)));
        let campaign = share(&|d| matches!(d.source, Source::Campaign { .. }));
        assert!((1_700..2_300).contains(&mass), "{mass}");
        assert!((1_700..2_300).contains(&campaign), "{campaign}");
        let outbound = share(&|d| d.outbound);
        assert!((400..900).contains(&outbound), "{outbound}");
        assert!(drawn.iter().all(|d| d.sensor < 1_000));
    }

    #[test]
    fn a_few_campaign_addresses_qualify_most_do_not() {
        // A whole day of 20,000 boxes' campaign incidents, weighed per
        // commune as the list's rule weighs them.
        let day = Day::new(20_000, 100);
        let settings = vigie_server::defence::DefenceSettings::default();
        let mut weights: HashMap<u64, HashMap<u32, f64>> = HashMap::new();
        for minute in 0..MINUTES {
            for index in 0..day.incidents_in(minute) {
                let drawn = day.incident(minute, index);
                if let Source::Campaign { rank, .. } = drawn.source {
                    let weight = settings.weight(drawn.category);
                    let per_commune = weights.entry(rank).or_default();
                    let slot = per_commune.entry(drawn.sensor).or_insert(0.0);
                    *slot = slot.max(weight);
                }
            }
        }
        let listed = weights
            .values()
            .filter(|c| c.len() >= 2 && c.values().sum::<f64>() >= 3.0 - 1e-9)
            .count() as u64;
        assert!(
            listed * 10 < weights.len() as u64,
            "{listed} of {}",
            weights.len()
        );
        let expected = day.campaign_listed();
        assert!(
            listed * 4 > expected * 3 && listed * 4 < expected * 5,
            "{listed} vs {expected}"
        );
    }

    #[test]
    fn kinds_of_sources_never_share_an_address() {
        let mass: HashSet<Ipv4Addr> = (0..200).map(|n| Source::Mass(n).address()).collect();
        assert_eq!(mass.len(), 200);
        let campaigns: HashSet<Ipv4Addr> = (0..2)
            .flat_map(|day| (0..50_000).map(move |rank| Source::Campaign { rank, day }))
            .map(Source::address)
            .collect();
        assert_eq!(campaigns.len(), 100_000);
        let lone: HashSet<Ipv4Addr> = (0..10_000)
            .map(|n| Source::Lone(mix(n, 0, 0)).address())
            .collect();
        assert!(mass.is_disjoint(&campaigns) && lone.is_disjoint(&campaigns));
        assert!(lone.is_disjoint(&mass));
        let settings = vigie_server::defence::DefenceSettings::default();
        assert!(lone.iter().all(|ip| settings.may_list((*ip).into())));
    }
}
