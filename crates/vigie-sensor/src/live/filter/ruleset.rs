//! The nftables scripts the filter feeds to `nft -f -`: the table with its
//! two sets and its dropping chains, element batches and the table's
//! removal.
//!
//! What it must not do: put text it did not check into a script. Names
//! come from the configuration and are validated here; addresses are
//! formatted from `IpAddr`, never copied from received bytes.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::Family;

/// Most addresses a set holds. The sets are declared with this size so
/// that a flood of attackers cannot grow kernel memory without end; the
/// blocker stops adding before it is reached, as a full set would make
/// the kernel refuse the whole batch.
pub const MAX_BLOCKED: usize = 65_536;

/// Longest table name accepted: nftables' own limit (NFT_TABLE_MAXNAMELEN
/// is 256) is far above anything an operator needs.
const MAX_TABLE_NAME: usize = 64;

/// Longest network namespace name: a file name under /run/netns.
const MAX_NETNS_NAME: usize = 255;

/// True for a table name nft takes unquoted: a letter then letters, digits
/// and underscores.
pub fn valid_table_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_TABLE_NAME
}

/// True for a network namespace name `ip netns` accepts and that cannot be
/// taken for an option.
pub fn valid_netns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NETNS_NAME
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The script that creates the table from scratch, replacing one a
/// previous run left: declaring then deleting it first makes the deletion
/// succeed whether or not it existed, all in one atomic transaction.
pub fn setup(family: Family, table: &str) -> String {
    let name = family.as_str();
    let mut script = format!(
        "table {name} {table} {{}}\n\
         delete table {name} {table}\n\
         table {name} {table} {{\n\
         \tset blocked_v4 {{ type ipv4_addr; size {MAX_BLOCKED}; flags timeout; }}\n\
         \tset blocked_v6 {{ type ipv6_addr; size {MAX_BLOCKED}; flags timeout; }}\n\
         \tset territory_v4 {{ type ipv4_addr; size {MAX_BLOCKED}; flags timeout; }}\n\
         \tset territory_v6 {{ type ipv6_addr; size {MAX_BLOCKED}; flags timeout; }}\n"
    );
    // Forwarded traffic is cut both ways: an attacker knocking and a
    // commune machine calling a listed command-and-control server.
    script.push_str(&chain(
        "forward",
        &["ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr"],
    ));
    if family == Family::Inet {
        // On a router, the box itself is a target too; what enters it can
        // only be addressed to it, so the source is what matters.
        script.push_str(&chain("input", &["ip saddr", "ip6 saddr"]));
    }
    script.push_str("}\n");
    script
}

/// The script that removes the table and everything it holds.
pub fn teardown(family: Family, table: &str) -> String {
    format!("delete table {} {table}\n", family.as_str())
}

/// The script that blocks each address for its number of seconds. An
/// address already in a set keeps its old timeout on a plain `add`, so
/// each is added (a no-op when present), deleted, then added again with
/// its fresh timeout, in one transaction: the block never lapses and the
/// script succeeds whether or not the kernel still held the address.
/// Addresses must be distinct. Empty when there is nothing to block.
pub fn block(family: Family, table: &str, entries: &[(IpAddr, u32)]) -> String {
    let family = family.as_str();
    let mut script = String::new();
    for (set, v4) in [("blocked_v4", true), ("blocked_v6", false)] {
        let of_set: Vec<(IpAddr, u32)> = entries
            .iter()
            .copied()
            .filter(|(ip, _)| ip.is_ipv4() == v4)
            .collect();
        if of_set.is_empty() {
            continue;
        }
        let timed = elements(&of_set, true);
        let bare = elements(&of_set, false);
        let target = format!("element {family} {table} {set}");
        // Writing to a String cannot fail.
        let _ = write!(
            script,
            "add {target} {{ {timed} }}\ndelete {target} {{ {bare} }}\nadd {target} {{ {timed} }}\n"
        );
    }
    script
}

/// The script that lifts the blocks of `addresses`: each is added first (a
/// no-op when present) so the delete succeeds even if the kernel has just
/// expired it. Empty when there is nothing to lift.
pub fn unblock(family: Family, table: &str, addresses: &[IpAddr]) -> String {
    let family = family.as_str();
    let mut script = String::new();
    for (set, v4) in [("blocked_v4", true), ("blocked_v6", false)] {
        let of_set: Vec<(IpAddr, u32)> = addresses
            .iter()
            .filter(|ip| ip.is_ipv4() == v4)
            .map(|ip| (*ip, 1))
            .collect();
        if of_set.is_empty() {
            continue;
        }
        let target = format!("element {family} {table} {set}");
        let _ = write!(
            script,
            "add {target} {{ {} }}\ndelete {target} {{ {} }}\n",
            elements(&of_set, true),
            elements(&of_set, false)
        );
    }
    script
}

/// The script that applies a territory list update: every territory block
/// forgotten first when `reset`, then `block` (re)blocked, each with its
/// timeout or none (until lifted), then `lift` lifted, in the sets
/// `territory_v4` and `territory_v6`. Empty when there is nothing to do.
pub fn territory(
    family: Family,
    table: &str,
    reset: bool,
    block: &[(IpAddr, Option<u32>)],
    lift: &[IpAddr],
) -> String {
    let family = family.as_str();
    let mut script = String::new();
    for (set, v4) in [("territory_v4", true), ("territory_v6", false)] {
        let target = format!("element {family} {table} {set}");
        if reset {
            let _ = writeln!(script, "flush set {family} {table} {set}");
        }
        let of_set = |ip: &IpAddr| ip.is_ipv4() == v4;
        let timed: Vec<String> = block
            .iter()
            .filter(|(ip, _)| of_set(ip))
            .map(|(ip, secs)| match secs {
                Some(secs) => format!("{ip} timeout {}s", (*secs).max(1)),
                None => ip.to_string(),
            })
            .collect();
        let bare: Vec<String> = block
            .iter()
            .map(|(ip, _)| ip)
            .chain(lift)
            .filter(|ip| of_set(ip))
            .map(IpAddr::to_string)
            .collect();
        if bare.is_empty() {
            continue;
        }
        // Add (a no-op when present) then delete, so that the delete
        // succeeds, then add again with the fresh timeout.
        let lifted: Vec<String> = lift
            .iter()
            .filter(|ip| of_set(ip))
            .map(|ip| format!("{ip} timeout 1s"))
            .collect();
        let all_added: Vec<String> = timed.iter().chain(&lifted).cloned().collect();
        let _ = writeln!(script, "add {target} {{ {} }}", all_added.join(", "));
        let _ = writeln!(script, "delete {target} {{ {} }}", bare.join(", "));
        if !timed.is_empty() {
            let _ = writeln!(script, "add {target} {{ {} }}", timed.join(", "));
        }
    }
    script
}

fn chain(hook: &str, matches: &[&str]) -> String {
    let mut text =
        format!("\tchain {hook} {{\n\t\ttype filter hook {hook} priority filter; policy accept;\n");
    for selector in matches {
        let v = if selector.starts_with("ip6") {
            "v6"
        } else {
            "v4"
        };
        let _ = writeln!(text, "\t\t{selector} @blocked_{v} drop");
        // The territory list (issue 16): addresses that attacked other
        // communes, in sets of their own so that a local block's shorter
        // timeout never shortens theirs.
        let _ = writeln!(text, "\t\t{selector} @territory_{v} drop");
    }
    text.push_str("\t}\n");
    text
}

fn elements(entries: &[(IpAddr, u32)], with_timeout: bool) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(ip, secs)| {
            if with_timeout {
                format!("{ip} timeout {secs}s")
            } else {
                ip.to_string()
            }
        })
        .collect();
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn names_that_could_change_a_script_are_refused() {
        for good in ["vigie", "vigie_filter", "t2"] {
            assert!(valid_table_name(good), "{good}");
        }
        for bad in [
            "",
            "2t",
            "vigie filter",
            "v;flush ruleset",
            "v}",
            &"a".repeat(65),
        ] {
            assert!(!valid_table_name(bad), "{bad}");
        }
        for good in ["lan", "vigie-router.1", "ns_2"] {
            assert!(valid_netns_name(good), "{good}");
        }
        for bad in ["", "-x", ".", "..", "a/b", "a b"] {
            assert!(!valid_netns_name(bad), "{bad}");
        }
    }

    #[test]
    fn inet_table_hooks_forward_and_input() {
        let script = setup(Family::Inet, "vigie");
        assert!(script.starts_with("table inet vigie {}\ndelete table inet vigie\n"));
        assert!(script.contains("set blocked_v4 { type ipv4_addr; size 65536; flags timeout; }"));
        assert!(script.contains("type filter hook forward priority filter; policy accept;"));
        assert!(script.contains("type filter hook input priority filter; policy accept;"));
        assert_eq!(script.matches("ip daddr @blocked_v4 drop").count(), 1);
        assert_eq!(script.matches("ip6 saddr @blocked_v6 drop").count(), 2);
    }

    #[test]
    fn bridge_table_hooks_forward_only() {
        let script = setup(Family::Bridge, "vigie");
        assert!(script.contains("table bridge vigie {\n"));
        assert!(script.contains("hook forward"));
        assert!(!script.contains("hook input"));
        assert_eq!(teardown(Family::Bridge, "v"), "delete table bridge v\n");
    }

    #[test]
    fn block_adds_deletes_and_re_adds_per_family() {
        let entries = [
            (ip("203.0.113.5"), 60),
            (ip("2001:db8::7"), 120),
            (ip("198.51.100.1"), 2),
        ];
        let script = block(Family::Inet, "vigie", &entries);
        let v4 = "element inet vigie blocked_v4";
        let v6 = "element inet vigie blocked_v6";
        let timed4 = "{ 203.0.113.5 timeout 60s, 198.51.100.1 timeout 2s }";
        let expected = format!(
            "add {v4} {timed4}\ndelete {v4} {{ 203.0.113.5, 198.51.100.1 }}\nadd {v4} {timed4}\n\
             add {v6} {{ 2001:db8::7 timeout 120s }}\ndelete {v6} {{ 2001:db8::7 }}\n\
             add {v6} {{ 2001:db8::7 timeout 120s }}\n"
        );
        assert_eq!(script, expected);
        assert_eq!(block(Family::Inet, "vigie", &[]), "");
    }

    #[test]
    fn unblock_adds_then_deletes_so_it_never_fails_on_an_expired_entry() {
        let script = unblock(
            Family::Bridge,
            "vigie",
            &[ip("203.0.113.5"), ip("2001:db8::7")],
        );
        assert_eq!(
            script,
            "add element bridge vigie blocked_v4 { 203.0.113.5 timeout 1s }\n\
             delete element bridge vigie blocked_v4 { 203.0.113.5 }\n\
             add element bridge vigie blocked_v6 { 2001:db8::7 timeout 1s }\n\
             delete element bridge vigie blocked_v6 { 2001:db8::7 }\n"
        );
        assert_eq!(unblock(Family::Inet, "vigie", &[]), "");
    }
}
