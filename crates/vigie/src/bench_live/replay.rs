//! The traffic side of the bench: tcpreplay runs at a given rate from the
//! replay namespace, and the reference capture, `tcpdump -w /dev/null` on
//! the same interface, with what each of them prints parsed.
//!
//! It must not judge the figures (the bench does): it only runs the tools
//! and reads their counters.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::lab::{self, Lab, Proc, Usage};

/// How fast to replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// `--mbps=N`.
    Mbps(u32),
    /// `--topspeed`: as fast as tcpreplay can send.
    Top,
}

impl Rate {
    /// How the table names it, in French.
    pub fn label(self) -> String {
        match self {
            Rate::Mbps(mbps) => format!("{mbps} Mbit/s"),
            Rate::Top => "au maximum".to_owned(),
        }
    }
}

/// What tcpreplay says it sent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sent {
    pub packets: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// As tcpreplay rates it: bits per second / 10^6.
    pub mbps: f64,
    /// Packets the interface refused (then not sent).
    pub failed: u64,
}

/// Replays `pcap` in a loop for `seconds` from the replay namespace.
/// While it runs, `sample` is called every 200 ms (to follow the memory of
/// the capturing process).
pub fn replay(
    lab: &Lab,
    pcap: &Path,
    rate: Rate,
    seconds: u32,
    mut sample: impl FnMut(),
) -> anyhow::Result<Sent> {
    let mut command = lab.command(&lab.replay, Path::new("tcpreplay"));
    command
        .arg(format!("--intf1={}", lab.replay))
        .args(["--loop=0", "--preload-pcap", "--no-flow-stats"])
        .arg(format!("--duration={seconds}"));
    match rate {
        Rate::Mbps(mbps) => command.arg(format!("--mbps={mbps}")),
        Rate::Top => command.arg("--topspeed"),
    };
    let mut child = command
        .arg(pcap)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start tcpreplay")?;
    // Generous: loading the capture into memory comes before the replay.
    let deadline = Instant::now() + Duration::from_secs(u64::from(seconds) + 60);
    while child.try_wait()?.is_none() {
        if let Err(interrupted) = lab::check_interrupted() {
            let _ = child.kill();
            return Err(interrupted);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("tcpreplay did not end within {seconds} s + 60 s");
        }
        sample();
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "tcpreplay failed ({}): {}{}",
            output.status,
            text.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    parse_tcpreplay(&text).with_context(|| format!("unexpected tcpreplay output:\n{text}"))
}

/// What tcpdump counted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TcpdumpCounts {
    pub captured: u64,
    pub received: u64,
    pub dropped: u64,
}

/// One rate of the reference: tcpdump started on the capture end, the
/// replay, then tcpdump's counters, and its CPU time and largest memory
/// over the rate.
pub fn reference(
    lab: &Lab,
    pcap: &Path,
    rate: Rate,
    seconds: u32,
    buffer_mib: u32,
    log: &Path,
) -> anyhow::Result<(Sent, TcpdumpCounts, Usage)> {
    let mut command = lab.command(&lab.capture, Path::new("tcpdump"));
    command
        .args(["-n", "-i", &lab.capture, "-w", "/dev/null", "-B"])
        .arg((buffer_mib * 1024).to_string());
    let mut tcpdump = Proc::spawn("tcpdump", command, log)?;
    tcpdump.wait_for_log("listening on", Duration::from_secs(20))?;
    let ticks = lab::ticks_per_sec();
    let before = lab::usage(tcpdump.pid(), ticks);
    let mut peak = before;
    let pid = tcpdump.pid();
    let sent = replay(lab, pcap, rate, seconds, || {
        let now = lab::usage(pid, ticks);
        peak.rss_kib = peak.rss_kib.max(now.rss_kib);
    })?;
    // libpcap hands a block of the ring over after its timeout (1 s for
    // tcpdump): wait for the last one before stopping.
    std::thread::sleep(Duration::from_secs(2));
    let after = lab::usage(pid, ticks);
    tcpdump.interrupt(Duration::from_secs(10))?;
    let counts = parse_tcpdump(&tcpdump.log_text())
        .with_context(|| format!("unexpected tcpdump output:\n{}", tcpdump.log_tail()))?;
    let used = Usage {
        cpu_secs: after.cpu_secs - before.cpu_secs,
        rss_kib: peak.rss_kib.max(after.rss_kib),
        hwm_kib: after.hwm_kib,
    };
    Ok((sent, counts, used))
}

/// Reads tcpreplay's summary:
/// `Actual: 881854 packets (49382646 bytes) sent in 3.01 seconds`,
/// `Rated: 16396618.1 Bps, 131.17 Mbps, 292803.73 pps`,
/// `Failed packets: 0`.
fn parse_tcpreplay(text: &str) -> Option<Sent> {
    let actual = line_after(text, "Actual:")?;
    let words: Vec<&str> = actual.split_whitespace().collect();
    let packets = words.first()?.parse().ok()?;
    let bytes = words.get(2)?.trim_start_matches('(').parse().ok()?;
    let seconds = words.get(6)?.parse().ok()?;
    let rated = line_after(text, "Rated:")?;
    let mbps = rated
        .split(',')
        .find(|part| part.trim_end().ends_with("Mbps"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let failed = line_after(text, "Failed packets:")
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or(0);
    Some(Sent {
        packets,
        bytes,
        seconds,
        mbps,
        failed,
    })
}

/// Reads tcpdump's last words: `N packets captured`, `N packets received
/// by filter`, `N packets dropped by kernel`.
fn parse_tcpdump(text: &str) -> Option<TcpdumpCounts> {
    let count = |suffix: &str| {
        text.lines()
            .find(|line| line.trim_end().ends_with(suffix))
            .and_then(|line| line.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    Some(TcpdumpCounts {
        captured: count("packets captured")?,
        received: count("packets received by filter")?,
        dropped: count("packets dropped by kernel")?,
    })
}

fn line_after<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.trim_start().strip_prefix(label))
}

/// Checks that tcpreplay and tcpdump can run at all (`ip` too).
pub fn check_tools() -> anyhow::Result<()> {
    if let Some(program) = lab::missing_program(&["ip", "tcpreplay", "tcpdump", "kill"]) {
        bail!("{program} est introuvable (apt-get install iproute2 tcpreplay tcpdump procps)");
    }
    let _ = Command::new("tcpreplay").arg("--version").output()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCPREPLAY: &str = "\
Actual: 881854 packets (49382646 bytes) sent in 3.01 seconds
Rated: 16396618.1 Bps, 131.17 Mbps, 292803.73 pps
Statistics for network device: vgbench1a
\tSuccessful packets:        881850
\tFailed packets:            4
\tTruncated packets:         0
";

    #[test]
    fn tcpreplay_summary() {
        let sent = parse_tcpreplay(TCPREPLAY).unwrap();
        assert_eq!(sent.packets, 881_854);
        assert_eq!(sent.bytes, 49_382_646);
        assert!((sent.seconds - 3.01).abs() < 1e-9);
        assert!((sent.mbps - 131.17).abs() < 1e-9);
        assert_eq!(sent.failed, 4);
        assert_eq!(parse_tcpreplay("File Cache is enabled\n"), None);
    }

    #[test]
    fn tcpdump_counters() {
        let text = "tcpdump: listening on vgbench1b, link-type EN10MB (Ethernet)\n\
                    880941 packets captured\n881854 packets received by filter\n\
                    12 packets dropped by kernel\n";
        assert_eq!(
            parse_tcpdump(text),
            Some(TcpdumpCounts {
                captured: 880_941,
                received: 881_854,
                dropped: 12
            })
        );
        assert_eq!(parse_tcpdump("tcpdump: listening on x\n"), None);
    }

    #[test]
    fn rate_labels() {
        assert_eq!(Rate::Mbps(250).label(), "250 Mbit/s");
        assert_eq!(Rate::Top.label(), "au maximum");
    }
}
