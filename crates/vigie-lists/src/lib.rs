//! Threat-list parsing: lists of known-bad addresses, blocks and domains
//! (FireHOL, Spamhaus DROP, abuse.ch feeds, Tor exits, the Département's
//! own lists) and allowlists, loaded from a directory and looked up for
//! every external address and every name seen on the wire.
//!
//! Its own crate so that the two sides read a list the same way without
//! linking each other: the sensor builds its lookup tables with it, the
//! observatory validates and counts what an administrator uploads or
//! fetches.
//!
//! Each file's name without extension is its label, shown in incidents
//! (`firehol_level1`, `feodo_botnet_c2`...). Whether a file is a threat
//! list or an allowlist (what it holds is never reported) is said by its
//! provider, its header line (`# vigie-list: allow`) or, for files without
//! one, a name starting with `allowlist`; a file named like an allowlist
//! but not one is left out with a warning ([`kind`]).
//!
//! What it must not do: fail a start because of a bad line (bad lines are
//! counted and quoted in [`ListStats`]), take a bogon entry covering a
//! whole special-use block (private, loopback, link-local, multicast) for
//! an attacker (a narrower entry inside one was listed on purpose and is
//! kept; lists only apply to the remote side anyway), or allocate
//! during a lookup. Overlaps between lists resolve to the list loaded first
//! (files are loaded in name order).

mod builder;
mod csv;
mod domains;
mod indicator;
pub mod kind;
mod list;
mod ranges;
mod stats;

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use builder::{IntelBuilder, MAX_LISTS};
pub use kind::{Kind, KindWarning};
pub use stats::{LineProblem, ListStats, LoadStats, MAX_PROBLEMS};

use domains::DomainSet;
use ranges::Range;

/// Which list an indicator came from; [`Intel::label`] gives its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelId(u16);

/// Loading a directory of lists failed: only unreadable files or
/// directories do that, never their content.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("cannot read the threat-list directory {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the threat list {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "too many threat lists in {} ({count}; at most {MAX_LISTS})",
        dir.display()
    )]
    TooManyLists { dir: PathBuf, count: usize },
}

/// The loaded lists, immutable once built, shared by every detector.
pub struct Intel {
    labels: Vec<String>,
    v4: Vec<Range<u32>>,
    v6: Vec<Range<u128>>,
    /// Allowlisted address ranges, kept for [`Intel::is_allowlisted`].
    allowed_v4: Vec<Range<u32>>,
    allowed_v6: Vec<Range<u128>>,
    domains: DomainSet,
    stats: Vec<ListStats>,
    kind_warnings: Vec<KindWarning>,
}

impl Intel {
    /// No list at all: every lookup answers `None`.
    pub fn empty() -> Intel {
        IntelBuilder::default().build()
    }

    pub fn builder() -> IntelBuilder {
        IntelBuilder::default()
    }

    /// Loads every regular file of `dir`, in file-name order; hidden files
    /// and subdirectories are ignored. Only an unreadable directory or file
    /// is an error; bad lines are reported by [`Intel::stats`], files left
    /// out or doubtful by [`Intel::kind_warnings`]. Each file's kind comes
    /// from its header or its name ([`kind::decide`]).
    pub fn load_dir(dir: &Path) -> Result<Intel, IntelError> {
        Self::load_dir_as(dir, |_| None)
    }

    /// [`load_dir`](Self::load_dir) where `stated` gives the kind its
    /// provider says a label has (the observatory's manifest), which wins
    /// over the file's header and name.
    pub fn load_dir_as(
        dir: &Path,
        stated: impl Fn(&str) -> Option<Kind>,
    ) -> Result<Intel, IntelError> {
        let read_dir = |source| IntelError::ReadDir {
            dir: dir.to_owned(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).map_err(read_dir)? {
            let path = entry.map_err(read_dir)?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            // `is_file` follows symbolic links, so linked lists load too.
            if !name.starts_with('.') && path.is_file() {
                files.push(path);
            }
        }
        if files.len() > MAX_LISTS {
            return Err(IntelError::TooManyLists {
                dir: dir.to_owned(),
                count: files.len(),
            });
        }
        files.sort();
        let mut builder = Intel::builder();
        for path in files {
            let bytes = fs::read(&path).map_err(|source| IntelError::ReadFile {
                path: path.clone(),
                source,
            })?;
            let text = String::from_utf8_lossy(&bytes);
            let label = path.file_stem().unwrap_or_default().to_string_lossy();
            match kind::decide(&label, &text, stated(&label)) {
                Ok((kind, warning)) => {
                    if let Some(warning) = warning {
                        builder.warn(warning);
                    }
                    match kind {
                        Kind::Allow => builder.add_named_allowlist(&label, &text),
                        Kind::Threat => builder.add_list(&label, &text),
                    };
                }
                Err(warning) => builder.warn(warning),
            }
        }
        Ok(builder.build())
    }

    /// The list holding `ip`, if any and if no allowlist holds it.
    /// IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<LabelId> {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ranges::find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => ranges::find(&self.v6, u128::from(v6)),
        }
    }

    /// True when an allowlist holds `ip`, whether or not a list does; the
    /// filter never blocks such an address. As for lists, an allowlist
    /// entry covering a whole special-use block (10.0.0.0/8...) is left
    /// out; a narrower one inside it counts. IPv4-mapped IPv6 addresses are
    /// looked up as IPv4.
    pub fn is_allowlisted(&self, ip: IpAddr) -> bool {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ranges::find(&self.allowed_v4, u32::from(v4)).is_some(),
            IpAddr::V6(v6) => ranges::find(&self.allowed_v6, u128::from(v6)).is_some(),
        }
    }

    /// The list holding `name` or one of its parent domains, with the byte
    /// offset in `name` where the listed domain starts (`a.evil.com` on
    /// `evil.com` gives 2), so that only the listed part is reported. The
    /// most specific listed domain wins. `None` when not listed or when the
    /// name or a parent is allowlisted. Case and a trailing dot are ignored.
    pub fn lookup_domain(&self, name: &[u8]) -> Option<(LabelId, usize)> {
        self.domains.lookup(name)
    }

    /// The label of a list, as its file name without extension.
    pub fn label(&self, id: LabelId) -> &str {
        self.labels
            .get(usize::from(id.0))
            .map_or("unknown", String::as_str)
    }

    /// What each file (or builder call) loaded, in load order, allowlists
    /// included.
    pub fn stats(&self) -> &[ListStats] {
        &self.stats
    }

    /// What the operator must hear about the files' kinds: files left out
    /// because their name looks like an allowlist's without a header
    /// saying so, header and provider disagreeing. French, for the log.
    pub fn kind_warnings(&self) -> &[KindWarning] {
        &self.kind_warnings
    }

    /// True when nothing is listed: lookups can be skipped.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Listed entries once loaded: address ranges after merging and
    /// allowlisting, plus listed domains.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len() + self.domains.len()
    }
}

impl std::fmt::Debug for Intel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intel")
            .field("labels", &self.labels)
            .field("v4_ranges", &self.v4.len())
            .field("v6_ranges", &self.v6.len())
            .field("domains", &self.domains.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
