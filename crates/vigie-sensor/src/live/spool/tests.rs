use chrono::{NaiveDate, TimeZone, Utc};
use vigie_core::{Category, DailyCount, Direction, Incident, Severity};

use super::*;

/// Batch `seq` with `incidents` scan incidents, counted in `daily`.
fn batch(seq: u64, incidents: usize) -> Report {
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    let mut report = Report::empty();
    report.seq = Some(seq);
    report.packets = 1000;
    report.incidents = (0..incidents)
        .map(|i| Incident {
            category: Category::Scan,
            rule: "scan.syn".into(),
            label: None,
            severity: Severity::Low,
            source: Some(std::net::Ipv4Addr::from(0xcb00_7100 + i as u32).into()),
            direction: Direction::Inbound,
            target_port: None,
            service: None,
            first_seen: at,
            last_seen: at,
            events: 100,
            indicator: None,
            internal_host: None,
        })
        .collect();
    if incidents > 0 {
        report.daily = vec![DailyCount {
            day: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            category: Category::Scan,
            count: incidents as u64,
            outbound: 0,
        }];
    }
    report
}

/// Size of a batch as spooled, with or without its incidents' detail.
fn size(report: &Report, bare: bool) -> u64 {
    let mut report = report.clone();
    if bare {
        report = strip(report).0;
    }
    serde_json::to_vec(&report).unwrap().len() as u64
}

fn stored(spool: &Spool, seq: u64) -> Report {
    serde_json::from_slice(&spool.read(seq).unwrap()).unwrap()
}

#[test]
fn batches_wait_in_order_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!((spool.oldest(), spool.len()), (None, 0));
    for seq in [3, 4, 9] {
        let outcome = spool.push(&batch(seq, 2)).unwrap();
        assert_eq!((outcome.dropped, outcome.over_budget), (0, false));
    }
    assert_eq!(
        (spool.oldest(), spool.newest(), spool.len()),
        (Some(3), Some(9), 3)
    );
    assert_eq!(
        spool.read(4).unwrap(),
        serde_json::to_vec(&batch(4, 2)).unwrap(),
        "the exact body to send"
    );
    assert!(dir.path().join("00000000000000000004.json").is_file());
    spool.ack(3).unwrap();
    spool.ack(3).unwrap();
    assert_eq!(spool.oldest(), Some(4));
    assert!(matches!(
        spool.read(3),
        Err(SpoolError::NotSpooled { seq: 3, .. })
    ));
    let sizes: u64 = [4, 9]
        .iter()
        .map(|&s| spool.read(s).unwrap().len() as u64)
        .sum();
    assert_eq!(spool.bytes(), sizes);
}

#[test]
fn sequence_numbers_are_required_and_grow() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert!(matches!(
        spool.push(&Report::empty()),
        Err(SpoolError::NoSeq)
    ));
    spool.push(&batch(5, 0)).unwrap();
    let err = spool.push(&batch(5, 0)).unwrap_err();
    assert!(
        matches!(err, SpoolError::OutOfOrder { seq: 5, last: 5 }),
        "{err}"
    );
    spool.ack(5).unwrap();
    assert!(spool.push(&batch(4, 0)).is_ok(), "the spool is empty again");
}

#[test]
fn a_reopened_spool_finds_its_batches_and_cleans_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    spool.push(&batch(1, 1)).unwrap();
    spool.push(&batch(2, 1)).unwrap();
    let bytes = spool.bytes();
    drop(spool);
    let leftover = dir.path().join("00000000000000000003.json.tmp");
    fs::write(&leftover, b"{\"half").unwrap();
    fs::write(dir.path().join("notes.txt"), b"an administrator's file").unwrap();
    let spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(
        (spool.oldest(), spool.newest(), spool.bytes()),
        (Some(1), Some(2), bytes)
    );
    assert!(!leftover.exists());
    assert!(
        dir.path().join("notes.txt").exists(),
        "other files are left alone"
    );
}

#[test]
fn a_full_spool_strips_the_oldest_detail_and_keeps_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (one, bare) = (size(&batch(1, 20), false), size(&batch(1, 20), true));
    // Room for three batches with detail and one without.
    let limit = 3 * one + bare + 10;
    let mut spool = Spool::open(dir.path(), limit).unwrap();
    for seq in 1..=3 {
        assert_eq!(spool.push(&batch(seq, 20)).unwrap().dropped, 0);
    }
    let outcome = spool.push(&batch(4, 20)).unwrap();
    assert_eq!((outcome.dropped, outcome.over_budget), (20, false));
    assert_eq!(spool.bytes(), 3 * one + bare);
    let first = stored(&spool, 1);
    assert_eq!((first.incidents.len(), first.dropped), (0, 20));
    assert_eq!(first.daily, batch(1, 20).daily, "counters kept");
    assert_eq!(stored(&spool, 2), batch(2, 20), "younger batches whole");
    assert_eq!((spool.len(), spool.dropped_total()), (4, 20));
    drop(spool);
    let spool = Spool::open(dir.path(), limit).unwrap();
    assert_eq!(spool.dropped_total(), 20, "the counter survives a restart");
}

#[test]
fn counters_alone_over_the_limit_are_kept_all_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), 10).unwrap();
    let outcome = spool.push(&batch(1, 5)).unwrap();
    assert_eq!((outcome.dropped, outcome.over_budget), (5, true));
    let outcome = spool.push(&batch(2, 0)).unwrap();
    assert_eq!((outcome.dropped, outcome.over_budget), (0, true));
    assert_eq!(spool.len(), 2, "no batch is ever dropped");
    assert_eq!(stored(&spool, 1).daily, batch(1, 5).daily);
}

#[test]
fn a_refused_batch_is_set_aside_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    for seq in 1..=(rejected::KEEP as u64 + 3) {
        spool.push(&batch(seq, 1)).unwrap();
        spool
            .reject(seq, "incidents[0]: événement inconnu")
            .unwrap();
    }
    assert!(spool.is_empty());
    assert_eq!(spool.bytes(), 0);
    let rejected = dir.path().join("rejected");
    let last = rejected.join(format!("{:020}.reason", rejected::KEEP + 3));
    assert_eq!(
        fs::read_to_string(last).unwrap(),
        "incidents[0]: événement inconnu\n"
    );
    let kept = fs::read_dir(&rejected).unwrap().count();
    assert_eq!(kept, 2 * rejected::KEEP, "batches and reasons, bounded");
    assert!(!rejected.join(format!("{:020}.json", 3)).exists());
    assert!(matches!(
        spool.reject(99, "x"),
        Err(SpoolError::NotSpooled { .. })
    ));
}

#[test]
fn batches_after_the_checkpoint_are_discarded_with_their_drops() {
    let dir = tempfile::tempdir().unwrap();
    let (one, bare) = (size(&batch(1, 10), false), size(&batch(1, 10), true));
    // Room for one batch with detail and two without.
    let mut spool = Spool::open(dir.path(), one + 2 * bare + 10).unwrap();
    spool.push(&batch(1, 10)).unwrap();
    spool.push(&batch(2, 10)).unwrap();
    spool.push(&batch(3, 10)).unwrap();
    assert_eq!(spool.dropped_total(), 20);
    assert_eq!(spool.discard_from(2).unwrap(), 2);
    assert_eq!((spool.oldest(), spool.newest()), (Some(1), Some(1)));
    assert_eq!(spool.dropped_total(), 10, "batch 2's drop no longer stands");
    assert_eq!(spool.discard_from(7).unwrap(), 0);
    spool.push(&batch(2, 0)).unwrap();
    drop(spool);
    assert_eq!(
        Spool::open(dir.path(), 1 << 20).unwrap().dropped_total(),
        10
    );
}

#[test]
fn a_damaged_counter_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("dropped"), "douze").unwrap();
    let message = Spool::open(dir.path(), 1 << 20).err().unwrap().to_string();
    assert!(message.contains("dropped"), "{message}");
    assert!(message.contains("\"douze\""), "{message}");
}

#[test]
fn an_unreadable_batch_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("00000000000000000001.json"), "{not json").unwrap();
    let mut spool = Spool::open(dir.path(), size(&batch(2, 10), false)).unwrap();
    let outcome = spool.push(&batch(2, 10)).unwrap();
    assert_eq!(outcome.dropped, 10);
    assert!(
        matches!(&outcome.problems[..], [SpoolError::Corrupt { path, .. }] if path.ends_with("00000000000000000001.json")),
        "{:?}",
        outcome.problems
    );
}
