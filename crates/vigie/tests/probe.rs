//! The network probe end to end (issue 5, "Proof"): `vigie probe` run in a
//! lab of network namespaces with real Debian services, each weakness
//! planted on its own host (tests/probe/lab.sh): every planted weakness is
//! found exactly once on the right host and port, the hardened host and
//! the badly behaved one yield none of them, the out-of-scope hosts never
//! see a packet from the probe (tcpdump in their namespace), the document
//! validates and its top ten is in order; then nmap `-sT -sV` on the same
//! hosts and ports: the probe lists every open port nmap finds, and where
//! both name the product they agree.
//!
//! The lab needs root (namespaces, a throwaway account); as another user
//! that test says so and passes. The bad-input tests need neither root nor
//! the network: what could send anything runs in an empty network
//! namespace (`unshare`), or is skipped when none can be made.
//!
//! Run: `cargo test -p vigie --test probe -- --nocapture` (as root for the
//! lab). `VIGIE_PROBE_KEEP_LAB=1` keeps the lab and its logs for a look.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "probe/expect.rs"]
mod expect;
#[path = "probe/lab.rs"]
mod lab;
#[path = "probe/nmap.rs"]
mod nmap;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use vigie_core::probe::ProbeReport;

use lab::{Lab, is_root, progress};

const VIGIE: &str = env!("CARGO_BIN_EXE_vigie");

/// The lab's scope: the /25 of the targets, less the excluded host and the
/// probe itself; the `outside` host (.200) is beyond the /25.
fn lab_scope(excluded: IpAddr) -> String {
    format!(
        r#"# The probe lab (tests/probe/lab.sh).
commune = "42218"
name = "Vigie-Lab"
postcode = "42000"
networks = ["10.66.80.0/25"]
exclude = ["{excluded}", "{probe}"]
period = {{ start = 2020-01-01, end = 2099-12-31 }}
"#,
        probe = lab::PROBE_IP
    )
}

#[test]
fn probe_finds_the_planted_weaknesses_and_agrees_with_nmap() {
    if !is_root() {
        eprintln!(
            "probe lab skipped: not root; tests/probe/lab.sh needs root for network \
             namespaces and a throwaway account (CI runs it as root)"
        );
        return;
    }
    let lab = Lab::up();
    let dir = tempfile::tempdir().unwrap();
    let scope = dir.path().join("scope.toml");
    std::fs::write(&scope, lab_scope(lab.address("excluded"))).unwrap();
    let json = dir.path().join("probe.json");

    progress("running vigie probe --lab in the probe's namespace");
    let start = Instant::now();
    let output = lab.run_in_probe_ns(
        Path::new(VIGIE),
        &[
            "probe",
            "--scope",
            path(&scope),
            "--format",
            "json",
            "--output",
            path(&json),
            "--lab",
        ],
    );
    let probe_time = start.elapsed();
    progress(&format!(
        "vigie probe: {} in {:.1} s",
        output.status,
        probe_time.as_secs_f64()
    ));
    assert_ran_cleanly(&output);

    let mut problems = Vec::new();
    let mut notes = Vec::new();
    // The capture first, before nmap adds traffic of its own to the lab.
    for line in lab.out_of_scope_traffic() {
        problems.push(format!("out of scope reached: {line}"));
    }
    let text = std::fs::read_to_string(&json).expect("vigie probe wrote no --output file");
    let report: ProbeReport = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the output is not a vigie.probe/1 document: {e}\n{text}"));
    if let Err(e) = report.validate() {
        problems.push(format!("the document does not validate: {e}"));
    }
    print_report(&report, &lab);
    expect::planted(&report, &lab, &mut problems);
    expect::revealed(&report, &lab, &mut problems);
    expect::clean_hosts(&report, &lab, &mut problems, &mut notes);
    expect::other_findings(&report, &lab, &mut notes);
    expect::udp_services(&report, &lab, &mut problems);
    expect::scope(&report, &lab, &mut problems);
    expect::top(&report, &mut problems);

    progress("running nmap -sT -sV on the same hosts and ports");
    let start = Instant::now();
    let ports = run_nmap(&lab, dir.path());
    progress(&format!("nmap: {:.1} s", start.elapsed().as_secs_f64()));
    nmap::sees_the_lab(&lab, &ports, &mut problems);
    nmap::compare(&report, &ports, &mut problems, &mut notes);

    for note in &notes {
        eprintln!("  note: {note}");
    }
    progress(&format!(
        "probe {:.1} s; {} problem(s)",
        probe_time.as_secs_f64(),
        problems.len()
    ));
    assert!(
        problems.is_empty(),
        "{} problem(s) with vigie probe on the lab:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// nmap on the lab's targets, from the probe's namespace, on the probe's
/// TCP ports. The badly behaved host gets `--version-intensity 0`: its
/// silent port keeps a full `-sV` busy for over three minutes (every probe
/// waits out its timeout), which tells nothing more. Both runs at once.
fn run_nmap(lab: &Lab, dir: &Path) -> Vec<nmap::NmapPort> {
    let ports = nmap::probe_tcp_ports()
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let targets = |odd: bool| -> Vec<String> {
        lab.hosts
            .iter()
            .filter(|h| !h.tcp.is_empty() && !["excluded", "outside"].contains(&h.role.as_str()))
            .filter(|h| (h.role == "odd") == odd)
            .map(|h| h.address.to_string())
            .collect()
    };
    let run = |name: &str, extra: &[&str], hosts: Vec<String>| -> Vec<nmap::NmapPort> {
        let xml = dir.join(name);
        let mut args = vec!["-n", "-Pn", "-sT", "-sV", "-p", &ports, "-oX", path(&xml)];
        args.extend_from_slice(extra);
        args.extend(hosts.iter().map(String::as_str));
        let output = lab.run_in_probe_ns(Path::new("nmap"), &args);
        assert!(
            output.status.success(),
            "nmap failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        nmap::parse_xml(&std::fs::read_to_string(&xml).expect("nmap wrote no XML"))
    };
    let (mut planted, odd) = std::thread::scope(|s| {
        let odd = s.spawn(|| run("odd.xml", &["--version-intensity", "0"], targets(true)));
        let planted = run("planted.xml", &[], targets(false));
        (planted, odd.join().expect("the nmap thread panicked"))
    });
    planted.extend(odd);
    for port in planted.iter().filter(|p| p.state == "open") {
        eprintln!(
            "  nmap {}:{} {} {} {}",
            port.host,
            port.port,
            port.service.as_deref().unwrap_or("?"),
            port.product.as_deref().unwrap_or(""),
            port.version.as_deref().unwrap_or("")
        );
    }
    planted
}

/// What the probe found, for the CI log.
fn print_report(report: &ProbeReport, lab: &Lab) {
    for host in &report.hosts {
        eprintln!("  host {} ({})", host.address, lab.role_of(host.address));
        for s in &host.services {
            eprintln!(
                "    {}/{:?} {} {} {}{}",
                s.port,
                s.transport,
                s.name,
                s.product.as_deref().unwrap_or(""),
                s.version.as_deref().unwrap_or(""),
                if s.tls { " (TLS)" } else { "" }
            );
        }
    }
    for f in &report.findings {
        eprintln!(
            "  finding {} on {} cvss {} : {}",
            f.id,
            expect::place(lab, f.host, f.port, f.transport),
            f.cvss,
            f.evidence
        );
    }
    for (rank, t) in report.top.iter().enumerate() {
        eprintln!(
            "  top {} {} cvss {} ({} hosts)",
            rank + 1,
            t.id,
            t.cvss,
            t.hosts.len()
        );
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

// --- bad input ----------------------------------------------------------------

/// How to run a command in an empty network namespace (no interface up, no
/// route: nothing can be sent), if this machine lets us make one.
fn empty_netns() -> Option<Vec<&'static str>> {
    let prefix: Vec<&'static str> = if is_root() {
        vec!["unshare", "--net", "--"]
    } else {
        vec!["unshare", "--user", "--map-root-user", "--net", "--"]
    };
    let works = Command::new(prefix[0])
        .args(&prefix[1..])
        .arg("true")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(prefix)
}

/// Runs `vigie probe --lab --format json` on a scope text, in an empty
/// network namespace when `isolated` (None if none can be made).
fn probe_on(scope_text: &str, isolated: bool) -> Option<(Output, PathBuf, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let scope = dir.path().join("scope.toml");
    std::fs::write(&scope, scope_text).unwrap();
    let json = dir.path().join("probe.json");
    let mut command = match (isolated, empty_netns()) {
        (false, _) => Command::new(VIGIE),
        (true, Some(prefix)) => {
            let mut c = Command::new(prefix[0]);
            c.args(&prefix[1..]).arg(VIGIE);
            c
        }
        (true, None) => return None,
    };
    command
        .args([
            "probe",
            "--scope",
            path(&scope),
            "--format",
            "json",
            "--output",
            path(&json),
        ])
        .arg("--lab")
        .stdin(Stdio::null());
    let output = command.output().expect("cannot run vigie probe");
    Some((output, json, dir))
}

/// A run that went through: exit 0 and no panic; its stderr.
fn assert_ran_cleanly(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "vigie probe panicked:\n{stderr}"
    );
    assert!(
        output.status.success(),
        "vigie probe failed ({}):\n{stderr}",
        output.status
    );
    stderr
}

/// A refused scope: non-zero exit, no panic, a French message naming the
/// file and what is wrong, no document written.
fn assert_refused(output: &Output, json: &Path, wanted: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "vigie probe panicked:\n{stderr}"
    );
    assert!(
        !output.status.success(),
        "vigie probe accepted it:\n{stderr}"
    );
    assert!(
        stderr.contains("erreur"),
        "no French error message:\n{stderr}"
    );
    assert!(
        stderr.contains("scope.toml"),
        "the message does not name the file:\n{stderr}"
    );
    for word in wanted {
        assert!(
            stderr.contains(word),
            "the message does not say {word:?}:\n{stderr}"
        );
    }
    assert!(!json.exists(), "a document was written for a refused scope");
}

#[test]
fn a_malformed_scope_is_refused_clearly() {
    // Parsing fails before any socket exists: no namespace needed.
    let (output, json, _dir) =
        probe_on("networks = [\"10.66.80.0/24\"\nperiod = {", false).unwrap();
    assert_refused(&output, &json, &["ligne"]);
}

#[test]
fn an_invalid_cidr_is_refused_clearly() {
    let scope =
        "networks = [\"10.66.80.0/33\"]\nperiod = { start = 2020-01-01, end = 2099-12-31 }\n";
    let (output, json, _dir) = probe_on(scope, false).unwrap();
    assert_refused(&output, &json, &["10.66.80.0/33", "networks"]);
}

#[test]
fn a_public_range_is_refused_unless_allowed() {
    // Isolated all the same: were the check missing, nothing may leave.
    let scope =
        "networks = [\"192.0.2.0/28\"]\nperiod = { start = 2020-01-01, end = 2099-12-31 }\n";
    let Some((output, json, _dir)) = probe_on(scope, true) else {
        eprintln!("public range test skipped: cannot make an empty network namespace (unshare)");
        return;
    };
    assert_refused(&output, &json, &["192.0.2.0/28", "allow_public"]);
}

#[test]
fn an_unreachable_network_ends_with_zero_hosts() {
    let scope =
        "networks = [\"10.66.80.0/29\"]\nperiod = { start = 2020-01-01, end = 2099-12-31 }\n";
    let Some((output, json, _dir)) = probe_on(scope, true) else {
        eprintln!(
            "unreachable network test skipped: cannot make an empty network namespace (unshare)"
        );
        return;
    };
    let stderr = assert_ran_cleanly(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = std::fs::read_to_string(&json).expect("no document for an empty network");
    let report: ProbeReport = serde_json::from_str(&text).unwrap();
    report.validate().unwrap();
    assert!(
        report.hosts.is_empty(),
        "hosts on an unreachable network: {:?}",
        report.hosts
    );
    assert!(report.findings.is_empty());
    let said = format!("{stdout}{stderr}").to_lowercase();
    assert!(
        said.contains("aucun hôte") || said.contains("0 hôte"),
        "no clear message that no host answered:\nstdout: {stdout}\nstderr: {stderr}"
    );
}
