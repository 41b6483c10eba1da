//! `vigie`: one binary, several roles. Each subcommand parses its options
//! and calls one function of a library crate; errors are printed with their
//! whole chain and a non-zero exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

mod bench;
mod bench_campaigns;
mod bench_defence;
mod bench_dossiers;
mod bench_hostile;
mod bench_live;
mod bench_national;
mod bench_probe;
mod bench_risk;
mod bench_server;
mod demo;
mod demo_agreements;
mod demo_campaigns;
mod demo_elearning;
mod documents;
mod probe;
mod sensor;
mod serve_config;
mod server;

#[derive(Parser)]
#[command(
    name = "vigie",
    version,
    about = "Vigie : cybersécurité des communes d'un territoire"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The sensor box: qualifies the attacks of a capture file (`--pcap`),
    /// or runs live on the commune's network (`--config`), or enrols a box
    /// with its observatory (`enroll`).
    Sensor(Box<SensorArgs>),
    /// The observatory on its embedded default (SQLite, the Loire) with
    /// demonstration accounts and 90 days of history built by the real
    /// sensor engine; prints the URL and the accounts.
    Demo(demo::DemoArgs),
    /// Benchmarks, reported as ratios against a reference run on the same
    /// machine in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The observatory: sensor API, cybermétéo map, accounts.
    Serve(server::ServeArgs),
    /// The network probe ("sonde réseau"): finds the ten most critical
    /// vulnerabilities of the networks a commune's scope file authorises.
    Probe(Box<probe::ProbeArgs>),
    /// Document templates: write Vigie's out to adapt them, render a probe
    /// report with a territory's branding.
    #[command(subcommand)]
    Documents(documents::DocumentsCommand),
    /// Accounts of the observatory.
    #[command(subcommand)]
    User(UserCommand),
    /// Personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The communes' sensor boxes.
    #[command(subcommand)]
    Sensors(SensorsCommand),
    /// Loads a département's communes (GeoJSON contours, optional CSV of
    /// populations and town-hall contacts) into the territory.
    Import {
        #[arg(long)]
        departement: String,
        /// GeoJSON FeatureCollection (.geojson or .geojson.gz).
        geojson: PathBuf,
        /// communes.csv with populations, EPCI and contacts.
        communes: Option<PathBuf>,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates an account (the first administrator: `vigie user add --admin EMAIL`).
    Add(server::UserAddArgs),
    /// Disables an account: its sessions end, its tokens stop working.
    Disable {
        email: String,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
    /// Enables a disabled account again (its revoked tokens stay revoked).
    Enable {
        email: String,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Prints a new personal API token for the account (`Authorization: Bearer`).
    Create {
        #[arg(long)]
        email: String,
        /// A name to recognise the token by ("script de sauvegarde").
        #[arg(long, default_value = "")]
        label: String,
        /// Days until the token stops working (default: until revoked).
        #[arg(long, value_name = "DAYS")]
        expires_days: Option<u32>,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
    /// Lists an account's tokens (prefix, name, dates, state; never the secret).
    List {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
    /// Revokes a token, given whole or by the prefix `list` shows.
    Revoke {
        token: String,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
}

#[derive(Subcommand)]
enum SensorsCommand {
    /// Creates a sensor for a commune and prints its one-time enrolment code.
    Add {
        #[arg(long)]
        commune: String,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
    /// Revokes a sensor (lost, stolen, replaced): its token stops working.
    Revoke {
        /// The sensor's id (`cap-…`).
        id: String,
        #[command(flatten)]
        db: server::DatabaseArg,
    },
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SensorArgs {
    #[command(subcommand)]
    action: Option<SensorAction>,
    /// Capture file to analyse (pcap or pcapng). Without it, `--config`
    /// names the box's configuration and the sensor runs live.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present_any = ["print_config", "print_box_config", "config"]
    )]
    pcap: Option<PathBuf>,
    /// The commune's network (repeatable). Default: the private ranges.
    #[arg(long = "home-net", value_name = "CIDR")]
    home_nets: Vec<String>,
    /// Live: the box's configuration (/etc/vigie/sensor.toml). With
    /// `--pcap`: detector thresholds (TOML, keys left out keep their
    /// defaults), or a box configuration whose [detection] and home nets
    /// are then used.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of threat lists (each file's name is its label; files named
    /// allowlist* are allowlists).
    #[arg(long, value_name = "DIR")]
    intel: Option<PathBuf>,
    /// More web-exploit signatures (TOML), added to the built-in ones.
    #[arg(long, value_name = "FILE")]
    signatures: Option<PathBuf>,
    /// File holding the key (64 hex digits) of the hash that stands for
    /// internal hosts; a random one per run otherwise.
    #[arg(long, value_name = "FILE")]
    host_key_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Prints the default detector thresholds (documented) and exits.
    #[arg(long)]
    print_config: bool,
    /// Prints a documented example of the box's configuration and exits.
    #[arg(long)]
    print_box_config: bool,
}

#[derive(Subcommand)]
enum SensorAction {
    /// Exchanges the one-time code given by the observatory for the box's
    /// token, and writes the configuration, the token and the host key.
    Enroll(sensor::EnrollArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A summary for a person, in French.
    Text,
    /// The `vigie.report/1` document.
    Json,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Analysis speed on a generated mixed capture, beside `tcpdump -r FILE
    /// -w /dev/null` on the same file.
    Sensor {
        /// Packets in the generated capture.
        #[arg(long, default_value_t = 5_000_000)]
        packets: u64,
        /// Keep the capture here instead of a temporary directory.
        #[arg(long, value_name = "FILE")]
        pcap: Option<PathBuf>,
    },
    /// Peak memory of the analysis of a SYN flood from many random sources.
    Flood {
        #[arg(long, default_value_t = 1_000_000)]
        sources: u64,
    },
    /// The live sensor (root): highest replay rate with no kernel drop,
    /// CPU and memory with a million-entry list, beside tcpdump.
    Live(bench_live::LiveArgs),
    /// The network probe (root): the whole probe on a lab of namespace
    /// hosts, beside nmap `-sT -sV` on the same hosts and ports.
    Probe(bench_probe::ProbeBenchArgs),
    /// The observatory: ingest rate, map page time and size, memory.
    Observatory {
        #[arg(long, default_value_t = 200_000)]
        incidents: u64,
        #[arg(long, default_value_t = 5_000)]
        batch: u64,
        /// Also measure the ingest on this PostgreSQL database.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        /// The communes referential (communes.csv, geo/), for the France map.
        #[arg(long, value_name = "DIR")]
        referential: Option<PathBuf>,
    },
    /// The observatory under a sign-in flood, slow-header clients and
    /// large batches at once, beside a normal reader on the quiet server.
    Hostile(bench_hostile::HostileArgs),
    /// The national case on PostgreSQL: 35,000 boxes posting a batch and a
    /// heartbeat every minute to two `vigie serve` replicas, beside a bare
    /// insert of the same rows.
    National(bench_national::NationalArgs),
    /// The pre-audit's diagnostic dossier: one, and every one of the
    /// territory in a row and on all cores, beside the probe report and a
    /// minimal document through the same engine.
    Dossiers(bench_dossiers::DossiersArgs),
    /// Phishing-awareness campaigns: 10,000 mails through the outbox to a
    /// local SMTP server beside a bare lettre loop, and the tracking links
    /// under load on loopback beside a static file of the same server.
    Campaigns(bench_campaigns::CampaignsArgs),
    /// The territory's risk map (page and API) for the Loire and all of
    /// France, beside the weather map of the same territory.
    Risk(bench_risk::RiskArgs),
    /// The territory list (collective defence) for 35,000 boxes: a day's
    /// computation beside a plain read of the same incidents; the boxes'
    /// endpoint under load beside the lists' manifest; bytes per box per
    /// day.
    Defence(bench_defence::DefenceArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sensor(args) => sensor::run(*args),
        Command::Demo(args) => demo::run(args),
        Command::Bench(BenchCommand::Sensor { packets, pcap }) => bench::speed(packets, pcap),
        Command::Bench(BenchCommand::Flood { sources }) => bench::flood(sources),
        Command::Bench(BenchCommand::Live(args)) => bench_live::run(args),
        Command::Bench(BenchCommand::Probe(args)) => bench_probe::run(args),
        Command::Bench(BenchCommand::Observatory {
            incidents,
            batch,
            postgres,
            referential,
        }) => bench_server::observatory(incidents, batch, postgres, referential),
        Command::Bench(BenchCommand::Hostile(args)) => bench_hostile::run(args),
        Command::Bench(BenchCommand::National(args)) => bench_national::run(args),
        Command::Bench(BenchCommand::Dossiers(args)) => bench_dossiers::run(args),
        Command::Bench(BenchCommand::Campaigns(args)) => bench_campaigns::run(args),
        Command::Bench(BenchCommand::Risk(args)) => bench_risk::run(args),
        Command::Bench(BenchCommand::Defence(args)) => bench_defence::run(args),
        Command::Probe(args) => probe::run(*args),
        Command::Serve(args) => server::serve(args),
        Command::Documents(command) => documents::run(command),
        Command::User(UserCommand::Add(args)) => server::user_add(args),
        Command::User(UserCommand::Disable { email, db }) => server::user_disable(email, db),
        Command::User(UserCommand::Enable { email, db }) => server::user_enable(email, db),
        Command::Token(TokenCommand::Create {
            email,
            label,
            expires_days,
            db,
        }) => server::token_create(email, label, expires_days, db),
        Command::Token(TokenCommand::List { email, db }) => server::token_list(email, db),
        Command::Token(TokenCommand::Revoke { token, db }) => server::token_revoke(token, db),
        Command::Sensors(SensorsCommand::Add { commune, db }) => server::sensors_add(commune, db),
        Command::Sensors(SensorsCommand::Revoke { id, db }) => server::sensors_revoke(id, db),
        Command::Import {
            departement,
            geojson,
            communes,
            db,
        } => server::import(departement, geojson, communes, db),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("erreur : {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a whole small file, naming it in the error.
pub fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("lecture impossible de {}", path.display()))
}
