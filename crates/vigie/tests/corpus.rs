//! The labelled corpus of real attacks (`tests/corpus/`): runs the built
//! `vigie sensor` on each capture of real tools (nmap, masscan, hydra,
//! hping3, curl with exploit payloads, DNS tunnelling...) and checks its
//! report against the ground truth written when the capture was made: the
//! expected incidents exist with the right category, rule, source, direction
//! and number of events, nothing else is reported, the benign capture gives
//! no incident, and no report leaks an internal address, a payload, a URI
//! or a queried name.
//!
//! The committed captures (`tests/corpus/data/`) are checked everywhere.
//! As root with `VIGIE_CORPUS_LIVE=1` (CI), the lab is also rebuilt with
//! `make-corpus.sh` and the fresh captures are checked against their fresh
//! truth. It must not touch the network: the lab lives in network
//! namespaces that the script creates and removes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use vigie_core::Report;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus");

const SCENARIOS: [&str; 13] = [
    "nmap_syn",
    "nmap_version",
    "masscan",
    "hydra_ssh",
    "web_exploits",
    "web_login_bruteforce",
    "ping_sweep",
    "syn_burst",
    "low_rate_flood",
    "busy_site",
    "reputation",
    "suspicious_dns",
    "benign",
];

fn corpus() -> PathBuf {
    PathBuf::from(CORPUS)
}

fn load_truth(dir: &Path) -> Value {
    let path = dir.join("truth.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let truth: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    assert_eq!(
        truth["schema"],
        "vigie.corpus-truth/1",
        "{}",
        path.display()
    );
    truth
}

fn scenario<'a>(truth: &'a Value, name: &str) -> &'a Value {
    truth["scenarios"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("the truth has no scenario {name}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `vigie sensor` on one capture; returns the raw JSON text.
fn analyse(pcap: &Path, home_nets: &[String]) -> Result<String, String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigie"));
    command.arg("sensor").arg("--pcap").arg(pcap);
    for net in home_nets {
        command.args(["--home-net", net]);
    }
    command.arg("--intel").arg(corpus().join("intel"));
    command.args(["--format", "json"]);
    let output = command
        .output()
        .map_err(|e| format!("cannot run vigie: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "vigie sensor failed ({}) on {}: {}",
            output.status,
            pcap.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("the report is not UTF-8: {e}"))
}

/// Whether a truth entry's source (null, an address, or a list of
/// acceptable ones) accepts an incident's source.
fn source_matches(wanted: &Value, found: &Value) -> bool {
    match wanted {
        Value::Array(choices) => choices.iter().any(|c| c == found),
        other => other == found,
    }
}

/// Whether an incident matches a truth entry; null fields of the entry
/// (rule, target port, indicator) are not checked.
fn matches(entry: &Value, incident: &Value) -> bool {
    let optional = |key: &str| entry[key].is_null() || entry[key] == incident[key];
    entry["category"] == incident["category"]
        && entry["direction"] == incident["direction"]
        && source_matches(&entry["source"], &incident["source"])
        && optional("rule")
        && optional("target_port")
        && optional("indicator")
}

/// A truth value as a person reads it: strings unquoted, null as `any`.
fn text(value: &Value) -> String {
    match value {
        Value::Null => "any".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn describe(entry: &Value) -> String {
    format!(
        "{} ({}) from {} {}, port {}, indicator {}",
        text(&entry["category"]),
        text(&entry["rule"]),
        text(&entry["source"]),
        text(&entry["direction"]),
        text(&entry["target_port"]),
        text(&entry["indicator"])
    )
}

fn events(incident: &Value) -> u64 {
    incident["events"].as_u64().unwrap_or(0)
}

/// Problems with the expected incidents: each must be reported exactly
/// once, with its events in range.
fn check_expected(expected: &[Value], incidents: &[Value], problems: &mut Vec<String>) {
    for entry in expected {
        let found: Vec<&Value> = incidents.iter().filter(|i| matches(entry, i)).collect();
        let (min, max) = (entry["min_events"].as_u64(), entry["max_events"].as_u64());
        let (Some(min), Some(max)) = (min, max) else {
            problems.push(format!("bad truth entry {entry}"));
            continue;
        };
        match found.as_slice() {
            [] => problems.push(format!("missing: {}", describe(entry))),
            [one] if !(min..=max).contains(&events(one)) => problems.push(format!(
                "{}: {} events, expected {min}..={max}",
                describe(entry),
                events(one)
            )),
            [_] => {}
            many => problems.push(format!(
                "{}: reported as {} incidents instead of one",
                describe(entry),
                many.len()
            )),
        }
    }
}

/// Problems with incidents that no expected or tolerated entry accounts for.
fn check_unexpected(scenario: &Value, incidents: &[Value], problems: &mut Vec<String>) {
    let expected = scenario["expected"].as_array().cloned().unwrap_or_default();
    let tolerated = scenario["tolerated"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for incident in incidents {
        let is_expected = expected.iter().any(|e| matches(e, incident));
        let is_tolerated = tolerated.iter().any(|t| {
            let optional = |key: &str| t[key].is_null() || t[key] == incident[key];
            t["category"] == incident["category"]
                && t["direction"] == incident["direction"]
                && source_matches(&t["source"], &incident["source"])
                && optional("rule")
                && t["max_events"]
                    .as_u64()
                    .is_some_and(|max| events(incident) <= max)
        });
        if !is_expected && !is_tolerated {
            problems.push(format!("unexpected incident: {incident}"));
        }
    }
}

/// What no report may ever contain.
fn check_privacy(report: &str, markers: &[String], problems: &mut Vec<String>) {
    for marker in markers {
        if report.contains(marker.as_str()) {
            problems.push(format!(
                "the report contains {marker:?}, which must never leave the box"
            ));
        }
    }
}

/// Analyses one scenario of a corpus directory and lists what is wrong.
fn check_scenario(dir: &Path, truth: &Value, name: &str) -> Vec<String> {
    let scenario = scenario(truth, name);
    let pcap = dir.join(scenario["pcap"].as_str().unwrap_or_default());
    let raw = match analyse(&pcap, &strings(&truth["home_net"])) {
        Ok(raw) => raw,
        Err(problem) => return vec![problem],
    };
    let mut problems = Vec::new();
    match serde_json::from_str::<Report>(&raw) {
        Ok(report) => {
            if let Err(e) = report.validate() {
                problems.push(format!("the report is invalid: {e}"));
            }
            if report.malformed != 0 {
                problems.push(format!(
                    "{} packets of real traffic called malformed",
                    report.malformed
                ));
            }
            let captured = scenario["measured"]["packets"].as_u64();
            if captured.is_some_and(|n| n != report.packets) {
                problems.push(format!(
                    "{} packets analysed, {captured:?} captured",
                    report.packets
                ));
            }
        }
        Err(e) => problems.push(format!("the report is not a vigie.report/1 document: {e}")),
    }
    check_privacy(&raw, &strings(&truth["privacy_markers"]), &mut problems);
    let report: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let incidents = report["incidents"].as_array().cloned().unwrap_or_default();
    let expected = scenario["expected"].as_array().cloned().unwrap_or_default();
    check_expected(&expected, &incidents, &mut problems);
    check_unexpected(scenario, &incidents, &mut problems);
    problems
        .into_iter()
        .map(|p| format!("{name}: {p}"))
        .collect()
}

fn assert_scenario(name: &str) {
    let dir = corpus().join("data");
    let truth = load_truth(&dir);
    let problems = check_scenario(&dir, &truth, name);
    assert!(
        problems.is_empty(),
        "{} problem(s) with tests/corpus/data/{name}.pcap:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn committed_truth_covers_every_scenario() {
    let dir = corpus().join("data");
    let truth = load_truth(&dir);
    for name in SCENARIOS {
        let scenario = scenario(&truth, name);
        let pcap = dir.join(scenario["pcap"].as_str().unwrap_or_default());
        assert!(pcap.is_file(), "{name}: no capture {}", pcap.display());
        for entry in scenario["expected"].as_array().into_iter().flatten() {
            let (min, max) = (entry["min_events"].as_u64(), entry["max_events"].as_u64());
            assert!(
                min.is_some_and(|min| min >= 1 && Some(min) <= max),
                "{name}: {entry}"
            );
        }
        let expected = scenario["expected"].as_array().map_or(0, Vec::len);
        // Only the ordinary traffic expects nothing.
        assert_eq!(
            expected == 0,
            name == "benign" || name == "busy_site",
            "{name}: expected incidents"
        );
    }
    let markers = strings(&truth["privacy_markers"]);
    for needed in ["10.66.2.", "VIGIE-PRIVATE-7f3a", "/etc/passwd", "jndi"] {
        assert!(
            markers.iter().any(|m| m == needed),
            "privacy marker {needed} missing"
        );
    }
}

#[test]
fn nmap_syn() {
    assert_scenario("nmap_syn");
}

#[test]
fn nmap_version() {
    assert_scenario("nmap_version");
}

#[test]
fn masscan() {
    assert_scenario("masscan");
}

#[test]
fn hydra_ssh() {
    assert_scenario("hydra_ssh");
}

#[test]
fn web_exploits() {
    assert_scenario("web_exploits");
}

#[test]
fn web_login_bruteforce() {
    assert_scenario("web_login_bruteforce");
}

#[test]
fn ping_sweep() {
    assert_scenario("ping_sweep");
}

#[test]
fn syn_burst() {
    assert_scenario("syn_burst");
}

/// Issue 16: ~300 half-open SYN a second for ~5 s, a town hall's flood.
#[test]
fn low_rate_flood() {
    assert_scenario("low_rate_flood");
}

/// Issue 16: as many new connections a second, every handshake completed:
/// a busy day, not a flood.
#[test]
fn busy_site_is_no_flood() {
    assert_scenario("busy_site");
}

#[test]
fn reputation() {
    assert_scenario("reputation");
}

#[test]
fn suspicious_dns() {
    assert_scenario("suspicious_dns");
}

#[test]
fn benign_traffic_gives_no_incident() {
    assert_scenario("benign");
}

/// Whether this process runs as root (the lab needs network namespaces and
/// raw sockets), read from /proc so the test needs no libc binding.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(1).map(|uid| uid == "0")
        })
        .unwrap_or(false)
}

#[test]
fn live_corpus_matches_its_fresh_truth() {
    if std::env::var("VIGIE_CORPUS_LIVE").as_deref() != Ok("1") {
        eprintln!(
            "live corpus skipped: set VIGIE_CORPUS_LIVE=1 (as root) to rebuild the lab \
             with tests/corpus/make-corpus.sh and check fresh captures; the committed \
             ones are checked by the other tests"
        );
        return;
    }
    if !is_root() {
        eprintln!(
            "live corpus skipped: VIGIE_CORPUS_LIVE=1 but not root; the lab needs root \
             for network namespaces, raw sockets and a throwaway account"
        );
        return;
    }
    let out = std::env::temp_dir().join(format!("vigie-corpus-live-{}", std::process::id()));
    let status = Command::new("bash")
        .arg(corpus().join("make-corpus.sh"))
        .arg(&out)
        .status()
        .expect("cannot run make-corpus.sh");
    assert!(
        status.success(),
        "make-corpus.sh failed ({status}); see its output above"
    );
    let truth = load_truth(&out);
    let problems: Vec<String> = SCENARIOS
        .iter()
        .flat_map(|name| check_scenario(&out, &truth, name))
        .collect();
    // Keep the captures of a failed run for a look.
    if problems.is_empty() {
        let _ = std::fs::remove_dir_all(&out);
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) with the fresh corpus in {}:\n  {}",
        problems.len(),
        out.display(),
        problems.join("\n  ")
    );
}

/// Issue 16: the territory's allowlist saved as `allow.txt` used to load as
/// a threat list labelled "allow", and the town hall's visit to the site it
/// protects (the benign capture's www.example.org) became a critical
/// outbound incident. Without a header it is now left out, loudly; with
/// `# vigie-list: allow` it is the allowlist it was meant to be.
#[test]
fn issue16_a_file_named_allow_is_no_threat_list() {
    let intel = tempfile::tempdir().unwrap();
    for list in ["botnet_c2.txt", "known_attacker.txt"] {
        std::fs::copy(corpus().join("intel").join(list), intel.path().join(list)).unwrap();
    }
    let pcap = corpus().join("data").join("benign.pcap");
    let run = |allow: &str| {
        std::fs::write(intel.path().join("allow.txt"), allow).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["sensor", "--home-net", "10.66.2.0/24", "--format", "json"])
            .arg("--pcap")
            .arg(&pcap)
            .arg("--intel")
            .arg(intel.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let report: Report = serde_json::from_slice(&output.stdout).unwrap();
        (report, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let site = "www.example.org\n10.66.1.80\n";
    let (report, stderr) = run(site);
    assert!(report.incidents.is_empty(), "{:#?}", report.incidents);
    assert!(
        stderr.contains("ATTENTION : liste « allow » ignorée"),
        "{stderr}"
    );
    let (report, stderr) = run(&format!("# vigie-list: allow\n{site}"));
    assert!(report.incidents.is_empty(), "{:#?}", report.incidents);
    assert!(!stderr.contains("ATTENTION"), "{stderr}");
    // What the old name-only rule did, now only when a header asks for it.
    let (report, _) = run(&format!("# vigie-list: threat\n{site}"));
    assert!(
        report
            .incidents
            .iter()
            .any(|i| i.label.as_deref() == Some("allow")
                && i.severity == vigie_core::Severity::Critical),
        "{:#?}",
        report.incidents
    );
}
