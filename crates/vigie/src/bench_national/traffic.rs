//! What the national bench sends, decided in advance and deterministic:
//! when each box posts in its minute, and what a small town hall's box has
//! to say in one minute. No I/O here, so the schedule and the batch sizes
//! are tested without a server.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Utc};
use vigie_core::{
    Category, DailyCount, Direction, HEARTBEAT_SCHEMA, Heartbeat, Incident, ListVersion,
    REPORT_SCHEMA, Report, Severity,
};

/// A box posts a batch and a heartbeat once per period.
pub const PERIOD_MS: u64 = 60_000;

/// What a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Batch,
    Heartbeat,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Batch => "lot",
            Kind::Heartbeat => "signal de vie",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Kind::Batch => "/api/v1/reports",
            Kind::Heartbeat => "/api/v1/sensors/heartbeat",
        }
    }
}

/// One request of the schedule: box `sensor` sends `kind` at `at_ms`
/// after the start of the run, in its `minute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub at_ms: u64,
    pub minute: u64,
    pub sensor: u32,
    pub kind: Kind,
}

/// The whole run's schedule, sorted by time: each box sends its batch and
/// its heartbeat once a minute, at offsets of its own drawn once (boxes
/// are switched on at any time of the day, and their two timers are
/// independent), so the requests spread evenly over the minute as they do
/// for real, rather than arriving all at once at the top of each minute.
pub fn schedule(sensors: u32, duration_ms: u64) -> Vec<Event> {
    let minutes = duration_ms.div_ceil(PERIOD_MS);
    let mut events = Vec::with_capacity((2 * u64::from(sensors) * minutes) as usize);
    for sensor in 0..sensors {
        for kind in [Kind::Batch, Kind::Heartbeat] {
            let offset = mix(u64::from(sensor), kind as u64, 0) % PERIOD_MS;
            for minute in 0..minutes {
                let at_ms = minute * PERIOD_MS + offset;
                if at_ms < duration_ms {
                    events.push(Event {
                        at_ms,
                        minute,
                        sensor,
                        kind,
                    });
                }
            }
        }
    }
    events.sort_by_key(|e| (e.at_ms, e.sensor, e.kind));
    events
}

/// How many incidents box `sensor` closes in `minute`: usually a few
/// (scans and password guesses from the internet on a town hall's
/// address), often none, now and then a burst (a sweep, a campaign
/// against its web site). About 4 on average.
pub fn incident_count(sensor: u32, minute: u64) -> usize {
    let draw = mix(u64::from(sensor), minute, 1);
    let size = mix(u64::from(sensor), minute, 2);
    match draw % 100 {
        0..=39 => 0,
        40..=89 => 1 + (size % 5) as usize,
        90..=98 => 6 + (size % 15) as usize,
        _ => 50 + (size % 151) as usize,
    }
}

/// The batch box `sensor` sends for `minute`, ending at `now`, numbered
/// `seq` (a live box numbers its batches from the clock).
pub fn report(sensor: u32, minute: u64, seq: u64, now: DateTime<Utc>) -> Report {
    let start = now - chrono::Duration::milliseconds(PERIOD_MS as i64);
    let count = incident_count(sensor, minute);
    let incidents: Vec<Incident> = (0..count)
        .map(|index| {
            incident(
                mix(u64::from(sensor), minute, 100 + index as u64),
                start,
                now,
            )
        })
        .collect();
    let mut daily: Vec<DailyCount> = Vec::new();
    for incident in &incidents {
        let day = vigie_core::local_day(incident.first_seen);
        let outbound = u64::from(incident.direction == Direction::Outbound);
        match daily
            .iter_mut()
            .find(|d| d.day == day && d.category == incident.category)
        {
            Some(entry) => {
                entry.count += 1;
                entry.outbound += outbound;
            }
            None => daily.push(DailyCount {
                day,
                category: incident.category,
                count: 1,
                outbound,
            }),
        }
    }
    Report {
        schema: REPORT_SCHEMA.to_owned(),
        seq: Some(seq),
        packets: 40_000 + mix(u64::from(sensor), minute, 3) % 200_000,
        bytes: 25_000_000 + mix(u64::from(sensor), minute, 4) % 100_000_000,
        malformed: 0,
        first_seen: Some(start),
        last_seen: Some(now),
        incidents,
        daily,
        dropped: 0,
        blocked: Vec::new(),
        defended: Vec::new(),
    }
}

/// The heartbeat of box `sensor` in `minute`, its process started at
/// `started_at`.
pub fn heartbeat(sensor: u32, minute: u64, started_at: DateTime<Utc>) -> Heartbeat {
    let seed = u64::from(sensor);
    Heartbeat {
        schema: HEARTBEAT_SCHEMA.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        mode: if seed % 5 == 0 { "filter" } else { "observe" }.to_owned(),
        started_at,
        uptime_secs: 3_600 * (seed % 500) + 60 * minute,
        packets: 1_000_000_000 + 100_000 * minute,
        bytes: 600_000_000_000 + 60_000_000 * minute,
        kernel_drops: 0,
        interface_drops: 0,
        incidents: 20_000 + 4 * minute,
        open_incidents: mix(seed, minute, 5) % 6,
        spool_batches: 0,
        spool_bytes: 0,
        dropped_incidents: 0,
        blocked_now: if seed % 5 == 0 { 40 + seed % 30 } else { 0 },
        lists: vec![
            ListVersion {
                name: "firehol_level1".to_owned(),
                version: "12".to_owned(),
            },
            ListVersion {
                name: "spamhaus_drop".to_owned(),
                version: "7".to_owned(),
            },
        ],
    }
}

/// What an incident is: category, rule, severity, port and service.
type IncidentKind = (
    Category,
    &'static str,
    Severity,
    Option<u16>,
    Option<&'static str>,
);

/// One incident drawn from `seed`, within [start, end].
fn incident(seed: u64, start: DateTime<Utc>, end: DateTime<Utc>) -> Incident {
    const KINDS: [IncidentKind; 8] = [
        (Category::Scan, "scan.syn", Severity::Low, Some(23), None),
        (Category::Scan, "scan.syn", Severity::Low, Some(3389), None),
        (
            Category::BruteForce,
            "brute_force.ssh",
            Severity::Medium,
            Some(22),
            Some("ssh"),
        ),
        (
            Category::WebExploit,
            "web.path_traversal",
            Severity::High,
            Some(443),
            Some("https"),
        ),
        (
            Category::WebExploit,
            "web.scanner",
            Severity::Low,
            Some(80),
            Some("http"),
        ),
        (Category::Sweep, "sweep.icmp", Severity::Low, None, None),
        (
            Category::Reputation,
            "reputation.ip",
            Severity::Medium,
            Some(443),
            None,
        ),
        (
            Category::Reputation,
            "reputation.ip",
            Severity::High,
            Some(443),
            None,
        ),
    ];
    let (category, rule, severity, target_port, service) = KINDS[(seed % 8) as usize];
    // One reputation match in two is a machine of the commune calling a
    // listed address: outbound, the machine told apart by a keyed hash.
    let outbound = rule == "reputation.ip" && severity == Severity::High;
    let span = (end - start).num_milliseconds().max(1) as u64;
    let first = start + chrono::Duration::milliseconds(((seed >> 8) % span) as i64);
    let source = Ipv4Addr::new(
        [45, 80, 185, 193, 89, 162][(seed >> 20) as usize % 6],
        (seed >> 24) as u8,
        (seed >> 32) as u8,
        1 + (seed >> 40) as u8 % 254,
    );
    Incident {
        category,
        rule: rule.to_owned(),
        label: (category == Category::Reputation).then(|| "firehol_level1".to_owned()),
        severity,
        source: Some(IpAddr::V4(source)),
        direction: if outbound {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        target_port,
        service: service.map(str::to_owned),
        first_seen: first,
        last_seen: end.min(first + chrono::Duration::seconds(20)),
        events: 1 + (seed >> 48) % 40,
        indicator: None,
        internal_host: outbound.then(|| format!("h{:012x}", seed >> 16)),
    }
}

/// A well-mixed 64-bit value of (a, b, c) (splitmix64's finaliser): the
/// bench's draws are reproducible from one run to the next.
pub fn mix(a: u64, b: u64, c: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .wrapping_add(c.wrapping_mul(0x1656_67B1_9E37_79F9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_box_sends_once_a_minute_of_each_kind() {
        let events = schedule(1_000, 3 * PERIOD_MS);
        assert_eq!(events.len(), 2 * 1_000 * 3);
        assert!(events.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        for sensor in [0, 17, 999] {
            for kind in [Kind::Batch, Kind::Heartbeat] {
                let times: Vec<u64> = events
                    .iter()
                    .filter(|e| e.sensor == sensor && e.kind == kind)
                    .map(|e| e.at_ms)
                    .collect();
                assert_eq!(times.len(), 3);
                assert_eq!(times[1] - times[0], PERIOD_MS);
                assert_eq!(times[2] - times[1], PERIOD_MS);
            }
        }
    }

    #[test]
    fn the_load_is_spread_over_the_minute() {
        // 1,000 boxes: each tenth of the minute gets about a tenth of the
        // 2,000 requests, not all of them at the top of the minute.
        let events = schedule(1_000, PERIOD_MS);
        for tenth in 0..10 {
            let count = events
                .iter()
                .filter(|e| e.at_ms * 10 / PERIOD_MS == tenth)
                .count();
            assert!((140..=260).contains(&count), "tenth {tenth}: {count}");
        }
    }

    #[test]
    fn a_partial_minute_is_cut_at_the_duration() {
        let events = schedule(100, 90_000);
        assert!(events.iter().all(|e| e.at_ms < 90_000));
        assert!(events.iter().any(|e| e.minute == 1));
        assert!(events.len() > 200 && events.len() < 400);
    }

    #[test]
    fn batches_are_mostly_small_with_rare_bursts() {
        let counts: Vec<usize> = (0..10_000).map(|s| incident_count(s, 7)).collect();
        let empty = counts.iter().filter(|&&c| c == 0).count();
        let bursts = counts.iter().filter(|&&c| c >= 50).count();
        let mean = counts.iter().sum::<usize>() as f64 / counts.len() as f64;
        assert!((3_500..4_500).contains(&empty), "{empty}");
        assert!((50..150).contains(&bursts), "{bursts}");
        assert!((3.0..5.0).contains(&mean), "{mean}");
    }

    #[test]
    fn a_batch_is_a_valid_report_counted_in_daily() {
        let now = chrono::Utc::now();
        for sensor in 0..200 {
            let report = report(sensor, 3, 1_000 + u64::from(sensor), now);
            assert_eq!(report.validate(), Ok(()));
            let counted: u64 = report.daily.iter().map(|d| d.count).sum();
            assert_eq!(counted as usize, report.incidents.len());
        }
        let beat = heartbeat(4, 2, now);
        assert_eq!(beat.validate(), Ok(()));
    }
}
