//! Floods at a town hall's scale (issue 16), through the whole engine: a
//! few hundred half-open SYN per second is a flood, a busy day of completed
//! handshakes is not, and the bar follows what the link usually carries.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::net::SocketAddr;

use vigie_core::{Category, Incident, Report};

use crate::config::Config;
use crate::decode::TcpFlags;
use crate::engine::{Engine, Settings};
use crate::incidents::{NANOS_PER_SEC, Nanos};
use crate::synth::FrameBuilder;

const T0: Nanos = 1_795_338_000 * NANOS_PER_SEC;
const US: Nanos = 1_000;
const SERVER: &str = "192.168.1.10:80";
const ATTACKER: &str = "203.0.113.50";

/// How a connection attempt ends.
#[derive(Clone, Copy, PartialEq)]
enum Client {
    /// The client's ACK completes the handshake: an ordinary visitor.
    Completes,
    /// The client's stack answers the SYN-ACK with a reset, as when hping3
    /// sends from a real address: a half-open connection.
    Resets,
}

struct Lab {
    engine: Engine,
    frames: FrameBuilder,
    seq: u32,
}

impl Lab {
    fn new() -> Self {
        Self::with(Config::default())
    }

    fn with(config: Config) -> Self {
        Lab {
            engine: Engine::new(Settings {
                config,
                ..Settings::default()
            }),
            frames: FrameBuilder::new(),
            seq: 1,
        }
    }

    fn frame(&mut self, now: Nanos, src: SocketAddr, dst: SocketAddr, flags: u8, seq: u32) {
        let frame = self.frames.tcp(src, dst, flags, seq, 1, &[]);
        self.engine.process(now, 1, frame, frame.len() as u32);
    }

    /// One connection attempt from `client` at `now`, answered by the server.
    fn connect(&mut self, now: Nanos, client: SocketAddr, ends: Client) {
        let server: SocketAddr = SERVER.parse().unwrap();
        self.seq = self.seq.wrapping_add(100_000);
        let seq = self.seq;
        self.frame(now, client, server, TcpFlags::SYN, seq);
        let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
        self.frame(now + 200 * US, server, client, syn_ack, 7);
        match ends {
            Client::Completes => {
                self.frame(
                    now + 400 * US,
                    client,
                    server,
                    TcpFlags::ACK,
                    seq.wrapping_add(1),
                );
            }
            Client::Resets => {
                self.frame(
                    now + 400 * US,
                    client,
                    server,
                    TcpFlags::RST,
                    seq.wrapping_add(1),
                );
            }
        }
    }

    /// `per_second` attempts a second for `seconds` from `start`; every
    /// `nth` of them (if any) ends as `odd`, the rest as `ends`. Clients
    /// are `from` or, when `None`, a crowd of distinct visitors.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        start: Nanos,
        seconds: i64,
        per_second: i64,
        from: Option<&str>,
        ends: Client,
        odd: Option<(i64, Client)>,
    ) -> Nanos {
        let step = NANOS_PER_SEC / per_second;
        for i in 0..seconds * per_second {
            let port = 1024 + (i % 60_000) as u16;
            let client: SocketAddr = match from {
                Some(address) => format!("{address}:{port}").parse().unwrap(),
                None => format!("198.51.{}.{}:{port}", (i / 200) % 250, i % 200 + 1)
                    .parse()
                    .unwrap(),
            };
            let how = match odd {
                Some((nth, other)) if i % nth == 0 => other,
                _ => ends,
            };
            self.connect(start + i * step, client, how);
        }
        start + seconds * NANOS_PER_SEC
    }

    fn finish(self) -> Report {
        self.engine.finish()
    }
}

fn floods(report: &Report) -> Vec<&Incident> {
    report
        .incidents
        .iter()
        .filter(|i| i.category == Category::Flood)
        .collect()
}

#[test]
fn issue16_a_few_hundred_half_open_syn_a_second_is_a_flood() {
    let mut lab = Lab::new();
    lab.run(T0, 6, 300, Some(ATTACKER), Client::Resets, None);
    let report = lab.finish();
    let floods = floods(&report);
    assert_eq!(floods.len(), 1, "{:#?}", report.incidents);
    let flood = floods[0];
    assert_eq!(
        (flood.rule.as_str(), flood.events, flood.target_port),
        ("flood.syn", 1800, Some(80))
    );
    assert_eq!(flood.source, Some(ATTACKER.parse().unwrap()));
}

#[test]
fn issue16_a_busy_day_is_no_flood() {
    let mut lab = Lab::new();
    // An hour of a busy town-hall site: 40 new visitors a second, then a
    // rush of 400 a second for a minute (the school canteen's sign-ups
    // open), one in twenty giving up before its handshake ends.
    let rush = lab.run(T0, 3600, 40, None, Client::Completes, None);
    lab.run(
        rush,
        60,
        400,
        None,
        Client::Completes,
        Some((20, Client::Resets)),
    );
    let report = lab.finish();
    assert!(floods(&report).is_empty(), "{:#?}", report.incidents);
}

#[test]
fn issue16_a_flood_must_last_a_few_seconds() {
    let mut lab = Lab::new();
    // Two seconds of 300 half-open a second, then silence.
    lab.run(T0, 2, 300, Some(ATTACKER), Client::Resets, None);
    let report = lab.finish();
    assert!(floods(&report).is_empty(), "{:#?}", report.incidents);
}

#[test]
fn issue16_the_bar_follows_what_the_link_usually_carries() {
    let mut config = Config::default();
    config.flood.baseline_secs = 60;
    // A box whose link usually carries 50 new connections a second, a
    // third of them never completed (say, clients on a bad mobile link).
    let mut busy = Lab::with(config.clone());
    let end = busy.run(
        T0,
        300,
        50,
        None,
        Client::Completes,
        Some((3, Client::Resets)),
    );
    // Its bar is 10 × 50 = 500 half-open a second: 200 is its usual
    // noise scaled up, not a flood; on a quiet box (bar: the floor, 100)
    // the same is one.
    let saved = serde_json::to_string(&busy.engine.checkpoint()).unwrap();
    let mut restored = Lab::with(config.clone());
    restored
        .engine
        .restore(serde_json::from_str(&saved).unwrap());
    for lab in [&mut busy, &mut restored] {
        lab.run(end, 6, 200, Some(ATTACKER), Client::Resets, None);
    }
    for lab in [busy, restored] {
        let report = lab.finish();
        assert!(floods(&report).is_empty(), "{:#?}", report.incidents);
    }
    let mut quiet = Lab::with(config);
    quiet.run(end, 6, 200, Some(ATTACKER), Client::Resets, None);
    assert_eq!(floods(&quiet.finish()).len(), 1);
}

#[test]
fn issue16_completed_handshakes_at_a_large_sites_rate_are_still_a_flood() {
    // Above the large site's bar, completed or not: a connection flood.
    let mut lab = Lab::new();
    lab.run(T0, 3, 1500, Some(ATTACKER), Client::Completes, None);
    let report = lab.finish();
    let floods = floods(&report);
    assert_eq!(floods.len(), 1, "{:#?}", report.incidents);
    assert_eq!(floods[0].events, 4500);
}

#[test]
fn issue16_pings_at_a_town_halls_scale() {
    // 150 echo requests a second for 5 s: over the floor (100), a flood;
    // 50 a second (a monitoring gone wild, not an attack) is not.
    for (per_second, floods_expected) in [(150, 1), (50, 0)] {
        let mut lab = Lab::new();
        let (attacker, server) = (ATTACKER.parse().unwrap(), "192.168.1.10".parse().unwrap());
        for i in 0..5 * per_second {
            let frame = lab.frames.icmp_echo_request(attacker, server, 7, i as u16);
            let now = T0 + i * (NANOS_PER_SEC / per_second);
            lab.engine.process(now, 1, frame, frame.len() as u32);
        }
        let report = lab.finish();
        let floods = floods(&report);
        assert_eq!(floods.len(), floods_expected, "{:#?}", report.incidents);
        if let Some(flood) = floods.first() {
            assert_eq!((flood.rule.as_str(), flood.events), ("flood.icmp", 750));
        }
    }
}
