#![allow(clippy::unwrap_used)]
//! Filter mode against the real kernel: a lab of network namespaces (an
//! outside with several addresses, a router or a bridge, a commune LAN
//! with a TCP listener) that each test creates and removes. The blocker
//! manages the router's firewall through `ip netns exec`.
//!
//! Needs root (namespaces, nftables) and the `nft`, `ip` and `python3`
//! commands; skips with a message otherwise.

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;
use vigie_core::{BlockedCount, Category, Direction};
use vigie_lists::Intel;
use vigie_sensor::engine::Opened;
use vigie_sensor::homenet::HomeNet;
use vigie_sensor::live::filter::{Blocker, Family, FilterOptions};

/// Outside addresses: on a list, not listed, listed but allowlisted.
const LISTED: &str = "10.66.1.2";
const CLEAN: &str = "10.66.1.3";
const ALLOWED: &str = "10.66.1.4";
/// A scanner that needs no interface: it is only ever named to the blocker.
const SCANNER: &str = "10.66.1.5";
/// The commune machine listening in the LAN.
const SERVER: &str = "10.66.2.2";
const PORT: &str = "8080";

/// Accepts connections and answers `ok`; gives up after five minutes so
/// that even a killed test leaves no process behind for long.
const LISTENER: &str = "import signal, socket\nsignal.alarm(300)\n\
    s = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
    s.bind(('0.0.0.0', 8080))\ns.listen(16)\nwhile True:\n    c, _ = s.accept()\n\
    \x20   c.sendall(b'ok')\n    c.close()\n";

/// Connects from `argv[1]` to `argv[2]:argv[3]`, one second at most.
const CLIENT: &str = "import socket, sys\n\
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=1.0, \
    source_address=(sys.argv[1], 0))\nsys.exit(0 if s.recv(2) == b'ok' else 1)\n";

fn skip_unless_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return false;
    }
    println!("skipping {test}: it needs root to create network namespaces and nftables tables");
    true
}

fn run(args: &[&str]) {
    let output = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[derive(Clone, Copy, PartialEq)]
enum Topology {
    /// The middle namespace routes between 10.66.1.0/24 and 10.66.2.0/24.
    Routed,
    /// The middle namespace bridges one 10.66.0.0/16 segment.
    Bridged,
}

/// The namespaces of one test, removed on drop, even after a failure.
struct Lab {
    outside: String,
    router: String,
    lan: String,
    listener: Option<Child>,
}

impl Lab {
    /// Builds the lab; if a step fails, dropping the half-built lab
    /// removes what was made.
    fn new(tag: &str, topology: Topology) -> Lab {
        let name = |role: &str| format!("vigie-filter-{}-{tag}-{role}", std::process::id());
        let mut lab = Lab {
            outside: name("out"),
            router: name("mid"),
            lan: name("lan"),
            listener: None,
        };
        let (outside, router, lan) = (&lab.outside, &lab.router, &lab.lan);
        for ns in [outside, router, lan] {
            run(&["ip", "netns", "add", ns]);
            lab.exec(ns, "ip link set lo up");
        }
        // veth ends are created straight into their namespaces: their
        // names never meet those of the host or of a parallel test.
        for (end, ns, peer) in [("o0", outside, "r0"), ("l0", lan, "r1")] {
            run(&[
                "ip", "link", "add", end, "netns", ns, "type", "veth", "peer", "name", peer,
                "netns", router,
            ]);
        }
        let prefix = if topology == Topology::Routed { 24 } else { 16 };
        for addr in [LISTED, CLEAN, ALLOWED] {
            lab.exec(outside, &format!("ip addr add {addr}/{prefix} dev o0"));
        }
        lab.exec(lan, &format!("ip addr add {SERVER}/{prefix} dev l0"));
        for (ns, dev) in [(outside, "o0"), (lan, "l0"), (router, "r0"), (router, "r1")] {
            lab.exec(ns, &format!("ip link set {dev} up"));
        }
        match topology {
            Topology::Routed => {
                lab.exec(router, "ip addr add 10.66.1.1/24 dev r0");
                lab.exec(router, "ip addr add 10.66.2.1/24 dev r1");
                lab.exec(router, "sysctl -qw net.ipv4.ip_forward=1");
                // Routes within the lab only: nothing leads out of it.
                lab.exec(outside, "ip route add 10.66.2.0/24 via 10.66.1.1");
                lab.exec(lan, "ip route add 10.66.1.0/24 via 10.66.2.1");
            }
            Topology::Bridged => {
                lab.exec(router, "ip link add br0 type bridge");
                lab.exec(router, "ip link set r0 master br0");
                lab.exec(router, "ip link set r1 master br0");
                lab.exec(router, "ip link set br0 up");
            }
        }
        let listener = Command::new("ip")
            .args(["netns", "exec", lan, "python3", "-c", LISTENER])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        lab.listener = Some(listener);
        lab
    }

    /// Runs a fixed command (words split on spaces) inside `ns`.
    fn exec(&self, ns: &str, command: &str) {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend(command.split_whitespace());
        run(&full);
    }

    /// One connection attempt from an outside address to the listener.
    fn connects(&self, from: &str) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &self.outside, "python3", "-c", CLIENT])
            .args([from, SERVER, PORT])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    /// Connects within a few seconds: time for the listener to start and
    /// for neighbour discovery.
    fn eventually_connects(&self, from: &str) -> bool {
        (0..20).any(|_| {
            let ok = self.connects(from);
            if !ok {
                sleep(Duration::from_millis(250));
            }
            ok
        })
    }

    /// Two attempts in a row fail (each waits one second).
    fn is_cut(&self, from: &str) -> bool {
        !self.connects(from) && !self.connects(from)
    }

    /// The addresses in the router's `blocked_v4` set.
    fn blocked_v4(&self, family: Family, table: &str) -> Vec<String> {
        let output = Command::new("ip")
            .args(["netns", "exec", &self.router, "nft", "-j", "list", "set"])
            .args([family.as_str(), table, "blocked_v4"])
            .output()
            .unwrap();
        assert!(output.status.success());
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        let set = json["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|item| item.get("set"))
            .unwrap();
        let mut found: Vec<String> = set["elem"]
            .as_array()
            .map(|elems| {
                elems
                    .iter()
                    .map(|e| e["elem"]["val"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut listener) = self.listener.take() {
            let _ = listener.kill();
            let _ = listener.wait();
        }
        for ns in [&self.outside, &self.router, &self.lan] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// An incident just opened by the engine, as the daemon hands it over.
fn opened(category: Category, direction: Direction, remote: Option<&str>) -> Opened {
    Opened {
        category,
        direction,
        remote: remote.map(ip),
        first_seen: 0,
    }
}

fn intel() -> Intel {
    let mut builder = Intel::builder();
    builder.add_list("c2", &format!("{LISTED}\n{ALLOWED}\n{SERVER}\n"));
    builder.add_allowlist(&format!("{ALLOWED}\n"));
    builder.build()
}

fn options(lab: &Lab, family: Family, reputation_secs: u32) -> FilterOptions {
    FilterOptions {
        family,
        table: "vigie_test".to_owned(),
        reputation_secs,
        brute_force_secs: 0,
        scan_secs: 60,
        netns: Some(lab.router.clone()),
    }
}

/// The commune's LAN, in both topologies.
fn home() -> HomeNet {
    HomeNet::new(vec!["10.66.2.0/24".parse().unwrap()])
}

/// Blocks, checks what passes, counts and refreshes, then lifts the
/// blocks; shared by the routed and the bridged lab.
fn blocks_listed_address_only(tag: &str, topology: Topology, family: Family) {
    let lab = Lab::new(tag, topology);
    assert!(
        lab.eventually_connects(LISTED),
        "listed address before blocking"
    );
    assert!(
        lab.eventually_connects(CLEAN),
        "clean address before blocking"
    );

    let intel = intel();
    let mut blocker = Blocker::setup(options(&lab, family, 60), home()).unwrap();
    assert_eq!(blocker.blocked_now().unwrap(), 0);
    let now = Utc::now();
    let incidents = [
        opened(Category::Reputation, Direction::Inbound, Some(LISTED)),
        opened(Category::Reputation, Direction::Inbound, Some(ALLOWED)),
        // A commune machine on a list is never cut from its own network.
        opened(Category::Reputation, Direction::Outbound, Some(SERVER)),
        // Brute force is not blocked with these options.
        opened(Category::BruteForce, Direction::Inbound, Some(CLEAN)),
        opened(Category::Scan, Direction::Inbound, Some(SCANNER)),
        opened(Category::Flood, Direction::Inbound, None),
    ];
    assert_eq!(blocker.consider(&incidents, &intel, now).unwrap(), 2);
    assert_eq!(lab.blocked_v4(family, "vigie_test"), [LISTED, SCANNER]);
    assert_eq!(blocker.blocked_now().unwrap(), 2);

    assert!(lab.is_cut(LISTED), "listed address still connects");
    assert!(lab.eventually_connects(CLEAN), "clean address cut");
    assert!(lab.eventually_connects(ALLOWED), "allowlisted address cut");

    // The same C2 contacted from inside: refreshed, not counted again.
    let again = [opened(
        Category::Reputation,
        Direction::Outbound,
        Some(LISTED),
    )];
    assert_eq!(blocker.consider(&again, &intel, Utc::now()).unwrap(), 0);
    let day = vigie_core::local_day(now);
    let count = |category, addresses| BlockedCount {
        day,
        category,
        addresses,
    };
    assert_eq!(
        blocker.take_blocked_counts(),
        [count(Category::Scan, 1), count(Category::Reputation, 1)]
    );
    assert_eq!(blocker.take_blocked_counts(), []);

    // New lists from the observatory: the listed address is now
    // allowlisted, the scanner's block stays (it was not for reputation).
    let mut builder = Intel::builder();
    builder.add_list("c2", &format!("{LISTED}\n"));
    builder.add_allowlist(&format!("{LISTED}\n"));
    let allowed_now = builder.build();
    assert_eq!(blocker.reconcile(&allowed_now).unwrap(), 1);
    assert_eq!(lab.blocked_v4(family, "vigie_test"), [SCANNER]);
    assert!(
        lab.eventually_connects(LISTED),
        "allowlisted address still cut"
    );
    assert_eq!(blocker.reconcile(&allowed_now).unwrap(), 0);

    // A second setup (a restart) replaces the table and its blocks.
    let blocker = Blocker::setup(options(&lab, family, 60), home()).unwrap();
    assert_eq!(blocker.blocked_now().unwrap(), 0);
    assert!(
        lab.eventually_connects(LISTED),
        "listed address after a restart"
    );
    blocker.teardown().unwrap();
    assert!(blocker.blocked_now().is_err(), "table still there");
}

#[test]
fn routed_lab_drops_listed_address_and_passes_the_others() {
    if skip_unless_root("routed_lab_drops_listed_address_and_passes_the_others") {
        return;
    }
    blocks_listed_address_only("r", Topology::Routed, Family::Inet);
}

#[test]
fn bridged_lab_drops_listed_address_and_passes_the_others() {
    if skip_unless_root("bridged_lab_drops_listed_address_and_passes_the_others") {
        return;
    }
    blocks_listed_address_only("b", Topology::Bridged, Family::Bridge);
}

#[test]
fn block_expires_after_its_timeout() {
    if skip_unless_root("block_expires_after_its_timeout") {
        return;
    }
    let lab = Lab::new("e", Topology::Routed);
    assert!(
        lab.eventually_connects(LISTED),
        "listed address before blocking"
    );
    let intel = intel();
    let mut blocker = Blocker::setup(options(&lab, Family::Inet, 2), home()).unwrap();
    let listed = [opened(
        Category::Reputation,
        Direction::Inbound,
        Some(LISTED),
    )];
    assert_eq!(blocker.consider(&listed, &intel, Utc::now()).unwrap(), 1);
    assert_eq!(blocker.blocked_now().unwrap(), 1);
    // One attempt (one second) only: two would outlast the block.
    assert!(!lab.connects(LISTED), "listed address still connects");

    let deadline = Instant::now() + Duration::from_secs(30);
    while blocker.blocked_now().unwrap() > 0 {
        assert!(Instant::now() < deadline, "the block never expired");
        sleep(Duration::from_millis(200));
    }
    assert!(
        lab.eventually_connects(LISTED),
        "listed address after expiry"
    );
    // Blocked anew once expired: counted again.
    assert_eq!(blocker.consider(&listed, &intel, Utc::now()).unwrap(), 1);
    let counts = blocker.take_blocked_counts();
    assert_eq!(counts.iter().map(|c| c.addresses).sum::<u64>(), 2);
}
