//! The bench's lab: two network namespaces joined by a veth pair (10.66.70.x,
//! no route out), the processes started inside them, and the helpers that
//! read those processes from /proc.
//!
//! It must leave nothing behind: the namespaces (and with them the veth
//! pair) are removed when the [`Lab`] is dropped, each started process is
//! killed when its [`Proc`] is dropped, even when the bench fails midway.
//! Signals and the root check go through `kill` and /proc rather than a
//! new dependency of the binary.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Set on SIGINT or SIGTERM: the bench's waiting loops then fail, and the
/// failure's way out removes the lab (being killed would leave it).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The replay side's address; the capture side is `.2`.
const REPLAY_ADDR: &str = "10.66.70.1/24";
const CAPTURE_ADDR: &str = "10.66.70.2/24";

/// Two namespaces and the veth pair between them; each end of the pair is
/// named after its namespace.
pub struct Lab {
    /// Where tcpreplay sends from.
    pub replay: String,
    /// Where the capture (tcpdump or the sensor) and the observatory run.
    pub capture: String,
}

impl Lab {
    /// Creates the namespaces and the veth pair, names unique to this run
    /// (the pid: interface names are at most 15 characters).
    pub fn create() -> anyhow::Result<Lab> {
        let id = std::process::id();
        let lab = Lab {
            replay: format!("vgbench{id}a"),
            capture: format!("vgbench{id}b"),
        };
        // From here on, a failure removes what was made.
        ip(&["netns", "add", &lab.replay])?;
        ip(&["netns", "add", &lab.capture])?;
        let (a, b) = (lab.replay.as_str(), lab.capture.as_str());
        ip(&[
            "link", "add", a, "netns", a, "type", "veth", "peer", "name", b, "netns", b,
        ])?;
        for (ns, addr) in [(a, REPLAY_ADDR), (b, CAPTURE_ADDR)] {
            // No IPv6: its router solicitations would add packets nobody sent.
            lab.exec(ns, &["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])?;
            lab.exec(
                ns,
                &["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"],
            )?;
            ip(&["-n", ns, "addr", "add", addr, "dev", ns])?;
            ip(&["-n", ns, "link", "set", ns, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(lab)
    }

    /// A command run inside namespace `ns` (`ip netns exec` execs it, so
    /// the child's pid is the program's own).
    pub fn command(&self, ns: &str, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns]).arg(program);
        command
    }

    /// Frames the veth pair dropped so far (the sending end's tx, the
    /// capturing end's rx): lost before any capture could see them, when
    /// the machine cannot even deliver them (its receive backlog full).
    pub fn veth_drops(&self) -> anyhow::Result<u64> {
        let mut total = 0;
        for (ns, direction) in [(&self.replay, "tx"), (&self.capture, "rx")] {
            let output = Command::new("ip")
                .args(["-n", ns, "-j", "-s", "link", "show", "dev", ns])
                .output()
                .context("cannot run ip")?;
            let json: serde_json::Value = serde_json::from_slice(&output.stdout)
                .with_context(|| format!("ip -j -s link show dev {ns}: not JSON"))?;
            total += json[0]["stats64"][direction]["dropped"]
                .as_u64()
                .with_context(|| format!("ip -j -s link show dev {ns}: no {direction} drops"))?;
        }
        Ok(total)
    }

    /// Runs a short command inside `ns` and checks it succeeded.
    fn exec(&self, ns: &str, args: &[&str]) -> anyhow::Result<()> {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns]).args(args);
        run_checked(&mut command)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Removing a namespace destroys its end of the pair, and so both.
        for ns in [&self.replay, &self.capture] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Catches SIGINT and SIGTERM from now on (see [`check_interrupted`]).
pub fn catch_interrupts() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered here, before the bench starts anything to clean up.
    let (mut interrupt, mut terminate) = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::spawn(move || {
        runtime.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        });
        INTERRUPTED.store(true, Ordering::SeqCst);
    });
    Ok(())
}

/// Fails once the bench was asked to stop.
pub fn check_interrupted() -> anyhow::Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        bail!("interrompu");
    }
    Ok(())
}

/// A process started by the bench, its output kept in a file; killed on
/// drop.
pub struct Proc {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `command` with its stdout and stderr in `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> anyhow::Result<Proc> {
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Proc {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the log holds `text`; fails early if the process ends.
    pub fn wait_for_log(&mut self, text: &str, deadline: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + deadline;
        loop {
            check_interrupted()?;
            if self.log_text().contains(text) {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("{} stopped ({status}):\n{}", self.name, self.log_tail());
            }
            if Instant::now() >= end {
                bail!(
                    "{} did not print {text:?} within {deadline:?}:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fails when the process has ended (it should still be running).
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        check_interrupted()?;
        match self.child.try_wait()? {
            Some(status) => bail!("{} stopped ({status}):\n{}", self.name, self.log_tail()),
            None => Ok(()),
        }
    }

    /// Sends SIGINT (tcpdump then prints its counters) and waits for the
    /// end, at most `deadline`, then kills.
    pub fn interrupt(&mut self, deadline: Duration) -> anyhow::Result<()> {
        signal(self.pid(), "-INT")?;
        let end = Instant::now() + deadline;
        while Instant::now() < end {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        bail!("{} did not stop on SIGINT within {deadline:?}", self.name)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the log, for an error message.
    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What /proc says of a running process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// User + system CPU time of all its threads, in seconds.
    pub cpu_secs: f64,
    /// Resident memory now and at its peak, in KiB.
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

/// Reads `/proc/PID/stat` and `/proc/PID/status`; zeros for what is gone.
pub fn usage(pid: u32, ticks_per_sec: f64) -> Usage {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    Usage {
        cpu_secs: cpu_ticks(&stat) as f64 / ticks_per_sec,
        rss_kib: status_kib(&status, "VmRSS:"),
        hwm_kib: status_kib(&status, "VmHWM:"),
    }
}

/// Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100,
/// the value on every Linux architecture vigie runs on, if that fails).
pub fn ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

/// Whether this process runs as root (effective uid 0, from /proc).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .and_then(|line| line.split_whitespace().nth(2))
                .map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// The first of `programs` not found in PATH.
pub fn missing_program(programs: &[&'static str]) -> Option<&'static str> {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    programs
        .iter()
        .copied()
        .find(|program| !std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

pub fn run_checked(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    run_checked(Command::new("ip").args(args))
}

fn signal(pid: u32, which: &str) -> anyhow::Result<()> {
    run_checked(Command::new("kill").arg(which).arg(pid.to_string()))
}

/// utime + stime: fields 14 and 15 of /proc/PID/stat, counted after the
/// command name, which is in parentheses and may hold spaces.
fn cpu_ticks(stat: &str) -> u64 {
    let Some(after_name) = stat.rfind(')').and_then(|at| stat.get(at + 1..)) else {
        return 0;
    };
    // After the name come field 3 (state) onwards: utime is the 12th.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn status_kib(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|line| line.starts_with(key))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_after_a_name_with_spaces() {
        let stat = "4242 (vigie sensor) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0";
        assert_eq!(cpu_ticks(stat), 325);
        assert_eq!(cpu_ticks("garbage"), 0);
        assert_eq!(cpu_ticks(""), 0);
    }

    #[test]
    fn status_lines() {
        let status = "Name:\tvigie\nVmHWM:\t  98304 kB\nVmRSS:\t   81920 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), 81_920);
        assert_eq!(status_kib(status, "VmHWM:"), 98_304);
        assert_eq!(status_kib(status, "VmSwap:"), 0);
    }

    #[test]
    fn own_process_is_readable() {
        let own = usage(std::process::id(), ticks_per_sec());
        assert!(own.rss_kib > 0, "{own:?}");
        assert!(own.hwm_kib >= own.rss_kib, "{own:?}");
    }
}
