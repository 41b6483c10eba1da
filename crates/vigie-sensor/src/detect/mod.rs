//! The detectors: each qualifies one category of attack from the packets
//! the engine hands it, keeps its own bounded state, and records incidents
//! in the [`IncidentBook`](crate::incidents::IncidentBook). They are
//! independent: each can be read, tested and tuned alone.

pub mod brute_force;
pub mod dns;
pub mod flood;
pub mod probe;
pub mod reputation;
pub mod table;
pub mod web;

use std::collections::HashSet;
use std::hash::Hash;

use foldhash::fast::RandomState;

use crate::incidents::{NANOS_PER_SEC, Nanos};

/// The time frame of a candidate attack: it has `window` seconds to reach
/// its threshold; once reported, it goes on while no gap exceeds `idle`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub start: Nanos,
    pub last: Nanos,
    pub reported: bool,
}

impl Window {
    pub fn new(now: Nanos) -> Self {
        Window {
            start: now,
            last: now,
            reported: false,
        }
    }

    /// Moves to `now`; true when the previous frame is over and the caller
    /// must start counting afresh.
    pub fn advance(&mut self, now: Nanos, window_secs: u32, idle_secs: u32) -> bool {
        let expired = if self.reported {
            now.saturating_sub(self.last) > secs(idle_secs)
        } else {
            now.saturating_sub(self.start) > secs(window_secs)
        };
        if expired {
            *self = Window::new(now);
        }
        self.last = self.last.max(now);
        expired
    }

    /// The events to record now that the candidate counts `count` (with
    /// `new` just added): all of them when it reaches `threshold`, then only
    /// the new ones; none below the threshold.
    pub fn crossed(&mut self, count: u64, threshold: u32, new: u64) -> Option<u64> {
        if self.reported {
            Some(new)
        } else if count >= u64::from(threshold) {
            self.reported = true;
            Some(count)
        } else {
            None
        }
    }
}

/// The service name of a web port: TLS on the usual HTTPS ports.
pub fn web_service(port: u16) -> &'static str {
    if port == 443 || port == 8443 {
        "https"
    } else {
        "http"
    }
}

pub fn secs(seconds: u32) -> Nanos {
    i64::from(seconds) * NANOS_PER_SEC
}

/// How many distinct values a set counts before it stops storing them (the
/// count then saturates: a 65,535-port scan is told as such anyway).
const DISTINCT_CAP: usize = 1 << 16;
const INLINE: usize = 8;

/// A set that only counts distinct values: a few inline (most candidates
/// never grow), a hash set beyond.
#[derive(Clone, Debug)]
pub enum DistinctSet<T: Copy + Eq + Hash + Default> {
    Inline { values: [T; INLINE], len: u8 },
    Spilled(HashSet<T, RandomState>),
}

impl<T: Copy + Eq + Hash + Default> Default for DistinctSet<T> {
    fn default() -> Self {
        DistinctSet::Inline {
            values: [T::default(); INLINE],
            len: 0,
        }
    }
}

impl<T: Copy + Eq + Hash + Default> DistinctSet<T> {
    /// Adds `value`; true when it was not there yet.
    pub fn insert(&mut self, value: T) -> bool {
        match self {
            DistinctSet::Inline { values, len } => {
                let used = &values[..usize::from(*len)];
                if used.contains(&value) {
                    return false;
                }
                if usize::from(*len) < INLINE {
                    values[usize::from(*len)] = value;
                    *len += 1;
                } else {
                    let mut set: HashSet<T, RandomState> = used.iter().copied().collect();
                    set.insert(value);
                    *self = DistinctSet::Spilled(set);
                }
                true
            }
            DistinctSet::Spilled(set) => set.len() < DISTINCT_CAP && set.insert(value),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            DistinctSet::Inline { len, .. } => usize::from(*len),
            DistinctSet::Spilled(set) => set.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_set_counts_each_value_once() {
        let mut set = DistinctSet::<u16>::default();
        for round in 0..3 {
            for port in 0..100u16 {
                assert_eq!(set.insert(port), round == 0);
            }
        }
        assert_eq!(set.len(), 100);
    }

    #[test]
    fn window_expires_before_and_after_reporting() {
        let mut w = Window::new(0);
        assert!(!w.advance(secs(59), 60, 300));
        assert!(w.advance(secs(61), 60, 300));
        w.reported = true;
        assert!(!w.advance(secs(300), 60, 300));
        assert!(!w.advance(secs(599), 60, 300));
        assert!(w.advance(secs(900), 60, 300));
        assert!(!w.reported);
    }
}
