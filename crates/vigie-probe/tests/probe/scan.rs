#![allow(clippy::unwrap_used)]
//! The probe's frame on loopback: scope files and their errors, the gate
//! (an excluded address is never contacted), open and closed ports,
//! services that hang or answer garbage, cancellation that keeps partial
//! results, ranking and deduplication. 127.0.0.0/8 all routes to `lo` on
//! Linux, so each 127.0.0.x is a separate host; loopback scopes need lab
//! mode. Needs neither root nor the network.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use vigie_core::probe::{Finding, ProbeReport, Transport};
use vigie_probe::catalog;
use vigie_probe::scan::collect::{Collected, RunFacts};
use vigie_probe::scan::{self, CancellationToken, PortList, Progress, Settings};
use vigie_probe::scope::{Scope, ScopeError};
use vigie_probe::target::{PortResult, Target};

const PERIOD: &str = "[period]\nstart = 2020-01-01\nend = 2099-12-31\n";

fn scope(text: &str) -> Result<Scope, ScopeError> {
    Scope::parse("perimetre.toml", text)
}

fn paris(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn invalid(error: ScopeError) -> (usize, String, String) {
    match error {
        ScopeError::Invalid {
            file,
            line,
            field,
            problem,
        } => {
            assert_eq!(file, "perimetre.toml");
            (line, field, problem)
        }
        other => panic!("expected Invalid, got {other}"),
    }
}

#[test]
fn a_complete_scope_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perimetre.toml");
    let text = format!(
        "commune = \"44109\"\nname = \"Nantes\"\npostcode = \"44000\"\n\
         networks = [\"192.168.1.0/24\", \"10.1.2.0/25\"]\nexclude = [\"192.168.1.1\", \"10.1.2.0/28\"]\n\
         intensity = \"normal\"\n[ports]\ntcp = [22, 80]\n{PERIOD}"
    );
    std::fs::write(&path, text).unwrap();
    let scope = Scope::load(&path).unwrap();
    assert_eq!(scope.commune(), Some("44109"));
    assert_eq!(scope.ports().tcp.as_deref(), Some(&[22, 80][..]));
    assert_eq!(scope.summary().intensity, "normal");
    assert!(scope.allows("192.168.1.20".parse().unwrap()));
    assert!(
        !scope.allows("192.168.1.1".parse().unwrap()),
        "excluded address"
    );
    assert!(
        !scope.allows("10.1.2.9".parse().unwrap()),
        "excluded network"
    );
    assert!(scope.allows("10.1.2.16".parse().unwrap()));
    assert!(
        !scope.allows("192.168.2.1".parse().unwrap()),
        "outside the networks"
    );
    let addresses = scope.addresses();
    assert_eq!(addresses.len(), 253 + (126 - 15));
    assert!(addresses.iter().all(|a| scope.allows(a.addr())));
    let missing = Scope::load(&dir.path().join("absent.toml")).unwrap_err();
    assert!(missing.to_string().contains("absent.toml"));
}

#[test]
fn scope_errors_name_line_and_field() {
    let (line, _, _) = invalid(scope("networks = [\"10.0.0.0/24\"\nexclude = []\n").unwrap_err());
    assert!(line >= 1);
    let text = format!("networks = [\n  \"10.0.0.0/24\",\n  \"10.0.0.0/33\",\n]\n{PERIOD}");
    let (line, field, problem) = invalid(scope(&text).unwrap_err());
    assert_eq!((line, field.as_str()), (3, "networks[1]"));
    assert!(problem.contains("10.0.0.0/33"), "{problem}");
    let text = format!("networks = [\"10.0.0.0/24\"]\nintensity = \"brutal\"\n{PERIOD}");
    let (line, field, _) = invalid(scope(&text).unwrap_err());
    assert_eq!((line, field.as_str()), (2, "intensity"));
    let text = format!("networks = [\"10.0.0.0/24\"]\nnetwork = []\n{PERIOD}");
    let (line, _, problem) = invalid(scope(&text).unwrap_err());
    assert_eq!(line, 2, "{problem}");
    let text = "networks = [\"10.0.0.0/24\"]\n[period]\nstart = 2026-03-10\nend = 2026-03-01\n";
    let (line, field, _) = invalid(scope(text).unwrap_err());
    assert_eq!((line, field.as_str()), (4, "period.end"));
    let text = "networks = [\"10.0.0.0/24\"]\n[period]\nstart = \"mardi\"\nend = 2026-03-01\n";
    assert_eq!(invalid(scope(text).unwrap_err()).1, "period.start");
    let text = format!("networks = [\"10.0.0.0/15\"]\n{PERIOD}");
    assert_eq!(invalid(scope(&text).unwrap_err()).1, "networks[0]");
    let text = format!("networks = [\"10.0.0.0/16\", \"10.9.0.1\"]\n{PERIOD}");
    assert_eq!(
        invalid(scope(&text).unwrap_err()).1,
        "networks[1]",
        "over a /16 in total"
    );
    let text = format!("networks = []\n{PERIOD}");
    assert_eq!(invalid(scope(&text).unwrap_err()).1, "networks");
}

#[test]
fn public_ranges_need_allow_public() {
    let text = format!("networks = [\"192.168.1.0/24\", \"193.50.1.0/24\"]\n{PERIOD}");
    let (line, field, problem) = invalid(scope(&text).unwrap_err());
    assert_eq!((line, field.as_str()), (1, "networks[1]"));
    assert!(problem.contains("allow_public"), "{problem}");
    let text = format!("networks = [\"193.50.1.0/24\"]\nallow_public = true\n{PERIOD}");
    let scope = scope(&text).unwrap();
    assert!(scope.allows("193.50.1.7".parse().unwrap()));
    assert!(!scope.allows("193.50.2.7".parse().unwrap()));
}

#[test]
fn working_hours_and_period() {
    let text = "networks = [\"10.0.0.0/24\"]\n[period]\nstart = 2026-03-02\nend = 2026-05-29\n";
    let scope = scope(text).unwrap();
    scope.may_run(paris(2026, 3, 3, 10)).unwrap(); // Tuesday
    for (when, what) in [
        (paris(2026, 3, 3, 7), "before 8 h"),
        (paris(2026, 3, 3, 18), "at 18 h"),
        (paris(2026, 3, 7, 10), "Saturday"),
        (paris(2026, 3, 8, 10), "Sunday"),
        (paris(2026, 4, 6, 10), "Easter Monday"),
        (paris(2026, 5, 1, 10), "Labour Day"),
        (paris(2026, 5, 14, 10), "Ascension"),
    ] {
        let error = scope.may_run(when).unwrap_err();
        assert!(
            matches!(error, ScopeError::OutsideHours { .. }),
            "{what}: {error}"
        );
    }
    for when in [paris(2026, 3, 1, 10), paris(2026, 6, 2, 10)] {
        let error = scope.may_run(when).unwrap_err();
        assert!(matches!(error, ScopeError::OutsidePeriod { .. }), "{error}");
    }
    let lab = scope.clone().for_lab();
    lab.may_run(paris(2026, 3, 8, 23)).unwrap();
    assert!(
        lab.may_run(paris(2026, 6, 2, 10)).is_err(),
        "lab keeps the period"
    );
}

#[test]
fn loopback_only_in_lab() {
    let text = format!("networks = [\"127.0.0.0/29\"]\n{PERIOD}");
    let scope = scope(&text).unwrap();
    assert!(!scope.allows("127.0.0.1".parse().unwrap()));
    assert!(scope.addresses().is_empty());
    let error = scope.may_run(paris(2026, 3, 3, 10)).unwrap_err();
    assert!(
        matches!(error, ScopeError::LoopbackNeedsLab { .. }),
        "{error}"
    );
    let lab = scope.for_lab();
    assert!(lab.allows("127.0.0.1".parse().unwrap()));
    assert_eq!(lab.addresses().len(), 6);
}

/// What a test service does with a connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Accepts and closes.
    Close,
    /// Accepts, then neither reads nor writes, and keeps it open.
    Hang,
    /// Sends bytes of no protocol and keeps it open.
    Garbage,
}

struct Service {
    accepts: Arc<AtomicUsize>,
    accepted: Arc<Notify>,
}

fn serve(listener: TcpListener, behaviour: Behaviour) -> Service {
    let accepts = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(Notify::new());
    let (count, notify) = (Arc::clone(&accepts), Arc::clone(&accepted));
    tokio::spawn(async move {
        let mut held: Vec<TcpStream> = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            notify.notify_one();
            match behaviour {
                Behaviour::Close => drop(stream),
                Behaviour::Hang => held.push(stream),
                Behaviour::Garbage => {
                    let _ = stream
                        .write_all(b"\xde\xad\xbe\xef\x00\x01\x02garbage\xff")
                        .await;
                    held.push(stream);
                }
            }
        }
    });
    Service { accepts, accepted }
}

/// Listeners on `127.0.0.{last}` for each `last`, all on one port.
async fn listeners(lasts: &[u8]) -> (u16, Vec<TcpListener>) {
    let (&head, rest) = lasts.split_first().unwrap();
    'retry: for _ in 0..20 {
        let first = TcpListener::bind(SocketAddr::from(([127, 0, 0, head], 0)))
            .await
            .unwrap();
        let port = first.local_addr().unwrap().port();
        let mut all = vec![first];
        for &last in rest {
            match TcpListener::bind(SocketAddr::from(([127, 0, 0, last], port))).await {
                Ok(listener) => all.push(listener),
                Err(_) => continue 'retry,
            }
        }
        return (port, all);
    }
    panic!("no common free port on loopback");
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

pub(crate) fn lab_scope(networks: &str, exclude: &str) -> Scope {
    let text = format!("networks = [{networks}]\nexclude = [{exclude}]\n{PERIOD}");
    scope(&text).unwrap().for_lab()
}

pub(crate) fn settings(scope: &Scope, discovery: Vec<u16>, tcp: Vec<u16>) -> Settings {
    let mut settings = Settings::for_scope(scope);
    settings.ports = PortList {
        discovery,
        tcp,
        udp: Vec::new(),
    };
    settings.connect_timeout = Duration::from_millis(500);
    settings.banner_wait = Duration::from_millis(300);
    settings.neighbours = false;
    // Loopback answers echo for all of 127/8: the tests count on TCP alone.
    settings.icmp = false;
    settings.context.timeout = Duration::from_millis(500);
    settings.context.try_passwords = false;
    settings
}

pub(crate) async fn run(scope: &Scope, settings: Settings) -> ProbeReport {
    let progress = Arc::new(Progress::hidden());
    let report = scan::run(scope, settings, progress, CancellationToken::new())
        .await
        .unwrap();
    report.validate().unwrap();
    report
}

fn host_ports(report: &ProbeReport) -> Vec<(IpAddr, Vec<u16>)> {
    report
        .hosts
        .iter()
        .map(|h| (h.address, h.services.iter().map(|s| s.port).collect()))
        .collect()
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[tokio::test]
async fn an_excluded_address_is_never_contacted() {
    let (port, listeners) = listeners(&[1, 2, 3, 4, 5, 6]).await;
    let services: Vec<Service> = listeners
        .into_iter()
        .map(|l| serve(l, Behaviour::Close))
        .collect();
    let scope = lab_scope("\"127.0.0.0/29\"", "\"127.0.0.3\"");
    assert!(!scope.allows(ip(3)));
    let closed = closed_port().await;
    let report = run(
        &scope,
        settings(&scope, vec![closed, port], vec![port, closed]),
    )
    .await;
    assert_eq!(
        services[2].accepts.load(Ordering::SeqCst),
        0,
        "the excluded host was contacted"
    );
    for (index, service) in services.iter().enumerate() {
        if index != 2 {
            assert!(
                service.accepts.load(Ordering::SeqCst) >= 2,
                "127.0.0.{}",
                index + 1
            );
        }
    }
    let expected: Vec<(IpAddr, Vec<u16>)> = [1, 2, 4, 5, 6].map(|l| (ip(l), vec![port])).to_vec();
    assert_eq!(host_ports(&report), expected);
    assert!(!report.interrupted);
    assert!(report.lab);
    assert_eq!(report.scope.excluded, ["127.0.0.3/32"]);
}

#[tokio::test]
async fn open_and_closed_ports() {
    let (open_a, a) = listeners(&[9]).await;
    let (open_b, b) = listeners(&[9]).await;
    let _services: Vec<Service> = a
        .into_iter()
        .chain(b)
        .map(|l| serve(l, Behaviour::Close))
        .collect();
    let closed = closed_port().await;
    let scope = lab_scope("\"127.0.0.9\", \"127.0.0.10\"", "");
    let mut ports = vec![closed, open_b, open_a];
    let report = run(&scope, settings(&scope, vec![closed], ports.clone())).await;
    ports.retain(|&p| p != closed);
    ports.sort_unstable();
    // 127.0.0.10 refuses every connection: alive (a refusal is an answer),
    // no open port.
    assert_eq!(host_ports(&report), [(ip(9), ports), (ip(10), vec![])]);
    let service = &report.hosts[0].services[0];
    assert_eq!(service.transport, Transport::Tcp);
    assert_eq!(service.name, "unknown");
}

#[tokio::test]
async fn services_that_hang_or_answer_garbage() {
    let (port, listeners) = listeners(&[21, 22]).await;
    let mut listeners = listeners.into_iter();
    let _hang = serve(listeners.next().unwrap(), Behaviour::Hang);
    let _garbage = serve(listeners.next().unwrap(), Behaviour::Garbage);
    let scope = lab_scope("\"127.0.0.21\", \"127.0.0.22\"", "");
    let report = run(&scope, settings(&scope, vec![port], vec![port])).await;
    assert_eq!(
        host_ports(&report),
        [(ip(21), vec![port]), (ip(22), vec![port])]
    );
    let silent = &report.hosts[0].services[0];
    assert_eq!(
        (silent.name.as_str(), silent.banner.as_deref()),
        ("unknown", None)
    );
    let garbage = &report.hosts[1].services[0];
    assert_eq!(garbage.name, "unknown");
    assert!(
        garbage
            .banner
            .as_deref()
            .unwrap()
            .starts_with("\\xde\\xad\\xbe\\xef"),
        "{:?}",
        garbage.banner
    );
}

#[tokio::test]
async fn cancellation_keeps_partial_results() {
    let (port, listeners) = listeners(&[31]).await;
    let service = serve(listeners.into_iter().next().unwrap(), Behaviour::Hang);
    let scope = lab_scope("\"127.0.0.31\"", "");
    let mut settings = settings(&scope, vec![port], vec![port]);
    // The banner grab would wait an hour: only the cancellation ends it.
    settings.banner_wait = Duration::from_secs(3600);
    settings.examine_limit = Duration::from_secs(7200);
    let cancel = CancellationToken::new();
    let progress = Arc::new(Progress::hidden());
    let running = {
        let (cancel, progress) = (cancel.clone(), Arc::clone(&progress));
        tokio::spawn(async move { scan::run(&scope, settings, progress, cancel).await })
    };
    // Discovery, the port scan, then the banner grab: three connections.
    while service.accepts.load(Ordering::SeqCst) < 3 {
        service.accepted.notified().await;
    }
    cancel.cancel();
    let report = running.await.unwrap().unwrap();
    report.validate().unwrap();
    assert!(report.interrupted);
    assert_eq!(host_ports(&report), [(ip(31), vec![port])]);
    assert_eq!(progress.counts(scan::Stage::Checks), (0, 1));
}

fn finding(id: &str, host: &str, port: u16, cvss: f32, vector: &str) -> Finding {
    let mut finding = catalog::finding(id, &Target::tcp(host.parse().unwrap(), port), "vu");
    finding.cvss = cvss;
    finding.vector = vector.to_owned();
    finding.title = format!("titre {id}");
    finding
}

const EASY: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const HARD: &str = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H";

fn report_of(results: Vec<(Target, PortResult)>) -> ProbeReport {
    let mut collected = Collected::default();
    for (target, result) in results {
        collected.examined(&target, result);
    }
    let now = Utc::now();
    collected.into_report(RunFacts {
        commune: None,
        started_at: now,
        finished_at: now,
        lab: true,
        interrupted: false,
        scope: lab_scope("\"127.0.0.1\"", "").summary(),
    })
}

fn result_with(target: Target, findings: Vec<Finding>) -> (Target, PortResult) {
    let mut result = vigie_probe::scan::dispatch::unknown(&target, b"x");
    result.findings = findings;
    (target, result)
}

#[test]
fn the_top_ten_ranks_by_score_then_exploitability_then_exposure() {
    let mut findings = vec![
        finding("med.narrow", "10.0.0.1", 80, 5.0, EASY),
        finding("high.hard", "10.0.0.1", 22, 7.5, HARD),
        finding("high.hard", "10.0.0.2", 22, 7.5, HARD),
        finding("high.hard", "10.0.0.3", 22, 7.5, HARD),
        finding("med.wide", "10.0.0.1", 443, 5.0, EASY),
        finding("med.wide", "10.0.0.2", 443, 5.0, EASY),
        finding("crit", "10.0.0.2", 445, 9.8, EASY),
        finding("high.easy", "10.0.0.3", 6379, 7.5, EASY),
    ];
    for n in 0..8 {
        findings.push(finding(
            &format!("low.{n}"),
            "10.0.0.4",
            1000 + n,
            2.0,
            EASY,
        ));
    }
    let results = findings
        .into_iter()
        .map(|f| result_with(Target::tcp(f.host, f.port.unwrap()), vec![f]))
        .collect();
    let report = report_of(results);
    let order: Vec<&str> = report.top.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        order,
        [
            "crit",
            "high.easy",
            "high.hard",
            "med.wide",
            "med.narrow",
            "low.0",
            "low.1",
            "low.2",
            "low.3",
            "low.4"
        ]
    );
    assert_eq!(report.top[2].hosts.len(), 3);
    assert_eq!(report.findings.len(), 16);
}

#[test]
fn findings_are_deduplicated_and_sorted() {
    let web = Target::tcp("10.0.0.5".parse().unwrap(), 443);
    let ssh = Target::tcp("10.0.0.5".parse().unwrap(), 22);
    let other = Target::tcp("10.0.0.2".parse().unwrap(), 80);
    let twice = finding("tls.expired", "10.0.0.5", 443, 5.3, EASY);
    let stray = finding("tls.expired", "10.0.0.9", 443, 5.3, EASY);
    let report = report_of(vec![
        result_with(web, vec![twice.clone(), twice.clone(), stray]),
        result_with(ssh, vec![finding("ssh.old", "10.0.0.5", 22, 7.0, EASY)]),
        result_with(web, vec![twice]),
        result_with(other, vec![]),
    ]);
    let ids: Vec<(String, Option<u16>, &str)> = report
        .findings
        .iter()
        .map(|f| (f.host.to_string(), f.port, f.id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("10.0.0.5".to_owned(), Some(22), "ssh.old"),
            ("10.0.0.5".to_owned(), Some(443), "tls.expired"),
        ]
    );
    assert_eq!(
        host_ports(&report),
        [
            ("10.0.0.2".parse().unwrap(), vec![80]),
            ("10.0.0.5".parse().unwrap(), vec![22, 443]),
        ]
    );
    assert_eq!(report.top.len(), 2);
}
