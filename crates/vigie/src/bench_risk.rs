//! `vigie bench risk`: the risk map page (`/risques`) and its API for the
//! Loire and for all of France, beside the weather map page (`/carte`) of
//! the same territory in the same run. Every commune is given 30 days of
//! sensor counts (an outbound alert in one in fifty) and one in five a
//! probe scan with critical findings, and one in ten a pre-audit (filled
//! by the dossiers bench's generator; a follow-up round, answered anew,
//! for half of them), so that every factor the map reads has rows.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use vigie_core::Severity;
use vigie_core::probe::{Finding, PROBE_SCHEMA, ProbeReport, ScopeSummary, TopFinding};
use vigie_server::accounts::{self, Role};
use vigie_server::{AppState, Db, ServerSettings, territory};

const ADMIN: &str = "bench@vigie.fr";
const PASSWORD: &str = "un mot de passe de banc d'essai";

#[derive(clap::Args)]
pub struct RiskArgs {
    /// The communes referential (communes.csv, geo/), for all of France.
    #[arg(long, value_name = "DIR")]
    referential: Option<PathBuf>,
}

pub fn run(args: RiskArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        println!("carte des risques et carte de la météo (médiane de 20 requêtes, sur place) :");
        let loire = Db::connect(&sqlite("loire.db")).await?;
        territory::ensure_builtin(&loire).await?;
        seed(&loire).await?;
        measure(&loire, "Loire").await?;
        let referential = args
            .referential
            .unwrap_or_else(|| PathBuf::from("../shared/data/communes"));
        if referential.join("geo").is_dir() {
            let france = Db::connect(&sqlite("france.db")).await?;
            crate::bench_server::import_france(&france, &referential).await?;
            seed(&france).await?;
            measure(&france, "France entière").await?;
        } else {
            println!(
                "  France : référentiel absent ({}), mesure sautée",
                referential.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// 30 days of counts for every commune, a scan for one in five.
async fn seed(db: &Db) -> anyhow::Result<()> {
    let start = Instant::now();
    let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM communes ORDER BY code")
        .fetch_all(&db.pool)
        .await?;
    let today = vigie_server::cybermeteo::today();
    let mut tx = db.pool.begin().await?;
    for (i, code) in codes.iter().enumerate() {
        for d in 0..30_usize {
            let day = (today - chrono::Duration::days(d as i64)).to_string();
            sqlx::query("INSERT INTO sensor_days (commune, day) VALUES ($1, $2)")
                .bind(code)
                .bind(&day)
                .execute(&mut *tx)
                .await?;
            let inbound = ((i * 7 + d * 3) % 40) as i64;
            let outbound = i64::from(i % 50 == 0 && d == 3);
            sqlx::query(
                "INSERT INTO daily_counts (commune, day, category, inbound, outbound) \
                 VALUES ($1, $2, 'scan', $3, $4)",
            )
            .bind(code)
            .bind(&day)
            .bind(inbound)
            .bind(outbound)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    let audited = audits(db, &codes).await?;
    let now = chrono::Utc::now();
    for (i, code) in codes.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        let report = scan(code, now - chrono::Duration::days((i % 300) as i64), i % 4);
        vigie_server::probes::store(db, &report, None, now.timestamp_millis()).await?;
    }
    println!(
        "  ({} communes préparées en {:.1} s, dont {audited} avec un pré-diagnostic)",
        codes.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A filled first round for one commune in ten, and a follow-up round
/// for every other one of those; returns how many communes have one.
async fn audits(db: &Db, codes: &[String]) -> anyhow::Result<usize> {
    use crate::bench_dossiers::fill::{Random, answers};
    use vigie_server::audits::{self, Book, store};
    let book = Book::built_in().map_err(anyhow::Error::msg)?;
    let user = match accounts::add_user(db, ADMIN, Role::Admin, None, PASSWORD).await {
        Ok(user) => user,
        Err(_) => sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(ADMIN)
            .fetch_one(&db.pool)
            .await
            .context("the bench's administrator")?,
    };
    let by = format!("user:{user}");
    let month_ago = vigie_server::db::now_ms() - 30 * 86_400_000;
    let mut audited = 0;
    for (index, code) in codes.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        let commune = territory::commune(db, code)
            .await?
            .context("a commune just listed")?;
        let mut random = Random::new(index as u64);
        let id = audits::create(db, code, &book, user, month_ago).await?;
        store::save(
            db,
            &id,
            &answers(&book, &commune, &mut random)?,
            &by,
            month_ago,
        )
        .await?;
        if index % 20 == 0 {
            let first = store::get(db, &id).await?.context("a round just created")?;
            let now = vigie_server::db::now_ms();
            let next = store::follow_up(db, &first, &book, user, now).await?;
            store::save(db, &next, &answers(&book, &commune, &mut random)?, &by, now).await?;
        }
        audited += 1;
    }
    Ok(audited)
}

/// A scan of `commune` with `critical` critical findings.
fn scan(commune: &str, at: chrono::DateTime<chrono::Utc>, critical: usize) -> ProbeReport {
    let host = std::net::IpAddr::from([192, 168, 1, 10]);
    let finding = Finding {
        id: "smb.v1".to_owned(),
        host,
        port: Some(445),
        transport: None,
        cvss: 9.8,
        vector: String::new(),
        severity: Severity::Critical,
        cves: Vec::new(),
        title: "Partage de fichiers en SMBv1".to_owned(),
        impact: "Un rançongiciel peut chiffrer les fichiers.".to_owned(),
        recommendation: "Désactiver SMBv1 sur le serveur.".to_owned(),
        evidence: String::new(),
    };
    ProbeReport {
        schema: PROBE_SCHEMA.to_owned(),
        commune: Some(commune.to_owned()),
        started_at: at,
        finished_at: at + chrono::Duration::minutes(90),
        lab: false,
        interrupted: false,
        scope: ScopeSummary {
            networks: vec!["192.168.1.0/24".to_owned()],
            excluded: Vec::new(),
            intensity: "polite".to_owned(),
        },
        hosts: Vec::new(),
        findings: vec![finding.clone(); critical],
        top: vec![TopFinding {
            id: finding.id,
            title: finding.title,
            cvss: finding.cvss,
            severity: finding.severity,
            recommendation: finding.recommendation,
            hosts: Vec::new(),
        }],
    }
}

/// `/risques`, `/api/v1/risk` and `/carte`, signed in as an administrator.
async fn measure(db: &Db, name: &str) -> anyhow::Result<()> {
    if accounts::add_user(db, ADMIN, Role::Admin, None, PASSWORD)
        .await
        .is_err()
    {
        // Already there from an earlier measure on the same database.
    }
    let app = vigie_server::router(AppState::new(db.clone(), ServerSettings::default()));
    let form = format!(
        "email={ADMIN}&password={}",
        PASSWORD.replace(' ', "+").replace('\'', "%27")
    );
    let (_, _, cookie) = crate::bench_server::call(
        &app,
        Request::post("/connexion")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))?,
    )
    .await?;
    let cookie = cookie
        .context("no session cookie")?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut medians = Vec::new();
    for path in ["/risques", "/api/v1/risk", "/carte"] {
        let get = || {
            Request::get(path)
                .header("cookie", cookie.clone())
                .body(Body::empty())
        };
        let cold = Instant::now();
        let (status, page, _) = crate::bench_server::call(&app, get()?).await?;
        let cold = cold.elapsed();
        if status != StatusCode::OK {
            bail!("{path}: {status}");
        }
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..20 {
            let start = Instant::now();
            crate::bench_server::call(&app, get()?).await?;
            times.push(start.elapsed());
        }
        times.sort();
        let median = times[10];
        println!(
            "  {name:<16} {path:<14} {:>6.0} Ko ; {:>7.1} ms (premier : {:.0} ms)",
            page.len() as f64 / 1024.0,
            median.as_secs_f64() * 1000.0,
            cold.as_secs_f64() * 1000.0,
        );
        medians.push(median);
    }
    println!(
        "  {name:<16} carte des risques / carte de la météo : {:.1}",
        medians[0].as_secs_f64() / medians[2].as_secs_f64()
    );
    Ok(())
}
