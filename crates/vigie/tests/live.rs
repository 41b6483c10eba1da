#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The live box end to end (issue 4, "Proof"): in network namespaces the
//! test builds (`tests/live/lab.sh`: 10.66.60-62.x, no route out), real
//! tools (nmap, hydra, curl with exploit payloads) attack a town-hall
//! server (openssh-server, nginx) through the commune's router, where
//! `vigie sensor --config` captures live and reports over HTTPS to a
//! `vigie serve` reachable from the router only; tcpdump captures the same
//! interface. The observatory's counts per (day, category) for the commune
//! must equal `vigie sensor --pcap` on that capture with the same
//! configuration: nothing lost, nothing counted twice, also when the
//! observatory stops for a while, when the box is killed mid-attack, when
//! its spool directory is full, and when an acknowledgement is lost.
//!
//! Needs root (namespaces, capture, a throwaway account) and the Debian
//! tools of tests/live/packages.txt; skips with a line saying so otherwise.
//! The scenarios run one at a time: they build labs on a small machine.
//! Run: `cargo test -p vigie --test live -- --nocapture`.

#[path = "live/attacks.rs"]
mod attacks;
#[path = "live/counts.rs"]
mod counts;
#[path = "live/lab.rs"]
mod lab;
#[path = "live/observatory.rs"]
mod observatory;
#[path = "live/proxy.rs"]
mod proxy;
#[path = "live/sensor.rs"]
mod sensor;

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use attacks::{Capture, extra_sources, hydra_ssh, nmap_syn, web_exploits};
use counts::{
    DayCounts, describe_counts, diff_counts, diff_incidents, observatory_counts,
    observatory_incidents, of_category, offline_counts, offline_incidents,
};
use lab::{Lab, progress, wait_until};
use observatory::Observatory;
use sensor::{BATCH_SECS, IDLE_SECS, RETRY_MAX_SECS, Sensor, Tuning, analyse_offline};

/// One scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// How long the observatory stays down in the outage scenario: several
/// minutes, as a real outage: 90 batches of the test's 2 s pile up and
/// the box's backoff reaches its ceiling (`RETRY_MAX_SECS`) many times.
const OUTAGE: Duration = Duration::from_secs(180);
/// How long it stays down in the full-spool scenario: 20 batch intervals,
/// enough to fill the small spool with detail.
const SPOOL_OUTAGE: Duration = Duration::from_secs(20 * BATCH_SECS as u64);
/// The spool directory's size in the spool-full scenario (a tmpfs): room
/// for the counters of every batch of the outage, not for the detail of
/// the hundreds of incidents it brings.
const SPOOL_TMPFS_KIB: u32 = 128;
/// After the counts match, the test waits this long and reads them again:
/// a late duplicate would show.
const SETTLE: Duration = Duration::from_secs(IDLE_SECS as u64 + 3 * BATCH_SECS as u64);

/// A lab with its observatory (serving) and an enrolled box (not started).
/// Fields drop in order: the box, the observatory, then the lab.
struct Setup {
    sensor: Sensor,
    observatory: Observatory,
    lab: Lab,
}

/// Whether the scenario can run here; holds the lock while it runs.
fn prepare(scenario: &str) -> Option<MutexGuard<'static, ()>> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "live test {scenario} skipped: not root; it needs network namespaces, packet \
             capture and a throwaway account (CI runs it as root)"
        );
        return None;
    }
    Some(SERIAL.lock().unwrap_or_else(PoisonError::into_inner))
}

fn setup(scenario: &str, tuning: impl FnOnce(&Lab) -> Tuning) -> Setup {
    let lab = Lab::up(scenario);
    let mut observatory = Observatory::create(&lab);
    observatory.start();
    let tuning = tuning(&lab);
    let sensor = Sensor::enroll(&lab, &observatory, &tuning);
    Setup {
        sensor,
        observatory,
        lab,
    }
}

/// Scan, SSH brute force and web exploits from the main attacker.
fn attack_mix(lab: &Lab) {
    nmap_syn(lab, "1-1000", 0).finish();
    hydra_ssh(lab, 24).finish();
    web_exploits(lab, lab.fact("ATT_IP"), 8);
    progress("attacks done");
}

/// The offline report of the reference capture, which must show the
/// attacks (otherwise equal counts would prove nothing).
fn offline_reference(setup: &Setup, capture: Capture, categories: &[&str]) -> Value {
    let pcap = capture.stop();
    let report = analyse_offline(&pcap, &setup.sensor.config, setup.lab.fact("HOME_NET"));
    let counts = offline_counts(&report);
    progress(&format!("offline analysis: {}", describe_counts(&counts)));
    for category in categories {
        assert!(
            counts.keys().any(|(_, c)| c == category),
            "the offline analysis of {} shows no {category} incident: the attack did not \
             happen as planned; counts: {}",
            pcap.display(),
            describe_counts(&counts)
        );
    }
    report
}

/// Waits until the observatory's counts equal the offline ones, then reads
/// them again after a while; fails with the difference and the logs.
fn assert_counts_converge(setup: &Setup, expected: &DayCounts, limit: Duration) {
    let mut last = Err("not read yet".to_owned());
    wait_until(
        "the observatory's counts to match the offline analysis",
        limit,
        || {
            last = observatory_counts(&setup.observatory);
            last.as_ref().is_ok_and(|got| got == expected)
        },
    );
    if last.as_ref().is_ok_and(|got| got == expected) {
        progress("counts match; checking they stay so");
        std::thread::sleep(SETTLE);
        last = observatory_counts(&setup.observatory);
    }
    let got = match last {
        Ok(got) => got,
        Err(problem) => panic!(
            "cannot read the observatory's counts: {problem}\n{}\n{}",
            setup.observatory.log_tail(),
            setup.sensor.log_tail()
        ),
    };
    if let Some(diff) = diff_counts(&got, expected) {
        panic!(
            "the observatory's counts differ from the offline analysis of the same capture:\n\
             {diff}\n{}\n{}",
            setup.sensor.log_tail(),
            setup.observatory.log_tail()
        );
    }
    progress(&format!(
        "observatory == offline: {}",
        describe_counts(&got)
    ));
}

/// Where the box saw every packet and kept every detail, the incidents
/// themselves are the same (category, rule, source, port, events); `only`
/// narrows the comparison to one category.
fn assert_same_incidents(setup: &Setup, report: &Value, counts: &DayCounts, only: Option<&str>) {
    let got = observatory_incidents(&setup.observatory, counts)
        .unwrap_or_else(|problem| panic!("cannot read the incidents: {problem}"));
    let (got, want) = match only {
        Some(category) => (
            of_category(got, category),
            of_category(offline_incidents(report), category),
        ),
        None => (got, offline_incidents(report)),
    };
    if let Some(diff) = diff_incidents(&got, &want) {
        panic!("the observatory's incidents differ from the offline analysis:\n{diff}");
    }
    let what = only.map_or("incidents".to_owned(), |c| format!("{c} incidents"));
    progress(&format!(
        "{} {what} identical on both sides",
        want.values().sum::<usize>()
    ));
}

/// Waits until the observatory stored at least one batch of the box.
fn wait_first_batch(setup: &Setup) {
    let linked = wait_until("the box's first batch", Duration::from_secs(60), || {
        setup.observatory.reports() > 0
    });
    assert!(
        linked,
        "no batch reached the observatory:\n{}",
        setup.sensor.log_tail()
    );
}

fn sleep_until(deadline: Instant) {
    if let Some(left) = deadline.checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}

#[test]
fn live_counts_equal_offline_analysis() {
    let Some(_serial) = prepare("live_counts_equal_offline_analysis") else {
        return;
    };
    let mut setup = setup("clean", |_| Tuning::default());
    let capture = Capture::start(&setup.lab, "clean");
    setup.sensor.start();
    attack_mix(&setup.lab);
    let report = offline_reference(&setup, capture, &["scan", "brute_force", "web_exploit"]);
    let expected = offline_counts(&report);
    assert_counts_converge(&setup, &expected, Duration::from_secs(120));
    assert_same_incidents(&setup, &report, &expected, None);
}

#[test]
fn observatory_outage_loses_nothing() {
    let Some(_serial) = prepare("observatory_outage_loses_nothing") else {
        return;
    };
    let mut setup = setup("outage", |_| Tuning::default());
    let capture = Capture::start(&setup.lab, "outage");
    setup.sensor.start();
    wait_first_batch(&setup);
    setup.observatory.stop();
    let back_at = Instant::now() + OUTAGE;
    attack_mix(&setup.lab);
    progress(&format!("observatory down for {OUTAGE:?} in all"));
    sleep_until(back_at);
    setup.observatory.start();
    let report = offline_reference(&setup, capture, &["scan", "brute_force", "web_exploit"]);
    let expected = offline_counts(&report);
    // The box's backoff is at its ceiling when the observatory comes back.
    assert_counts_converge(
        &setup,
        &expected,
        Duration::from_secs(RETRY_MAX_SECS as u64 + 120),
    );
    assert_same_incidents(&setup, &report, &expected, None);
}

#[test]
fn sensor_killed_mid_attack_counts_once() {
    let Some(_serial) = prepare("sensor_killed_mid_attack_counts_once") else {
        return;
    };
    let mut setup = setup("kill", |_| Tuning::default());
    let capture = Capture::start(&setup.lab, "kill");
    setup.sensor.start();
    wait_first_batch(&setup);
    // Exploits whose incidents are still open (idle time not over) when the
    // box dies: only its checkpoint can bring them back.
    web_exploits(&setup.lab, setup.lab.fact("ATT_IP"), 8);
    let exploits_done = Instant::now();
    // Two attacks that last well beyond the kill: 3000 ports 6 ms apart,
    // and 60 passwords.
    let mut scan = nmap_syn(&setup.lab, "1-3000", 6);
    let mut hydra = hydra_ssh(&setup.lab, 60);
    // Long enough for a checkpoint to hold them all, short of the idle time.
    std::thread::sleep(Duration::from_secs(2 * BATCH_SECS as u64 + 1));
    assert!(
        scan.is_running() && hydra.is_running(),
        "the attacks ended before the kill: the scenario would prove nothing"
    );
    progress(&format!(
        "killing the box {:.1} s after the exploits (idle time {IDLE_SECS} s)",
        exploits_done.elapsed().as_secs_f64()
    ));
    setup.sensor.kill_hard();
    setup.sensor.start();
    scan.finish();
    hydra.finish();
    let report = offline_reference(&setup, capture, &["scan", "brute_force", "web_exploit"]);
    // The counts are compared, not every incident's events: packets that
    // passed while the box was down (and since its last checkpoint) are
    // missing from the scan's and the brute force's events. Each incident
    // must still be counted once: neither lost with the process nor split
    // in two by the restart.
    let expected = offline_counts(&report);
    assert_counts_converge(&setup, &expected, Duration::from_secs(120));
    // The exploits ended before the kill: their incidents are whole.
    assert_same_incidents(&setup, &report, &expected, Some("web_exploit"));
}

#[test]
fn full_spool_keeps_the_counts() {
    let Some(_serial) = prepare("full_spool_keeps_the_counts") else {
        return;
    };
    let mut spool = None;
    let mut setup = setup("spool", |lab| {
        let dir = lab.path("box").join("spool");
        spool = Some(dir.clone());
        Tuning {
            spool_dir: Some(dir),
            ..Tuning::default()
        }
    });
    let spool = spool.unwrap();
    setup.sensor.prelude = Some(format!(
        "mkdir -p {0} && mount -t tmpfs -o size={SPOOL_TMPFS_KIB}k,uid=65534,gid=65534,mode=0700 \
         vigie-test-spool {0}",
        spool.display()
    ));
    let capture = Capture::start(&setup.lab, "spool");
    setup.sensor.start();
    wait_first_batch(&setup);
    setup.observatory.stop();
    let back_at = Instant::now() + SPOOL_OUTAGE;
    // Hundreds of incidents: every exploit from each of 50 addresses.
    let sources = extra_sources(&setup.lab);
    progress(&format!(
        "attack: 8 exploits from each of {} addresses",
        sources.len()
    ));
    for source in &sources {
        web_exploits(&setup.lab, source, 8);
    }
    nmap_syn(&setup.lab, "1-1000", 0).finish();
    sleep_until(back_at);
    setup.observatory.start();
    let report = offline_reference(&setup, capture, &["scan", "web_exploit"]);
    let expected = offline_counts(&report);
    assert_counts_converge(&setup, &expected, Duration::from_secs(240));
    let dropped = setup
        .observatory
        .scalar("SELECT COALESCE(SUM(dropped), 0) FROM reports");
    assert!(
        dropped > 0,
        "the spool never dropped detail: the scenario did not fill it\n{}",
        setup.sensor.log_tail()
    );
    progress(&format!(
        "{dropped} incidents' detail dropped by the full spool, all counted"
    ));
}

#[test]
fn lost_acknowledgement_counts_once() {
    let Some(_serial) = prepare("lost_acknowledgement_counts_once") else {
        return;
    };
    let proxy_port = observatory::PORT + 1;
    let mut setup = setup("ack", |lab| Tuning {
        url: Some(format!("https://{}:{proxy_port}", lab.fact("OBS_IP"))),
        ..Tuning::default()
    });
    let ip = setup.lab.fact("OBS_IP");
    let listen: SocketAddr = format!("{ip}:{proxy_port}").parse().unwrap();
    let upstream: SocketAddr = format!("{ip}:{}", observatory::PORT).parse().unwrap();
    let proxy = proxy::AckCutter::start(
        setup.lab.ns_obs(),
        listen,
        upstream,
        &setup.observatory.certificates,
    );
    let capture = Capture::start(&setup.lab, "ack");
    setup.sensor.start();
    attack_mix(&setup.lab);
    let report = offline_reference(&setup, capture, &["scan", "brute_force", "web_exploit"]);
    let expected = offline_counts(&report);
    assert_counts_converge(&setup, &expected, Duration::from_secs(120));
    let resent = wait_until(
        "the box to send the unacknowledged batch again",
        Duration::from_secs(60),
        || {
            let seen = proxy.seen();
            seen.cut.is_some_and(|cut| {
                seen.batches
                    .iter()
                    .any(|b| b.seq == cut && b.answer == "duplicate")
            })
        },
    );
    let seen = proxy.seen();
    assert!(
        resent,
        "the proxy cut batch {:?}, but the box never sent it again to get `duplicate`; \
         batches seen: {:?}\n{}",
        seen.cut,
        seen.batches,
        setup.sensor.log_tail()
    );
    let cut = seen
        .batches
        .iter()
        .find(|b| Some(b.seq) == seen.cut)
        .unwrap();
    progress(&format!(
        "batch {} ({} incidents) stored, its answer lost, sent again: duplicate",
        cut.seq, cut.incidents
    ));
    assert_same_incidents(&setup, &report, &expected, None);
}
