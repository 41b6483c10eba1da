//! `vigie bench defence` (issue 16): the territory list's two costs for
//! 35,000 boxes. Its computation: a day of the territory's incidents
//! replayed minute by minute through the `defence.compute` job, beside
//! the job's own first read of the same incidents alone. Its delivery:
//! the boxes' endpoint under load on loopback, with nothing new, with a
//! few changes and whole, beside the lists' manifest answered `304` by
//! the same server; and from the bytes served, what a box receives in a
//! day.
//!
//! Everything runs in this process and on this machine, on SQLite with
//! durable commits unless `--postgres` names a server. Nothing is timed
//! against a target: the figures are printed, the exit status fails only
//! when a request does not get the answer it should.

mod compute;
mod day;
mod delivery;
mod load;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use vigie_server::Db;

use self::day::{DAY_MS, Day, MINUTE_MS, MINUTES};
use crate::bench_national::observe::load_average;

/// A box in filter mode asks for the list's changes this often
/// (`defence_interval_secs`, `vigie_sensor::live::box_config`).
const POLL_SECS: u64 = 60;

/// What to measure.
#[derive(clap::Args, Clone, Debug)]
pub struct DefenceArgs {
    /// Boxes, one per commune, each registered with its token.
    #[arg(long, default_value_t = 35_000)]
    pub boxes: u32,
    /// Incidents a box's commune stores in a day (inbound from the
    /// internet, a few outbound).
    #[arg(long, default_value_t = 100)]
    pub incidents_per_box: u32,
    /// Minutes of the day replayed (1,440: all of it); fewer for a quick
    /// look, the day's figures then extrapolated.
    #[arg(long, default_value_t = 1_440)]
    pub minutes: u64,
    /// Seconds of each delivery phase.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Keep-alive connections of the load generator (64 at most: the
    /// server's cap for one client address).
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Run on this PostgreSQL server instead of SQLite, as a URL whose
    /// user may create databases (the bench creates its own and drops it).
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
}

pub fn run(args: DefenceArgs) -> anyhow::Result<ExitCode> {
    if args.boxes == 0 || args.boxes > 90_000 || args.incidents_per_box == 0 {
        bail!("--boxes : de 1 à 90 000 ; --incidents-per-box : au moins 1");
    }
    if args.minutes == 0 || args.minutes > MINUTES {
        bail!("--minutes : de 1 à {MINUTES}");
    }
    if args.connections == 0 || args.connections > 64 {
        bail!("--connections : de 1 à 64 (le plafond du serveur pour une adresse)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigie-charge")
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        match &args.postgres {
            None => {
                let url = format!("sqlite://{}", dir.path().join("defense.db").display());
                bench(&args, &url, "SQLite, commits durables").await
            }
            Some(admin) => {
                let database =
                    crate::bench_national::setup::Database::create_for(admin, "defence").await?;
                let outcome = bench(&args, &database.url, "PostgreSQL").await;
                if let Err(error) = database.drop_database().await {
                    eprintln!(
                        "la base {} n'a pas pu être supprimée : {error:#}",
                        database.name
                    );
                }
                outcome
            }
        }
    })
}

async fn bench(args: &DefenceArgs, url: &str, backend: &str) -> anyhow::Result<ExitCode> {
    println!(
        "liste du territoire pour {} boîtiers ({backend}) ; charge moyenne de la machine au départ : {}",
        fr(f64::from(args.boxes)),
        load_average()
    );
    let db = Db::connect(url).await?;
    let start = Instant::now();
    compute::communes(&db, args.boxes).await?;
    let (tokens, _) = crate::bench_national::setup::register_sensors(&db, args.boxes).await?;
    let boxes = compute::boxes(&db).await?;
    println!(
        "territoire : {} communes, un boîtier enregistré dans chacune, en {:.1} s",
        fr(f64::from(args.boxes)),
        start.elapsed().as_secs_f64()
    );

    let day = Day::new(args.boxes, args.incidents_per_box);
    // The replayed minutes end now, so the list is current when served.
    let now = vigie_server::db::now_ms();
    let day_start = now - now.rem_euclid(MINUTE_MS) - args.minutes as i64 * MINUTE_MS;
    println!(
        "\n1. le calcul de la liste : une journée de {} incidents ({} par boîtier), rejouée minute par minute ({} passages du calcul{})",
        fr(day.total as f64),
        args.incidents_per_box,
        fr(args.minutes as f64),
        if args.minutes < MINUTES {
            format!(", les {} premières minutes seulement", args.minutes)
        } else {
            String::new()
        }
    );
    let computed = compute::replay(&db, &boxes, &day, args.minutes, day_start).await?;
    print_compute(&computed, &day);

    let scale = MINUTES as f64 / args.minutes as f64;
    let plan = delivery::Plan {
        connections: args.connections,
        duration: Duration::from_secs(args.seconds),
        changes: (computed.changes as f64 / computed.runs_with_changes.max(1) as f64).round()
            as i64,
    };
    println!(
        "\n2. la livraison : le serveur sur la boucle locale, {} connexions HTTP/1.1 gardées ouvertes, {} s par phase, chaque requête avec le jeton d'un autre boîtier",
        args.connections, args.seconds
    );
    let delivered = delivery::measure(url, &db, tokens, &plan).await?;
    let sound = print_delivery(&delivered, args.boxes);
    print_bytes(&delivered, &computed, scale);

    let last_run = day_start + args.minutes as i64 * MINUTE_MS;
    let (took, expired) = compute::day_later(&db, last_run).await?;
    println!(
        "\n4. un passage du calcul 24 h après le dernier : {:.2} s (les observations de la journée élaguées, {} adresses expirées en un passage)",
        took.as_secs_f64(),
        fr(expired as f64)
    );
    db.pool.close().await;
    println!(
        "\nmémoire résidente maximale du processus : {} Mo ; charge moyenne de la machine à la fin : {}",
        crate::bench::memory_kib("VmHWM:") / 1024,
        load_average()
    );
    Ok(if sound {
        ExitCode::SUCCESS
    } else {
        println!("ÉCHEC : des requêtes sans la réponse attendue (voir plus haut)");
        ExitCode::FAILURE
    })
}

fn print_compute(m: &compute::Measure, day: &Day) {
    println!(
        "   la veille : {} adresses sur la liste au début du jour ({} grands scanners, {} adresses de campagnes d'hier)",
        fr(m.listed_at_start as f64),
        day.mass_scanners(),
        fr(day.campaign_listed() as f64)
    );
    println!(
        "   écriture des incidents de chaque minute (hors mesure) : {:.1} s",
        m.writing.as_secs_f64()
    );
    let total = m.total();
    let at = |q: f64| {
        let index = ((m.runs.len() as f64 - 1.0) * q).round().max(0.0) as usize;
        m.runs.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let per = |d: Duration, n: u64| d.as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "   calcul (defence.compute) : {:.1} s pour {} passages, médiane {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        total.as_secs_f64(),
        m.runs.len(),
        at(0.5),
        at(0.99),
        at(1.0),
    );
    println!(
        "   par incident : {:.0} µs par incident stocké ({} stockés), {:.0} µs par incident lu ({} lus : chaque passage relit aussi jusqu'à 1 000 incidents derrière son curseur)",
        per(total, m.incidents),
        fr(m.incidents as f64),
        per(total, m.read),
        fr(m.read as f64)
    );
    println!(
        "   inscrites {}, prolongées {}, expirées {} : {} changements écrits, du nouveau à {} passages sur {} ; {} adresses sur la liste à la fin",
        fr(m.listed as f64),
        fr(m.refreshed as f64),
        fr(m.expired as f64),
        fr(m.changes as f64),
        fr(m.runs_with_changes as f64),
        fr(m.minutes as f64),
        fr(m.listed_at_end as f64)
    );
    println!(
        "   référence, la lecture indexée des mêmes incidents seule (la première requête du calcul) : {:.2} s, {:.1} µs par incident lu",
        m.reference.as_secs_f64(),
        per(m.reference, m.read)
    );
    println!(
        "   rapport calcul / lecture : {:.1} ; le passage médian occupe {:.2} % de la minute qui le sépare du suivant (p99 {:.2} %)",
        total.as_secs_f64() / m.reference.as_secs_f64().max(1e-9),
        at(0.5) / 600.0,
        at(0.99) / 600.0
    );
}

/// Prints the phases; whether every request got its expected answer.
fn print_delivery(m: &delivery::Measure, boxes: u32) -> bool {
    let phases = [
        &m.manifest,
        &m.nothing_new,
        &m.changes,
        &m.snapshot,
        &m.heartbeat,
    ];
    for phase in phases {
        let (o, s) = (&phase.outcome, &phase.sample);
        let errors = if o.errors.is_empty() {
            "0 erreur".to_owned()
        } else {
            let causes: Vec<String> = o.errors.iter().map(|(c, n)| format!("{n} × {c}")).collect();
            format!("erreurs : {}", causes.join(", "))
        };
        println!("   {}", phase.name);
        println!(
            "     {} requêtes/s ({} réponses), p50 {:.2} ms, p99 {:.2} ms, {errors} ; réponse {} octets (en-têtes {}, corps {}), requête {} octets",
            fr(o.per_second()),
            fr(o.answers() as f64),
            o.quantile_ms(0.5),
            o.quantile_ms(0.99),
            fr(s.received as f64),
            s.headers(),
            fr(s.body as f64),
            s.sent
        );
        println!(
            "     processeur : serveur {:.2} cœur, générateur {:.2}, reste de la machine {:.2}",
            phase.cores.server, phase.cores.generator, phase.cores.others
        );
    }
    let rate = |p: &delivery::Phase| p.outcome.per_second();
    let reference = rate(&m.manifest).max(1e-9);
    println!(
        "   rapport au manifeste (requêtes par seconde) : rien de nouveau {:.2}, quelques changements {:.2}, liste entière {:.3}",
        rate(&m.nothing_new) / reference,
        rate(&m.changes) / reference,
        rate(&m.snapshot) / reference
    );
    let needed = f64::from(boxes) / POLL_SECS as f64;
    println!(
        "   {} boîtiers interrogeant toutes les {POLL_SECS} s : {} requêtes/s, {:.1} % de ce que l'observatoire répond avec quelques changements",
        fr(f64::from(boxes)),
        fr(needed),
        100.0 * needed / rate(&m.changes).max(1e-9)
    );
    phases.iter().all(|p| p.outcome.error_count() == 0)
}

fn print_bytes(m: &delivery::Measure, day: &compute::Measure, scale: f64) {
    let polls = (DAY_MS / 1000) as f64 / POLL_SECS as f64;
    // The job runs once a minute, as a box polls: a poll gets news when
    // the run before it wrote a change.
    let news = (day.runs_with_changes as f64 * scale).min(polls);
    let changes = day.changes as f64 * scale;
    let (quiet, some) = (&m.nothing_new.sample, &m.changes.sample);
    let with_news = (some.headers() + some.head_line) as f64;
    let lines = day.change_bytes as f64 * scale;
    let answers = (polls - news) * quiet.received as f64 + news * with_news + lines;
    let asks = polls * quiet.sent as f64;
    let heartbeat = polls * (m.heartbeat.sample.received + m.heartbeat.sample.sent) as f64;
    println!(
        "\n3. octets par boîtier et par jour (une interrogation toutes les {POLL_SECS} s en mode filtrage, {} par jour ; HTTP tel que servi, sans TLS ni TCP) :",
        fr(polls)
    );
    println!(
        "   la journée{} : {} changements (prolongations comprises), du nouveau à {} interrogations",
        if scale > 1.0 { " extrapolée" } else { "" },
        fr(changes),
        fr(news)
    );
    println!(
        "   réponses : 304 de {} octets ; avec du nouveau {:.0} octets d'en-têtes et de première ligne, plus les lignes des changements ({:.1} octets chacune en moyenne sur la journée)",
        quiet.received,
        with_news,
        lines / changes.max(1.0)
    );
    println!(
        "   par jour : réponses {:.0} Ko, requêtes {:.0} Ko, ensemble {:.0} Ko ; sans aucun changement {:.0} Ko ; pour comparer, le signal de vie {:.0} Ko",
        answers / 1e3,
        asks / 1e3,
        (answers + asks) / 1e3,
        polls * (quiet.received + quiet.sent) as f64 / 1e3,
        heartbeat / 1e3
    );
    println!(
        "   la liste entière (premier appel, ou un boîtier resté loin derrière) : {} octets",
        fr(m.snapshot.sample.received as f64)
    );
}

/// A count or rate rounded, with French thousands separators.
fn fr(value: f64) -> String {
    vigie_server::fr::number(value.round() as i64)
}
