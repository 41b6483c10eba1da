#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Lists from the observatory and filter mode, end to end (issue 4, "Lists
//! from the observatory" and "Filter mode"), through the real daemon in the
//! lab of `tests/live/lab.sh` (10.66.60-62.x, no route out; see live.rs):
//! the administrator uploads threat lists and allowlists through the
//! observatory's forms (session and CSRF token), a running `vigie sensor
//! --config` in the commune's router fetches them every few seconds and
//! swaps them in without restarting, and in `filter` mode its nftables
//! table in the router's namespace drops what is routed from a listed
//! address, never an allowlisted or a home-net one.
//!
//! Needs root (namespaces, capture, nftables, a throwaway account) and the
//! Debian tools of tests/live/packages.txt; skips with a line saying so
//! otherwise. Run: `cargo test -p vigie --test live_filter -- --nocapture`.

#[path = "live/admin.rs"]
mod admin;
// Shared with live.rs: this file uses part of each.
#[allow(dead_code)]
#[path = "live/attacks.rs"]
mod attacks;
#[allow(dead_code)]
#[path = "live/counts.rs"]
mod counts;
#[allow(dead_code)]
#[path = "live/lab.rs"]
mod lab;
#[allow(dead_code)]
#[path = "live/observatory.rs"]
mod observatory;
#[path = "live/readings.rs"]
mod readings;
#[allow(dead_code)]
#[path = "live/sensor.rs"]
mod sensor;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use vigie_core::Category;

use admin::Admin;
use attacks::extra_sources;
use lab::{Lab, progress, wait_until};
use observatory::{COMMUNE, Observatory};
use readings::{
    TABLE, blocked_for_reputation_today, blocked_set, connects, heartbeat, reputation_incidents,
    wait_heartbeat, wait_lists,
};
use sensor::{BATCH_SECS, IDLE_SECS, Sensor, Tuning};

/// One scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The box asks for the lists this often (30 minutes in production).
const LISTS_SECS: i64 = 3;
/// The territory's threat list and the commune's allowlist of the test.
const THREAT: &str = "menaces_test";
const ALLOW: &str = "allowlist_mairie";
/// Another commune of the built-in territory, and its own allowlist: the
/// box must never be served it.
const OTHER_COMMUNE: &str = "42059";
const OTHER_ALLOW: &str = "allowlist_chazelles";

/// A lab with its observatory (serving), a signed-in administrator and an
/// enrolled box (not started). Fields drop in order: the box, the
/// observatory, then the lab.
struct Setup {
    sensor: Sensor,
    admin: Admin,
    observatory: Observatory,
    lab: Lab,
}

/// The lab's outside addresses: the attacker's main one (listed first),
/// and two more (a2 never listed at first, a3 listed and allowlisted).
struct Addresses {
    a1: String,
    a2: String,
    a3: String,
    /// The town-hall server, a home-net address.
    vic: String,
}

fn prepare(scenario: &str) -> Option<MutexGuard<'static, ()>> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "live test {scenario} skipped: not root; it needs network namespaces, packet \
             capture, nftables and a throwaway account (CI runs it as root)"
        );
        return None;
    }
    Some(SERIAL.lock().unwrap_or_else(PoisonError::into_inner))
}

fn setup(scenario: &str, tuning: Tuning) -> Setup {
    let lab = Lab::up(scenario);
    let mut observatory = Observatory::create(&lab);
    observatory.start();
    let sensor = Sensor::enroll(&lab, &observatory, &tuning);
    let admin = Admin::sign_in(&lab, &observatory);
    Setup {
        sensor,
        admin,
        observatory,
        lab,
    }
}

fn addresses(lab: &Lab) -> Addresses {
    let extra = extra_sources(lab);
    Addresses {
        a1: lab.fact("ATT_IP").to_owned(),
        a2: extra[0].clone(),
        a3: extra[1].clone(),
        vic: lab.fact("VIC_IP").to_owned(),
    }
}

/// Waits until the observatory's reputation incidents are exactly `want`
/// (sources listed by [`THREAT`]), then reads them again after the idle
/// time and a few batches: a late one would show.
fn assert_reputation(setup: &Setup, sources: &[&str]) {
    let mut want: Vec<(String, String)> = sources
        .iter()
        .map(|s| ((*s).to_owned(), THREAT.to_owned()))
        .collect();
    want.sort();
    let mut last = Err("not read yet".to_owned());
    wait_until(
        "the observatory's reputation incidents",
        Duration::from_secs(90),
        || {
            last = reputation_incidents(&setup.observatory);
            last.as_ref().is_ok_and(|got| *got == want)
        },
    );
    if last.as_ref().is_ok_and(|got| *got == want) {
        std::thread::sleep(Duration::from_secs(
            (IDLE_SECS + 3 * BATCH_SECS).unsigned_abs(),
        ));
        last = reputation_incidents(&setup.observatory);
    }
    assert_eq!(
        last.as_ref(),
        Ok(&want),
        "the observatory's reputation incidents (source, list) are not the expected ones\n{}\n{}",
        setup.sensor.log_tail(),
        setup.observatory.log_tail()
    );
    progress(&format!(
        "observatory: reputation incidents from {sources:?}, list {THREAT}"
    ));
}

#[test]
fn lists_from_the_observatory_reach_the_box() {
    let Some(_serial) = prepare("lists_from_the_observatory_reach_the_box") else {
        return;
    };
    let began = Instant::now();
    let mut setup = setup(
        "lists",
        Tuning {
            lists_interval_secs: Some(LISTS_SECS),
            ..Tuning::default()
        },
    );
    let ip = addresses(&setup.lab);
    setup.sensor.start();
    let pid = setup.sensor.pid().expect("the box's pid");
    let first = wait_heartbeat(
        &setup.observatory,
        &setup.sensor,
        "the box's first heartbeat",
        |_| true,
    );
    assert!(first.lists.is_empty(), "a new box holds lists: {first:?}");

    // Version 1: the attacker's main address.
    setup.admin.upload_list(
        THREAT,
        "threat",
        "",
        &format!("# Liste du test\n{}\n", ip.a1),
    );
    wait_lists(&setup.observatory, &setup.sensor, &[(THREAT, "1")]);
    assert!(
        connects(&setup.lab, &ip.a1),
        "{} cannot reach the town hall",
        ip.a1
    );
    assert_reputation(&setup, &[&ip.a1]);

    // Version 2 drops it and lists a2 and a3; the commune allowlists a3;
    // another commune allowlists a2, which must not reach this box.
    setup.admin.upload_list(
        THREAT,
        "threat",
        "",
        &format!("# Liste du test, version 2\n{}\n{}\n", ip.a2, ip.a3),
    );
    setup
        .admin
        .upload_list(ALLOW, "allow", COMMUNE, &format!("{}\n", ip.a3));
    setup
        .admin
        .upload_list(OTHER_ALLOW, "allow", OTHER_COMMUNE, &format!("{}\n", ip.a2));
    let last = wait_lists(
        &setup.observatory,
        &setup.sensor,
        &[(ALLOW, "1"), (THREAT, "2")],
    );
    for source in [&ip.a1, &ip.a2, &ip.a3] {
        assert!(
            connects(&setup.lab, source),
            "{source} cannot reach the town hall"
        );
    }
    // a1 is no longer listed, a3 is allowlisted: only a2 is new.
    assert_reputation(&setup, &[&ip.a1, &ip.a2]);

    // The swap happened in the running process, without losing packets.
    let now = heartbeat(&setup.observatory).expect("a heartbeat");
    assert_eq!(setup.sensor.pid(), Some(pid), "the box restarted");
    assert_eq!(
        (now.started_at, last.started_at),
        (first.started_at, first.started_at),
        "the box's heartbeats show a restart"
    );
    assert_eq!(now.kernel_drops, 0, "the kernel dropped packets: {now:?}");
    let drops: i64 = setup
        .observatory
        .scalar("SELECT drops_growth FROM sensor_heartbeats");
    assert_eq!(drops, 0, "the observatory saw kernel drops");
    let log = std::fs::read_to_string(setup.lab.path("sensor.log")).unwrap_or_default();
    let swaps = log.matches("listes mises à jour").count();
    assert!(
        swaps >= 2,
        "the box's log shows {swaps} list swaps, expected 2 at least\n{}",
        setup.sensor.log_tail()
    );
    progress(&format!(
        "{swaps} list swaps in process {pid}, started once, no kernel drop"
    ));
    progress(&format!(
        "lists_from_the_observatory_reach_the_box passed in {:.0} s",
        began.elapsed().as_secs_f64()
    ));
}

#[test]
fn filter_mode_blocks_a_listed_address() {
    let Some(_serial) = prepare("filter_mode_blocks_a_listed_address") else {
        return;
    };
    let began = Instant::now();
    let mut setup = setup(
        "filter",
        Tuning {
            mode: Some("filter"),
            lists_interval_secs: Some(LISTS_SECS),
            ..Tuning::default()
        },
    );
    let ip = addresses(&setup.lab);
    // a1 is listed; a3 listed and allowlisted; the town hall (home net)
    // listed too, as a careless list might have it.
    setup.admin.upload_list(
        THREAT,
        "threat",
        "",
        &format!("# Liste du test\n{}\n{}\n{}\n", ip.a1, ip.a3, ip.vic),
    );
    setup
        .admin
        .upload_list(ALLOW, "allow", COMMUNE, &format!("{}\n", ip.a3));
    setup.sensor.start();
    let pid = setup.sensor.pid().expect("the box's pid");
    let beat = wait_lists(
        &setup.observatory,
        &setup.sensor,
        &[(ALLOW, "1"), (THREAT, "1")],
    );
    assert_eq!(beat.mode, "filter");
    assert_eq!(blocked_set(&setup.lab), Vec::<String>::new());
    assert!(
        connects(&setup.lab, &ip.a2),
        "{} cannot reach the town hall",
        ip.a2
    );

    // The first connection from a1 may pass: the block follows the
    // incident's opening.
    let passed = connects(&setup.lab, &ip.a1);
    progress(&format!(
        "probe from {}: {}",
        ip.a1,
        if passed { "passed" } else { "already cut" }
    ));
    let mut set = Vec::new();
    let blocked = wait_until(
        &format!("{} in the box's nftables set", ip.a1),
        Duration::from_secs(30),
        || {
            set = blocked_set(&setup.lab);
            set.contains(&ip.a1)
        },
    );
    assert!(
        blocked,
        "{} never blocked; set {set:?}\n{}",
        ip.a1,
        setup.sensor.log_tail()
    );
    progress(&format!("{} blocked: set {set:?}", ip.a1));
    assert!(
        !connects(&setup.lab, &ip.a1),
        "{} still reaches the town hall once blocked",
        ip.a1
    );
    for source in [&ip.a2, &ip.a3, &ip.a2, &ip.a3] {
        assert!(
            connects(&setup.lab, source),
            "{source} cannot reach the town hall"
        );
    }
    progress(&format!(
        "{} cut; {} (unlisted) and {} (listed, allowlisted) pass, so the town hall {} \
         (listed, home net) is not blocked either",
        ip.a1, ip.a2, ip.a3, ip.vic
    ));
    // Enough for the blocker's rounds (every second) after a3's traffic.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        blocked_set(&setup.lab),
        vec![ip.a1.clone()],
        "only {} may be blocked (never the allowlisted {} nor the home-net {})",
        ip.a1,
        ip.a3,
        ip.vic
    );

    // What the observatory learns: one address blocked for reputation.
    let counted = wait_until(
        "the observatory to count the blocked address",
        Duration::from_secs(60),
        || blocked_for_reputation_today(&setup.observatory) >= 1,
    );
    assert!(
        counted,
        "no blocked address counted\n{}",
        setup.sensor.log_tail()
    );
    let beat = wait_heartbeat(
        &setup.observatory,
        &setup.sensor,
        "a heartbeat with 1 address blocked",
        |beat| beat.blocked_now == 1,
    );
    assert_eq!(setup.sensor.pid(), Some(pid), "the box restarted");
    // a1 keeps knocking: still one address, counted once.
    assert!(!connects(&setup.lab, &ip.a1), "{} got through", ip.a1);
    std::thread::sleep(Duration::from_secs((3 * BATCH_SECS).unsigned_abs()));
    assert_eq!(blocked_for_reputation_today(&setup.observatory), 1);
    let page = setup.admin.page(&format!("/communes/{COMMUNE}"));
    let row = format!(
        "<td>{}</td><td class=\"num\">1</td>",
        Category::Reputation.label_fr()
    );
    assert!(
        page.contains("Adresses bloquées par le boîtier") && page.contains(&row),
        "the commune's page does not show 1 address blocked for reputation:\n{page}"
    );
    progress(&format!(
        "observatory: 1 address blocked for reputation today (page and blocked_counts); \
         heartbeat blocked_now {}",
        beat.blocked_now
    ));
    assert_eq!(beat.kernel_drops, 0, "the kernel dropped packets: {beat:?}");

    setup.sensor.stop();
    let log = setup.sensor.log_tail();
    assert!(
        log.contains("vigie-sensor: arrêté"),
        "the box did not stop cleanly on SIGTERM:\n{log}"
    );
    let (table_left, _) = setup.lab.run(
        setup.lab.ns_rtr(),
        10,
        "nft",
        &["list", "table", TABLE[0], TABLE[1]],
    );
    progress(&format!(
        "box stopped by SIGTERM; its table {} {} {}",
        TABLE[0],
        TABLE[1],
        if table_left {
            "stays (its blocks expire by their timeouts)"
        } else {
            "is gone"
        }
    ));
    progress(&format!(
        "filter_mode_blocks_a_listed_address passed in {:.0} s",
        began.elapsed().as_secs_f64()
    ));
}
