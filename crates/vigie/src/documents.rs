//! `vigie documents`: what a territory needs to adapt its documents. The
//! built-in templates written out to start from, and a probe report
//! rendered with the territory's branding and templates, to see the result
//! before the observatory uses them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use vigie_core::probe::ProbeReport;
use vigie_server::config::Config;

#[derive(Subcommand)]
pub enum DocumentsCommand {
    /// Writes Vigie's document templates (Typst files) into DIR, to adapt
    /// them; then set `templates_dir = "DIR"` under `[branding]` in
    /// vigie.toml. An existing file is left alone unless --force.
    Templates {
        dir: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Renders a probe report (a `vigie.probe/1` JSON file) as a PDF with
    /// the branding and templates of a vigie.toml (Vigie's own without
    /// --config): to check an adapted template.
    ProbeReport {
        input: PathBuf,
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(command: DocumentsCommand) -> anyhow::Result<ExitCode> {
    match command {
        DocumentsCommand::Templates { dir, force } => templates(&dir, force),
        DocumentsCommand::ProbeReport {
            input,
            output,
            config,
        } => probe_report(&input, &output, config.as_deref()),
    }
}

fn templates(dir: &std::path::Path, force: bool) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("création impossible du dossier {}", dir.display()))?;
    for (name, text) in vigie_docs::Engine::built_in_templates() {
        let path = dir.join(name);
        if path.exists() && !force {
            println!(
                "{} existe déjà : laissé tel quel (--force pour le remplacer)",
                path.display()
            );
            continue;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("écriture impossible de {}", path.display()))?;
        println!("{}", path.display());
    }
    println!(
        "Modèles écrits dans {}. Indiquez ce dossier dans vigie.toml, section [branding] : templates_dir = \"{}\".",
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn probe_report(
    input: &std::path::Path,
    output: &std::path::Path,
    config: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let engine = match config {
        Some(path) => Config::load(path)?.documents()?,
        None => vigie_docs::Engine::built_in(),
    };
    let text = crate::read_text(input)?;
    let report: ProbeReport = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} n'est pas un document vigie.probe/1 lisible",
            input.display()
        )
    })?;
    if let Err(error) = report.validate() {
        bail!("{} : {error}", input.display());
    }
    let bytes = vigie_docs::probe::pdf(&engine, &report)?;
    std::fs::write(output, bytes)
        .with_context(|| format!("écriture impossible de {}", output.display()))?;
    println!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}
