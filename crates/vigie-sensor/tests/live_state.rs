//! The live sensor's persisted state with the real engine and generated
//! traffic: a restart in the middle of an attack changes no count, time
//! passing closes incidents without packets, a full spool (by its limit or
//! a really full disk) drops detail but never a count, and a damaged
//! checkpoint is refused clearly.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use vigie_core::{Incident, Report};
use vigie_sensor::capture::CaptureReader;
use vigie_sensor::decode::{self, LinkType, TcpFlags};
use vigie_sensor::engine::{Engine, Settings};
use vigie_sensor::live::checkpoint::{self, SensorState};
use vigie_sensor::live::spool::{Spool, SpoolError};
use vigie_sensor::synth::FrameBuilder;
use vigie_sensor::synth::traffic::{Attacks, Mix, write_capture};

/// 2026-11-22T09:00:00Z.
const T0: i64 = 1_795_338_000 * 1_000_000_000;
const SEC: i64 = 1_000_000_000;
const HOST_KEY: [u8; 32] = [9; 32];
/// Frames between two drains, as a minute of a live sensor.
const BATCH_FRAMES: usize = 2_000;

struct Frame {
    ts: i64,
    linktype: u32,
    data: Vec<u8>,
    wire_len: u32,
}

/// A town hall's traffic with the generated attacks (a 1,000-port scan, an
/// SSH brute force, web exploits, a ping sweep).
fn traffic() -> Vec<Frame> {
    let mut capture = Vec::new();
    let mix = Mix {
        packets: 60_000,
        start: T0,
        packets_per_second: 20,
        seed: 21,
        attacks: true,
    };
    write_capture(&mut capture, &mix).unwrap();
    let mut reader = CaptureReader::new(&capture[..]).unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        frames.push(Frame {
            ts: frame.ts_nanos,
            linktype: frame.linktype,
            data: frame.data.to_vec(),
            wire_len: frame.orig_len,
        });
    }
    frames
}

fn engine() -> Engine {
    Engine::new(Settings {
        host_key: HOST_KEY,
        ..Settings::default()
    })
}

/// Feeds `frames` to `engine`, draining every [`BATCH_FRAMES`] frames.
fn run(engine: &mut Engine, frames: &[Frame], batches: &mut Vec<Report>) {
    for chunk in frames.chunks(BATCH_FRAMES) {
        for f in chunk {
            engine.process(f.ts, f.linktype, &f.data, f.wire_len);
        }
        batches.push(engine.drain());
    }
}

fn sorted_incidents<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Vec<Incident> {
    let mut incidents: Vec<Incident> = reports
        .into_iter()
        .flat_map(|r| r.incidents.iter().cloned())
        .collect();
    incidents.sort_by_key(|i| (i.first_seen, i.rule.clone(), i.source));
    incidents
}

/// Incidents per day and category (and how many outbound), summed.
fn daily<'a>(reports: impl IntoIterator<Item = &'a Report>) -> BTreeMap<String, (u64, u64)> {
    let mut sums = BTreeMap::new();
    for count in reports.into_iter().flat_map(|r| &r.daily) {
        let entry = sums
            .entry(format!("{} {}", count.day, count.category.as_str()))
            .or_insert((0, 0));
        entry.0 += count.count;
        entry.1 += count.outbound;
    }
    sums
}

/// Where the scan is half done: a restart there cuts the attack in two.
fn middle_of_the_scan(frames: &[Frame]) -> usize {
    let scanner = IpAddr::V4(Attacks::SCANNER);
    let scan: Vec<usize> = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            decode::decode(LinkType::Ethernet, &f.data).is_ok_and(|p| p.src == scanner)
        })
        .map(|(i, _)| i)
        .collect();
    assert!(scan.len() >= usize::from(Attacks::SCANNED_PORTS));
    scan[scan.len() / 2]
}

#[test]
fn a_restart_in_the_middle_of_an_attack_changes_no_count() {
    let frames = traffic();
    let mut whole = engine();
    for f in &frames {
        whole.process(f.ts, f.linktype, &f.data, f.wire_len);
    }
    let whole = whole.finish();

    let cut = middle_of_the_scan(&frames);
    let mut batches = Vec::new();
    let mut before = engine();
    run(&mut before, &frames[..cut], &mut batches);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let next_seq = batches.len() as u64 + 1;
    checkpoint::save(&path, &SensorState::new(next_seq, before.checkpoint())).unwrap();
    drop(before);

    let saved = checkpoint::load(&path).unwrap().unwrap();
    assert_eq!(saved.next_seq, next_seq);
    assert!(saved.engine.open_incidents() >= 1, "the scan is open");
    let mut after = engine();
    after.restore(saved.engine);
    run(&mut after, &frames[cut..], &mut batches);
    batches.push(after.finish());

    assert_eq!(
        batches.iter().map(|b| b.packets).sum::<u64>(),
        whole.packets
    );
    assert_eq!(batches.iter().map(|b| b.bytes).sum::<u64>(), whole.bytes);
    assert_eq!(sorted_incidents(&batches), sorted_incidents([&whole]));
    assert_eq!(daily(&batches), daily([&whole]));
    let scans: Vec<_> = batches
        .iter()
        .flat_map(|b| &b.incidents)
        .filter(|i| i.rule == "scan.syn")
        .collect();
    assert_eq!(scans.len(), 1, "one attack, one incident: {scans:#?}");
    assert_eq!(scans[0].events, u64::from(Attacks::SCANNED_PORTS));
}

#[test]
fn time_passing_closes_an_incident_without_packets() {
    let mut engine = engine();
    let mut frames = FrameBuilder::new();
    let scanner = SocketAddr::new(IpAddr::V4(Attacks::SCANNER), 61234);
    let mut now = T0;
    for port in 1..=100 {
        let target = SocketAddr::new(IpAddr::V4(Attacks::SERVER), port);
        let frame = frames.tcp(scanner, target, TcpFlags::SYN, 1, 0, &[]);
        engine.process(now, 1, frame, frame.len() as u32);
        now += SEC / 100;
    }
    let quiet = engine.drain();
    assert_eq!((quiet.packets, quiet.incidents.len()), (100, 0));
    // The scan's idle time is 300 s: still open just before, closed after.
    engine.advance(now + 299 * SEC);
    assert_eq!(engine.drain().incidents.len(), 0);
    engine.advance(now + 302 * SEC);
    let batch = engine.drain();
    assert_eq!(batch.packets, 0, "no packet counted");
    assert_eq!(batch.incidents.len(), 1);
    assert_eq!(batch.incidents[0].events, 100);
}

/// Drains the traffic into numbered batches, as the daemon does.
fn numbered_batches(frames: &[Frame]) -> Vec<Report> {
    let mut batches = Vec::new();
    let mut engine = engine();
    run(&mut engine, frames, &mut batches);
    batches.push(engine.finish());
    for (i, batch) in batches.iter_mut().enumerate() {
        batch.seq = Some(i as u64 + 1);
    }
    batches
}

fn spooled(spool: &Spool) -> Vec<Report> {
    let mut reports = Vec::new();
    let (Some(first), Some(last)) = (spool.oldest(), spool.newest()) else {
        return reports;
    };
    for seq in first..=last {
        reports.push(serde_json::from_slice(&spool.read(seq).unwrap()).unwrap());
    }
    reports
}

#[test]
fn a_full_spool_drops_the_oldest_detail_and_never_a_count() {
    let batches = numbered_batches(&traffic());
    let with_detail = batches.iter().filter(|b| !b.incidents.is_empty()).count();
    assert!(with_detail >= 3);
    let size = |report: &Report| serde_json::to_vec(report).unwrap().len() as u64;
    let whole: u64 = batches.iter().map(size).sum();
    let bare: u64 = batches
        .iter()
        .map(|b| {
            let mut bare = b.clone();
            bare.dropped = bare.incidents.len() as u64;
            bare.incidents.clear();
            size(&bare)
        })
        .sum();
    // Room for the counters and half the detail.
    let limit = bare + (whole - bare) / 2;
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), limit).unwrap();
    let mut dropped = 0;
    for batch in &batches {
        let outcome = spool.push(batch).unwrap();
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        dropped += outcome.dropped;
    }
    assert!(spool.bytes() <= limit);
    let kept = spooled(&spool);
    assert_eq!(kept.len(), batches.len(), "no batch dropped, none merged");
    assert_eq!(daily(&kept), daily(&batches), "every daily count kept");
    let total = |reports: &[Report]| {
        reports
            .iter()
            .map(|r| r.incidents.len() as u64 + r.dropped)
            .sum::<u64>()
    };
    assert_eq!(
        total(&kept),
        total(&batches),
        "detail kept or counted dropped"
    );
    assert!(dropped > 0);
    assert_eq!(kept.iter().map(|r| r.dropped).sum::<u64>(), dropped);
    assert_eq!(spool.dropped_total(), dropped);
    // The oldest detail went first: the newest batch with detail has it.
    let stripped: Vec<u64> = kept
        .iter()
        .filter(|r| r.dropped > 0)
        .map(|r| r.seq.unwrap())
        .collect();
    let whole: Vec<u64> = kept
        .iter()
        .filter(|r| !r.incidents.is_empty())
        .map(|r| r.seq.unwrap())
        .collect();
    assert!(!whole.is_empty());
    assert!(
        stripped.iter().max() < whole.iter().min(),
        "{stripped:?} {whole:?}"
    );
}

#[test]
fn a_damaged_checkpoint_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut engine = engine();
    let frames = traffic();
    run(
        &mut engine,
        &frames[..middle_of_the_scan(&frames)],
        &mut Vec::new(),
    );
    checkpoint::save(&path, &SensorState::new(7, engine.checkpoint())).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("scan.syn"));
    // A power cut in the middle of a copy by hand, an edit gone wrong.
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let message = checkpoint::load(&path).unwrap_err().to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("corrupt"), "{message}");
    std::fs::write(&path, text.replacen("scan.syn", "scan.syn\"", 1)).unwrap();
    let message = checkpoint::load(&path).unwrap_err().to_string();
    assert!(message.contains("line 1 column"), "{message}");
}

/// The test binary, run again inside a private mount namespace where the
/// spool directory is a small tmpfs: the disk is really full there.
#[test]
fn a_full_disk_drops_detail_then_refuses_without_losing_a_count() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: mounting a small tmpfs to fill needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let script = "mount -t tmpfs -o size=256k vigie-spool \"$VIGIE_FULL_DISK\" && exec \"$0\" \
                  --ignored --exact full_disk_inside_a_small_tmpfs --nocapture --test-threads=1";
    let output = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(&exe)
        .env("VIGIE_FULL_DISK", dir.path())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            println!("skipped: cannot run unshare ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("full disk: checked"), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the tmpfs held it all"
    );
}

#[test]
#[ignore = "run by a_full_disk_drops_detail_then_refuses_without_losing_a_count"]
fn full_disk_inside_a_small_tmpfs() {
    let Some(dir) = std::env::var_os("VIGIE_FULL_DISK") else {
        println!("skipped: only meaningful inside the tmpfs its parent test mounts");
        return;
    };
    check_full_disk(Path::new(&dir));
    println!("full disk: checked");
}

fn check_full_disk(dir: &Path) {
    let original = numbered_batches(&traffic());
    // Many batches, each with detail, to fill 256 KiB well before the
    // spool's own limit.
    let template = original.iter().find(|b| b.incidents.len() >= 2).unwrap();
    let mut spool = Spool::open(&dir.join("spool"), u64::MAX).unwrap();
    let (mut pushed, mut dropped, mut refused) = (0u64, 0u64, None);
    for seq in 1..=2_000u64 {
        let mut batch = template.clone();
        batch.seq = Some(seq);
        for _ in 0..6 {
            batch.incidents.extend(template.incidents.iter().cloned());
        }
        match spool.push(&batch) {
            Ok(outcome) => {
                pushed += 1;
                dropped += outcome.dropped;
            }
            Err(e) => {
                println!("refused {seq} after {pushed} pushes: {e}");
                refused = Some((seq, e));
                break;
            }
        }
    }
    let Some((seq, error)) = refused else {
        panic!("2,000 batches did not fill 256 KiB");
    };
    assert!(matches!(error, SpoolError::Full { .. }), "{error}");
    assert!(error.to_string().contains("disk is full"), "{error}");
    assert!(dropped > 0, "detail was dropped before refusing");
    assert_eq!(spool.len() as u64, pushed);
    let kept = spooled(&spool);
    for report in &kept {
        assert_eq!(report.daily, template.daily, "batch {:?}", report.seq);
        assert_eq!(
            report.incidents.len() as u64 + report.dropped,
            7 * template.incidents.len() as u64
        );
    }
    assert_eq!(kept.iter().map(|r| r.dropped).sum::<u64>(), dropped);
    // Once the observatory has taken some, the refused batch fits again.
    for old in 1..=4 {
        spool.ack(old).unwrap();
    }
    let mut batch = template.clone();
    batch.seq = Some(seq);
    spool.push(&batch).unwrap();
}
