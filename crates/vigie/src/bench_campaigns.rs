//! `vigie bench campaigns` (issue 11): the phishing-awareness campaigns'
//! two costs. Sending: 10,000 mails written by the server's own campaign
//! code and sent by the outbox to a local SMTP server, beside the same
//! mails handed to the same server by a bare lettre loop (the outbox's
//! cost: its database). Tracking: the links of a sent campaign requested
//! on loopback by a load generator, closed loop then open loop at the
//! issue's target rate, beside the same generator on a static file of the
//! same server (the tracking's cost over the HTTP floor); then every
//! event stored is checked against the answers received.
//!
//! Everything runs in this process and on this machine: the SMTP server,
//! the observatory and the load generator share its cores, and the
//! figures say how much each took. The exit status is a failure when a
//! mail or an event is lost or repeated, not when a rate is missed.

pub(crate) mod cpu;
pub(crate) mod load;
mod sending;
mod smtp_sink;
pub(crate) mod tracking;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use vigie_server::Db;

use self::smtp_sink::Sink;

/// The targets for the tracking links.
const TARGET_PER_SECOND: f64 = 20_000.0;
const TARGET_P99_MS: f64 = 20.0;

/// What to measure.
#[derive(clap::Args, Clone, Debug)]
pub struct CampaignsArgs {
    /// Mails sent through the outbox, in campaigns of at most 5,000
    /// targets (the most one campaign may have).
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Also measure the sending on this PostgreSQL server, as a URL whose
    /// user may create databases (the bench creates its own and drops it).
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Targets of the campaign whose links are requested (5,000 at most).
    #[arg(long, default_value_t = 1_000)]
    pub targets: usize,
    /// Seconds of each load phase (reference, closed loop, open loop).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Keep-alive connections of the load generator (64 at most: the
    /// server's cap for one client address).
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Requests per second of the open-loop phase.
    #[arg(long, default_value_t = 20_000)]
    pub rate: u32,
}

pub fn run(args: CampaignsArgs) -> anyhow::Result<ExitCode> {
    if args.messages == 0 || args.targets == 0 || args.connections == 0 || args.rate == 0 {
        bail!("--messages, --targets, --connections et --rate : au moins 1");
    }
    if args.connections > 64 {
        bail!("--connections : 64 au plus (le plafond du serveur pour une adresse)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigie-charge")
        .build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: CampaignsArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let sink = Sink::start().await?;
    println!(
        "serveur SMTP local : {} (dans ce processus) ; charge moyenne de la machine au départ : {}",
        sink.address(),
        load_average()
    );
    let mut sound = true;

    let sqlite = format!("sqlite://{}", dir.path().join("envoi.db").display());
    println!(
        "\n1. envoi de {} courriels par la file d'envoi (SQLite)",
        fr(args.messages as f64)
    );
    let db = Db::connect(&sqlite).await?;
    sound &= print_sending(&sending::measure(&db, &sink, args.messages).await?);
    db.pool.close().await;
    if let Some(admin) = &args.postgres {
        println!("\n   la même chose sur PostgreSQL");
        let database = crate::bench_national::setup::Database::create(admin).await?;
        let measured = async {
            let db = Db::connect(&database.url).await?;
            let measure = sending::measure(&db, &sink, args.messages).await?;
            db.pool.close().await;
            anyhow::Ok(measure)
        }
        .await;
        if let Err(error) = database.drop_database().await {
            eprintln!(
                "la base {} n'a pas pu être supprimée : {error:#}",
                database.name
            );
        }
        sound &= print_sending(&measured?);
    }

    println!(
        "\n2. suivi des liens : une campagne de {} cibles envoyée, {} connexions HTTP/1.1 gardées ouvertes, {} s par phase",
        fr(args.targets as f64),
        args.connections,
        args.seconds
    );
    let plan = tracking::Plan {
        targets: args.targets,
        duration: Duration::from_secs(args.seconds),
        connections: args.connections,
        rate: args.rate,
    };
    let tracking_db = format!("sqlite://{}", dir.path().join("suivi.db").display());
    sound &= print_tracking(&tracking::measure(&tracking_db, &sink, &plan).await?, &args);
    println!(
        "\ncharge moyenne de la machine à la fin : {}",
        load_average()
    );
    Ok(if sound {
        ExitCode::SUCCESS
    } else {
        println!("ÉCHEC : des courriels ou des événements perdus ou répétés (voir plus haut)");
        ExitCode::FAILURE
    })
}

/// Prints the sending measure; whether nothing was lost or repeated.
fn print_sending(m: &sending::Measure) -> bool {
    println!(
        "   {} campagne(s) écrite(s) en {:.1} s par store::create (cibles, jetons, courriels en file)",
        m.written.ids.len(),
        m.written.took.as_secs_f64()
    );
    let rate = |sent: usize, took: Duration| sent as f64 / took.as_secs_f64().max(1e-9);
    let outbox_rate = rate(m.drained.sent, m.drained.took);
    println!(
        "   file d'envoi (send_due en boucle, {} tours) : {} envoyés en {:.2} s : {} courriels/s ; {} non envoyés ; {} connexions SMTP",
        m.drained.rounds,
        fr(m.drained.sent as f64),
        m.drained.took.as_secs_f64(),
        fr(outbox_rate),
        m.drained.not_sent,
        fr(m.received.connections as f64)
    );
    println!(
        "   reçus : {} messages, {} Message-ID distincts, {} répétés, {} sans Message-ID, {} envoyés selon la file mais non reçus",
        fr(m.received.messages() as f64),
        fr(m.received.ids.len() as f64),
        m.received.repeats(),
        m.received.without_id,
        m.missing
    );
    let (reference, transport) = (&m.reference, &m.transport);
    let reference_rate = rate(reference.sent, reference.took);
    println!(
        "   référence, les mêmes courriels par lettre seul sur une connexion (sans base) : {} en {:.2} s : {} courriels/s ; {} reçus, {} distincts ; {} connexions SMTP",
        fr(reference.sent as f64),
        reference.took.as_secs_f64(),
        fr(reference_rate),
        fr(reference.received.messages() as f64),
        fr(reference.received.ids.len() as f64),
        fr(reference.received.connections as f64)
    );
    println!(
        "   rapport des temps file d'envoi / lettre seul : {:.2}",
        m.drained.took.as_secs_f64() / reference.took.as_secs_f64().max(1e-9)
    );
    println!(
        "   pour mémoire, le transport de lettre (une connexion par courriel, algorithme de Nagle actif, l'envoi d'avant la session) : {} courriels/s sur les {} premiers ; {} reçus",
        fr(rate(transport.sent, transport.took)),
        transport.sent,
        fr(transport.received.ids.len() as f64)
    );
    let expected = m.drained.sent as u64 + m.drained.not_sent as u64;
    expected == m.received.messages()
        && m.drained.not_sent == 0
        && m.received.ids.len() as u64 == m.received.messages()
        && m.missing == 0
        && reference.received.ids.len() == reference.sent
        && transport.received.ids.len() == transport.sent
}

/// Prints the tracking measure; whether the events stored are exactly
/// those answered.
fn print_tracking(m: &tracking::Measure, args: &CampaignsArgs) -> bool {
    println!(
        "   {} jetons lus dans les courriels reçus",
        fr(m.tokens as f64)
    );
    print_phase(
        "référence : GET /static/vigie.css, boucle fermée",
        &m.reference,
    );
    print_phase(
        "suivi (5 ouvertures, 4 clics, 1 envoi de formulaire sur 10), boucle fermée",
        &m.closed,
    );
    print_phase(
        &format!(
            "suivi, boucle ouverte à {} requêtes/s (latence comptée depuis l'instant prévu)",
            fr(f64::from(args.rate))
        ),
        &m.open,
    );
    println!(
        "   rapport suivi / référence (requêtes par seconde, boucle fermée) : {:.2}",
        m.closed.outcome.per_second() / m.reference.outcome.per_second().max(1e-9)
    );
    let open = &m.open.outcome;
    let held = open.per_second() >= TARGET_PER_SECOND * 0.99
        && open.quantile_ms(0.99) < TARGET_P99_MS
        && open.error_count() == 0;
    println!(
        "   objectif (≥ {} requêtes/s, p99 < {TARGET_P99_MS} ms, aucune erreur) : {}",
        fr(TARGET_PER_SECOND),
        if held { "tenu" } else { "non tenu" }
    );
    let (e, s) = (m.expected, m.stored);
    println!(
        "   événements : réponses reçues {} ouvertures, {} clics (envois de formulaire compris), {} envois ; en base {} / {} / {} ; clics de scanners {}",
        fr(e.opens as f64),
        fr(e.clicks as f64),
        fr(e.submissions as f64),
        fr(s.opens as f64),
        fr(s.clicks as f64),
        fr(s.submissions as f64),
        s.scanner_clicks
    );
    println!(
        "   l'API après la charge : {} cibles, {} envoyés, {} ouverts, {} cliqués, {} formulaires envoyés",
        m.figures["targets"],
        m.figures["sent"],
        m.figures["opened"],
        m.figures["clicked"],
        m.figures["submitted"]
    );
    let sound = e == s;
    println!(
        "   {}",
        if sound {
            "rien de perdu : chaque réponse reçue est un événement en base, et rien de plus"
        } else {
            "ÉCART entre les réponses reçues et les événements en base"
        }
    );
    sound
}

fn print_phase(title: &str, phase: &tracking::Phase) {
    let o = &phase.outcome;
    println!("   {title}");
    let errors = if o.errors.is_empty() {
        "0 erreur".to_owned()
    } else {
        let causes: Vec<String> = o.errors.iter().map(|(c, n)| format!("{n} × {c}")).collect();
        format!("erreurs : {}", causes.join(", "))
    };
    println!(
        "     {} requêtes/s ({} réponses en {:.1} s), p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, {errors}",
        fr(o.per_second()),
        fr(o.answers() as f64),
        o.elapsed.as_secs_f64(),
        o.quantile_ms(0.5),
        o.quantile_ms(0.99),
        o.quantile_ms(1.0)
    );
    println!(
        "     processeur : serveur {:.2} cœur, générateur {:.2}, reste de la machine {:.2}",
        phase.cores.server, phase.cores.generator, phase.cores.others
    );
}

/// A count or rate rounded, with French thousands separators.
fn fr(value: f64) -> String {
    vigie_server::fr::number(value.round() as i64)
}

/// The machine's 1-, 5- and 15-minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "inconnue".to_owned())
}
