//! The box under test: enrolled with `vigie sensor enroll`, its
//! configuration then edited for the lab ([`configure`], the one place that
//! knows the keys), run live with `vigie sensor --config` in the router's
//! namespace, and the offline reference: `vigie sensor --pcap` on the
//! router's capture with the same configuration.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::lab::{Lab, Proc, give_to_nobody, progress, tail, wait_until};
use super::observatory::{COMMUNE, Observatory};

/// Every batch interval the box drains its engine and sends a batch.
pub const BATCH_SECS: i64 = 2;
/// Quiet time after which an incident closes, for every category: long
/// against the gaps inside one attack (hydra waits up to 1 s between
/// connections) and against a restart of the box (a second or two), short
/// enough that incidents close within seconds of the attacks.
pub const IDLE_SECS: i64 = 10;
const CATEGORIES: [&str; 7] = [
    "scan",
    "sweep",
    "brute_force",
    "web_exploit",
    "flood",
    "reputation",
    "suspicious_dns",
];

/// The box's longest wait between two tries (`retry_max_secs`).
pub const RETRY_MAX_SECS: i64 = 20;

/// What a scenario changes in the box's configuration.
#[derive(Default)]
pub struct Tuning {
    /// Another observatory address (the ack-cutting proxy).
    pub url: Option<String>,
    /// A spool directory apart from the state directory.
    pub spool_dir: Option<PathBuf>,
    /// `filter` to block (the box's nftables table in the router's
    /// namespace); `observe` when not given.
    pub mode: Option<&'static str>,
    /// How often the box fetches the lists; an hour when not given.
    pub lists_interval_secs: Option<i64>,
}

/// The enrolled box: its directory and, while it runs, its process.
pub struct Sensor {
    pub config: PathBuf,
    log: PathBuf,
    ns: String,
    capture_interface: String,
    /// A shell line run before the box, in its own mount namespace.
    pub prelude: Option<String>,
    process: Option<Proc>,
}

impl Sensor {
    /// Enrols a new box of the commune from the router's namespace, then
    /// configures it for the lab.
    pub fn enroll(lab: &Lab, observatory: &Observatory, tuning: &Tuning) -> Sensor {
        let code = observatory.add_sensor();
        let dir = lab.path("box");
        std::fs::create_dir_all(&dir).expect("create the box's directory");
        let config = dir.join("sensor.toml");
        let state_dir = dir.join("state");
        let (ok, out) = lab.run(
            lab.ns_rtr(),
            60,
            env!("CARGO_BIN_EXE_vigie"),
            &[
                "sensor",
                "enroll",
                "--server",
                &observatory.url(),
                "--code",
                &code,
                "--ca-file",
                observatory.ca_file.to_str().expect("UTF-8 path"),
                "--commune",
                COMMUNE,
                "--interface",
                lab.fact("CAPTURE_INTERFACE"),
                "--state-dir",
                state_dir.to_str().expect("UTF-8 path"),
                "--config",
                config.to_str().expect("UTF-8 path"),
            ],
        );
        assert!(ok, "vigie sensor enroll failed:\n{out}");
        progress(&format!(
            "box enrolled: {}",
            out.trim().replace('\n', " | ")
        ));
        configure(&config, lab, tuning);
        give_to_nobody(&dir);
        Sensor {
            config,
            log: lab.path("sensor.log"),
            ns: lab.ns_rtr().to_owned(),
            capture_interface: lab.fact("CAPTURE_INTERFACE").to_owned(),
            prelude: None,
            process: None,
        }
    }

    /// Starts `vigie sensor --config` and waits until it captures.
    pub fn start(&mut self) {
        assert!(self.process.is_none(), "the box runs already");
        let started_before = self.times_in_service();
        let vigie = env!("CARGO_BIN_EXE_vigie");
        let config = self.config.to_str().expect("UTF-8 path");
        let mut process = match &self.prelude {
            // `ip netns exec` gives the box its own mount namespace: what
            // the prelude mounts is the box's alone and goes with it.
            Some(prelude) => Proc::start(
                &self.ns,
                "sensor",
                &self.log,
                "sh",
                &[
                    "-c",
                    &format!("{prelude} && exec \"$0\" sensor --config \"$1\""),
                    vigie,
                    config,
                ],
            ),
            None => Proc::start(
                &self.ns,
                "sensor",
                &self.log,
                vigie,
                &["sensor", "--config", config],
            ),
        };
        let pid = process.wait_program_pid();
        let capturing = wait_until(
            "the box to open its capture",
            Duration::from_secs(30),
            || has_packet_socket(pid),
        );
        assert!(
            capturing,
            "the box does not capture on {}:\n{}",
            self.capture_interface,
            tail(&self.log)
        );
        // The packet socket exists before libpcap has bound it, set its
        // filter and mapped its ring (it drops what came before): an attack
        // started then is not seen. "en service" is logged once the capture
        // is ready.
        let in_service = wait_until(
            "the box to say it is in service",
            Duration::from_secs(30),
            || self.times_in_service() > started_before,
        );
        assert!(
            in_service,
            "the box never said « en service »:\n{}",
            tail(&self.log)
        );
        self.process = Some(process);
        progress(&format!(
            "box running (pid {pid}), capturing on {}",
            self.capture_interface
        ));
    }

    /// How many times the box's log says it started its service.
    fn times_in_service(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|log| log.matches("vigie-sensor: en service").count())
            .unwrap_or(0)
    }

    /// SIGTERM: the box writes its last batch and stops.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
            progress("box stopped");
        }
    }

    /// The box's own process id while it runs.
    #[allow(dead_code)] // used by live_filter.rs, not by live.rs
    pub fn pid(&self) -> Option<i32> {
        self.process.as_ref().and_then(Proc::program_pid)
    }

    /// SIGKILL, without warning.
    pub fn kill_hard(&mut self) {
        let mut process = self.process.take().expect("the box is not running");
        process.kill_hard();
        progress("box killed with SIGKILL");
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Edits the configuration `vigie sensor enroll` wrote: the lab's
/// interface and home net, the state in the test's directory, short
/// intervals and idle times, and what the scenario asks.
fn configure(path: &Path, lab: &Lab, tuning: &Tuning) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("enroll wrote no {}: {e}", path.display()));
    let mut config: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{} is not TOML: {e}\n{text}", path.display()));
    let state_dir = path.parent().expect("a directory").join("state");
    std::fs::create_dir_all(&state_dir).expect("create the state directory");
    set(&mut config, "mode", tuning.mode.unwrap_or("observe").into());
    let observatory = section(&mut config, "observatory");
    set(observatory, "batch_interval_secs", BATCH_SECS.into());
    set(observatory, "heartbeat_interval_secs", 5.into());
    set(
        observatory,
        "lists_interval_secs",
        tuning.lists_interval_secs.unwrap_or(3600).into(),
    );
    set(observatory, "timeout_secs", 10.into());
    // Retries back off up to 20 s, not the production 5 min: a test that
    // stops the observatory for minutes then waits for the box to notice
    // it is back stays within minutes.
    set(observatory, "retry_max_secs", RETRY_MAX_SECS.into());
    if let Some(url) = &tuning.url {
        set(observatory, "url", url.as_str().into());
    }
    let capture = section(&mut config, "capture");
    set(
        capture,
        "interfaces",
        vec![lab.fact("CAPTURE_INTERFACE")].into(),
    );
    set(capture, "user", "nobody".into());
    set(
        section(&mut config, "network"),
        "home_nets",
        vec![lab.fact("HOME_NET")].into(),
    );
    let storage = section(&mut config, "storage");
    set(
        storage,
        "state_dir",
        state_dir.to_str().expect("UTF-8 path").into(),
    );
    if let Some(spool) = &tuning.spool_dir {
        set(
            storage,
            "spool_dir",
            spool.to_str().expect("UTF-8 path").into(),
        );
    }
    let detection = section(&mut config, "detection");
    for category in CATEGORIES {
        set(section(detection, category), "idle", IDLE_SECS.into());
    }
    let text = toml::to_string(&config).expect("serialise the configuration");
    std::fs::write(path, text).expect("write the configuration");
}

fn section<'a>(table: &'a mut toml::Table, name: &str) -> &'a mut toml::Table {
    table
        .entry(name)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .unwrap_or_else(|| panic!("[{name}] is not a table"))
}

fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    table.insert(key.to_owned(), value);
}

/// Whether process `pid` holds an AF_PACKET socket: /proc/PID/net/packet
/// lists those of its network namespace, by inode.
fn has_packet_socket(pid: i32) -> bool {
    let Ok(table) = std::fs::read_to_string(format!("/proc/{pid}/net/packet")) else {
        return false;
    };
    let inodes: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().last())
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|target| {
            let target = target.to_string_lossy();
            inodes
                .iter()
                .any(|inode| target == format!("socket:[{inode}]"))
        })
    })
}

/// The offline reference: the report of `vigie sensor --pcap` on the
/// capture, with the box's own configuration and home net.
pub fn analyse_offline(pcap: &Path, config: &Path, home_net: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("sensor")
        .arg("--pcap")
        .arg(pcap)
        .arg("--config")
        .arg(config)
        .args(["--format", "json", "--home-net", home_net])
        .output()
        .expect("cannot run vigie sensor --pcap");
    assert!(
        output.status.success(),
        "vigie sensor --pcap {} failed ({}): {}",
        pcap.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the offline report is not JSON")
}
