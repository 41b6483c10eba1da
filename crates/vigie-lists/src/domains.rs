//! Listed and allowlisted domain names, looked up by walking the suffixes
//! of a queried name at label boundaries: `evil.com` on a list matches
//! `a.evil.com` but never `notevil.com`.
//!
//! Keys are stored lowercased; a lookup lowercases the query into a stack
//! buffer, so it never allocates.

use super::LabelId;
use super::indicator::MAX_NAME_LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    Listed(LabelId),
    Allowed,
}

#[derive(Default)]
pub(crate) struct DomainSet {
    names: foldhash::HashMap<Box<[u8]>, Entry>,
    listed: usize,
}

impl DomainSet {
    /// Adds a listed name; a name already present keeps its first label,
    /// and an allowlisted name stays allowlisted.
    pub(crate) fn list(&mut self, name: &str, label: LabelId) {
        let key = name.to_ascii_lowercase().into_bytes().into_boxed_slice();
        if let std::collections::hash_map::Entry::Vacant(slot) = self.names.entry(key) {
            slot.insert(Entry::Listed(label));
            self.listed += 1;
        }
    }

    /// Allowlists a name and its subdomains, whatever lists hold them.
    pub(crate) fn allow(&mut self, name: &str) {
        let key = name.to_ascii_lowercase().into_bytes().into_boxed_slice();
        if let Some(Entry::Listed(_)) = self.names.insert(key, Entry::Allowed) {
            self.listed -= 1;
        }
    }

    /// Listed names (allowlisted ones excluded).
    pub(crate) fn len(&self) -> usize {
        self.listed
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.names.shrink_to_fit();
    }

    /// The label of the most specific listed suffix of `name` and where it
    /// starts in `name`; `None` when no suffix is listed or any suffix is
    /// allowlisted.
    pub(crate) fn lookup(&self, name: &[u8]) -> Option<(LabelId, usize)> {
        if self.listed == 0 {
            return None;
        }
        let name = name.strip_suffix(b".").unwrap_or(name);
        // A name longer than DNS allows cannot be listed whole, but its
        // tail can: start at the first label boundary that fits.
        let mut offset = name.len().saturating_sub(MAX_NAME_LEN);
        if offset > 0 {
            let tail = name.get(offset..)?;
            offset += tail.iter().position(|&b| b == b'.')?.saturating_add(1);
        }
        let tail = name.get(offset..)?;
        let mut buf = [0u8; MAX_NAME_LEN];
        let lowered = buf.get_mut(..tail.len())?;
        for (dst, src) in lowered.iter_mut().zip(tail) {
            *dst = src.to_ascii_lowercase();
        }
        let mut found = None;
        let mut start = 0;
        // Suffixes without a dot are top-level domains, which no list holds.
        while let Some(dot) = lowered.get(start..)?.iter().position(|&b| b == b'.') {
            match self.names.get(lowered.get(start..)?) {
                Some(Entry::Allowed) => return None,
                Some(&Entry::Listed(label)) if found.is_none() => {
                    found = Some((label, offset + start));
                }
                _ => {}
            }
            start += dot + 1;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVIL: LabelId = LabelId(0);
    const OTHER: LabelId = LabelId(1);

    fn set() -> DomainSet {
        let mut set = DomainSet::default();
        set.list("evil.com", EVIL);
        set.list("Deep.Sub.Evil.Com", OTHER);
        set.list("bad-cdn.net", OTHER);
        set.list("bad-cdn.net", EVIL);
        set.allow("safe.bad-cdn.net");
        set
    }

    fn check(name: &str, expected: Option<(LabelId, usize)>) {
        assert_eq!(set().lookup(name.as_bytes()), expected, "name {name:?}");
    }

    #[test]
    fn suffixes_match_at_label_boundaries() {
        check("evil.com", Some((EVIL, 0)));
        check("EVIL.COM.", Some((EVIL, 0)));
        check("a.evil.com", Some((EVIL, 2)));
        check("x.deep.sub.evil.com", Some((OTHER, 2)));
        check("sub.evil.com", Some((EVIL, 4)));
        check("notevil.com", None);
        check("evil.com.fr", None);
        check("com", None);
        check("", None);
        check(".", None);
    }

    #[test]
    fn first_label_wins_and_allowlist_overrides() {
        check("bad-cdn.net", Some((OTHER, 0)));
        check("safe.bad-cdn.net", None);
        check("www.safe.bad-cdn.net", None);
        check("unsafe.bad-cdn.net", Some((OTHER, 7)));
        assert_eq!(set().len(), 3);
    }

    #[test]
    fn overlong_names_keep_their_tail() {
        let name = format!("{}.x.evil.com", "a".repeat(300));
        assert_eq!(set().lookup(name.as_bytes()), Some((EVIL, 303)));
        let no_dot = "a".repeat(400);
        assert_eq!(set().lookup(no_dot.as_bytes()), None);
    }
}
