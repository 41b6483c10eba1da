//! `vigie bench probe`: the whole probe (`--lab`, every check, passwords
//! included) on a lab of namespace hosts built by `tests/probe/lab.sh
//! --bench N`, beside nmap `-sT -sV` on the same addresses and ports in the
//! same run. Root only (network namespaces).
//!
//! What it must not do: send anything outside the lab (both tools run in
//! the lab's probe namespace, which has no route out), or leave the lab
//! behind: it is removed on every way out, Ctrl-C included, and its
//! daemons end by themselves after 15 minutes in any case.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use vigie_core::probe::{ProbeReport, Transport};

/// The lab's network (lab.sh): the probe at .2, the hosts from .20 on.
const SCOPE_NETWORK: &str = "10.66.80.0/25";
const PROBE_IP: &str = "10.66.80.2";
/// Each tool is stopped past this; the whole bench stays within minutes.
const TOOL_LIMIT_SECS: &str = "600";

#[derive(clap::Args)]
pub struct ProbeBenchArgs {
    /// Hosts in the lab (1 to 80), each with SSH, a web site and one more
    /// service in turn (HTTPS, anonymous FTP, Redis, SMB, Telnet, SNMP).
    /// 20 by default: with password trials the run stays within minutes.
    #[arg(long, default_value_t = 20)]
    hosts: u32,
    /// The scope's intensity: `normal` (8 hosts and 4 accounts at once) by default, so
    /// that the run stays within minutes; `polite`, a real campaign's
    /// default, examines one host at a time.
    #[arg(long, default_value = "normal")]
    intensity: String,
    /// Try no password (`vigie probe --no-passwords`), to see what the
    /// trials cost.
    #[arg(long)]
    no_passwords: bool,
    /// The lab script.
    #[arg(long, value_name = "FILE", default_value = "tests/probe/lab.sh")]
    lab_script: PathBuf,
}

pub fn run(args: ProbeBenchArgs) -> anyhow::Result<ExitCode> {
    if !nix::unistd::geteuid().is_root() {
        bail!("le banc d'essai de la sonde crée des espaces de noms réseau : lancez-le en root");
    }
    if !(1..=80).contains(&args.hosts) {
        bail!("--hosts : entre 1 et 80 hôtes");
    }
    if !["polite", "normal"].contains(&args.intensity.as_str()) {
        bail!("--intensity : polite ou normal");
    }
    let ports = probe_tcp_ports(&args.lab_script)?;
    Command::new("nmap")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .context("nmap est introuvable (paquet Debian nmap)")?;
    // Ctrl-C reaches the tools (same process group) and ends them; this
    // process stays to remove the lab.
    let interrupted = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))?;

    let dir = tempfile::tempdir()?;
    let lab = LabGuard::up(&args.lab_script, args.hosts)?;
    let scope = dir.path().join("scope.toml");
    std::fs::write(
        &scope,
        format!(
            "networks = [\"{SCOPE_NETWORK}\"]\nexclude = [\"{PROBE_IP}\"]\n\
             intensity = \"{}\"\nperiod = {{ start = 2020-01-01, end = 2099-12-31 }}\n",
            args.intensity
        ),
    )?;
    let json = dir.path().join("probe.json");
    let xml = dir.path().join("nmap.xml");
    println!(
        "{} hôtes, {} ports TCP et les ports UDP de la sonde, intensité {}, {}",
        args.hosts,
        ports.split(',').count(),
        args.intensity,
        if args.no_passwords {
            "sans essai de mots de passe"
        } else {
            "essais de mots de passe compris"
        }
    );

    let vigie = std::env::current_exe()?;
    let mut probe_args: Vec<&OsStr> = vec![
        "probe".as_ref(),
        "--scope".as_ref(),
        scope.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--output".as_ref(),
        json.as_os_str(),
        "--lab".as_ref(),
    ];
    if args.no_passwords {
        probe_args.push("--no-passwords".as_ref());
    }
    let (probe_time, probe_ok) = lab.timed(&vigie, &probe_args)?;
    stop_if(&interrupted)?;
    if !probe_ok {
        bail!("vigie probe a échoué (voir ses messages ci-dessus)");
    }
    let (nmap_time, nmap_ok) = lab.timed(
        Path::new("nmap"),
        &[
            "-n".as_ref(),
            "-sT".as_ref(),
            "-sV".as_ref(),
            "-p".as_ref(),
            ports.as_ref(),
            "--exclude".as_ref(),
            PROBE_IP.as_ref(),
            "-oX".as_ref(),
            xml.as_os_str(),
            SCOPE_NETWORK.as_ref(),
        ],
    )?;
    stop_if(&interrupted)?;
    if !nmap_ok {
        bail!("nmap a échoué (voir ses messages ci-dessus)");
    }

    let report: ProbeReport = serde_json::from_str(&crate::read_text(&json)?)
        .context("le document de la sonde n'est pas un vigie.probe/1")?;
    let probe_open: usize = report
        .hosts
        .iter()
        .map(|h| {
            h.services
                .iter()
                .filter(|s| s.transport == Transport::Tcp)
                .count()
        })
        .sum();
    let nmap_xml = crate::read_text(&xml)?;
    let nmap_open = nmap_xml.matches("<state state=\"open\"").count();
    // `<host ` with its space: the `<hosthint>` elements repeat the hosts.
    let nmap_hosts = nmap_xml.matches("<host ").count();
    println!(
        "sonde complète : {:>7.1} s  ({} hôtes, {} ports TCP ouverts, {} constats)",
        probe_time.as_secs_f64(),
        report.hosts.len(),
        probe_open,
        report.findings.len()
    );
    println!(
        "nmap -sT -sV :   {:>7.1} s  ({nmap_hosts} hôtes, {nmap_open} ports TCP ouverts)",
        nmap_time.as_secs_f64()
    );
    let ratio = probe_time.as_secs_f64() / nmap_time.as_secs_f64().max(0.001);
    println!(
        "rapport sonde / nmap : {ratio:.2} ({})",
        if ratio <= 1.0 {
            "objectif atteint : pas plus lente que la seule détection de services de nmap"
        } else {
            "objectif manqué : plus lente que la détection de services de nmap"
        }
    );
    drop(lab);
    Ok(ExitCode::SUCCESS)
}

fn stop_if(interrupted: &AtomicBool) -> anyhow::Result<()> {
    if interrupted.load(Ordering::SeqCst) {
        bail!("interrompu");
    }
    Ok(())
}

/// The probe's built-in TCP ports (crates/vigie-probe/data/ports.toml,
/// found from the lab script), comma-separated for nmap's `-p`.
fn probe_tcp_ports(lab_script: &Path) -> anyhow::Result<String> {
    let file = lab_script
        .parent()
        .unwrap_or(Path::new("."))
        .join("../../crates/vigie-probe/data/ports.toml");
    let table: toml::Table = toml::from_str(&crate::read_text(&file)?)
        .with_context(|| format!("{} n'est pas du TOML", file.display()))?;
    let ports: Option<Vec<String>> = table
        .get("tcp")
        .and_then(toml::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(toml::Value::as_integer)
                .map(|p| p.to_string())
                .collect()
        });
    match ports {
        Some(ports) if !ports.is_empty() => Ok(ports.join(",")),
        _ => bail!("{} : pas de liste tcp", file.display()),
    }
}

/// The lab, removed with `lab.sh down` when dropped.
struct LabGuard {
    script: PathBuf,
    prefix: String,
}

impl LabGuard {
    fn up(script: &Path, hosts: u32) -> anyhow::Result<LabGuard> {
        let prefix = format!("bp{}", std::process::id() % 1_000_000);
        let start = Instant::now();
        let guard = LabGuard {
            script: script.to_owned(),
            prefix,
        };
        let status = Command::new("bash")
            .arg(script)
            .args(["up", &guard.prefix, "--bench", &hosts.to_string()])
            .env("VIGIE_LAB_LIFETIME", "900")
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("lancement impossible de {}", script.display()))?;
        if !status.success() {
            bail!("{} up a échoué ({status})", script.display());
        }
        println!(
            "laboratoire monté en {:.1} s",
            start.elapsed().as_secs_f64()
        );
        Ok(guard)
    }

    /// Runs a program in the lab's probe namespace; its wall time and
    /// whether it succeeded. Its output goes to /dev/null, its messages
    /// to the terminal.
    fn timed(&self, program: &Path, args: &[&OsStr]) -> anyhow::Result<(Duration, bool)> {
        let start = Instant::now();
        let status = Command::new("ip")
            .args(["netns", "exec", &format!("{}-probe", self.prefix)])
            .args(["timeout", TOOL_LIMIT_SECS])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("lancement impossible de {}", program.display()))?;
        Ok((start.elapsed(), status.success()))
    }
}

impl Drop for LabGuard {
    fn drop(&mut self) {
        let status = Command::new("bash")
            .arg(&self.script)
            .args(["down", &self.prefix])
            .stdin(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "erreur : le laboratoire {} n'a pas pu être démonté ({status:?}) ; \
                 bash {} down {}",
                self.prefix,
                self.script.display(),
                self.prefix
            );
        }
    }
}
