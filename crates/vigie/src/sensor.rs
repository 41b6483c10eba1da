//! `vigie sensor`: offline analysis of a capture (`--pcap`), the live box
//! (`--config`), and its enrolment (`enroll`): option parsing, then one call
//! to the sensor library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, bail};
use vigie_lists::Intel;
use vigie_sensor::analyze::{Analysis, analyze_file};
use vigie_sensor::engine::{Settings, random_key};
use vigie_sensor::homenet::{Cidr, HomeNet};
use vigie_sensor::live::box_config::{self, BoxConfig};
use vigie_sensor::live::uplink::{EnrollOptions, Trust, enroll_box, parse_pin};
use vigie_sensor::signatures::Signatures;
use vigie_sensor::{Config, config, summary};

use crate::{Format, SensorAction, SensorArgs, read_text};

/// `vigie sensor enroll`.
#[derive(clap::Args)]
pub struct EnrollArgs {
    /// The observatory's address, e.g. https://observatoire.example.fr
    #[arg(long, value_name = "URL")]
    server: String,
    /// The one-time enrolment code the observatory gave (XXXX-XXXX-XXXX-XXXX).
    #[arg(long)]
    code: String,
    /// Trust this certificate authority (PEM) instead of the built-in ones.
    #[arg(long, value_name = "FILE", conflicts_with = "pin_sha256")]
    ca_file: Option<PathBuf>,
    /// Trust exactly the observatory certificate with this SHA-256.
    #[arg(long, value_name = "HEX")]
    pin_sha256: Option<String>,
    /// Network interface to watch (repeatable): the mirror port or bridge.
    #[arg(long = "interface", value_name = "IF")]
    interfaces: Vec<String>,
    /// The commune's INSEE code; by default the observatory's answer.
    #[arg(long)]
    commune: Option<String>,
    /// Where the box keeps its state (default /var/lib/vigie).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// The configuration to create or update.
    #[arg(long, value_name = "FILE", default_value = box_config::DEFAULT_PATH)]
    config: PathBuf,
    /// Accept an http:// observatory (tests on one machine only).
    #[arg(long)]
    allow_plain_http: bool,
}

/// Exit code when the capture was damaged: the report covers what was read.
const EXIT_PARTIAL: u8 = 2;

pub fn run(args: SensorArgs) -> anyhow::Result<ExitCode> {
    if let Some(SensorAction::Enroll(enroll)) = args.action {
        return run_enroll(enroll);
    }
    if args.print_config {
        print!("{}", config::DEFAULT_TOML);
        return Ok(ExitCode::SUCCESS);
    }
    if args.print_box_config {
        print!("{}", box_config::EXAMPLE_TOML);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(pcap) = args.pcap.as_deref() else {
        let Some(path) = args.config.as_deref() else {
            bail!("--pcap FICHIER ou --config CONFIGURATION est obligatoire");
        };
        return run_live(path);
    };
    let settings = settings(&args)?;
    let analysis = analyze_file(pcap, settings).context("analyse impossible")?;
    print_analysis(&analysis, pcap, args.format)?;
    Ok(exit_code(&analysis, pcap))
}

/// The live box, until SIGTERM or SIGINT.
fn run_live(path: &Path) -> anyhow::Result<ExitCode> {
    let config = BoxConfig::load(path)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("impossible d'intercepter les signaux d'arrêt")?;
    }
    vigie_sensor::live::daemon::run(&config, stop)?;
    Ok(ExitCode::SUCCESS)
}

fn run_enroll(args: EnrollArgs) -> anyhow::Result<ExitCode> {
    let trust = match (&args.ca_file, &args.pin_sha256) {
        (Some(file), _) => Some(Trust::CaFile(file.clone())),
        (None, Some(pin)) => Some(Trust::PinnedSha256(
            parse_pin(pin).map_err(|e| anyhow::anyhow!("--pin-sha256 : {e}"))?,
        )),
        (None, None) => None,
    };
    let enrollment = enroll_box(&EnrollOptions {
        server: args.server,
        trust,
        code: args.code,
        config_path: args.config.clone(),
        commune: args.commune,
        interfaces: args.interfaces,
        state_dir: args.state_dir,
        allow_plain_http: args.allow_plain_http,
    })?;
    println!(
        "Boîtier {} enrôlé. Configuration {} : {}.",
        enrollment.sensor_id,
        if enrollment.created_config {
            "créée"
        } else {
            "mise à jour"
        },
        args.config.display()
    );
    if nix::unistd::geteuid().is_root() && enrollment.state_owner.is_none() {
        eprintln!(
            "attention : l'utilisateur {} n'existe pas ; créez-le (useradd --system {0}) et donnez-lui {}",
            enrollment.config.capture.user,
            enrollment.config.storage.state_dir.display()
        );
    }
    println!("Démarrez-le avec : systemctl enable --now vigie-sensor");
    Ok(ExitCode::SUCCESS)
}

fn settings(args: &SensorArgs) -> anyhow::Result<Settings> {
    let (config, box_home) = match &args.config {
        Some(path) if is_box_config(path) => {
            let config = BoxConfig::load(path)?;
            (config.detection, Some(config.network.home_nets))
        }
        Some(path) => (Config::load(path)?, None),
        None => (Config::default(), None),
    };
    let home = if args.home_nets.is_empty() {
        box_home.map_or_else(HomeNet::default, HomeNet::new)
    } else {
        let nets = args
            .home_nets
            .iter()
            .map(|net| net.parse::<Cidr>().context("--home-net invalide"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        HomeNet::new(nets)
    };
    let intel = match &args.intel {
        Some(dir) => {
            let intel = Intel::load_dir(dir)
                .with_context(|| format!("listes de menaces illisibles dans {}", dir.display()))?;
            warn_list_problems(&intel);
            intel
        }
        None => Intel::empty(),
    };
    let mut signatures = Signatures::builtin();
    if let Some(path) = &args.signatures {
        let text = read_text(path)?;
        let extra = Signatures::from_toml(&text, &path.display().to_string())?;
        signatures = signatures.merge(extra)?;
    }
    let host_key = match &args.host_key_file {
        Some(path) => read_key(path)?,
        None => random_key(),
    };
    Ok(Settings {
        config,
        home,
        intel: Arc::new(intel),
        signatures: Arc::new(signatures),
        host_key,
    })
}

/// A box configuration has an `[observatory]` table; detector thresholds
/// alone do not.
fn is_box_config(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|table| table.contains_key("observatory"))
}

fn warn_list_problems(intel: &Intel) {
    // Issue 16: a list named like an allowlist but not one is left out;
    // the operator must see it, not find out from a critical incident.
    for warning in intel.kind_warnings() {
        tracing::warn!(list = %warning.label, left_out = warning.left_out, "{warning}");
        eprintln!("attention : {warning}");
    }
    for list in intel.stats() {
        if list.malformed > 0 {
            let first = list
                .problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            eprintln!(
                "attention : liste {} : {} ligne(s) illisible(s) ignorée(s) ({first})",
                list.label, list.malformed
            );
        }
    }
}

fn read_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    let text = read_text(path)?;
    let hex = text.trim();
    let mut key = [0u8; 32];
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{}: the host key must be 64 hexadecimal digits",
            path.display()
        );
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)?;
    }
    Ok(key)
}

fn print_analysis(analysis: &Analysis, pcap: &Path, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&analysis.report)?),
        Format::Text => print!(
            "{}",
            summary::render(&analysis.report, &pcap.display().to_string())
        ),
    }
    Ok(())
}

fn exit_code(analysis: &Analysis, pcap: &Path) -> ExitCode {
    match &analysis.stopped_by {
        None => ExitCode::SUCCESS,
        Some(error) => {
            eprintln!(
                "erreur : {} est endommagé ({error}) ; le rapport couvre les {} paquets lus avant",
                pcap.display(),
                analysis.report.packets
            );
            ExitCode::from(EXIT_PARTIAL)
        }
    }
}
