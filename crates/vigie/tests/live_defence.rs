#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Collective defence end to end (issue 16): three communes, each with its
//! router, its box in filter mode and its town hall, one observatory, one
//! attacker (the lab of `tests/live/defence-lab.sh`, 10.66.70-93.x, no
//! route out). The attacker scans the first two town halls; the
//! observatory puts it on the territory list; the third box blocks it
//! before it comes, and its commune is told it blocked an attack thanks
//! to the others.
//!
//! The observatory runs with `[defence] communes = 2` so that two scanned
//! communes list the attacker (the default, 3, asks for a third scanned
//! commune or heavier attacks). Needs root (namespaces, capture,
//! nftables); skips saying so otherwise. Run: `cargo test -p vigie --test
//! live_defence -- --nocapture`.

#[allow(dead_code)]
#[path = "live/lab.rs"]
mod lab;
#[allow(dead_code)]
#[path = "live/observatory.rs"]
mod observatory;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lab::{Proc, give_to_nobody, progress, set_mode, tail, wait_until};
use observatory::Certificates;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/live/defence-lab.sh"
);
const OBS: &str = "10.66.90.2";
const ATTACKER: &str = "10.66.70.2";
const COMMUNES: [&str; 3] = ["42218", "42059", "42001"];

/// The lab, removed on drop even after a panic.
struct Namespaces(String);

impl Namespaces {
    fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.0)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "down", &self.0])
            .status();
    }
}

/// Runs `program` in namespace `ns`, bounded by `secs`; (success, output).
fn run(ns: &str, secs: u32, program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "timeout",
            "-k",
            "2",
            &secs.to_string(),
            program,
        ])
        .args(args)
        .output()
        .expect("cannot run ip netns exec");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn vigie(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .output()
        .expect("cannot run vigie");
    assert!(
        out.status.success(),
        "vigie {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sql(db: &Path, query: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(format!("file:{}?mode=ro", db.display()))
        .arg(query)
        .output()
        .expect("cannot run sqlite3");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The town hall's site from the attacker, within 3 seconds.
fn reaches(lab: &Namespaces, k: usize) -> bool {
    let url = format!("http://10.66.8{k}.10/");
    run(
        &lab.ns("att"),
        5,
        "curl",
        &["-sS", "--max-time", "3", "-o", "/dev/null", &url],
    )
    .0
}

fn scan(lab: &Namespaces, k: usize) {
    let target = format!("10.66.8{k}.10");
    let (_, out) = run(
        &lab.ns("att"),
        60,
        "nmap",
        &[
            "-sS",
            "-Pn",
            "-n",
            "-p",
            "1-100",
            "--max-rate",
            "400",
            "-S",
            ATTACKER,
            "-e",
            &format!("a{k}"),
            &target,
        ],
    );
    progress(&format!(
        "scan of commune {k}: {}",
        out.lines()
            .filter(|l| l.contains("/tcp"))
            .collect::<Vec<_>>()
            .join("; ")
    ));
}

fn enroll(lab: &Namespaces, dir: &Path, k: usize, db_url: &str, ca: &Path) -> PathBuf {
    let out = vigie(&[
        "sensors",
        "add",
        "--commune",
        COMMUNES[k - 1],
        "--database",
        db_url,
    ]);
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("Code d'enrôlement (à usage unique, valable 7 jours) : "))
        .expect("an enrolment code")
        .trim()
        .to_owned();
    let boxdir = dir.join(format!("box{k}"));
    std::fs::create_dir_all(boxdir.join("state")).unwrap();
    let config = boxdir.join("sensor.toml");
    let (ok, out) = run(
        &lab.ns(&format!("r{k}")),
        60,
        env!("CARGO_BIN_EXE_vigie"),
        &[
            "sensor",
            "enroll",
            "--server",
            &format!("https://{OBS}:8443"),
            "--code",
            &code,
            "--ca-file",
            ca.to_str().unwrap(),
            "--commune",
            COMMUNES[k - 1],
            "--interface",
            "to-att",
            "--state-dir",
            boxdir.join("state").to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(ok, "enroll {k}: {out}");
    let mut table: toml::Table = std::fs::read_to_string(&config).unwrap().parse().unwrap();
    table.insert("mode".into(), "filter".into());
    let section = |table: &mut toml::Table, name: &str| -> toml::Table {
        table
            .get(name)
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default()
    };
    let mut observatory = section(&mut table, "observatory");
    for (key, value) in [
        ("batch_interval_secs", 5),
        ("heartbeat_interval_secs", 5),
        ("lists_interval_secs", 3600),
        ("defence_interval_secs", 2),
        ("timeout_secs", 10),
        ("retry_max_secs", 10),
    ] {
        observatory.insert(key.into(), value.into());
    }
    table.insert("observatory".into(), observatory.into());
    let mut capture = section(&mut table, "capture");
    capture.insert("user".into(), "nobody".into());
    table.insert("capture".into(), capture.into());
    let mut network = section(&mut table, "network");
    network.insert("home_nets".into(), vec![format!("10.66.8{k}.0/24")].into());
    table.insert("network".into(), network.into());
    let mut detection = section(&mut table, "detection");
    let mut scan = toml::Table::new();
    scan.insert("idle".into(), 5.into());
    detection.insert("scan".into(), scan.into());
    table.insert("detection".into(), detection.into());
    std::fs::write(&config, toml::to_string(&table).unwrap()).unwrap();
    give_to_nobody(&boxdir);
    config
}

#[test]
fn an_attacker_of_two_communes_is_blocked_at_the_third() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "live_defence skipped: not root; it needs network namespaces, capture and nftables"
        );
        return;
    }
    let prefix = format!("vd{}", std::process::id() % 100_000);
    let lab = Namespaces(prefix.clone());
    let status = Command::new("bash")
        .args([SCRIPT, "up", &prefix])
        .status()
        .unwrap();
    assert!(status.success(), "defence-lab.sh up failed");
    let dir = tempfile::Builder::new()
        .prefix("vigie-defence-")
        .tempdir()
        .unwrap();
    set_mode(dir.path(), 0o755);
    let certificates = Certificates::for_ip(OBS);
    let (ca, cert, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
    );
    std::fs::write(&ca, &certificates.ca_pem).unwrap();
    std::fs::write(&cert, &certificates.cert_pem).unwrap();
    std::fs::write(&key, &certificates.key_pem).unwrap();
    set_mode(&ca, 0o644);
    let db = dir.path().join("vigie.db");
    let db_url = format!("sqlite://{}", db.display());
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"{OBS}:8443\"\ndatabase = \"{db_url}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n\n[defence]\ncommunes = 2.0\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let obs_log = dir.path().join("observatory.log");
    let mut observatory = Proc::start(
        &lab.ns("obs"),
        "observatory",
        &obs_log,
        env!("CARGO_BIN_EXE_vigie"),
        &["serve", "--config", config.to_str().unwrap()],
    );
    observatory.wait_program_pid();
    let up = wait_until("the observatory", Duration::from_secs(60), || {
        run(
            &lab.ns("r1"),
            5,
            "curl",
            &[
                "-sS",
                "-o",
                "/dev/null",
                "--cacert",
                ca.to_str().unwrap(),
                &format!("https://{OBS}:8443/connexion"),
            ],
        )
        .0
    });
    assert!(up, "the observatory does not answer:\n{}", tail(&obs_log));

    let mut boxes = Vec::new();
    for k in 1..=3 {
        let config = enroll(&lab, dir.path(), k, &db_url, &ca);
        let log = dir.path().join(format!("box{k}.log"));
        let mut process = Proc::start(
            &lab.ns(&format!("r{k}")),
            &format!("box{k}"),
            &log,
            env!("CARGO_BIN_EXE_vigie"),
            &["sensor", "--config", config.to_str().unwrap()],
        );
        process.wait_program_pid();
        boxes.push((process, log));
    }
    let r3 = lab.ns("r3");
    let territory = || {
        run(
            &r3,
            5,
            "nft",
            &["list", "set", "inet", "vigie", "territory_v4"],
        )
    };
    assert!(
        wait_until("box 3's filter table", Duration::from_secs(60), || {
            territory().0
        }),
        "no filter table:\n{}",
        tail(&boxes[2].1)
    );
    assert!(
        reaches(&lab, 3),
        "the third town hall is not reachable before the attack"
    );

    scan(&lab, 1);
    scan(&lab, 2);
    let attacked = Instant::now();
    let blocked = wait_until(
        "the attacker in box 3's territory set",
        Duration::from_secs(300),
        || territory().1.contains(ATTACKER),
    );
    assert!(
        blocked,
        "box 3 never blocked {ATTACKER}; observatory:\n{}\nbox 1:\n{}\nbox 3:\n{}\nentries: {}",
        tail(&obs_log),
        tail(&boxes[0].1),
        tail(&boxes[2].1),
        sql(&db, "SELECT * FROM defence_entries")
    );
    progress(&format!(
        "blocked at the third commune {:.0} s after the second scan",
        attacked.elapsed().as_secs_f64()
    ));
    assert!(
        attacked.elapsed() < Duration::from_secs(300),
        "later than 5 minutes"
    );
    assert!(
        !reaches(&lab, 3),
        "the attacker still reaches the third town hall"
    );
    assert!(reaches_from_router(&lab), "the town hall itself is down");

    scan(&lab, 3);
    let counted = wait_until(
        "the third commune's defended count",
        Duration::from_secs(120),
        || {
            sql(
                &db,
                &format!(
                    "SELECT COALESCE(SUM(attacks), 0) FROM defended_counts WHERE commune = '{}'",
                    COMMUNES[2]
                ),
            ) != "0"
        },
    );
    assert!(
        counted,
        "no attack counted as blocked thanks to the others:\n{}",
        tail(&boxes[2].1)
    );
    let others = sql(
        &db,
        &format!(
            "SELECT COUNT(*) FROM defended_counts WHERE commune IN ('{}', '{}')",
            COMMUNES[0], COMMUNES[1]
        ),
    );
    assert_eq!(
        others, "0",
        "the first two communes blocked nothing thanks to others"
    );
    for (mut process, _) in boxes {
        process.stop();
    }
    observatory.stop();
}

/// The third town hall from its own router: still up, only the attacker
/// is cut.
fn reaches_from_router(lab: &Namespaces) -> bool {
    run(
        &lab.ns("r3"),
        5,
        "curl",
        &[
            "-sS",
            "--max-time",
            "3",
            "-o",
            "/dev/null",
            "http://10.66.83.10/",
        ],
    )
    .0
}
