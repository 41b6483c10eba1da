//! `vigie bench`: speed and memory of the sensor engine, each reported as a
//! ratio against a reference measured on the same machine in the same run
//! (shared machines are noisy; absolute times drift, ratios much less).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use vigie_lists::Intel;
use vigie_sensor::analyze::analyze_file;
use vigie_sensor::capture::CaptureReader;
use vigie_sensor::engine::Settings;
use vigie_sensor::synth::traffic::{self, Mix};

const ROUNDS: usize = 3;
/// 2026-11-22T08:00:00Z: a fixed start keeps generated captures identical.
const START: i64 = 1_795_334_400 * 1_000_000_000;

pub fn speed(packets: u64, pcap: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let path = pcap.unwrap_or_else(|| dir.path().join("bench.pcap"));
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    eprintln!("génération de {packets} paquets dans {} …", path.display());
    let mix = Mix {
        packets,
        start: START,
        packets_per_second: 100_000,
        seed: 7,
        attacks: true,
    };
    let written = traffic::write_capture(std::io::BufWriter::with_capacity(1 << 20, file), &mix)?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "capture : {} paquets, {:.1} Mo ({:.0} octets par paquet en moyenne)",
        written.packets,
        size as f64 / 1e6,
        written.bytes as f64 / written.packets as f64
    );
    let tcpdump = which("tcpdump");
    let mut read_only = Vec::new();
    let mut analysis = Vec::new();
    let mut reference = Vec::new();
    let mut incidents = 0;
    for round in 0..ROUNDS {
        if let Some(tcpdump) = &tcpdump {
            reference.push(time_tcpdump(tcpdump, &path)?);
        }
        read_only.push(time_read_only(&path)?);
        let start = Instant::now();
        let report = analyze_file(&path, Settings::default())?.report;
        analysis.push(start.elapsed());
        incidents = report.incidents.len();
        eprintln!("tour {} / {ROUNDS} terminé", round + 1);
    }
    // The same analysis with a million-entry threat list loaded.
    let intel = Arc::new(million_entry_list());
    let mut listed = Vec::new();
    for _ in 0..ROUNDS {
        let settings = Settings {
            intel: intel.clone(),
            ..Settings::default()
        };
        let start = Instant::now();
        analyze_file(&path, settings)?;
        listed.push(start.elapsed());
    }
    let (read_only, analysis) = (median(&mut read_only), median(&mut analysis));
    let listed = median(&mut listed);
    let rate = |d: Duration| written.packets as f64 / d.as_secs_f64();
    let gbps = |d: Duration| written.bytes as f64 * 8.0 / d.as_secs_f64() / 1e9;
    println!("incidents qualifiés : {incidents}");
    println!(
        "{:<38} {:>10} {:>14} {:>10}",
        "mesure (médiane de 3)", "secondes", "paquets/s", "Gbit/s"
    );
    let row = |name: &str, d: Duration| {
        println!(
            "{name:<38} {:>10.3} {:>14.0} {:>10.2}",
            d.as_secs_f64(),
            rate(d),
            gbps(d)
        );
    };
    row("vigie : lecture seule du fichier", read_only);
    row("vigie : analyse complète (1 cœur)", analysis);
    row("vigie : analyse + liste de 1 M entrées", listed);
    println!(
        "rapport analyse avec liste / sans liste : {:.2}",
        listed.as_secs_f64() / analysis.as_secs_f64()
    );
    if reference.is_empty() {
        println!("tcpdump absent : pas de référence (apt-get install tcpdump)");
    } else {
        let reference = median(&mut reference);
        row("référence : tcpdump -r F -w /dev/null", reference);
        println!(
            "rapport analyse / copie tcpdump : {:.2} (objectif ≤ 2)",
            analysis.as_secs_f64() / reference.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn flood(sources: u64) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let packets = sources.max(1);
    let reference_path = dir.path().join("one-source.pcap");
    let flood_path = dir.path().join("many-sources.pcap");
    for (path, count) in [(&reference_path, 1), (&flood_path, sources)] {
        let file = std::fs::File::create(path)?;
        traffic::write_syn_flood(std::io::BufWriter::new(file), packets, count, START, 11)?;
    }
    let baseline = memory_kib("VmRSS:");
    let one = analyze_file(&reference_path, Settings::default())?.report;
    let peak_reference = memory_kib("VmHWM:");
    let many = analyze_file(&flood_path, Settings::default())?.report;
    let peak_flood = memory_kib("VmHWM:");
    let describe = |report: &vigie_core::Report| {
        report
            .incidents
            .iter()
            .map(|i| format!("{} ({} événements)", i.rule, i.events))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{packets} SYN vers un serveur ; mémoire résidente au départ : {} Kio",
        baseline
    );
    println!(
        "1 source       : pic {:>8} Kio ; incidents : {}",
        peak_reference,
        describe(&one)
    );
    println!(
        "{sources} sources : pic {:>8} Kio ; incidents : {}",
        peak_flood,
        describe(&many)
    );
    if peak_reference > 0 {
        println!(
            "rapport des pics : {:.2}",
            peak_flood as f64 / peak_reference as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// 900,000 addresses and 100,000 domains, spread like real block lists
/// (public ranges, a few blocks, a few hits on the generated servers).
fn million_entry_list() -> Intel {
    let mut text = String::with_capacity(20_000_000);
    let mut x: u32 = 0x9e37_79b9;
    for i in 0..900_000u32 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let ip = std::net::Ipv4Addr::from(0x0b00_0000 + x % 0xb000_0000);
        if i % 50 == 0 {
            let _ = writeln!(
                text,
                "{}/24",
                std::net::Ipv4Addr::from(u32::from(ip) & 0xffff_ff00)
            );
        } else {
            let _ = writeln!(text, "{ip}");
        }
    }
    for i in 0..100_000u32 {
        let _ = writeln!(text, "c2-{i:06}.malware-{}.example", i % 97);
    }
    let mut builder = Intel::builder();
    builder.add_list("bench_list", &text);
    builder.build()
}

fn time_tcpdump(tcpdump: &Path, pcap: &Path) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let status = Command::new(tcpdump)
        .args(["-r"])
        .arg(pcap)
        .args(["-w", "/dev/null"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run tcpdump")?;
    anyhow::ensure!(status.success(), "tcpdump failed: {status}");
    Ok(start.elapsed())
}

fn time_read_only(pcap: &Path) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut reader = CaptureReader::open(pcap)?;
    let mut frames = 0u64;
    while reader.next_frame()?.is_some() {
        frames += 1;
    }
    std::hint::black_box(frames);
    Ok(start.elapsed())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// A line of /proc/self/status, in KiB (0 where there is no /proc).
pub fn memory_kib(field: &str) -> u64 {
    process_memory_kib("self", field)
}

/// A `/proc/PID/status` memory field of process `pid` (or `self`), in KiB.
pub fn process_memory_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
