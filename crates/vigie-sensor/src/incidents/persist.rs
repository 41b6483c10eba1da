//! The book's state for a live sensor's checkpoint: the open incidents
//! (key, details, times, events, idle time) and the closed ones not yet
//! drained, so a restarted sensor extends the attacks it was following
//! instead of opening them again.
//!
//! What it must not do: leave the box. Keys hold internal addresses
//! (outbound incidents are told apart per commune machine, before hashing),
//! so this state is only ever written to the checkpoint file on the box.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use vigie_core::Incident;

use super::{Details, IncidentBook, IncidentKey, Nanos, Open, Rule};

/// The incidents an [`IncidentBook`] holds, as saved in a checkpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BookState {
    open: Vec<OpenState>,
    /// Closed but not drained yet. The daemon drains before it saves, so
    /// this is normally empty; kept so that nothing is ever lost.
    #[serde(default)]
    closed: Vec<Incident>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct OpenState {
    key: IncidentKey,
    details: Details,
    first_seen: Nanos,
    last_seen: Nanos,
    events: u64,
    idle: Nanos,
}

impl BookState {
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    pub fn closed_count(&self) -> usize {
        self.closed.len()
    }
}

impl IncidentBook {
    /// The open and not yet drained incidents, oldest first.
    pub fn checkpoint(&self) -> BookState {
        let mut open: Vec<OpenState> = self
            .open
            .iter()
            .map(|(key, open)| OpenState {
                key: key.clone(),
                details: open.details.clone(),
                first_seen: open.first_seen,
                last_seen: open.last_seen,
                events: open.events,
                idle: open.idle,
            })
            .collect();
        // Sorted so that the same state always gives the same file.
        open.sort_by(|a, b| {
            (a.first_seen, a.key.rule.as_str(), a.key.remote).cmp(&(
                b.first_seen,
                b.key.rule.as_str(),
                b.key.remote,
            ))
        });
        BookState {
            open,
            closed: self.closed.clone(),
        }
    }

    /// Replaces the book's incidents with a checkpoint's. Two entries with
    /// the same key (only a hand-edited file has them) make one incident.
    pub fn restore(&mut self, state: BookState) {
        self.open.clear();
        for saved in state.open {
            let open = self.open.entry(saved.key).or_insert(Open {
                details: saved.details,
                first_seen: saved.first_seen,
                last_seen: saved.last_seen,
                events: 0,
                idle: saved.idle,
            });
            open.first_seen = open.first_seen.min(saved.first_seen);
            open.last_seen = open.last_seen.max(saved.last_seen);
            open.events = open.events.saturating_add(saved.events);
        }
        self.closed = state.closed;
    }
}

/// A rule is saved as its name and comes back `Named`; equality by name
/// makes it the same rule as a detector's `Fixed` one.
impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|name| Rule::Named(name.into_boxed_str()))
    }
}

#[cfg(test)]
mod tests {
    use vigie_core::{Category, Direction, Severity};

    use super::super::{NANOS_PER_SEC, host_hash, to_utc};
    use super::*;

    const T0: Nanos = 1_790_000_000 * NANOS_PER_SEC;

    fn key(rule: &'static str, internal: Option<&str>) -> IncidentKey {
        IncidentKey {
            rule: Rule::Fixed(rule),
            direction: Direction::Outbound,
            remote: Some("198.51.100.66".parse().unwrap()),
            internal: internal.map(|ip| ip.parse().unwrap()),
            port: Some(443),
            indicator: Some("evil.example".into()),
        }
    }

    fn details() -> Details {
        Details {
            category: Category::Reputation,
            severity: Severity::High,
            label: Some("botnet_c2".into()),
            service: None,
            source_known: true,
        }
    }

    #[test]
    fn a_restored_book_goes_on_with_the_same_incidents() {
        let mut book = IncidentBook::new([5; 32]);
        book.record(
            key("reputation.ip", Some("192.168.1.23")),
            details,
            300,
            T0,
            T0,
            2,
        );
        book.record(key("reputation.dns", None), details, 60, T0, T0, 1);
        book.close_idle(T0 + 61 * NANOS_PER_SEC);
        let text = serde_json::to_string(&book.checkpoint()).unwrap();
        let state: BookState = serde_json::from_str(&text).unwrap();
        assert_eq!((state.open_count(), state.closed_count()), (1, 1));

        let mut restored = IncidentBook::new([5; 32]);
        restored.restore(state);
        let later = T0 + 100 * NANOS_PER_SEC;
        restored.record(
            key("reputation.ip", Some("192.168.1.23")),
            details,
            300,
            later,
            later,
            3,
        );
        assert_eq!(restored.open_count(), 1);
        restored.close_all();
        let (incidents, daily) = restored.take_closed();
        assert_eq!(incidents.len(), 2);
        let ip = incidents
            .iter()
            .find(|i| i.rule == "reputation.ip")
            .unwrap();
        assert_eq!(ip.events, 5);
        assert_eq!((ip.first_seen, ip.last_seen), (to_utc(T0), to_utc(later)));
        assert_eq!(ip.label.as_deref(), Some("botnet_c2"));
        assert_eq!(
            ip.internal_host.as_deref(),
            Some(host_hash(&[5; 32], "192.168.1.23".parse().unwrap()).as_str())
        );
        assert_eq!(daily[0].count, 2);
    }

    #[test]
    fn the_same_state_gives_the_same_text() {
        let mut book = IncidentBook::new([5; 32]);
        for (i, rule) in ["reputation.ip", "reputation.dns", "reputation.tls_sni"]
            .into_iter()
            .enumerate()
        {
            book.record(key(rule, None), details, 60, T0 + i as i64, T0, 1);
        }
        let first = serde_json::to_string(&book.checkpoint()).unwrap();
        let mut again = IncidentBook::new([5; 32]);
        again.restore(serde_json::from_str(&first).unwrap());
        assert_eq!(serde_json::to_string(&again.checkpoint()).unwrap(), first);
    }
}
