//! Collects lists and allowlists, then builds the immutable [`Intel`]
//! tables: address ranges sorted and merged, allowlisted addresses cut out,
//! special-use ranges left out entry by entry.

use super::domains::DomainSet;
use super::indicator::{Indicator, Net};
use super::ranges::{self, Addr, Range, SPECIAL_V4, SPECIAL_V6};
use super::{Intel, KindWarning, LabelId, ListStats, LoadStats, list};

/// Most lists one [`Intel`] holds; a [`LabelId`] is a `u16`.
pub const MAX_LISTS: usize = u16::MAX as usize;

/// Builds an [`Intel`]; see [`Intel::builder`].
#[derive(Default)]
pub struct IntelBuilder {
    labels: Vec<String>,
    v4: Vec<Range<u32>>,
    v6: Vec<Range<u128>>,
    allow_v4: Vec<(u32, u32)>,
    allow_v6: Vec<(u128, u128)>,
    domains: DomainSet,
    stats: Vec<ListStats>,
    kind_warnings: Vec<KindWarning>,
}

impl IntelBuilder {
    /// Loads one threat list. Adding text under a label already used adds
    /// to that list. Bad lines are counted in the returned stats, never
    /// fatal; past [`MAX_LISTS`] labels a new list is left out, which its
    /// stats say.
    pub fn add_list(&mut self, label: &str, text: &str) -> LoadStats {
        let mut stats = ListStats::new(label, false);
        let Some(id) = self.label_id(label) else {
            stats.malformed_line(0, "too many lists: this one was left out", label);
            self.stats.push(stats.clone());
            return stats;
        };
        let Self {
            v4, v6, domains, ..
        } = self;
        list::read(text, &mut stats, &mut |found, stats| match found {
            Indicator::Domain(name) => {
                domains.list(name, id);
                stats.domains += 1;
            }
            Indicator::Ip(net) | Indicator::Block(net) => {
                let pieces = match net {
                    Net::V4(start, end) => {
                        let holes = ranges::covered_holes(start, end, &SPECIAL_V4);
                        ranges::cut_out(start, end, &holes, |s, e| {
                            v4.push(Range {
                                start: s,
                                end: e,
                                label: id,
                            });
                        })
                    }
                    Net::V6(start, end) => {
                        let holes = ranges::covered_holes(start, end, &SPECIAL_V6);
                        ranges::cut_out(start, end, &holes, |s, e| {
                            v6.push(Range {
                                start: s,
                                end: e,
                                label: id,
                            });
                        })
                    }
                };
                count_net(stats, found, pieces);
            }
            Indicator::Hash => stats.unsupported += 1,
        });
        self.stats.push(stats.clone());
        stats
    }

    /// Loads an allowlist: its addresses, blocks and domains (with their
    /// subdomains) are never reported, whatever list holds them.
    pub fn add_allowlist(&mut self, text: &str) -> LoadStats {
        self.add_named_allowlist("allowlist", text)
    }

    /// Builds the lookup tables.
    pub fn build(self) -> Intel {
        let mut domains = self.domains;
        domains.shrink_to_fit();
        Intel {
            labels: self.labels,
            allowed_v4: allowed_table(&self.allow_v4),
            allowed_v6: allowed_table(&self.allow_v6),
            v4: ranges::build_table(self.v4, self.allow_v4),
            v6: ranges::build_table(self.v6, self.allow_v6),
            domains,
            stats: self.stats,
            kind_warnings: self.kind_warnings,
        }
    }

    /// Keeps a warning about a file's kind for [`Intel::kind_warnings`].
    pub fn warn(&mut self, warning: KindWarning) {
        self.kind_warnings.push(warning);
    }

    /// [`add_allowlist`](Self::add_allowlist) with the file's own name in
    /// the stats.
    pub(crate) fn add_named_allowlist(&mut self, label: &str, text: &str) -> LoadStats {
        let mut stats = ListStats::new(label, true);
        let Self {
            allow_v4,
            allow_v6,
            domains,
            ..
        } = self;
        list::read(text, &mut stats, &mut |found, stats| match found {
            Indicator::Domain(name) => {
                domains.allow(name);
                stats.domains += 1;
            }
            Indicator::Ip(net) | Indicator::Block(net) => {
                // Special-use ranges are never listed, so allowing them is
                // moot; they are counted the same way for a uniform report.
                let pieces = match net {
                    Net::V4(start, end) => {
                        let holes = ranges::covered_holes(start, end, &SPECIAL_V4);
                        ranges::cut_out(start, end, &holes, |s, e| {
                            allow_v4.push((s, e));
                        })
                    }
                    Net::V6(start, end) => {
                        let holes = ranges::covered_holes(start, end, &SPECIAL_V6);
                        ranges::cut_out(start, end, &holes, |s, e| {
                            allow_v6.push((s, e));
                        })
                    }
                };
                count_net(stats, found, pieces);
            }
            Indicator::Hash => stats.unsupported += 1,
        });
        self.stats.push(stats.clone());
        stats
    }

    fn label_id(&mut self, label: &str) -> Option<LabelId> {
        if let Some(index) = self.labels.iter().position(|known| known == label) {
            return u16::try_from(index).ok().map(LabelId);
        }
        if self.labels.len() >= MAX_LISTS {
            return None;
        }
        let id = u16::try_from(self.labels.len()).ok().map(LabelId)?;
        self.labels.push(label.to_owned());
        Some(id)
    }
}

/// The allowlisted spans as a sorted, merged table that
/// [`ranges::find`] can search; the label is unused.
fn allowed_table<A: Addr>(spans: &[(A, A)]) -> Vec<Range<A>> {
    let entries = spans
        .iter()
        .map(|&(start, end)| Range {
            start,
            end,
            label: LabelId(0),
        })
        .collect();
    ranges::build_table(entries, Vec::new())
}

fn count_net(stats: &mut ListStats, found: Indicator<'_>, pieces: usize) {
    match (pieces, found) {
        (0, _) => stats.ignored_special += 1,
        (_, Indicator::Ip(_)) => stats.ips += 1,
        _ => stats.cidrs += 1,
    }
}
