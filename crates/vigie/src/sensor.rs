//! `vigie sensor --pcap` and `vigie demo`: option parsing into the engine's
//! settings, then one call to the sensor library.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use vigie_sensor::analyze::{Analysis, analyze_file};
use vigie_sensor::engine::{Settings, random_key};
use vigie_sensor::homenet::{Cidr, HomeNet};
use vigie_sensor::intel::Intel;
use vigie_sensor::signatures::Signatures;
use vigie_sensor::{Config, config, summary};

use crate::{Format, SensorArgs, read_text};

/// Exit code when the capture was damaged: the report covers what was read.
const EXIT_PARTIAL: u8 = 2;

pub fn run(args: SensorArgs) -> anyhow::Result<ExitCode> {
    if args.print_config {
        print!("{}", config::DEFAULT_TOML);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(pcap) = args.pcap.as_deref() else {
        bail!("--pcap FICHIER est obligatoire");
    };
    let settings = settings(&args)?;
    let analysis = analyze_file(pcap, settings).context("analyse impossible")?;
    print_analysis(&analysis, pcap, args.format)?;
    Ok(exit_code(&analysis, pcap))
}

fn settings(args: &SensorArgs) -> anyhow::Result<Settings> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let home = if args.home_nets.is_empty() {
        HomeNet::default()
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

fn warn_list_problems(intel: &Intel) {
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
