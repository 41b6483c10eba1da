//! `vigie bench national` (issue 9): the observatory at the scale of a
//! country. 35,000 boxes over the communes of France, each posting a
//! batch and a heartbeat every minute, against two `vigie serve` replicas
//! on one PostgreSQL; beside it, the same rows inserted bare on the same
//! schedule. Reports the throughput held, the latencies (p50, p99, max)
//! by kind of request, the errors by cause, the database's growth per day,
//! and where the machine's CPU went.
//!
//! Everything runs on this machine: the load generator, the replicas and
//! PostgreSQL share its cores, and the figures say so.

mod load;
pub(crate) mod observe;
mod reference;
pub(crate) mod setup;
mod stats;
pub(crate) mod traffic;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Row;
use vigie_server::Db;

use stats::{Recorder, millis, quantile};
use traffic::Kind;

/// The first minute fills the tables that do not grow afterwards.
const WARM_UP: Duration = Duration::from_secs(60);

/// The national case and where to run it.
#[derive(clap::Args, Clone, Debug)]
pub struct NationalArgs {
    /// PostgreSQL server, as a URL whose user may create databases; the
    /// bench creates its own database there and drops it at the end.
    #[arg(long, value_name = "URL")]
    pub postgres: String,
    /// Boxes, each posting a batch and a heartbeat every minute.
    #[arg(long, default_value_t = 35_000)]
    pub boxes: u32,
    /// Seconds of load on the observatory.
    #[arg(long, default_value_t = 300)]
    pub duration: u64,
    /// Seconds of the reference (the bare insert on the same schedule).
    #[arg(long, default_value_t = 60)]
    pub reference_duration: u64,
    /// `vigie serve` replicas.
    #[arg(long, default_value_t = 2)]
    pub replicas: u16,
    /// The communes referential (communes.csv, geo/).
    #[arg(long, value_name = "DIR", default_value = "../shared/data/communes")]
    pub referential: PathBuf,
    /// Keep the bench's database at the end (to look into it).
    #[arg(long)]
    pub keep: bool,
}

pub fn run(args: NationalArgs) -> anyhow::Result<ExitCode> {
    crate::bench_hostile::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let database = setup::Database::create(&args.postgres).await?;
        let outcome = bench(&args, &database).await;
        if args.keep {
            println!("\nbase conservée : {}", database.url);
        } else if let Err(error) = database.drop_database().await {
            eprintln!(
                "la base {} n'a pas pu être supprimée : {error:#}",
                database.name
            );
        }
        outcome
    })
}

async fn bench(args: &NationalArgs, database: &setup::Database) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let tokens = prepare(args, database).await?;

    let replicas = setup::start_replicas(args.replicas, &database.url, dir.path()).await?;
    let bases: Vec<String> = replicas.iter().map(setup::Replica::base).collect();
    let pids: Vec<u32> = replicas.iter().map(setup::Replica::pid).collect();
    let monitor = sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&database.url)
        .await?;

    let duration_ms = args.duration * 1000;
    let plan = traffic::schedule(args.boxes, duration_ms);
    let target = 2.0 * f64::from(args.boxes) / 60.0;
    println!(
        "\n1. l'observatoire : {} répliques `vigie serve` ({}) sur PostgreSQL, {} boîtiers, un lot et un signal de vie par minute chacun : {target:.0} requêtes/s visées pendant {} s",
        replicas.len(),
        bases.join(", "),
        args.boxes,
        args.duration
    );
    println!(
        "   charge de la machine au départ (uptime) : {}",
        observe::load_average()
    );
    let size_before = setup::database_size(&monitor, &database.name).await?;
    // The size once the first minute is stored: by then the tables that
    // do not grow with time (a heartbeat row per box, the day's counters
    // per commune) are full, and what follows is the steady growth.
    let warm_size = {
        let (monitor, name) = (monitor.clone(), database.name.clone());
        tokio::spawn(async move {
            tokio::time::sleep(WARM_UP).await;
            let size = setup::database_size(&monitor, &name).await;
            (Instant::now(), size)
        })
    };
    let watch = observe::Watch::start(pids, monitor.clone(), database.name.clone());
    let http = load::Http::new(tokens, &bases)?;
    let started = Instant::now();
    let recorder = load::drive(&plan, |event| http.deliver(event)).await;
    let elapsed = started.elapsed();
    let observed = watch.finish().await;
    let size_after = setup::database_size(&monitor, &database.name).await?;
    let steady = match warm_size.await {
        Ok((at, Ok(size))) if elapsed > 2 * WARM_UP => Some((size, at.elapsed())),
        _ => None,
    };
    println!(
        "   charge de la machine à la fin (uptime) : {}",
        observe::load_average()
    );
    print_run(&recorder, target, elapsed);
    let stored: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reports")
        .fetch_one(&monitor)
        .await?
        .try_get("n")?;
    println!(
        "   lots en base : {stored} (réponses « enregistré » : {})",
        recorder
            .series
            .get(&Kind::Batch)
            .map_or(0, |s| s.answers.len())
    );
    print_growth(size_before, size_after, elapsed, steady);
    print_tables(&monitor).await?;
    print_cpu(&observed.cpu, elapsed);
    print_waits(&observed.waits, observed.samples);
    print_minutes(&observed.minutes);
    for (index, replica) in replicas.into_iter().enumerate() {
        println!(
            "   réplique {} : mémoire au plus haut {} Mo",
            index + 1,
            replica.memory_peak_kib() / 1024
        );
        replica.stop();
    }

    reference_run(args, database, &monitor, &recorder).await?;
    monitor.close().await;
    Ok(ExitCode::SUCCESS)
}

/// All of France imported and the boxes registered; their tokens.
async fn prepare(args: &NationalArgs, database: &setup::Database) -> anyhow::Result<Vec<String>> {
    let db = Db::connect(&database.url)
        .await
        .context("base du banc d'essai")?;
    let start = Instant::now();
    let departements = crate::bench_server::import_france(&db, &args.referential)
        .await
        .with_context(|| format!("référentiel {}", args.referential.display()))?;
    let communes: i64 = sqlx::query("SELECT COUNT(*) AS n FROM communes")
        .fetch_one(db.read())
        .await?
        .try_get("n")?;
    println!(
        "territoire : {communes} communes de {departements} départements importées en {:.0} s",
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let (tokens, covered) = setup::register_sensors(&db, args.boxes).await?;
    println!(
        "{} boîtiers enregistrés dans {covered} communes en {:.1} s (jetons hachés comme par l'enrôlement)",
        tokens.len(),
        start.elapsed().as_secs_f64()
    );
    db.pool.close().await;
    Ok(tokens)
}

/// The bare insert of the same rows on the same schedule, and the ratios.
async fn reference_run(
    args: &NationalArgs,
    database: &setup::Database,
    monitor: &sqlx::AnyPool,
    observatory: &Recorder,
) -> anyhow::Result<()> {
    let duration_ms = args.reference_duration * 1000;
    let plan = traffic::schedule(args.boxes, duration_ms);
    // As many connections as the replicas' pools together.
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(16 * u32::from(args.replicas.max(1)))
        .connect(&database.url)
        .await?;
    reference::create_tables(&pool).await?;
    println!(
        "\n2. la référence : les mêmes lignes insérées telles quelles dans PostgreSQL, au même rythme, pendant {} s",
        args.reference_duration
    );
    println!(
        "   charge de la machine au départ (uptime) : {}",
        observe::load_average()
    );
    let watch = observe::Watch::start(Vec::new(), monitor.clone(), database.name.clone());
    let started = Instant::now();
    let recorder = load::drive(&plan, |event| reference::deliver(pool.clone(), event)).await;
    let elapsed = started.elapsed();
    let cpu = watch.finish().await.cpu;
    let size: i64 = sqlx::query(reference::SIZE)
        .fetch_one(monitor)
        .await?
        .try_get("size")?;
    print_run(&recorder, 2.0 * f64::from(args.boxes) / 60.0, elapsed);
    let growing: i64 = sqlx::query(reference::GROWING_SIZE)
        .fetch_one(monitor)
        .await?
        .try_get("size")?;
    println!(
        "   taille des tables nues : {:.1} Mo ; les lots et incidents seuls (ce qui croît avec le temps) {:.1} Mo, soit {:.1} Go par jour",
        size as f64 / 1e6,
        growing as f64 / 1e6,
        per_day(growing, elapsed) / 1e9
    );
    print_cpu(&cpu, elapsed);
    pool.close().await;

    let all = |r: &Recorder| {
        let mut times: Vec<Duration> = r.series.values().flat_map(|s| s.latencies()).collect();
        times.sort();
        times
    };
    let (api, bare) = (all(observatory), all(&recorder));
    println!("\nrésultat :");
    println!(
        "  p50 observatoire / insertion nue : {:.1} ({:.1} ms / {:.1} ms) ; p99 : {:.1} ({:.0} ms / {:.1} ms) ; objectif p99 < 250 ms : {}",
        ratio(quantile(&api, 0.5), quantile(&bare, 0.5)),
        millis(quantile(&api, 0.5)),
        millis(quantile(&bare, 0.5)),
        ratio(quantile(&api, 0.99), quantile(&bare, 0.99)),
        millis(quantile(&api, 0.99)),
        millis(quantile(&bare, 0.99)),
        if quantile(&api, 0.99) < Duration::from_millis(250) && observatory.errors() == 0 {
            "tenu"
        } else {
            "non tenu"
        }
    );
    Ok(())
}

fn print_run(recorder: &Recorder, target: f64, elapsed: Duration) {
    let rate = recorder.answers() as f64 / elapsed.as_secs_f64();
    println!(
        "   débit tenu : {rate:.0} réponses/s pour {target:.0} visées ({:.0} %), {} réponses, {} erreurs ; retard d'envoi du générateur au pire {:.0} ms",
        100.0 * rate / target.max(1e-9),
        recorder.answers(),
        recorder.errors(),
        millis(recorder.worst_send_lag)
    );
    for (kind, series) in &recorder.series {
        let times = series.latencies();
        println!(
            "   {:<14} {:>7} réponses, p50 {:>6.1} ms, p99 {:>6.1} ms, max {:>7.0} ms, {} erreurs{}",
            kind.name(),
            times.len(),
            millis(quantile(&times, 0.5)),
            millis(quantile(&times, 0.99)),
            millis(quantile(&times, 1.0)),
            series.error_count(),
            if series.errors.is_empty() {
                String::new()
            } else {
                format!(" ({:?})", series.errors)
            }
        );
    }
    let minutes: Vec<String> = recorder
        .p99_by_minute()
        .iter()
        .map(|t| format!("{:.0}", millis(*t)))
        .collect();
    println!("   p99 minute par minute (ms) : {}", minutes.join(", "));
}

fn print_growth(before: i64, after: i64, elapsed: Duration, steady: Option<(i64, Duration)>) {
    let growth = after - before;
    println!(
        "   base : {:.0} Mo avant, {:.0} Mo après (+{:.1} Mo), soit {:.1} Go par jour à ce rythme",
        before as f64 / 1e6,
        after as f64 / 1e6,
        growth as f64 / 1e6,
        per_day(growth, elapsed) / 1e9
    );
    if let Some((warm, since)) = steady {
        println!(
            "   en régime établi (après la première minute, qui remplit les tables bornées : un signal de vie par boîtier, les compteurs du jour par commune) : {:.1} Go par jour",
            per_day(after - warm, since) / 1e9
        );
    }
}

/// The largest tables after the run, with their indexes.
async fn print_tables(pool: &sqlx::AnyPool) -> anyhow::Result<()> {
    let rows = sqlx::query(
        "SELECT c.relname::TEXT AS name, pg_total_relation_size(c.oid) AS size, c.reltuples::BIGINT AS rows
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname = 'public'
         ORDER BY 2 DESC LIMIT 5",
    )
    .fetch_all(pool)
    .await?;
    let tables: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let name: String = row.try_get("name").ok()?;
            let size: i64 = row.try_get("size").ok()?;
            Some(format!("{name} {:.1} Mo", size as f64 / 1e6))
        })
        .collect();
    println!(
        "   plus grosses tables (index compris) : {}",
        tables.join(", ")
    );
    Ok(())
}

fn print_cpu(cpu: &observe::CpuUse, elapsed: Duration) {
    let share = |seconds: f64| seconds / elapsed.as_secs_f64();
    println!(
        "   processeur (cœurs occupés en moyenne, sur {:.0}) : répliques {:.2}, PostgreSQL {:.2}, générateur {:.2}, reste de la machine {:.2}",
        cpu.machine_total / elapsed.as_secs_f64(),
        share(cpu.replicas),
        share(cpu.postgres),
        share(cpu.generator),
        share(cpu.others())
    );
}

fn print_waits(waits: &std::collections::BTreeMap<String, u64>, samples: u64) {
    if samples == 0 {
        return;
    }
    let mut sorted: Vec<(&String, &u64)> = waits.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1));
    let top: Vec<String> = sorted
        .iter()
        .take(6)
        .map(|(what, n)| format!("{what} {:.1}", **n as f64 / samples as f64))
        .collect();
    println!(
        "   connexions PostgreSQL occupées, en moyenne sur {samples} relevés (état / attente) : {}",
        top.join(" ; ")
    );
}

fn print_minutes(minutes: &[observe::Minute]) {
    let others: Vec<String> = minutes
        .iter()
        .map(|m| format!("{:.2}", m.other_cores))
        .collect();
    let wal: Vec<String> = minutes
        .iter()
        .map(|m| format!("{:.1}", m.wal_waiting))
        .collect();
    println!(
        "   minute par minute : reste de la machine (cœurs) {} ; connexions en attente du journal (WAL) {}",
        others.join(", "),
        wal.join(", ")
    );
}

fn per_day(bytes: i64, elapsed: Duration) -> f64 {
    bytes as f64 * 86_400.0 / elapsed.as_secs_f64().max(1e-9)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
