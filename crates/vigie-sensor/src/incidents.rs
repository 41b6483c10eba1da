//! The incident book: the only place where report incidents are built.
//!
//! Detectors tell it "this rule fired again for this key, N more events";
//! it opens an incident the first time, extends it after, and closes it when
//! it has been quiet for the category's idle time. What it keeps is exactly
//! what the report may carry: the external address, the target port and
//! service, a list label, a listed domain, and a *keyed hash* of an internal
//! host — the internal address itself is used only as part of a map key in
//! memory and never reaches a report. The one exception is the live
//! sensor's checkpoint ([`BookState`]), a file that stays on the box.

mod persist;
mod watch;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use foldhash::fast::RandomState;
use serde::{Deserialize, Serialize};
use vigie_core::{Category, DailyCount, Direction, Incident, Severity, local_day};

pub use persist::BookState;
pub use watch::{MAX_OPENED, Opened};

use watch::OpenedWatch;

/// Capture time, nanoseconds since the Unix epoch.
pub type Nanos = i64;

pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// What identifies one incident: two observations with the same key are the
/// same attack.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IncidentKey {
    pub rule: Rule,
    pub direction: Direction,
    pub remote: Option<IpAddr>,
    /// The commune machine, for incidents told apart per internal host
    /// (outbound DNS patterns). Hashed before it leaves the book.
    pub internal: Option<IpAddr>,
    pub port: Option<u16>,
    pub indicator: Option<Box<str>>,
}

/// A rule name: fixed ones are static strings, signatures' come from data.
/// Two rules are equal when their names are: a rule restored from a
/// checkpoint is `Named`, and must find the incident a detector's `Fixed`
/// rule keeps extending.
#[derive(Clone, Debug)]
pub enum Rule {
    Fixed(&'static str),
    Named(Box<str>),
}

impl Rule {
    pub fn as_str(&self) -> &str {
        match self {
            Rule::Fixed(name) => name,
            Rule::Named(name) => name,
        }
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Rule {}

impl Hash for Rule {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// Everything about an incident that is not part of its identity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Details {
    pub category: Category,
    pub severity: Severity,
    pub label: Option<String>,
    pub service: Option<String>,
    /// For floods: the source is reported only while a single one is seen.
    pub source_known: bool,
}

struct Open {
    details: Details,
    first_seen: Nanos,
    last_seen: Nanos,
    events: u64,
    idle: Nanos,
}

/// Open and closed incidents of one analysis.
pub struct IncidentBook {
    open: HashMap<IncidentKey, Open, RandomState>,
    closed: Vec<Incident>,
    host_key: [u8; 32],
    /// `None` unless a filtering sensor asked for openings.
    watch: Option<OpenedWatch>,
}

impl IncidentBook {
    /// `host_key` keys the hash that tells internal hosts apart; a random
    /// key per box means hashes cannot be reversed by trying every address.
    pub fn new(host_key: [u8; 32]) -> Self {
        IncidentBook {
            open: HashMap::with_hasher(RandomState::default()),
            closed: Vec::new(),
            host_key,
            watch: None,
        }
    }

    /// Adds `events` to the incident of `key`, opening it if needed. `start`
    /// is when the attack began (before it crossed its threshold), `now` the
    /// packet that triggered this call.
    pub fn record(
        &mut self,
        key: IncidentKey,
        details: impl FnOnce() -> Details,
        idle_secs: u32,
        start: Nanos,
        now: Nanos,
        events: u64,
    ) {
        // Captures can go back in time (merged interfaces, clock steps), so
        // `start` may be after `now`: the incident spans both either way.
        let (earliest, latest) = (start.min(now), start.max(now));
        let open = match self.open.entry(key) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let details = details();
                if let Some(watch) = &mut self.watch {
                    watch.push(entry.key(), &details, earliest);
                }
                entry.insert(Open {
                    details,
                    first_seen: earliest,
                    last_seen: latest,
                    events: 0,
                    idle: i64::from(idle_secs) * NANOS_PER_SEC,
                })
            }
        };
        open.first_seen = open.first_seen.min(earliest);
        open.last_seen = open.last_seen.max(latest);
        open.events += events;
    }

    /// Marks an open incident as seen from several sources (a distributed
    /// flood): its source is then reported as unknown.
    pub fn mark_many_sources(&mut self, key: &IncidentKey) {
        if let Some(open) = self.open.get_mut(key) {
            open.details.source_known = false;
        }
    }

    pub fn is_open(&self, key: &IncidentKey) -> bool {
        self.open.contains_key(key)
    }

    /// Closes the incidents quiet for longer than their idle time.
    pub fn close_idle(&mut self, now: Nanos) {
        let host_key = self.host_key;
        let closed = &mut self.closed;
        self.open.retain(|key, open| {
            let keep = now.saturating_sub(open.last_seen) <= open.idle;
            if !keep {
                closed.push(to_incident(&host_key, key, open));
            }
            keep
        });
    }

    /// Closes everything (end of a capture).
    pub fn close_all(&mut self) {
        self.close_idle(i64::MAX);
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// The closed incidents, oldest first, and their per-day counts; the book
    /// is left empty of closed incidents.
    pub fn take_closed(&mut self) -> (Vec<Incident>, Vec<DailyCount>) {
        let mut incidents = std::mem::take(&mut self.closed);
        incidents.sort_by(|a, b| {
            (a.first_seen, a.category, &a.rule, a.source).cmp(&(
                b.first_seen,
                b.category,
                &b.rule,
                b.source,
            ))
        });
        let daily = daily_counts(&incidents);
        (incidents, daily)
    }
}

fn to_incident(host_key: &[u8; 32], key: &IncidentKey, open: &Open) -> Incident {
    Incident {
        category: open.details.category,
        rule: key.rule.as_str().to_owned(),
        label: open.details.label.clone(),
        severity: open.details.severity,
        source: key.remote.filter(|_| open.details.source_known),
        direction: key.direction,
        target_port: key.port,
        service: open.details.service.clone(),
        first_seen: to_utc(open.first_seen),
        last_seen: to_utc(open.last_seen),
        events: open.events.max(1),
        indicator: key.indicator.as_deref().map(str::to_owned),
        internal_host: key.internal.map(|ip| host_hash(host_key, ip)),
    }
}

/// A keyed hash standing for an internal host: stable for one key, useless
/// to anyone without it. `h:` and 16 hex digits (64 bits).
pub fn host_hash(key: &[u8; 32], ip: IpAddr) -> String {
    let bytes = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    };
    let hash = blake3::keyed_hash(key, &bytes);
    let hex = hash.to_hex();
    format!("h:{}", &hex.as_str()[..16])
}

pub fn to_utc(ts: Nanos) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ts)
}

/// Incidents per Europe/Paris day and category, filed under the day each
/// incident began.
pub fn daily_counts(incidents: &[Incident]) -> Vec<DailyCount> {
    let mut counts: std::collections::BTreeMap<_, (u64, u64)> = Default::default();
    for incident in incidents {
        let entry = counts
            .entry((local_day(incident.first_seen), incident.category))
            .or_default();
        entry.0 += 1;
        if incident.direction == Direction::Outbound {
            entry.1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|((day, category), (count, outbound))| DailyCount {
            day,
            category,
            count,
            outbound,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(remote: &str) -> IncidentKey {
        IncidentKey {
            rule: Rule::Fixed("scan.syn"),
            direction: Direction::Inbound,
            remote: Some(remote.parse().unwrap()),
            internal: None,
            port: None,
            indicator: None,
        }
    }

    fn details() -> Details {
        Details {
            category: Category::Scan,
            severity: Severity::Low,
            label: None,
            service: None,
            source_known: true,
        }
    }

    const T0: Nanos = 1_790_000_000 * NANOS_PER_SEC;

    #[test]
    fn one_attack_is_one_incident_until_it_goes_quiet() {
        let mut book = IncidentBook::new([7; 32]);
        book.record(key("203.0.113.1"), details, 60, T0, T0 + 5, 15);
        book.record(
            key("203.0.113.1"),
            details,
            60,
            T0,
            T0 + 30 * NANOS_PER_SEC,
            1,
        );
        book.close_idle(T0 + 60 * NANOS_PER_SEC);
        assert_eq!(book.open_count(), 1);
        book.close_idle(T0 + 91 * NANOS_PER_SEC);
        assert_eq!(book.open_count(), 0);
        book.record(
            key("203.0.113.1"),
            details,
            60,
            T0 + 200 * NANOS_PER_SEC,
            T0 + 200 * NANOS_PER_SEC,
            20,
        );
        book.close_all();
        let (incidents, daily) = book.take_closed();
        assert_eq!(incidents.len(), 2);
        assert_eq!(incidents[0].events, 16);
        assert_eq!(incidents[1].events, 20);
        assert_eq!(daily.len(), 1);
        assert_eq!(daily[0].count, 2);
    }

    #[test]
    fn time_going_backwards_still_gives_a_valid_incident() {
        // Found by the engine_capture fuzz target: a window started by a
        // later-stamped packet than the one that crossed the threshold.
        let mut book = IncidentBook::new([0; 32]);
        book.record(
            key("203.0.113.1"),
            details,
            60,
            T0 + 10 * NANOS_PER_SEC,
            T0,
            15,
        );
        book.record(key("203.0.113.1"), details, 60, T0, T0 - NANOS_PER_SEC, 1);
        book.close_all();
        let (incidents, _) = book.take_closed();
        assert_eq!(incidents[0].first_seen, to_utc(T0 - NANOS_PER_SEC));
        assert_eq!(incidents[0].last_seen, to_utc(T0 + 10 * NANOS_PER_SEC));
    }

    #[test]
    fn internal_hosts_leave_only_as_a_keyed_hash() {
        let mut book = IncidentBook::new([1; 32]);
        let mut k = key("203.0.113.1");
        k.internal = Some("192.168.1.23".parse().unwrap());
        k.remote = None;
        book.record(k, details, 60, T0, T0, 1);
        book.close_all();
        let (incidents, _) = book.take_closed();
        let text = serde_json::to_string(&incidents).unwrap();
        assert!(!text.contains("192.168"), "{text}");
        let hash = incidents[0].internal_host.clone().unwrap();
        assert_eq!(hash.len(), 18);
        assert_ne!(hash, host_hash(&[2; 32], "192.168.1.23".parse().unwrap()));
    }

    #[test]
    fn a_named_rule_is_the_fixed_rule_of_the_same_name() {
        let mut book = IncidentBook::new([3; 32]);
        let mut named = key("203.0.113.1");
        named.rule = Rule::Named("scan.syn".into());
        book.record(named, details, 60, T0, T0, 5);
        book.record(key("203.0.113.1"), details, 60, T0, T0 + 1, 2);
        assert_eq!(book.open_count(), 1);
        book.close_all();
        assert_eq!(book.take_closed().0[0].events, 7);
    }
}
