//! Filter mode: the box blocks. An nftables table holds two sets of remote
//! addresses (`blocked_v4`, `blocked_v6`) and drops what is forwarded from
//! or to them; the blocker adds the sources of newly opened incidents with
//! a timeout, so that the kernel itself expires them, and counts what it
//! newly blocked for the report's `blocked` field. Two more sets
//! (`territory_v4`, `territory_v6`) hold the territory list (issue 16):
//! addresses that attacked other communes, blocked before they come.
//!
//! What it must not do: block an address of the home nets, an allowlisted
//! one, or a special one (loopback, unspecified, multicast, broadcast,
//! link-local); block a resolver or a shared host because a listed *name*
//! went through it (a reputation incident only blocks a remote address
//! that is itself listed); run a shell or pass received text to `nft`.

mod ledger;
mod nft;
mod ruleset;

use std::net::IpAddr;
use std::process::ExitStatus;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigie_core::{BlockedCount, Category};
use vigie_lists::Intel;

use crate::engine::Opened;
use crate::homenet::{HomeNet, Side};
use crate::live::territory::Delta;

pub use ruleset::MAX_BLOCKED;

use ledger::Ledger;
use nft::Nft;

/// The nftables family of the blocker's table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// The box routes: the table hooks `forward` and `input` for IPv4 and
    /// IPv6.
    #[default]
    Inet,
    /// The box is a transparent bridge: the table hooks the bridge's
    /// `forward`.
    Bridge,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Bridge => "bridge",
        }
    }
}

/// How the blocker sets up its table and how long it blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterOptions {
    pub family: Family,
    /// The table's name: a letter, then letters, digits or `_`.
    pub table: String,
    /// How long a listed address stays blocked after a reputation
    /// incident; 0 never blocks one.
    pub reputation_secs: u32,
    /// How long the source of a brute-force attack stays blocked; 0 never
    /// blocks one.
    pub brute_force_secs: u32,
    /// How long the source of a scan or a sweep stays blocked; 0 never
    /// blocks one.
    pub scan_secs: u32,
    /// Network namespace whose firewall to manage (`ip netns exec NAME
    /// nft ...`); the sensor's own when `None`.
    pub netns: Option<String>,
}

impl Default for FilterOptions {
    /// A table `inet vigie` that blocks listed addresses for an hour and
    /// leaves brute force and scans alone.
    fn default() -> Self {
        FilterOptions {
            family: Family::Inet,
            table: "vigie".to_owned(),
            reputation_secs: 3600,
            brute_force_secs: 0,
            scan_secs: 0,
            netns: None,
        }
    }
}

/// What went wrong while managing the firewall.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error(
        "invalid nftables table name {0:?}: a letter, then letters, digits or '_', \
         at most 64 characters"
    )]
    TableName(String),
    #[error("invalid network namespace name {0:?}")]
    NetnsName(String),
    #[error("the nft command was not found: installez le paquet nftables")]
    NftMissing,
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("nft was not allowed to {what}: the sensor needs CAP_NET_ADMIN ({detail})")]
    Permission { what: String, detail: String },
    #[error("nft failed to {what} ({status}): {detail}")]
    Nft {
        what: String,
        status: ExitStatus,
        detail: String,
    },
    #[error("cannot read nft's answer when asked to {what}: {detail}")]
    Answer { what: String, detail: String },
}

/// The firewall side of filter mode; see the module documentation.
#[derive(Debug)]
pub struct Blocker {
    options: FilterOptions,
    home: HomeNet,
    nft: Nft,
    ledger: Ledger,
}

impl Blocker {
    /// Creates the table, its sets and chains, replacing the table a
    /// previous run left (its blocks are dropped with it).
    pub fn setup(options: FilterOptions, home: HomeNet) -> Result<Blocker, FilterError> {
        if !ruleset::valid_table_name(&options.table) {
            return Err(FilterError::TableName(options.table));
        }
        if let Some(netns) = &options.netns
            && !ruleset::valid_netns_name(netns)
        {
            return Err(FilterError::NetnsName(netns.clone()));
        }
        let nft = Nft::new(options.netns.clone());
        let what = format!(
            "create the table {} {}",
            options.family.as_str(),
            options.table
        );
        nft.apply(&what, &ruleset::setup(options.family, &options.table))?;
        Ok(Blocker {
            options,
            home,
            nft,
            ledger: Ledger::default(),
        })
    }

    /// Blocks the remote addresses of newly opened incidents (from
    /// `Engine::take_opened`) that call for it: reputation in both
    /// directions, brute force, scans and sweeps, each when its duration
    /// is not 0. One nft transaction per call. An address already blocked
    /// is refreshed, not counted again; `now` (wall clock) sets the
    /// timeouts' start and the day counted. Returns how many addresses
    /// were newly blocked; on error nothing is counted.
    pub fn consider(
        &mut self,
        opened: &[Opened],
        intel: &Intel,
        now: DateTime<Utc>,
    ) -> Result<usize, FilterError> {
        let wanted: Vec<(IpAddr, Category, u32)> = opened
            .iter()
            .filter_map(|o| self.candidate(o.category, o.remote?, intel))
            .collect();
        let plan = self.ledger.plan(wanted, now);
        if !plan.entries.is_empty() {
            let what = format!("block {} addresses", plan.entries.len());
            let script = ruleset::block(self.options.family, &self.options.table, &plan.entries);
            self.nft.apply(&what, &script)?;
        }
        Ok(self.ledger.commit(plan, now))
    }

    /// After new lists were swapped in: lifts the blocks the lists no
    /// longer justify — an address now allowlisted, or blocked for
    /// reputation alone and no longer listed. Returns how many were lifted.
    pub fn reconcile(&mut self, intel: &Intel) -> Result<usize, FilterError> {
        let lift = self.ledger.to_lift(|ip, reasons| {
            !intel.is_allowlisted(ip)
                && (intel.lookup_ip(ip).is_some()
                    || reasons.iter().any(|r| *r != Category::Reputation))
        });
        if lift.is_empty() {
            return Ok(0);
        }
        let what = format!("lift {} blocks", lift.len());
        let script = ruleset::unblock(self.options.family, &self.options.table, &lift);
        self.nft.apply(&what, &script)?;
        self.ledger.forget(&lift);
        Ok(lift.len())
    }

    /// Applies a territory list update (issue 16): its addresses are
    /// blocked in the territory sets before they reach this commune,
    /// except home-net, allowlisted, special and link-local ones. One nft
    /// transaction. Returns how many addresses were (re)blocked.
    pub fn territory(&mut self, delta: &Delta, intel: &Intel) -> Result<usize, FilterError> {
        let block: Vec<(IpAddr, Option<u32>)> = delta
            .block
            .iter()
            .copied()
            .filter(|(ip, _)| self.blockable(*ip, intel))
            .take(MAX_BLOCKED)
            .collect();
        let script = ruleset::territory(
            self.options.family,
            &self.options.table,
            delta.reset,
            &block,
            &delta.lift,
        );
        if !script.is_empty() {
            let what = format!("apply the territory list ({} addresses)", block.len());
            self.nft.apply(&what, &script)?;
        }
        Ok(block.len())
    }

    /// The addresses newly blocked since the previous call, per
    /// Europe/Paris day and category: the next batch's `blocked` field.
    pub fn take_blocked_counts(&mut self) -> Vec<BlockedCount> {
        self.ledger.take_counts()
    }

    /// How many addresses the kernel's sets hold right now.
    pub fn blocked_now(&self) -> Result<u64, FilterError> {
        let family = self.options.family.as_str();
        let mut total = 0;
        for set in ["blocked_v4", "blocked_v6"] {
            total += self.nft.count_elements(family, &self.options.table, set)?;
        }
        Ok(total)
    }

    /// Addresses left unblocked so far because the sets held
    /// [`MAX_BLOCKED`] addresses already.
    pub fn skipped_full(&self) -> u64 {
        self.ledger.skipped_full()
    }

    /// Deletes the table, lifting every block.
    pub fn teardown(&self) -> Result<(), FilterError> {
        let what = format!(
            "delete the table {} {}",
            self.options.family.as_str(),
            self.options.table
        );
        self.nft.apply(
            &what,
            &ruleset::teardown(self.options.family, &self.options.table),
        )
    }

    pub fn options(&self) -> &FilterOptions {
        &self.options
    }

    /// The address to block for one incident and for how long, if any.
    fn candidate(
        &self,
        category: Category,
        remote: IpAddr,
        intel: &Intel,
    ) -> Option<(IpAddr, Category, u32)> {
        let secs = match category {
            // Only an address that is itself listed: a listed name seen
            // through a resolver or a shared host must not cut them.
            Category::Reputation if intel.lookup_ip(remote).is_some() => {
                self.options.reputation_secs
            }
            Category::BruteForce => self.options.brute_force_secs,
            Category::Scan | Category::Sweep => self.options.scan_secs,
            // Floods may come from spoofed sources; web exploits and DNS
            // patterns are reported, not blocked.
            _ => 0,
        };
        let ip = remote.to_canonical();
        (secs > 0 && self.blockable(ip, intel)).then_some((ip, category, secs))
    }

    /// Whether the filter may ever block `ip`: outside the home nets, not
    /// link-local, not allowlisted.
    fn blockable(&self, ip: IpAddr, intel: &Intel) -> bool {
        let ip = ip.to_canonical();
        self.home.side(ip) == Side::External && !is_link_local(ip) && !intel.is_allowlisted(ip)
    }
}

/// Link-local addresses are the box's own neighbours, never a remote
/// attacker, even when the home nets leave them out.
fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_unicast_link_local(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// A blocker that never ran nft, to test its choices.
    fn blocker(options: FilterOptions) -> Blocker {
        let home = HomeNet::new(vec!["10.66.2.0/24".parse().unwrap()]);
        Blocker {
            nft: Nft::new(None),
            options,
            home,
            ledger: Ledger::default(),
        }
    }

    fn intel() -> Intel {
        let mut builder = Intel::builder();
        builder.add_list("c2", "203.0.113.0/24\n10.66.2.9\n2001:db8::/32\n");
        builder.add_allowlist("203.0.113.53\n");
        builder.build()
    }

    #[test]
    fn chooses_what_to_block_and_for_how_long() {
        let options = FilterOptions {
            brute_force_secs: 600,
            ..FilterOptions::default()
        };
        let blocker = blocker(options);
        let intel = intel();
        let check = |category, remote: &str, expected: Option<u32>| {
            let got = blocker.candidate(category, ip(remote), &intel);
            assert_eq!(
                got.map(|(_, _, secs)| secs),
                expected,
                "{category:?} {remote}"
            );
        };
        check(Category::Reputation, "203.0.113.5", Some(3600));
        check(Category::Reputation, "::ffff:203.0.113.5", Some(3600));
        check(Category::Reputation, "2001:db8::5", Some(3600));
        // A listed name seen through an unlisted resolver.
        check(Category::Reputation, "198.51.100.53", None);
        check(Category::Reputation, "203.0.113.53", None);
        check(Category::BruteForce, "198.51.100.7", Some(600));
        check(Category::BruteForce, "203.0.113.53", None);
        check(Category::Scan, "198.51.100.7", None);
        check(Category::Flood, "203.0.113.5", None);
        check(Category::WebExploit, "203.0.113.5", None);
        // Home, special and link-local addresses, even listed ones.
        check(Category::Reputation, "10.66.2.9", None);
        check(Category::BruteForce, "10.66.2.10", None);
        check(Category::BruteForce, "127.0.0.1", None);
        check(Category::BruteForce, "0.0.0.0", None);
        check(Category::BruteForce, "255.255.255.255", None);
        check(Category::BruteForce, "224.0.0.251", None);
        check(Category::BruteForce, "ff02::1", None);
        check(Category::BruteForce, "169.254.1.1", None);
        check(Category::BruteForce, "fe80::1", None);
        assert_eq!(
            blocker.candidate(Category::Reputation, ip("::ffff:203.0.113.5"), &intel),
            Some((ip("203.0.113.5"), Category::Reputation, 3600))
        );
    }

    #[test]
    fn scans_and_sweeps_share_one_duration() {
        let blocker = blocker(FilterOptions {
            scan_secs: 120,
            ..FilterOptions::default()
        });
        let intel = Intel::empty();
        for category in [Category::Scan, Category::Sweep] {
            let got = blocker.candidate(category, ip("198.51.100.7"), &intel);
            assert_eq!(got, Some((ip("198.51.100.7"), category, 120)));
        }
    }

    #[test]
    fn bad_names_are_refused_before_running_anything() {
        let home = HomeNet::default();
        let err = Blocker::setup(
            FilterOptions {
                table: "vigie; flush ruleset".to_owned(),
                ..FilterOptions::default()
            },
            home.clone(),
        )
        .unwrap_err();
        assert!(matches!(err, FilterError::TableName(_)), "{err}");
        let err = Blocker::setup(
            FilterOptions {
                netns: Some("-n".to_owned()),
                ..FilterOptions::default()
            },
            home,
        )
        .unwrap_err();
        assert!(matches!(err, FilterError::NetnsName(_)), "{err}");
    }

    #[test]
    fn family_reads_from_config() {
        #[derive(Deserialize)]
        struct Wrapper {
            family: Family,
        }
        let parsed: Wrapper = toml::from_str("family = \"bridge\"").unwrap();
        assert_eq!(parsed.family, Family::Bridge);
    }
}
