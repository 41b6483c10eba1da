//! Suspicious DNS from commune machines: bursts of algorithmically
//! generated names (malware trying the day's rendezvous domains of its
//! command centre, `dns.dga`) and DNS tunnelling (data smuggled in long
//! query names or TXT/NULL queries under one domain, `dns.tunnel`).
//!
//! The names themselves never leave the box: the incident carries the
//! rule, the counts and a keyed hash of the machine.

use std::hash::BuildHasher;
use std::net::IpAddr;

use vigie_core::{Category, Direction};

use super::table::BoundedMap;
use super::{DistinctSet, Window};
use crate::config::DnsConfig;
use crate::decode::dns::{Query, qtype};
use crate::incidents::{Details, IncidentBook, IncidentKey, Nanos, Rule};

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct TunnelKey {
    client: IpAddr,
    /// Hash of the parent domain (last two labels).
    domain: u64,
}

struct Candidate {
    window: Window,
    names: DistinctSet<u64>,
    count: u64,
}

pub struct DnsDetector {
    config: DnsConfig,
    dga: BoundedMap<IpAddr, Candidate>,
    tunnels: BoundedMap<TunnelKey, Candidate>,
    hasher: foldhash::fast::FixedState,
}

impl DnsDetector {
    pub fn new(config: DnsConfig, capacity: usize) -> Self {
        DnsDetector {
            config,
            dga: BoundedMap::new(capacity),
            tunnels: BoundedMap::new(capacity),
            hasher: foldhash::fast::FixedState::with_seed(0xd45),
        }
    }

    /// A query sent by commune machine `client`.
    pub fn query(&mut self, book: &mut IncidentBook, now: Nanos, client: IpAddr, query: &Query) {
        let name = query.name();
        if self.is_tunnel_like(query) {
            let domain = self.hasher.hash_one(parent_domain(name));
            let key = TunnelKey { client, domain };
            let cfg = &self.config;
            let (candidate, _) = self.tunnels.get_or_insert_with(key, || Candidate::new(now));
            if let Some((events, start)) = candidate.count_one(now, cfg.tunnel_min_queries, cfg) {
                record(book, cfg, "dns.tunnel", client, start, now, events);
            }
        } else if let Some(label) = second_level_label(name)
            && looks_generated(label, self.config.dga_min_label_length)
        {
            let hash = self.hasher.hash_one(name);
            let cfg = &self.config;
            let (candidate, _) = self.dga.get_or_insert_with(client, || Candidate::new(now));
            if let Some((events, start)) =
                candidate.count_distinct(now, hash, cfg.dga_min_names, cfg)
            {
                record(book, cfg, "dns.dga", client, start, now, events);
            }
        }
    }

    fn is_tunnel_like(&self, query: &Query) -> bool {
        let cfg = &self.config;
        let name = query.name();
        let longest = query.labels().map(<[u8]>::len).max().unwrap_or(0);
        longest >= cfg.tunnel_min_label_length as usize
            || name.len() >= cfg.tunnel_min_name_length as usize
            || (matches!(query.qtype, qtype::TXT | qtype::NULL) && name.len() >= 60)
    }
}

impl Candidate {
    fn new(now: Nanos) -> Self {
        Candidate {
            window: Window::new(now),
            names: DistinctSet::default(),
            count: 0,
        }
    }

    fn count_one(&mut self, now: Nanos, threshold: u32, cfg: &DnsConfig) -> Option<(u64, Nanos)> {
        if self.window.advance(now, cfg.window, cfg.idle) {
            self.count = 0;
        }
        self.count += 1;
        self.crossed(self.count, threshold)
    }

    fn count_distinct(
        &mut self,
        now: Nanos,
        hash: u64,
        threshold: u32,
        cfg: &DnsConfig,
    ) -> Option<(u64, Nanos)> {
        if self.window.advance(now, cfg.window, cfg.idle) {
            self.names = DistinctSet::default();
        }
        if !self.names.insert(hash) {
            return None;
        }
        self.crossed(self.names.len() as u64, threshold)
    }

    fn crossed(&mut self, count: u64, threshold: u32) -> Option<(u64, Nanos)> {
        let events = self.window.crossed(count, threshold, 1)?;
        Some((events, self.window.start))
    }
}

fn record(
    book: &mut IncidentBook,
    cfg: &DnsConfig,
    rule: &'static str,
    client: IpAddr,
    start: Nanos,
    now: Nanos,
    events: u64,
) {
    book.record(
        IncidentKey {
            rule: Rule::Fixed(rule),
            direction: Direction::Outbound,
            remote: None,
            internal: Some(client),
            port: None,
            indicator: None,
        },
        || Details {
            category: Category::SuspiciousDns,
            severity: cfg.severity,
            label: None,
            service: Some("dns".to_owned()),
            source_known: true,
        },
        cfg.idle,
        start,
        now,
        events,
    );
}

/// The last two labels (`t.example.org` → `example.org`).
fn parent_domain(name: &[u8]) -> &[u8] {
    let mut dots = name.iter().enumerate().rev().filter(|(_, b)| **b == b'.');
    let _tld_dot = dots.next();
    match dots.next() {
        Some((i, _)) => name.get(i + 1..).unwrap_or(name),
        None => name,
    }
}

/// The label left of the top-level domain: what a DGA generates.
fn second_level_label(name: &[u8]) -> Option<&[u8]> {
    let mut labels = name.rsplit(|&b| b == b'.');
    let _tld = labels.next()?;
    labels.next()
}

/// Whether a label looks machine-made: long, letters and digits only, with
/// long runs of consonants and a high character entropy — what random
/// strings have and words (even concatenated brand names) rarely do.
pub fn looks_generated(label: &[u8], min_length: u32) -> bool {
    if label.len() < min_length as usize || label.len() > 63 {
        return false;
    }
    if !label.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut longest_consonants = 0;
    let mut run = 0;
    let mut digits = 0;
    let mut counts = [0u32; 36];
    for &byte in label {
        let b = byte.to_ascii_lowercase();
        let index = if b.is_ascii_digit() {
            usize::from(b - b'0') + 26
        } else {
            usize::from(b - b'a')
        };
        if let Some(c) = counts.get_mut(index) {
            *c += 1;
        }
        if b.is_ascii_digit() {
            digits += 1;
            run = 0;
        } else if b"aeiouy".contains(&b) {
            run = 0;
        } else {
            run += 1;
            longest_consonants = longest_consonants.max(run);
        }
    }
    let len = label.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum();
    let mixed_digits = digits > 0 && digits * 4 >= label.len() && digits < label.len();
    entropy >= 3.0 && (longest_consonants >= 4 || mixed_digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_labels() {
        for dga in [
            "xjwqkzpqvblmt",
            "qwrtzpsdfghkl",
            "kq3j9x8v2m1ztp",
            "bdfhjklmnpqrst",
        ] {
            assert!(looks_generated(dga.as_bytes(), 10), "{dga}");
        }
        for word in [
            "wikipedia",
            "stackoverflow",
            "googleusercontent",
            "leboncoin",
            "servicepublic",
            "cloudflare",
            "ameli",
            "impots",
            "saintetienne",
            "loire42",
            "facebook",
        ] {
            assert!(!looks_generated(word.as_bytes(), 10), "{word}");
        }
    }

    #[test]
    fn name_parts() {
        assert_eq!(parent_domain(b"abc.t.vigie-lab.test"), b"vigie-lab.test");
        assert_eq!(parent_domain(b"localhost"), b"localhost");
        assert_eq!(
            second_level_label(b"www.xjwqkzpqvbl.com"),
            Some(&b"xjwqkzpqvbl"[..])
        );
        assert_eq!(second_level_label(b"com"), None);
    }
}
