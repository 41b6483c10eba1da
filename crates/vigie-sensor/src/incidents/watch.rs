//! The watch of incidents as they open, for a filtering sensor: it blocks
//! an attacker within a second instead of when the incident closes. Off by
//! default, and then it costs one test per opening; bounded when on.
//!
//! What it must not do: name a source the incident would not (a flood
//! from spoofed sources names none, so nobody innocent gets blocked).

use std::net::IpAddr;

use vigie_core::{Category, Direction};

use super::{Details, IncidentBook, IncidentKey, Nanos};

/// An incident that has just opened, for a filtering sensor to block its
/// source without waiting for the incident to close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub category: Category,
    pub direction: Direction,
    /// The remote address, when the incident names one (a flood from
    /// spoofed sources names none).
    pub remote: Option<IpAddr>,
    pub first_seen: Nanos,
}

/// How many openings are kept between two [`IncidentBook::take_opened`]:
/// a burst beyond it (thousands of attackers in a second) is counted, not
/// stored, so the watch cannot grow without bound.
pub const MAX_OPENED: usize = 4096;

#[derive(Default)]
pub(super) struct OpenedWatch {
    opened: Vec<Opened>,
    overflow: u64,
}

impl IncidentBook {
    /// Starts (or stops, forgetting what was kept) watching openings.
    pub fn watch_openings(&mut self, on: bool) {
        if on != self.watch.is_some() {
            self.watch = on.then(OpenedWatch::default);
        }
    }

    /// The incidents opened since the previous call (none when not
    /// watching), in the order they opened.
    pub fn take_opened(&mut self) -> Vec<Opened> {
        self.watch
            .as_mut()
            .map(|watch| std::mem::take(&mut watch.opened))
            .unwrap_or_default()
    }

    /// Openings left out because more than [`MAX_OPENED`] happened between
    /// two calls of [`take_opened`](Self::take_opened), since watching began.
    pub fn opened_overflow(&self) -> u64 {
        self.watch.as_ref().map_or(0, |watch| watch.overflow)
    }
}

impl OpenedWatch {
    pub(super) fn push(&mut self, key: &IncidentKey, details: &Details, first_seen: Nanos) {
        if self.opened.len() >= MAX_OPENED {
            self.overflow += 1;
            return;
        }
        self.opened.push(Opened {
            category: details.category,
            direction: key.direction,
            remote: key.remote.filter(|_| details.source_known),
            first_seen,
        });
    }
}

#[cfg(test)]
mod tests {
    use vigie_core::Severity;

    use super::super::{NANOS_PER_SEC, Rule};
    use super::*;

    const T0: Nanos = 1_790_000_000 * NANOS_PER_SEC;

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

    #[test]
    fn openings_are_watched_only_when_asked_and_bounded() {
        let mut book = IncidentBook::new([3; 32]);
        book.record(key("203.0.113.1"), details, 60, T0, T0, 1);
        book.watch_openings(true);
        assert!(book.take_opened().is_empty());
        // Extending an open incident is no opening.
        book.record(key("203.0.113.1"), details, 60, T0, T0 + 1, 1);
        book.record(key("203.0.113.2"), details, 60, T0 + 2, T0 + 3, 1);
        let opened = book.take_opened();
        assert_eq!(
            opened,
            [Opened {
                category: Category::Scan,
                direction: Direction::Inbound,
                remote: Some("203.0.113.2".parse().unwrap()),
                first_seen: T0 + 2,
            }]
        );
        for i in 0..(MAX_OPENED as u32 + 10) {
            let remote = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            book.record(key(&remote), details, 60, T0, T0, 1);
        }
        assert_eq!(book.take_opened().len(), MAX_OPENED);
        assert_eq!(book.opened_overflow(), 10);
        book.watch_openings(false);
        book.record(key("198.51.100.1"), details, 60, T0, T0, 1);
        assert!(book.take_opened().is_empty());
        assert_eq!(book.opened_overflow(), 0);
    }

    #[test]
    fn a_flood_from_many_sources_names_nobody_to_block() {
        let mut book = IncidentBook::new([3; 32]);
        book.watch_openings(true);
        let spoofed = || Details {
            source_known: false,
            ..details()
        };
        book.record(key("203.0.113.1"), spoofed, 10, T0, T0, 1);
        assert_eq!(book.take_opened()[0].remote, None);
    }
}
