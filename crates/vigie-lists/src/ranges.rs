//! Address ranges: the sorted, disjoint tables that IP lookups binary-search,
//! how they are built from overlapping list entries, and the special-use
//! ranges that are cut out of every entry at load time.
//!
//! Addresses are plain integers (`u32` for IPv4, `u128` for IPv6) and ranges
//! are inclusive at both ends, so `0.0.0.0/0` needs no sentinel. Nothing here
//! parses text or allocates per lookup.

use super::LabelId;

/// An address as an unsigned integer, with the neighbours that range
/// arithmetic needs without overflowing at either end of the space.
pub(crate) trait Addr: Copy + Ord + std::fmt::Debug {
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

impl Addr for u32 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

impl Addr for u128 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

/// A labelled, inclusive address range. With `u32` it takes 12 bytes, which
/// keeps a million IPv4 entries around 12 MB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range<A> {
    pub start: A,
    pub end: A,
    pub label: LabelId,
}

/// IPv4 special-use blocks (RFC 6890): "this network" 0/8, RFC 1918
/// private ranges, shared CGN space 100.64/10 (RFC 6598), loopback,
/// link-local (RFC 3927), and multicast plus reserved 224/3. Sorted.
pub(crate) const SPECIAL_V4: [(u32, u32); 8] = [
    (0x0000_0000, 0x00ff_ffff),
    (0x0a00_0000, 0x0aff_ffff),
    (0x6440_0000, 0x647f_ffff),
    (0x7f00_0000, 0x7fff_ffff),
    (0xa9fe_0000, 0xa9fe_ffff),
    (0xac10_0000, 0xac1f_ffff),
    (0xc0a8_0000, 0xc0a8_ffff),
    (0xe000_0000, 0xffff_ffff),
];

/// IPv6 special-use blocks (RFC 6890): unspecified and loopback (::/127),
/// unique local fc00::/7 (RFC 4193), link-local fe80::/10 (RFC 4291) and
/// multicast ff00::/8. Sorted.
pub(crate) const SPECIAL_V6: [(u128, u128); 4] = [
    (0, 1),
    (
        0xfc00_0000_0000_0000_0000_0000_0000_0000,
        0xfdff_ffff_ffff_ffff_ffff_ffff_ffff_ffff,
    ),
    (
        0xfe80_0000_0000_0000_0000_0000_0000_0000,
        0xfebf_ffff_ffff_ffff_ffff_ffff_ffff_ffff,
    ),
    (
        0xff00_0000_0000_0000_0000_0000_0000_0000,
        0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff,
    ),
];

/// The special-use blocks of `holes` that `start..=end` covers whole. An
/// entry spanning a whole private or reserved block is a bogon filter
/// (FireHOL level1 lists 10.0.0.0/8 and 224.0.0.0/3), never an attacker, so
/// those blocks are cut out of it. A narrower entry inside such a block was
/// listed on purpose (a lab's attacker, an operator's own list) and is kept:
/// lists only ever apply to the remote side of a conversation.
pub(crate) fn covered_holes<A: Addr>(start: A, end: A, holes: &[(A, A)]) -> Vec<(A, A)> {
    holes
        .iter()
        .copied()
        .filter(|&(h_start, h_end)| start <= h_start && h_end <= end)
        .collect()
}

/// Calls `keep` with each piece of `start..=end` that lies outside the
/// sorted, disjoint `holes`; returns how many pieces there were (0 when the
/// range is entirely inside the holes).
pub(crate) fn cut_out<A: Addr>(
    start: A,
    end: A,
    holes: &[(A, A)],
    mut keep: impl FnMut(A, A),
) -> usize {
    let mut pieces = 0;
    let mut from = start;
    for &(h_start, h_end) in holes {
        if h_end < from {
            continue;
        }
        if h_start > end {
            break;
        }
        if h_start > from
            && let Some(before) = h_start.pred()
        {
            keep(from, before);
            pieces += 1;
        }
        match h_end.succ() {
            Some(next) if next <= end => from = from.max(next),
            _ => return pieces,
        }
    }
    keep(from, end);
    pieces + 1
}

/// Turns entries that may overlap into the sorted, disjoint table lookups
/// need. Where lists overlap, the list loaded first (the lower `LabelId`)
/// keeps the addresses they share and the later list keeps the rest, so a
/// lookup always answers with the first list in load order that holds the
/// address. `allowed` (any order, may overlap) is cut out of everything.
pub(crate) fn build_table<A: Addr>(
    mut entries: Vec<Range<A>>,
    allowed: Vec<(A, A)>,
) -> Vec<Range<A>> {
    entries.sort_unstable_by_key(|r| (r.label, r.start));
    let allowed = merge_spans(allowed);
    let mut table: Vec<Range<A>> = Vec::new();
    let mut rest = entries.as_slice();
    while let Some(first) = rest.first() {
        let label = first.label;
        let split = rest.partition_point(|r| r.label == label);
        let (group, tail) = rest.split_at(split);
        rest = tail;
        let spans = merge_spans(group.iter().map(|r| (r.start, r.end)).collect());
        // Addresses of this list that no earlier list and no allowlist holds.
        let mut fresh = Vec::new();
        for (start, end) in spans {
            cut_out(start, end, &allowed, |s, e| fresh.push((s, e)));
        }
        let taken: Vec<(A, A)> = table.iter().map(|r| (r.start, r.end)).collect();
        let mut added = Vec::new();
        for (start, end) in fresh {
            cut_out(start, end, &taken, |s, e| {
                added.push(Range {
                    start: s,
                    end: e,
                    label,
                });
            });
        }
        table = merge_sorted(table, added);
    }
    table.shrink_to_fit();
    table
}

/// The range holding `addr` in a table made by [`build_table`].
pub(crate) fn find<A: Addr>(table: &[Range<A>], addr: A) -> Option<LabelId> {
    let index = table.partition_point(|r| r.end < addr);
    table
        .get(index)
        .filter(|r| r.start <= addr)
        .map(|r| r.label)
}

/// Sorts spans and merges those that overlap or touch.
fn merge_spans<A: Addr>(mut spans: Vec<(A, A)>) -> Vec<(A, A)> {
    spans.sort_unstable();
    let mut merged: Vec<(A, A)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if last.1.succ().is_none_or(|next| start <= next) => {
                last.1 = last.1.max(end);
            }
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Merges two sorted tables whose ranges do not overlap each other, joining
/// neighbours that touch and carry the same label.
fn merge_sorted<A: Addr>(a: Vec<Range<A>>, b: Vec<Range<A>>) -> Vec<Range<A>> {
    if b.is_empty() {
        return a;
    }
    let mut out: Vec<Range<A>> = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.start <= y.start => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        let Some(range) = next else { break };
        match out.last_mut() {
            Some(last) if last.label == range.label && last.end.succ() == Some(range.start) => {
                last.end = range.end;
            }
            _ => out.push(range),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u32, end: u32, label: u16) -> Range<u32> {
        Range {
            start,
            end,
            label: LabelId(label),
        }
    }

    fn cut(start: u32, end: u32, holes: &[(u32, u32)]) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let n = cut_out(start, end, holes, |s, e| out.push((s, e)));
        assert_eq!(n, out.len());
        out
    }

    #[test]
    fn cut_out_splits_around_holes() {
        let holes = [(10, 19), (30, 39)];
        assert_eq!(cut(0, 50, &holes), vec![(0, 9), (20, 29), (40, 50)]);
        assert_eq!(cut(12, 15, &holes), vec![]);
        assert_eq!(cut(15, 35, &holes), vec![(20, 29)]);
        assert_eq!(cut(40, 45, &holes), vec![(40, 45)]);
        assert_eq!(cut(0, u32::MAX, &[(0, u32::MAX)]), vec![]);
        assert_eq!(cut(0, u32::MAX, &[(5, u32::MAX)]), vec![(0, 4)]);
    }

    #[test]
    fn first_list_keeps_overlapping_addresses() {
        // List 0 holds 100..=199, list 1 holds 150..=299 and 120..=130.
        let table = build_table(vec![r(150, 299, 1), r(100, 199, 0), r(120, 130, 1)], vec![]);
        assert_eq!(table, vec![r(100, 199, 0), r(200, 299, 1)]);
        assert_eq!(find(&table, 99), None);
        assert_eq!(find(&table, 150), Some(LabelId(0)));
        assert_eq!(find(&table, 250), Some(LabelId(1)));
        assert_eq!(find(&table, 300), None);
    }

    #[test]
    fn later_list_fills_gaps_inside_earlier_one() {
        let table = build_table(vec![r(0, 9, 0), r(20, 29, 0), r(0, 99, 1)], vec![]);
        assert_eq!(
            table,
            vec![r(0, 9, 0), r(10, 19, 1), r(20, 29, 0), r(30, 99, 1)]
        );
    }

    #[test]
    fn touching_entries_of_one_list_merge_and_allowed_is_cut() {
        let table = build_table(
            vec![r(0, 9, 0), r(10, 19, 0), r(5, 12, 0)],
            vec![(4, 4), (3, 5)],
        );
        assert_eq!(table, vec![r(0, 2, 0), r(6, 19, 0)]);
        assert_eq!(find(&table, 4), None);
    }

    #[test]
    fn whole_space_does_not_overflow() {
        let table = build_table(vec![r(0, u32::MAX, 0), r(7, u32::MAX, 1)], vec![]);
        assert_eq!(table, vec![r(0, u32::MAX, 0)]);
        assert_eq!(find(&table, u32::MAX), Some(LabelId(0)));
    }
}
