//! The lab of `tests/probe/lab.sh` seen from the test: its hosts, commands
//! run in its probe namespace, and the capture of the out-of-scope host. It
//! must not touch the host's network: every command runs in a namespace of
//! the lab, and the lab is removed (`lab.sh down`) when its guard drops,
//! even after a panic.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const LAB_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/probe/lab.sh");
/// The probe's address in the lab (lab.sh's PROBE_IP).
pub const PROBE_IP: &str = "10.66.80.2";
/// A command the test runs in the lab is killed after this long: a hung
/// probe fails the test instead of blocking CI.
pub const COMMAND_LIMIT_SECS: &str = "900";

/// A progress line for the CI log, with the time since the test began.
pub fn progress(message: &str) {
    eprintln!("[probe +{:6.1}s] {message}", since_start().as_secs_f64());
}

pub fn since_start() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// Whether this process runs as root, read from /proc so the test needs no
/// libc binding.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(1).map(|uid| uid == "0")
        })
        .unwrap_or(false)
}

/// One line of the lab's hosts.tsv.
#[derive(Clone, Debug)]
pub struct LabHost {
    pub role: String,
    pub address: IpAddr,
    pub tcp: Vec<u16>,
    pub udp: Vec<u16>,
}

/// A lab built by `lab.sh up`, removed by `lab.sh down` on drop.
pub struct Lab {
    pub prefix: String,
    pub state: PathBuf,
    pub hosts: Vec<LabHost>,
}

impl Lab {
    /// Builds the planted lab, named after this process.
    pub fn up() -> Lab {
        let prefix = format!("vp{}", std::process::id() % 10_000_000);
        progress(&format!("building the lab {prefix} (tests/probe/lab.sh)"));
        let mut lab = Lab {
            state: PathBuf::from(format!("/tmp/vigie-probe-lab-{prefix}")),
            prefix,
            hosts: Vec::new(),
        };
        let status = Command::new("bash")
            .args([LAB_SCRIPT, "up", &lab.prefix])
            .stdin(Stdio::null())
            .status()
            .expect("cannot run tests/probe/lab.sh");
        assert!(status.success(), "lab.sh up failed ({status})");
        let table = std::fs::read_to_string(lab.state.join("hosts.tsv"))
            .expect("lab.sh up wrote no hosts.tsv");
        lab.hosts = table.lines().map(parse_host).collect();
        lab
    }

    /// The address of the host playing `role`.
    pub fn address(&self, role: &str) -> IpAddr {
        self.hosts
            .iter()
            .find(|h| h.role == role)
            .map(|h| h.address)
            .unwrap_or_else(|| panic!("the lab has no host {role}"))
    }

    /// The role of the host at `address`, for messages.
    pub fn role_of(&self, address: IpAddr) -> &str {
        self.hosts
            .iter()
            .find(|h| h.address == address)
            .map_or("?", |h| h.role.as_str())
    }

    /// The probe's namespace.
    pub fn probe_ns(&self) -> String {
        format!("{}-probe", self.prefix)
    }

    /// Runs a program in the probe's namespace, bounded in time; returns
    /// its output (stdout and stderr captured).
    pub fn run_in_probe_ns(&self, program: &Path, args: &[&str]) -> Output {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.probe_ns(),
                "timeout",
                COMMAND_LIMIT_SECS,
            ])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} in the lab: {e}", program.display()))
    }

    /// What reached the out-of-scope hosts from the probe's address: the
    /// lines of the capture (tcpdump's own rendering) with a packet from
    /// the probe to one of them, or an ARP request of the probe for one of
    /// them; plus the connections their listeners logged.
    pub fn out_of_scope_traffic(&self) -> Vec<String> {
        let out: Vec<String> = ["excluded", "outside"]
            .iter()
            .map(|role| self.address(role).to_string())
            .collect();
        let decoded = Command::new("tcpdump")
            .args(["-n", "-r"])
            .arg(self.state.join("out.pcap"))
            .stderr(Stdio::null())
            .output()
            .expect("cannot run tcpdump -r on the lab's capture");
        let text = String::from_utf8_lossy(&decoded.stdout);
        let mut seen: Vec<String> = text
            .lines()
            .filter(|line| out.iter().any(|addr| from_probe_to(line, addr)))
            .map(str::to_owned)
            .collect();
        let log = std::fs::read_to_string(self.state.join(format!("odd-{}-out.log", self.prefix)))
            .unwrap_or_default();
        seen.extend(
            log.lines()
                .filter(|l| l.starts_with("accept"))
                .map(|l| format!("listener: {l}")),
        );
        seen
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::env::var_os("VIGIE_PROBE_KEEP_LAB").is_some() {
            progress(&format!(
                "keeping the lab {} (remove it with: bash tests/probe/lab.sh down {})",
                self.prefix, self.prefix
            ));
            return;
        }
        let status = Command::new("bash")
            .args([LAB_SCRIPT, "down", &self.prefix])
            .stdin(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("lab.sh down {} failed: {status:?}", self.prefix);
        }
    }
}

/// Whether a line of `tcpdump -n` shows the probe sending to `addr`: an IP
/// packet `10.66.80.2[.port] > ADDR[.port]:`, or an ARP request
/// `who-has ADDR tell 10.66.80.2`.
pub fn from_probe_to(line: &str, addr: &str) -> bool {
    let to = |rest: &str| {
        rest.strip_prefix(addr)
            .is_some_and(|tail| tail.starts_with('.') || tail.starts_with(':'))
    };
    let ip_packet = line.find(" > ").is_some_and(|at| {
        let (before, after) = line.split_at(at);
        let source = before.rsplit(' ').next().unwrap_or("");
        let is_probe = source == PROBE_IP || source.starts_with(&format!("{PROBE_IP}."));
        is_probe && after.get(3..).is_some_and(to)
    });
    let arp = line.contains(&format!("who-has {addr} tell {PROBE_IP}"));
    ip_packet || arp
}

fn parse_host(line: &str) -> LabHost {
    let fields: Vec<&str> = line.split('\t').collect();
    let ports = |index: usize| -> Vec<u16> {
        fields
            .get(index)
            .map(|list| {
                list.split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| p.parse().expect("a port in hosts.tsv"))
                    .collect()
            })
            .unwrap_or_default()
    };
    LabHost {
        role: fields.first().expect("a role in hosts.tsv").to_string(),
        address: fields
            .get(1)
            .and_then(|a| a.parse().ok())
            .expect("an address in hosts.tsv"),
        tcp: ports(2),
        udp: ports(3),
    }
}

#[test]
fn the_capture_filter_sees_the_probe_only() {
    let out = "10.66.80.99";
    for (line, expected) in [
        (
            "12:00:00.1 IP 10.66.80.2.40000 > 10.66.80.99.22: Flags [S]",
            true,
        ),
        (
            "12:00:00.1 IP 10.66.80.2 > 10.66.80.99: ICMP echo request",
            true,
        ),
        (
            "12:00:00.1 IP 10.66.80.2.5353 > 10.66.80.99.53: 1+ PTR?",
            true,
        ),
        (
            "12:00:00.1 ARP, Request who-has 10.66.80.99 tell 10.66.80.2, length 28",
            true,
        ),
        (
            "12:00:00.1 IP 10.66.80.2.40000 > 10.66.80.9.22: Flags [S]",
            false,
        ),
        (
            "12:00:00.1 IP 10.66.80.2.40000 > 10.66.80.199.22: Flags [S]",
            false,
        ),
        (
            "12:00:00.1 IP 10.66.80.20.40000 > 10.66.80.99.22: Flags [S]",
            false,
        ),
        (
            "12:00:00.1 IP 10.66.80.99.22 > 10.66.80.2.40000: Flags [R]",
            false,
        ),
        (
            "12:00:00.1 ARP, Request who-has 10.66.80.10 tell 10.66.80.2, length 28",
            false,
        ),
    ] {
        assert_eq!(from_probe_to(line, out), expected, "{line}");
    }
}
