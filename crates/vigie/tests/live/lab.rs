//! The lab of `tests/live/lab.sh` seen from the test: its facts, commands
//! run in its namespaces, and the long-running processes the test starts
//! there, each stopped by its guard. It must not touch the host's network:
//! every command runs in a namespace of the lab, and the lab is removed
//! (`lab.sh down`) when its guard drops, even after a panic.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const LAB_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/live/lab.sh");
/// A process the test starts ends by itself after this long, even if the
/// test is killed before its guard runs.
const PROCESS_LIFETIME_SECS: &str = "1200";

/// A progress line for the CI log, with the time since the test began.
pub fn progress(message: &str) {
    eprintln!("[live +{:6.1}s] {message}", since_start().as_secs_f64());
}

fn since_start() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// A lab built by `lab.sh up`, removed by `lab.sh down` on drop.
pub struct Lab {
    prefix: String,
    facts: HashMap<String, String>,
    /// The test's own files: certificates, database, box, captures.
    pub dir: PathBuf,
    _dir_guard: Option<tempfile::TempDir>,
}

impl Lab {
    /// Builds a lab named after this process and a counter, so that two
    /// runs never share a namespace.
    pub fn up(scenario: &str) -> Lab {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("vl{}x{n}", std::process::id() % 1_000_000);
        progress(&format!("{scenario}: building the lab {prefix}"));
        let dir = tempfile::Builder::new()
            .prefix(&format!("vigie-live-{scenario}-"))
            .tempdir()
            .expect("cannot create the test's directory");
        // The box runs as `nobody` and reads its files from here.
        set_mode(dir.path(), 0o755);
        let output = Command::new("bash")
            .args([LAB_SCRIPT, "up", &prefix])
            .stderr(Stdio::inherit())
            .output()
            .expect("cannot run tests/live/lab.sh");
        let mut lab = Lab {
            prefix,
            facts: HashMap::new(),
            dir: dir.path().to_owned(),
            _dir_guard: None,
        };
        assert!(
            output.status.success(),
            "lab.sh up failed ({})",
            output.status
        );
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            if let Some((key, value)) = line.split_once('=') {
                lab.facts.insert(key.to_owned(), value.to_owned());
            }
        }
        // A failed run's files stay for a look when asked.
        if std::env::var_os("VIGIE_LIVE_KEEP").is_some() {
            progress(&format!("keeping {}", dir.path().display()));
            let _ = dir.keep();
        } else {
            lab._dir_guard = Some(dir);
        }
        lab
    }

    /// A fact printed by `lab.sh up` (addresses, namespaces...).
    pub fn fact(&self, key: &str) -> &str {
        self.facts
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("lab.sh up printed no {key}"))
    }

    pub fn ns_att(&self) -> &str {
        self.fact("NS_ATT")
    }

    pub fn ns_rtr(&self) -> &str {
        self.fact("NS_RTR")
    }

    pub fn ns_obs(&self) -> &str {
        self.fact("NS_OBS")
    }

    /// A file of the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Runs a command in a namespace to its end, bounded by `timeout`;
    /// returns its exit status success and its output (stdout, then stderr).
    pub fn run(&self, ns: &str, limit_secs: u32, program: &str, args: &[&str]) -> (bool, String) {
        let output = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "timeout",
                "-k",
                "5",
                &limit_secs.to_string(),
            ])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program} in {ns}: {e}"));
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let status = Command::new("bash")
            .args([LAB_SCRIPT, "down", &self.prefix])
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("lab.sh down {} failed: {status:?}", self.prefix);
        }
    }
}

/// A long-running program started in a namespace under `timeout`, stopped
/// when dropped.
pub struct Proc {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `program args` in `ns`, its output to `log` (appended, so a
    /// restarted program keeps one log).
    pub fn start(ns: &str, name: &str, log: &Path, program: &str, args: &[&str]) -> Proc {
        let file = File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "timeout",
                "-k",
                "5",
                PROCESS_LIFETIME_SECS,
            ])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("cannot duplicate a file handle"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} in {ns}: {e}"));
        Proc {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        }
    }

    /// The program's own process id: the child of `timeout` (`ip netns
    /// exec` replaces itself with `timeout`).
    pub fn program_pid(&self) -> Option<i32> {
        let id = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{id}/task/{id}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }

    /// Waits until the program itself has started under `timeout`.
    pub fn wait_program_pid(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(pid) = self.program_pid() {
                return pid;
            }
            assert!(
                self.running(),
                "{} exited at once:\n{}",
                self.name,
                tail(&self.log)
            );
            assert!(Instant::now() < deadline, "{} did not start", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `signal` to `timeout`, which passes it on to the program
    /// (SIGTERM, SIGINT), and waits up to `grace` for both to end; then kills
    /// them.
    pub fn stop_with(&mut self, signal: Signal, grace: Duration) {
        if !self.running() {
            return;
        }
        let _ = kill(Pid::from_raw(self.child.id() as i32), signal);
        let deadline = Instant::now() + grace;
        while self.running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.running() {
            eprintln!("{} did not stop within {grace:?}: killing it", self.name);
            if let Some(pid) = self.program_pid() {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    pub fn stop(&mut self) {
        self.stop_with(Signal::SIGTERM, Duration::from_secs(20));
    }

    /// Kills the program itself with SIGKILL, as a power cut or the OOM
    /// killer would, and reaps `timeout`.
    pub fn kill_hard(&mut self) {
        let pid = self.program_pid().expect("the program is not running");
        kill(Pid::from_raw(pid), Signal::SIGKILL).expect("cannot send SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop_with(Signal::SIGTERM, Duration::from_secs(10));
    }
}

/// The last lines of a log, for a failure message.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(30);
    format!(
        "--- {} (end) ---\n{}",
        log.display(),
        lines[start..].join("\n")
    )
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}

/// Gives a directory tree to `nobody`, the user the box drops to.
pub fn give_to_nobody(path: &Path) {
    let status = Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(path)
        .status()
        .expect("cannot run chown");
    assert!(
        status.success(),
        "chown -R nobody {} failed",
        path.display()
    );
}

/// Waits until `ready` says yes, up to `limit`, saying what it waits for.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    let mut next_note = Instant::now() + Duration::from_secs(10);
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            progress(&format!("gave up waiting for {what} after {limit:?}"));
            return false;
        }
        if Instant::now() >= next_note {
            progress(&format!("still waiting for {what}"));
            next_note += Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
