//! The territory list on the box (issue 16): the addresses that attacked
//! other communes, as the observatory's `vigie.defence/1` changes bring
//! them, what to block or lift for each update, and the attacks blocked
//! thanks to it, per Europe/Paris day.
//!
//! The delivery thread fetches and parses (`vigie_core::defence::parse`,
//! bounded); the capture thread applies the update here and hands the
//! blocks to the filter. What it must not do: hold more than
//! [`MAX_ENTRIES`] addresses, or count an attack whose source was not on
//! the list when its incident opened.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use vigie_core::DefendedCount;
use vigie_core::defence::{Change, Kind, MAX_ENTRIES, Update};

/// What an update asks of the firewall.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// Forget every territory block first (a snapshot).
    pub reset: bool,
    /// Addresses to block, with their timeout in seconds (`None`: pinned,
    /// until removed).
    pub block: Vec<(IpAddr, Option<u32>)>,
    pub lift: Vec<IpAddr>,
}

/// The addresses listed now, with the Unix second their listing ends (0:
/// until removed), and the attacks counted since the last batch.
#[derive(Debug, Default)]
pub struct TerritoryList {
    entries: HashMap<IpAddr, i64>,
    defended: BTreeMap<NaiveDate, u64>,
}

impl TerritoryList {
    /// Applies `update` at `now`; returns what the firewall must do.
    pub fn apply(&mut self, update: &Update, now: DateTime<Utc>) -> Delta {
        let now = now.timestamp();
        let mut delta = Delta::default();
        if update.kind == Kind::Snapshot {
            self.entries.clear();
            delta.reset = true;
        }
        for change in &update.changes {
            match *change {
                Change::Add { ip, until } => {
                    let ip = ip.to_canonical();
                    let timeout = match until {
                        0 => None,
                        until if until > now => {
                            Some(u32::try_from(until - now).unwrap_or(u32::MAX))
                        }
                        // Already over: nothing to block.
                        _ => continue,
                    };
                    if !self.entries.contains_key(&ip) && self.entries.len() >= MAX_ENTRIES {
                        continue;
                    }
                    self.entries.insert(ip, until);
                    delta.lift.retain(|lifted| *lifted != ip);
                    delta.block.push((ip, timeout));
                }
                Change::Remove { ip } => {
                    let ip = ip.to_canonical();
                    if self.entries.remove(&ip).is_some() && !delta.reset {
                        delta.lift.push(ip);
                    }
                    delta.block.retain(|(blocked, _)| *blocked != ip);
                }
            }
        }
        delta
    }

    /// Whether `ip` is listed at `now`.
    pub fn contains(&self, ip: IpAddr, now: DateTime<Utc>) -> bool {
        self.entries
            .get(&ip.to_canonical())
            .is_some_and(|until| *until == 0 || *until > now.timestamp())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counts one attack blocked thanks to the list, on `now`'s Paris day.
    pub fn count_defended(&mut self, now: DateTime<Utc>) {
        let slot = self.defended.entry(vigie_core::local_day(now)).or_default();
        *slot = slot.saturating_add(1);
    }

    /// The counts since the previous call: the next batch's `defended`.
    pub fn take_defended(&mut self) -> Vec<DefendedCount> {
        std::mem::take(&mut self.defended)
            .into_iter()
            .map(|(day, attacks)| DefendedCount { day, attacks })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn update(kind: Kind, changes: Vec<Change>) -> Update {
        Update {
            kind,
            cursor: 1,
            changes,
        }
    }

    #[test]
    fn applies_snapshots_and_changes() {
        let mut list = TerritoryList::default();
        let now = at(1_000);
        let delta = list.apply(
            &update(
                Kind::Snapshot,
                vec![
                    Change::Add {
                        ip: ip("203.0.113.7"),
                        until: 1_600,
                    },
                    Change::Add {
                        ip: ip("::ffff:198.51.100.9"),
                        until: 0,
                    },
                    Change::Add {
                        ip: ip("192.0.2.1"),
                        until: 900,
                    },
                ],
            ),
            now,
        );
        assert!(delta.reset);
        assert_eq!(
            delta.block,
            vec![(ip("203.0.113.7"), Some(600)), (ip("198.51.100.9"), None)]
        );
        assert!(list.contains(ip("198.51.100.9"), now));
        assert!(!list.contains(ip("192.0.2.1"), now));
        assert!(!list.contains(ip("203.0.113.7"), at(1_600)));
        let delta = list.apply(
            &update(
                Kind::Changes,
                vec![
                    Change::Remove {
                        ip: ip("203.0.113.7"),
                    },
                    Change::Remove {
                        ip: ip("192.0.2.99"),
                    },
                ],
            ),
            now,
        );
        assert_eq!(delta.lift, vec![ip("203.0.113.7")]);
        assert!(!delta.reset && delta.block.is_empty());
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn counts_per_day() {
        let mut list = TerritoryList::default();
        list.count_defended(at(1_768_519_800));
        list.count_defended(at(1_768_519_900));
        let counts = list.take_defended();
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].attacks, 2);
        assert!(list.take_defended().is_empty());
    }
}
