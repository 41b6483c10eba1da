//! Discovery of the live hosts, without privileges: waves of TCP connects
//! to a few common ports (an accepted or refused connection means a live
//! host), and the kernel's neighbour table (`/proc/net/arp`): a host on the
//! same link that answered the kernel's ARP request is alive even if its
//! firewall drops every connection, and one that did not answer is not
//! there, so the next waves skip it.
//!
//! First, if the system allows an unprivileged ping socket, one ICMP echo
//! request per address ([`super::icmp`]); hosts that answer skip the waves.
//!
//! What it must not do: contact an address the scope did not admit (it
//! only gets [`Allowed`] ones), or connect faster than the [`Pacer`].

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use super::Settings;
use super::icmp::Pinger;
use super::pacing::Pacer;
use super::progress::{Progress, Stage};
use super::tcp::{self, PortState};
use crate::scope::Allowed;

/// The kernel's IPv4 neighbour table.
pub const ARP_TABLE: &str = "/proc/net/arp";

/// `ATF_COM` (linux/if_arp.h): the entry is complete, the host answered.
const ATF_COM: u32 = 0x02;

/// What the neighbour table says of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Neighbour {
    /// It answered ARP: alive.
    Answered,
    /// The kernel asked and got no answer (yet): not on the link.
    Silent,
}

/// The live hosts among `addresses`, in order: those that answer ICMP
/// echo (if the system allows a ping socket), then waves of connections.
pub async fn live_hosts(
    addresses: &[Allowed],
    settings: &Settings,
    pacer: &Pacer,
    progress: &Progress,
) -> Vec<Allowed> {
    progress.add(Stage::Hosts, addresses.len() as u64);
    let mut alive = BTreeSet::new();
    let mut pending = addresses.to_vec();
    if let Some(pinger) = settings.icmp.then(Pinger::open).flatten() {
        let answered = pinger
            .sweep(addresses, pacer, settings.connect_timeout)
            .await;
        pending.retain(|addr| {
            let up = answered.contains(&addr.addr());
            if up {
                alive.insert(*addr);
                progress.done(Stage::Hosts);
            }
            !up
        });
    }
    let wait = settings.connect_timeout;
    for &port in &settings.ports.discovery {
        if pending.is_empty() {
            break;
        }
        let answers = pacer
            .each(pending, |addr| async move {
                Some((addr, tcp::connect(addr, port, wait).await))
            })
            .await;
        let table = if settings.neighbours {
            read_neighbours()
        } else {
            HashMap::new()
        };
        pending = Vec::new();
        for (addr, state) in answers {
            let neighbour = table.get(&addr.addr()).copied();
            if state.alive() || neighbour == Some(Neighbour::Answered) {
                alive.insert(addr);
                progress.done(Stage::Hosts);
            } else if state == PortState::Unreachable || neighbour == Some(Neighbour::Silent) {
                progress.done(Stage::Hosts);
            } else {
                pending.push(addr);
            }
        }
        pending.sort();
        tracing::debug!(
            port,
            alive = alive.len(),
            pending = pending.len(),
            "discovery wave"
        );
    }
    pending.iter().for_each(|_| progress.done(Stage::Hosts));
    alive.into_iter().collect()
}

/// The neighbour table, or nothing if it cannot be read (not Linux).
pub fn read_neighbours() -> HashMap<IpAddr, Neighbour> {
    match std::fs::read_to_string(ARP_TABLE) {
        Ok(text) => parse_arp(&text)
            .into_iter()
            .map(|(ip, state)| (IpAddr::V4(ip), state))
            .collect(),
        Err(error) => {
            tracing::debug!(%error, "no neighbour table");
            HashMap::new()
        }
    }
}

/// Parses `/proc/net/arp`: a header line, then "IP address, HW type,
/// Flags, HW address, Mask, Device" columns; malformed lines are skipped.
pub fn parse_arp(text: &str) -> Vec<(Ipv4Addr, Neighbour)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut columns = line.split_whitespace();
            let ip: Ipv4Addr = columns.next()?.parse().ok()?;
            let flags = columns.nth(1)?;
            let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
            let state = if flags & ATF_COM != 0 {
                Neighbour::Answered
            } else {
                Neighbour::Silent
            };
            Some((ip, state))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
IP address       HW type     Flags       HW address            Mask     Device
192.168.1.1      0x1         0x2         aa:bb:cc:dd:ee:01     *        eth0
192.168.1.77     0x1         0x0         00:00:00:00:00:00     *        eth0
192.168.1.9      0x1         0x6         aa:bb:cc:dd:ee:09     *        eth0
garbage
300.1.1.1        0x1         0x2         aa:bb:cc:dd:ee:01     *        eth0
192.168.1.8      0x1
";

    #[test]
    fn neighbour_table() {
        let parsed = parse_arp(TABLE);
        assert_eq!(
            parsed,
            [
                (Ipv4Addr::new(192, 168, 1, 1), Neighbour::Answered),
                (Ipv4Addr::new(192, 168, 1, 77), Neighbour::Silent),
                (Ipv4Addr::new(192, 168, 1, 9), Neighbour::Answered),
            ]
        );
        assert!(parse_arp("").is_empty());
    }
}
