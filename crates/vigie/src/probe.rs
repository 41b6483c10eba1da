//! `vigie probe`: the network probe ("sonde réseau") on the scope a
//! commune authorised. Options, then one call to `vigie_probe::scan::run`;
//! the result as French text, the `vigie.probe/1` JSON, HTML or PDF, and
//! optionally its upload to the observatory.
//!
//! Ctrl-C stops the scan cleanly: what was established is written, marked
//! `interrupted`, and the exit code is 2.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::ValueEnum;
use vigie_core::probe::ProbeReport;
use vigie_docs::probe as report;
use vigie_probe::scan::{self, CancellationToken, Progress, Settings};
use vigie_probe::scope::Scope;
use vigie_probe::upload::{self, Trust};

/// Exit code of an interrupted scan: the results cover what was done.
const EXIT_PARTIAL: u8 = 2;

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// The scope file (TOML): the commune, its authorised networks,
    /// exclusions, the scan period, the intensity.
    #[arg(long, value_name = "FILE")]
    scope: PathBuf,
    #[arg(long, value_enum, default_value_t = ProbeFormat::Text)]
    format: ProbeFormat,
    /// Write the result here instead of the standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Lab run: outside working hours, loopback networks admitted; written
    /// in the report. For tests only.
    #[arg(long)]
    lab: bool,
    /// Try no password at all.
    #[arg(long)]
    no_passwords: bool,
    /// Send the result to the observatory at this address.
    #[arg(long, value_name = "URL", requires = "token")]
    upload: Option<String>,
    /// Personal API token (administrator or operator) for the upload.
    #[arg(long, env = "VIGIE_TOKEN", hide_env_values = true, requires = "upload")]
    token: Option<String>,
    /// Trust this certificate authority (PEM) for the upload.
    #[arg(long, value_name = "FILE", conflicts_with = "pin_sha256")]
    ca_file: Option<PathBuf>,
    /// Trust exactly the observatory certificate with this SHA-256.
    #[arg(long, value_name = "HEX")]
    pin_sha256: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeFormat {
    /// A summary for a person, in French.
    Text,
    /// The `vigie.probe/1` document.
    Json,
    /// The French report as an HTML page.
    Html,
    /// The French report as a PDF (needs --output).
    Pdf,
}

pub fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let mut scope = Scope::load(&args.scope).context("périmètre refusé")?;
    if args.lab {
        scope = scope.for_lab();
    }
    scope
        .may_run(chrono::Utc::now())
        .context("la sonde ne démarre pas")?;
    if args.format == ProbeFormat::Pdf && args.output.is_none() && std::io::stdout().is_terminal() {
        bail!("--format pdf demande --output FICHIER");
    }
    let trust = trust(&args)?;
    let mut settings = Settings::for_scope(&scope);
    settings.context.try_passwords = !args.no_passwords;
    let report = scan_until_done(&scope, settings)?;
    if report.hosts.is_empty() && !report.interrupted {
        eprintln!(
            "Aucun hôte n'a répondu dans le périmètre ({}) : vérifiez que la sonde est branchée sur le bon réseau.",
            report.scope.networks.join(", ")
        );
    }
    let rendered = render(&report, args.format)?;
    write(&rendered, args.output.as_deref())?;
    if let (Some(url), Some(token)) = (&args.upload, &args.token) {
        let answer =
            upload::upload(url, token, &report, &trust).context("envoi à l'observatoire")?;
        eprintln!("Rapport envoyé à l'observatoire : {}", answer.page);
    }
    if report.interrupted {
        eprintln!("Analyse interrompue : le rapport couvre ce qui a été fait.");
        return Ok(ExitCode::from(EXIT_PARTIAL));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the scan on its own runtime; Ctrl-C cancels it and keeps the
/// results so far.
fn scan_until_done(scope: &Scope, settings: Settings) -> anyhow::Result<ProbeReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("démarrage impossible du moteur asynchrone")?;
    let cancel = CancellationToken::new();
    let progress = Arc::new(Progress::auto());
    runtime.block_on(async {
        let on_ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("Ctrl-C: stopping the scan");
                on_ctrl_c.cancel();
            }
        });
        scan::run(scope, settings, progress, cancel)
            .await
            .context("la sonde s'est arrêtée")
    })
}

fn render(report: &ProbeReport, format: ProbeFormat) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        ProbeFormat::Text => report::text(report).into_bytes(),
        ProbeFormat::Json => {
            let mut json = serde_json::to_vec_pretty(report).context("écriture du JSON")?;
            json.push(b'\n');
            json
        }
        ProbeFormat::Html => report::html(report)?.into_bytes(),
        ProbeFormat::Pdf => report::pdf(&vigie_docs::Engine::built_in(), report)?,
    })
}

fn write(bytes: &[u8], output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, bytes)
                .with_context(|| format!("écriture impossible de {}", path.display()))?;
            eprintln!("Rapport écrit dans {}", path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .context("écriture du rapport")?;
        }
    }
    Ok(())
}

fn trust(args: &ProbeArgs) -> anyhow::Result<Trust> {
    Ok(match (&args.ca_file, &args.pin_sha256) {
        (Some(file), _) => Trust::CaFile(file.clone()),
        (None, Some(pin)) => Trust::pin(pin).map_err(anyhow::Error::msg)?,
        (None, None) => Trust::default(),
    })
}
