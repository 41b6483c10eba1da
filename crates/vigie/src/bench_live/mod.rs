//! `vigie bench live`: the live sensor's highest replay rate with no packet
//! lost, its CPU and its memory with a million-entry threat list loaded,
//! beside `tcpdump -w /dev/null` on the same interface at the same rates
//! (the reference: shared machines are noisy, a ratio much less).
//!
//! A generated mixed capture is replayed by tcpreplay in a loop, for a fixed
//! time per rate at increasing rates, from one network namespace onto a
//! veth pair whose other end, in a second namespace, is captured; each
//! capture stops at its first rate with a loss. Needs root (namespaces,
//! capture) and removes everything it made, even on failure.

mod lab;
mod replay;
mod report;
mod sensor_box;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use vigie_sensor::synth::traffic::{self, Mix, Written};

use lab::Lab;
use replay::{Rate, Sent};
use report::{Memory, print_header, print_row, summary};
use sensor_box::SensorBox;

/// 2026-11-22T08:00:00Z: a fixed start keeps the generated capture the same.
const START: i64 = 1_795_334_400 * 1_000_000_000;
/// How long after a replay the sensor's count may take to add up to what
/// was sent before a shortfall counts as lost.
const PATIENCE: Duration = Duration::from_secs(20);

#[derive(clap::Args)]
pub struct LiveArgs {
    /// Packets in the generated capture (replayed in a loop).
    #[arg(long, default_value_t = 200_000)]
    packets: u64,
    /// Seconds of replay at each rate.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Rates to try, in Mbit/s, in order; then as fast as tcpreplay can.
    #[arg(long, value_delimiter = ',', default_value = "250,500,1000,2000,4000")]
    rates: Vec<u32>,
    /// Entries of the generated threat list the sensor loads.
    #[arg(long, default_value_t = 1_000_000)]
    list_entries: u32,
    /// The kernel's capture ring, for the sensor and for tcpdump (-B).
    #[arg(long, default_value_t = 32)]
    buffer_mib: u32,
    /// Only the reference (tcpdump), not the sensor.
    #[arg(long)]
    reference_only: bool,
}

/// One rate, measured.
#[derive(Clone, Debug)]
struct Row {
    rate: Rate,
    sent: Sent,
    /// Packets the capture read.
    seen: u64,
    /// Lost in the kernel: the capture's ring was full.
    kernel_drops: u64,
    /// Lost by the veth pair, before any capture.
    veth_drops: u64,
    /// CPU time of the capturing process over the rate, in seconds.
    cpu_secs: f64,
    /// Its largest resident memory seen during the rate.
    rss_kib: u64,
}

impl Row {
    /// Nothing lost: no drop anywhere, and every packet sent was read.
    fn clean(&self) -> bool {
        self.kernel_drops == 0 && self.veth_drops == 0 && self.seen >= self.sent.packets
    }
}

pub fn run(args: LiveArgs) -> anyhow::Result<ExitCode> {
    if !lab::is_root() {
        bail!(
            "`vigie bench live` demande root : il crée des espaces de noms réseau, \
             une paire veth et capture dessus (sudo vigie bench live)"
        );
    }
    replay::check_tools()?;
    lab::catch_interrupts()?;
    let dir = tempfile::tempdir()?;
    let pcap = dir.path().join("mixed.pcap");
    let written = generate(&pcap, args.packets)?;
    let mut rates: Vec<Rate> = args.rates.iter().map(|&mbps| Rate::Mbps(mbps)).collect();
    rates.push(Rate::Top);
    let lab = Lab::create().context("cannot build the lab")?;
    println!(
        "rejeu de {} paquets ({:.0} octets en moyenne) en boucle, {} s par débit, \
         de {} vers {} (anneau de capture : {} Mio)",
        written.packets,
        written.bytes as f64 / written.packets.max(1) as f64,
        args.seconds,
        lab.replay,
        lab.capture,
        args.buffer_mib
    );

    let reference = measure_reference(&lab, dir.path(), &pcap, &rates, &args)?;
    if args.reference_only {
        summary(&reference, None, None, args.list_entries);
        return Ok(ExitCode::SUCCESS);
    }

    let (sensor, memory) = measure_sensor(&lab, dir.path(), &pcap, &rates, &args)?;
    summary(&reference, Some(&sensor), Some(memory), args.list_entries);
    Ok(ExitCode::SUCCESS)
}

/// tcpdump on the capture end, a fresh one per rate, until the first loss.
fn measure_reference(
    lab: &Lab,
    dir: &Path,
    pcap: &Path,
    rates: &[Rate],
    args: &LiveArgs,
) -> anyhow::Result<Vec<Row>> {
    println!(
        "\nréférence : tcpdump -i {} -w /dev/null -B {}",
        lab.capture,
        args.buffer_mib * 1024
    );
    print_header();
    let mut rows = Vec::new();
    for &rate in rates {
        if past_ceiling(&rows, rate) {
            continue;
        }
        let veth_before = lab.veth_drops()?;
        let log = dir.join("tcpdump.log");
        let (sent, counts, used) =
            replay::reference(lab, pcap, rate, args.seconds, args.buffer_mib, &log)?;
        let row = Row {
            rate,
            sent,
            seen: counts.captured,
            kernel_drops: counts.dropped,
            veth_drops: lab.veth_drops()?.saturating_sub(veth_before),
            cpu_secs: used.cpu_secs,
            rss_kib: used.rss_kib,
        };
        print_row(&row);
        rows.push(row.clone());
        if !row.clean() {
            break;
        }
    }
    Ok(rows)
}

/// Starts the box, waits for its list, then replays at each rate until
/// the first loss.
fn measure_sensor(
    lab: &Lab,
    dir: &Path,
    pcap: &Path,
    rates: &[Rate],
    args: &LiveArgs,
) -> anyhow::Result<(Vec<Row>, Memory)> {
    eprintln!("liste de menaces de {} entrées …", args.list_entries);
    let list = sensor_box::million_entry_list(args.list_entries);
    let mut sensor_box = SensorBox::start(lab, dir, &list, args.buffer_mib)?;
    drop(list);
    sensor_box.wait_for_list(Duration::from_secs(300))?;
    let pid = sensor_box.sensor.pid();
    let ticks = lab::ticks_per_sec();
    let rest = lab::usage(pid, ticks);
    println!(
        "\nvigie sensor --config (pid {pid}), liste « {} » chargée : {} Mo résidents",
        sensor_box::LIST_NAME,
        rest.rss_kib / 1024
    );
    print_header();
    let mut rows = Vec::new();
    for &rate in rates {
        if past_ceiling(&rows, rate) {
            continue;
        }
        let before = sensor_box.wait_settled(now_ms(), None, Duration::ZERO)?;
        let start = lab::usage(pid, ticks);
        let veth_before = lab.veth_drops()?;
        let mut peak = start.rss_kib;
        let sent = replay::replay(lab, pcap, rate, args.seconds, || {
            peak = peak.max(lab::usage(pid, ticks).rss_kib);
        })?;
        let veth_drops = lab.veth_drops()?.saturating_sub(veth_before);
        let expect = before.packets
            + before.kernel_drops
            + before.interface_drops
            + i64::try_from(sent.packets.saturating_sub(veth_drops)).unwrap_or(i64::MAX);
        let after = sensor_box.wait_settled(now_ms(), Some(expect), PATIENCE)?;
        let end = lab::usage(pid, ticks);
        let row = Row {
            rate,
            sent,
            seen: delta(before.packets, after.packets),
            kernel_drops: delta(before.kernel_drops, after.kernel_drops)
                + delta(before.interface_drops, after.interface_drops),
            veth_drops,
            cpu_secs: end.cpu_secs - start.cpu_secs,
            rss_kib: peak.max(end.rss_kib),
        };
        print_row(&row);
        rows.push(row.clone());
        if !row.clean() {
            break;
        }
    }
    let last = lab::usage(pid, ticks);
    sensor_box.sensor.check_running()?;
    let memory = Memory {
        rest_kib: rest.rss_kib,
        peak_kib: last.hwm_kib,
    };
    Ok((rows, memory))
}

fn generate(path: &Path, packets: u64) -> anyhow::Result<Written> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mix = Mix {
        packets,
        start: START,
        packets_per_second: 100_000,
        seed: 7,
        attacks: true,
    };
    Ok(traffic::write_capture(
        std::io::BufWriter::with_capacity(1 << 20, file),
        &mix,
    )?)
}

/// Whether `rate` can be skipped: the previous row did not reach the rate
/// it asked for (by 10 %), so tcpreplay is at its ceiling and asking for
/// more would only repeat it. `--topspeed` is always run.
fn past_ceiling(rows: &[Row], rate: Rate) -> bool {
    let Some(last) = rows.last() else {
        return false;
    };
    match (rate, last.rate) {
        (Rate::Top, _) => false,
        (_, Rate::Mbps(asked)) => last.sent.mbps < 0.9 * f64::from(asked),
        (_, Rate::Top) => true,
    }
}

fn delta(before: i64, after: i64) -> u64 {
    u64::try_from(after - before).unwrap_or(0)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn row(mbps: f64, sent: u64, seen: u64, drops: u64) -> Row {
        Row {
            rate: Rate::Mbps(mbps as u32),
            sent: Sent {
                packets: sent,
                bytes: sent * 700,
                seconds: 10.0,
                mbps,
                failed: 0,
            },
            seen,
            kernel_drops: drops,
            veth_drops: 0,
            cpu_secs: 2.0,
            rss_kib: 1024,
        }
    }

    #[test]
    fn rates_past_the_replay_ceiling_are_skipped() {
        let reached = [row(250.0, 100, 100, 0), row(495.0, 200, 200, 0)];
        assert!(!past_ceiling(&reached, Rate::Mbps(1000)));
        assert!(!past_ceiling(&[], Rate::Mbps(250)));
        let mut short = reached.to_vec();
        short.push(Row {
            rate: Rate::Mbps(2000),
            ..row(1490.0, 400, 400, 0)
        });
        assert!(past_ceiling(&short, Rate::Mbps(4000)));
        assert!(!past_ceiling(&short, Rate::Top));
    }
}
