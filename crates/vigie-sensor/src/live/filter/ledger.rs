//! The blocker's memory: which addresses are blocked until when, and how
//! many were newly blocked per Europe/Paris day and category, for the
//! `blocked` field of the next batch.
//!
//! What it must not do: touch nftables (the blocker applies a plan, then
//! commits it here only once the kernel took it), or grow without bound
//! (expired entries are pruned, and at most [`MAX_BLOCKED`] are held).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use vigie_core::{BlockedCount, Category};

use super::ruleset::MAX_BLOCKED;

/// What one call to the blocker must send to the kernel.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every address to (re)block, with its timeout in seconds.
    pub entries: Vec<(IpAddr, u32)>,
    /// The addresses of `entries` not blocked before, with the category
    /// that got them blocked.
    fresh: Vec<(IpAddr, Category)>,
    /// Why each address of `entries` is (re)blocked.
    reasons: Vec<(IpAddr, Category)>,
    /// Addresses left out because the set is full.
    skipped_full: u64,
}

/// One blocked address: until when, and every reason it was blocked for
/// (so a lifted reason lifts the block only if no other holds it).
#[derive(Debug, Clone)]
struct Block {
    end: DateTime<Utc>,
    reasons: Vec<Category>,
}

#[derive(Debug, Default)]
pub struct Ledger {
    /// When each blocked address's block ends, as the kernel has it.
    until: HashMap<IpAddr, Block>,
    counts: BTreeMap<(NaiveDate, Category), u64>,
    skipped_full: u64,
}

impl Ledger {
    /// Decides what to send for `wanted` (address, category, seconds; an
    /// address may come several times). An address already blocked at
    /// least as long is left alone; one blocked for less is refreshed but
    /// is not fresh; a new one is fresh, under the category of its first
    /// sighting, and gets the longest duration asked for.
    pub fn plan(
        &mut self,
        wanted: impl IntoIterator<Item = (IpAddr, Category, u32)>,
        now: DateTime<Utc>,
    ) -> Plan {
        self.until.retain(|_, block| block.end > now);
        let mut merged: BTreeMap<IpAddr, (Category, u32)> = BTreeMap::new();
        let mut reasons = Vec::new();
        for (ip, category, secs) in wanted {
            reasons.push((ip, category));
            let entry = merged.entry(ip).or_insert((category, secs));
            entry.1 = entry.1.max(secs);
        }
        let mut plan = Plan {
            reasons,
            ..Plan::default()
        };
        for (ip, (category, secs)) in merged {
            match self.until.get(&ip).map(|block| block.end) {
                Some(end) if end >= end_of(now, secs) => continue,
                Some(_) => {}
                None if self.until.len() + plan.fresh.len() >= MAX_BLOCKED => {
                    plan.skipped_full += 1;
                    continue;
                }
                None => plan.fresh.push((ip, category)),
            }
            plan.entries.push((ip, secs));
        }
        plan
    }

    /// Records a plan the kernel took; returns how many addresses it
    /// newly blocked.
    pub fn commit(&mut self, plan: Plan, now: DateTime<Utc>) -> usize {
        for (ip, secs) in plan.entries {
            let block = self.until.entry(ip).or_insert(Block {
                end: now,
                reasons: Vec::new(),
            });
            block.end = block.end.max(end_of(now, secs));
        }
        // Reasons are kept even for an address already blocked longer.
        for (ip, category) in plan.reasons {
            if let Some(block) = self.until.get_mut(&ip)
                && !block.reasons.contains(&category)
            {
                block.reasons.push(category);
            }
        }
        let day = vigie_core::local_day(now);
        for (_, category) in &plan.fresh {
            *self.counts.entry((day, *category)).or_default() += 1;
        }
        self.skipped_full += plan.skipped_full;
        plan.fresh.len()
    }

    /// The blocked addresses that `keep` no longer vouches for, given their
    /// reasons; they are forgotten here once the kernel dropped them
    /// ([`Ledger::forget`]).
    pub fn to_lift(&self, keep: impl Fn(IpAddr, &[Category]) -> bool) -> Vec<IpAddr> {
        let mut lift: Vec<IpAddr> = self
            .until
            .iter()
            .filter(|(ip, block)| !keep(**ip, &block.reasons))
            .map(|(ip, _)| *ip)
            .collect();
        lift.sort();
        lift
    }

    pub fn forget(&mut self, addresses: &[IpAddr]) {
        for ip in addresses {
            self.until.remove(ip);
        }
    }

    /// The counts since the previous call, oldest day first.
    pub fn take_counts(&mut self) -> Vec<BlockedCount> {
        std::mem::take(&mut self.counts)
            .into_iter()
            .map(|((day, category), addresses)| BlockedCount {
                day,
                category,
                addresses,
            })
            .collect()
    }

    /// Addresses left unblocked so far because the set was full.
    pub fn skipped_full(&self) -> u64 {
        self.skipped_full
    }
}

fn end_of(now: DateTime<Utc>, secs: u32) -> DateTime<Utc> {
    now + TimeDelta::seconds(i64::from(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn new_addresses_are_counted_once_per_day_and_category() {
        let mut ledger = Ledger::default();
        let now = at("2026-07-01T21:59:00Z"); // 23:59 in Paris
        let plan = ledger.plan(
            [
                (ip("203.0.113.5"), Category::Reputation, 3600),
                (ip("203.0.113.6"), Category::Scan, 600),
                (ip("203.0.113.5"), Category::Scan, 7200),
            ],
            now,
        );
        assert_eq!(
            plan.entries,
            vec![(ip("203.0.113.5"), 7200), (ip("203.0.113.6"), 600)]
        );
        assert_eq!(ledger.commit(plan, now), 2);
        // Two minutes later it is the 2nd in Paris; .5 is already blocked
        // longer, .6 gets refreshed but is not new, .7 is.
        let later = at("2026-07-01T22:01:00Z");
        let plan = ledger.plan(
            [
                (ip("203.0.113.5"), Category::Reputation, 3600),
                (ip("203.0.113.6"), Category::Scan, 600),
                (ip("203.0.113.7"), Category::BruteForce, 600),
            ],
            later,
        );
        assert_eq!(
            plan.entries,
            vec![(ip("203.0.113.6"), 600), (ip("203.0.113.7"), 600)]
        );
        assert_eq!(ledger.commit(plan, later), 1);
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let count = |d: &str, category, addresses| BlockedCount {
            day: day(d),
            category,
            addresses,
        };
        assert_eq!(
            ledger.take_counts(),
            vec![
                count("2026-07-01", Category::Scan, 1),
                count("2026-07-01", Category::Reputation, 1),
                count("2026-07-02", Category::BruteForce, 1),
            ]
        );
        assert_eq!(ledger.take_counts(), vec![]);
    }

    #[test]
    fn an_expired_block_counts_again_and_an_uncommitted_plan_not_at_all() {
        let mut ledger = Ledger::default();
        let now = at("2026-07-01T10:00:00Z");
        let plan = ledger.plan([(ip("2001:db8::1"), Category::Reputation, 2)], now);
        assert_eq!(ledger.commit(plan, now), 1);
        let later = now + TimeDelta::seconds(2);
        let plan = ledger.plan([(ip("2001:db8::1"), Category::Reputation, 2)], later);
        assert_eq!(ledger.commit(plan, later), 1);
        // The kernel refused this one: nothing recorded.
        let _ = ledger.plan([(ip("2001:db8::2"), Category::Scan, 2)], later);
        let counts = ledger.take_counts();
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].addresses, 2);
    }

    fn nth(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0100_0000 + n))
    }

    #[test]
    fn a_full_set_takes_no_new_address() {
        let mut ledger = Ledger::default();
        let now = at("2026-07-01T10:00:00Z");
        let many = (0..MAX_BLOCKED as u32).map(|n| (nth(n), Category::Scan, 60));
        let plan = ledger.plan(many, now);
        assert_eq!(ledger.commit(plan, now), MAX_BLOCKED);
        let plan = ledger.plan(
            [
                (ip("203.0.113.5"), Category::Scan, 60),
                (nth(0), Category::Scan, 120),
            ],
            now,
        );
        assert_eq!(plan.entries, vec![(nth(0), 120)]);
        assert_eq!(ledger.commit(plan, now), 0);
        assert_eq!(ledger.skipped_full(), 1);
    }

    #[test]
    fn a_block_is_lifted_only_when_no_reason_still_holds() {
        let mut ledger = Ledger::default();
        let now = at("2026-11-22T10:00:00Z");
        let (listed, scanner) = (ip("203.0.113.5"), ip("198.51.100.9"));
        let plan = ledger.plan(
            [
                (listed, Category::Reputation, 3600),
                (scanner, Category::Reputation, 3600),
                (scanner, Category::Scan, 600),
            ],
            now,
        );
        ledger.commit(plan, now);
        // Neither is listed any more: only the reputation-only block goes.
        let lift = ledger.to_lift(|_, reasons| reasons.iter().any(|r| *r != Category::Reputation));
        assert_eq!(lift, vec![listed]);
        ledger.forget(&lift);
        assert_eq!(ledger.to_lift(|_, _| false), vec![scanner]);
    }
}
