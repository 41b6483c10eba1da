//! `vigie bench dossiers` (issue 10): the time to produce one commune's
//! diagnostic dossier, and every dossier of the built-in territory (the
//! Loire, 320 communes) one after the other and on all cores, with the
//! process's peak memory. Every commune gets a first round filled with a
//! complete, varied set of answers drawn from a seeded generator (the same
//! seed, the same answers), and one commune in `--probed-every` a probe
//! scan, so those dossiers have their probe section.
//!
//! The references, in the same run and through the same engine: the probe
//! report of a typical scan (another real document), and a one-line Typst
//! document (the engine's floor). One dossier is also split into its
//! database reads and its typesetting, to say where the time goes.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) mod fill;

use anyhow::{Context, bail};
use vigie_docs::{Branding, Engine};
use vigie_server::audits::dossier;
use vigie_server::{AppState, Db, ServerSettings, territory};

use self::fill::{Round, prepare, typical_scan};

#[derive(clap::Args, Clone, Debug)]
pub struct DossiersArgs {
    /// Renders of one dossier (and of each reference) for the median and p95.
    #[arg(long, default_value_t = 20)]
    pub renders: usize,
    /// One commune in this many gets a probe scan (0: none).
    #[arg(long, default_value_t = 3)]
    pub probed_every: usize,
    /// Seed of the answers.
    #[arg(long, default_value_t = 10)]
    pub seed: u64,
    /// Keep the measured dossier in this file.
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

pub fn run(args: DossiersArgs) -> anyhow::Result<ExitCode> {
    if args.renders == 0 {
        bail!("--renders : au moins 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: DossiersArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("dossiers.db").display()
    ))
    .await?;
    territory::ensure_builtin(&db).await?;
    let state = AppState::new(db, ServerSettings::default());
    let start = Instant::now();
    let rounds = prepare(&state, &args).await?;
    let probed = rounds.iter().filter(|r| r.probed).count();
    println!(
        "{} communes, un diagnostic rempli chacune ({} réponses en tout), {probed} avec un scan de la sonde : préparé en {:.1} s",
        rounds.len(),
        rounds.iter().map(|r| r.answers).sum::<usize>(),
        start.elapsed().as_secs_f64()
    );
    let rounds = Arc::new(rounds);
    one_dossier(&state, &rounds, &args, dir.path()).await?;
    whole_territory(&state, &rounds).await?;
    println!(
        "\nmémoire résidente maximale du processus : {} Mo",
        crate::bench::memory_kib("VmHWM:") / 1024
    );
    Ok(ExitCode::SUCCESS)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// One dossier, `renders` times, each time another commune's (probed ones
/// first): Typst memoises what it laid out, so the same dossier again
/// mostly comes from that cache, which a run over the territory does not
/// get. Then the same split into reads and typesetting, and the
/// references, each on as many different inputs.
async fn one_dossier(
    state: &AppState,
    rounds: &[Round],
    args: &DossiersArgs,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let sample: Vec<&Round> = rounds
        .iter()
        .filter(|r| r.probed)
        .chain(rounds.iter().filter(|r| !r.probed))
        .take(args.renders)
        .collect();
    let pick = |i: usize| sample[i % sample.len()];
    let first = pick(0);
    // The first render parses the templates and fills Typst's caches.
    let cold = Instant::now();
    let (bytes, _) = dossier::render(state, &first.audit, &first.commune).await?;
    let cold = cold.elapsed();
    if let Some(path) = &args.output {
        std::fs::write(path, &bytes)
            .with_context(|| format!("écriture impossible de {}", path.display()))?;
    }
    let n = args.renders;
    let one = times(n, |i| async move {
        let round = pick(i);
        dossier::render(state, &round.audit, &round.commune).await?;
        anyhow::Ok(())
    })
    .await?;
    let again = times(n, |_| async move {
        dossier::render(state, &first.audit, &first.commune).await?;
        anyhow::Ok(())
    })
    .await?;
    let (mut gathered, mut gathering) = (Vec::new(), Vec::new());
    for i in 0..n {
        let round = pick(i);
        let start = Instant::now();
        gathered.push(dossier::gathered(state, &round.audit, &round.commune).await?);
        gathering.push(start.elapsed());
    }
    let gathering = Quantiles::of(gathering);
    let engine = &state.settings.documents;
    let gathered = &gathered;
    let typesetting = times(n, |i| async move {
        gathered[i].pdf(engine)?;
        anyhow::Ok(())
    })
    .await?;
    // Multiples of 3: every finding, a different text each time.
    let scans = &(0..n)
        .map(|i| typical_scan("42218", 3 * i as u64))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let probe_report = times(n, |i| async move {
        vigie_docs::probe::pdf(engine, &scans[i])?;
        anyhow::Ok(())
    })
    .await?;
    let minimal_engine = &minimal_engine(dir)?;
    let minimal = times(n, |i| async move {
        let data = serde_json::json!({ "title": format!("Vigie {i}") });
        minimal_engine.pdf(MINIMAL, &data, chrono::Utc::now())?;
        anyhow::Ok(())
    })
    .await?;
    println!(
        "\nun dossier ({:.0} Ko pour {}), {n} communes différentes :",
        bytes.len() as f64 / 1024.0,
        first.commune.name,
    );
    println!(
        "  dossier complet  médiane {:>6.1} ms, p95 {:>6.1} ms (le tout premier : {:.0} ms)",
        ms(one.median),
        ms(one.p95),
        ms(cold)
    );
    println!(
        "    dont lectures en base {:.1} ms, mise en page Typst et PDF {:.1} ms (médianes)",
        ms(gathering.median),
        ms(typesetting.median)
    );
    println!(
        "    le même dossier redemandé : médiane {:.1} ms (Typst garde ce qu'il vient de mettre en page)",
        ms(again.median)
    );
    println!(
        "  référence : rapport de la sonde (scan type, {} constats) médiane {:.1} ms, p95 {:.1} ms ; rapport dossier / rapport de sonde : {:.1}",
        scans[0].findings.len(),
        ms(probe_report.median),
        ms(probe_report.p95),
        ms(one.median) / ms(probe_report.median)
    );
    println!(
        "  référence : document Typst d'une ligne, médiane {:.1} ms ; rapport dossier / document minimal : {:.0}",
        ms(minimal.median),
        ms(one.median) / ms(minimal.median)
    );
    println!(
        "  mémoire résidente maximale jusqu'ici : {} Mo",
        crate::bench::memory_kib("VmHWM:") / 1024
    );
    Ok(())
}

/// Every dossier of the territory, one after the other, then on all cores.
async fn whole_territory(state: &AppState, rounds: &Arc<Vec<Round>>) -> anyhow::Result<()> {
    let sequential = all_sequential(state, rounds).await?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parallel = all_parallel(state, rounds, cores).await?;
    let count = rounds.len();
    println!("\ntous les dossiers du territoire ({count}) :");
    println!(
        "  l'un après l'autre : {:>5.1} s ({:.0} ms par dossier), mémoire max {} Mo",
        sequential.elapsed.as_secs_f64(),
        ms(sequential.elapsed) / count as f64,
        sequential.peak_mib,
    );
    println!(
        "  sur {cores} cœurs        : {:>5.1} s ({:.0} ms par dossier), mémoire max {} Mo ; accélération {:.2}",
        parallel.elapsed.as_secs_f64(),
        ms(parallel.elapsed) / count as f64,
        parallel.peak_mib,
        sequential.elapsed.as_secs_f64() / parallel.elapsed.as_secs_f64()
    );
    println!(
        "  ({:.1} Mo de PDF en tout)",
        sequential.bytes as f64 / 1024.0 / 1024.0
    );
    Ok(())
}

/// Median and 95th percentile (nearest rank).
struct Quantiles {
    median: Duration,
    p95: Duration,
}

impl Quantiles {
    fn of(mut all: Vec<Duration>) -> Quantiles {
        all.sort();
        let count = all.len();
        let rank = |percent: usize| {
            all.get((count * percent).div_ceil(100).saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        Quantiles {
            median: rank(50),
            p95: rank(95),
        }
    }
}

/// `run(i)` for `i` in `0..count`, each timed.
async fn times<F, Fut>(count: usize, mut run: F) -> anyhow::Result<Quantiles>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut all = Vec::with_capacity(count);
    for i in 0..count {
        let start = Instant::now();
        run(i).await?;
        all.push(start.elapsed());
    }
    Ok(Quantiles::of(all))
}

struct Batch {
    elapsed: Duration,
    bytes: usize,
    peak_mib: u64,
}

async fn all_sequential(state: &AppState, rounds: &[Round]) -> anyhow::Result<Batch> {
    reset_peak_memory();
    let start = Instant::now();
    let mut bytes = 0;
    for round in rounds {
        bytes += dossier::render(state, &round.audit, &round.commune)
            .await?
            .0
            .len();
    }
    Ok(Batch {
        elapsed: start.elapsed(),
        bytes,
        peak_mib: crate::bench::memory_kib("VmHWM:") / 1024,
    })
}

/// Every dossier as tokio tasks, `cores` at a time (the render itself on
/// a blocking thread, as the server does): what a batch job would do.
async fn all_parallel(
    state: &AppState,
    rounds: &Arc<Vec<Round>>,
    cores: usize,
) -> anyhow::Result<Batch> {
    reset_peak_memory();
    let permits = Arc::new(tokio::sync::Semaphore::new(cores));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..rounds.len() {
        let (state, rounds, permits) = (state.clone(), rounds.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            let round = &rounds[index];
            let (bytes, _) = dossier::render(&state, &round.audit, &round.commune).await?;
            anyhow::Ok(bytes.len())
        });
    }
    let mut bytes = 0;
    while let Some(done) = tasks.join_next().await {
        bytes += done??;
    }
    Ok(Batch {
        elapsed: start.elapsed(),
        bytes,
        peak_mib: crate::bench::memory_kib("VmHWM:") / 1024,
    })
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0, `clear_refs` value 5),
/// so each phase reports its own peak; where it cannot, the peak stays
/// the process's.
fn reset_peak_memory() {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        tracing::debug!("VmHWM not reset");
    }
}

const MINIMAL: &str = "minimal.typ";

/// The engine with one extra template: a title, nothing else.
fn minimal_engine(dir: &std::path::Path) -> anyhow::Result<Engine> {
    let templates = dir.join("modeles");
    std::fs::create_dir_all(&templates)?;
    std::fs::write(
        templates.join(MINIMAL),
        "#let data = json(\"data.json\")\n= #data.title\n",
    )?;
    Ok(Engine::new(Branding::default(), Some(templates))?)
}
