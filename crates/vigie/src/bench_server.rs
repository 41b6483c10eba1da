//! `vigie bench observatory`: the observatory's ingest rate, map page time
//! and size, and memory, each beside a reference measured in the same run
//! (a bare INSERT of the same rows; a trivial request).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use vigie_server::accounts::{self, Role};
use vigie_server::{AppState, Db, ServerSettings, sensors, territory};

const ADMIN: &str = "bench@vigie.fr";
const PASSWORD: &str = "un mot de passe de banc d'essai";

pub fn observatory(
    incidents: u64,
    batch: u64,
    postgres: Option<String>,
    referential: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        println!("ingestion de {incidents} incidents par lots de {batch} :");
        let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        ingest(
            &sqlite("ingest.db"),
            &sqlite("reference.db"),
            incidents,
            batch,
            "SQLite (commits durables)",
        )
        .await?;
        if let Some(url) = &postgres {
            ingest(url, url, incidents, batch, "PostgreSQL").await?;
        }
        println!("\npage de la carte (médiane de 20 requêtes, sur place) :");
        let loire = Db::connect(&sqlite("loire.db")).await?;
        territory::ensure_builtin(&loire).await?;
        map_page(&loire, "Loire").await?;
        let referential = referential.unwrap_or_else(|| PathBuf::from("../shared/data/communes"));
        if referential.join("geo").is_dir() {
            let france = Db::connect(&sqlite("france.db")).await?;
            let start = Instant::now();
            let count = import_france(&france, &referential).await?;
            println!(
                "  (import de la France : {count} départements en {:.1} s)",
                start.elapsed().as_secs_f64()
            );
            map_page(&france, "France entière").await?;
        } else {
            println!(
                "  France : référentiel absent ({}), mesure sautée",
                referential.display()
            );
        }
        println!(
            "\nmémoire résidente maximale du processus : {} Mo",
            crate::bench::memory_kib("VmHWM:") / 1024
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) async fn call(
    app: &Router,
    request: Request<Body>,
) -> anyhow::Result<(StatusCode, Vec<u8>, Option<String>)> {
    let response = app.clone().oneshot(request).await?;
    let status = response.status();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 64 << 20).await?;
    Ok((status, body.to_vec(), cookie))
}

/// Posts `total` incidents in batches through the real API, then inserts
/// the same rows with a bare statement, and compares.
async fn ingest(
    url: &str,
    reference_url: &str,
    total: u64,
    batch: u64,
    name: &str,
) -> anyhow::Result<()> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("base {url}"))?;
    territory::ensure_builtin(&db).await?;
    let app = vigie_server::router(AppState::new(db.clone(), ServerSettings::default()));
    let code = sensors::add_sensor(&db, "42218").await?.code;
    let body = serde_json::json!({ "code": code }).to_string();
    let (status, answer, _) = call(
        &app,
        Request::post("/api/v1/sensors/enroll")
            .header("content-type", "application/json")
            .body(Body::from(body))?,
    )
    .await?;
    if status != StatusCode::OK {
        bail!("enrolment refused: {status}");
    }
    let token = serde_json::from_slice::<serde_json::Value>(&answer)?["token"]
        .as_str()
        .context("token")?
        .to_owned();
    let batches: Vec<Vec<u8>> = (0..total.div_ceil(batch))
        .map(|seq| report(seq, batch))
        .collect::<anyhow::Result<_>>()?;
    let start = Instant::now();
    for body in batches {
        let request = Request::post("/api/v1/reports")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body))?;
        let (status, text, _) = call(&app, request).await?;
        if status != StatusCode::OK {
            bail!(
                "batch refused ({status}): {}",
                String::from_utf8_lossy(&text)
            );
        }
    }
    let ingest_time = start.elapsed();
    let reference = bare_insert(reference_url, total, batch).await?;
    let rate = |d: Duration| total as f64 / d.as_secs_f64();
    println!(
        "  {name:<28} API : {:>9.0} incidents/s ; INSERT ligne à ligne : {:>9.0} incidents/s ; rapport API / INSERT : {:.2}",
        rate(ingest_time),
        rate(reference),
        ingest_time.as_secs_f64() / reference.as_secs_f64()
    );
    Ok(())
}

/// A `vigie.report/1` batch of `count` varied incidents of the last days.
fn report(seq: u64, count: u64) -> anyhow::Result<Vec<u8>> {
    let now = chrono::Utc::now();
    let categories = [
        ("scan", "scan.syn"),
        ("brute_force", "brute_force.ssh"),
        ("web_exploit", "web.sqli_union"),
        ("sweep", "sweep.icmp"),
        ("reputation", "reputation.ip"),
    ];
    let incidents: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let (category, rule) = categories[(i % 5) as usize];
            let at = (now - chrono::Duration::minutes(((seq * count + i) % 40_000) as i64)).to_rfc3339();
            serde_json::json!({
                "category": category, "rule": rule, "label": null, "severity": "medium",
                "source": format!("198.51.{}.{}", i % 200, (seq % 250) + 1), "direction": if i % 50 == 0 { "outbound" } else { "inbound" },
                "target_port": 22, "service": "ssh", "first_seen": at, "last_seen": at, "events": 1 + i % 300
            })
        })
        .collect();
    let first = (now - chrono::Duration::minutes(40_000)).to_rfc3339();
    Ok(serde_json::to_vec(&serde_json::json!({
        "schema": "vigie.report/1", "seq": seq, "packets": 100_000, "bytes": 10_000_000, "malformed": 0,
        "first_seen": first, "last_seen": now.to_rfc3339(), "incidents": incidents, "daily": []
    }))?)
}

/// The reference: the same number of rows inserted one statement per row
/// in a bare table, same batches and durability, no HTTP, JSON, validation
/// or aggregates.
async fn bare_insert(url: &str, total: u64, batch: u64) -> anyhow::Result<Duration> {
    let db = Db::connect(url).await?;
    sqlx::query("DROP TABLE IF EXISTS bench_rows")
        .execute(&db.pool)
        .await?;
    sqlx::query("CREATE TABLE bench_rows (commune TEXT, category TEXT, source TEXT, first_seen BIGINT, events BIGINT)").execute(&db.pool).await?;
    let start = Instant::now();
    let mut done = 0;
    while done < total {
        let mut tx = db.pool.begin().await?;
        for i in done..(done + batch).min(total) {
            let i = i as i64;
            sqlx::query("INSERT INTO bench_rows VALUES ($1, $2, $3, $4, $5)")
                .bind("42218")
                .bind("scan")
                .bind(format!("198.51.{}.1", i % 200))
                .bind(i)
                .bind(i % 300)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        done += batch;
    }
    let elapsed = start.elapsed();
    sqlx::query("DROP TABLE bench_rows")
        .execute(&db.pool)
        .await?;
    Ok(elapsed)
}

async fn map_page(db: &Db, name: &str) -> anyhow::Result<()> {
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
    let (_, _, cookie) = call(
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
    let get = |path: &'static str| {
        Request::get(path)
            .header("cookie", cookie.clone())
            .body(Body::empty())
    };
    let cold = Instant::now();
    let (status, page, _) = call(&app, get("/")?).await?;
    let cold = cold.elapsed();
    if status != StatusCode::OK {
        bail!("map page: {status}");
    }
    let mut warm = Vec::new();
    let mut trivial = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        call(&app, get("/")?).await?;
        warm.push(start.elapsed());
        let start = Instant::now();
        call(&app, get("/static/vigie.css")?).await?;
        trivial.push(start.elapsed());
    }
    warm.sort();
    trivial.sort();
    let (warm, trivial) = (warm[10], trivial[10]);
    println!(
        "  {name:<16} {:>6.0} Ko ; {:>7.1} ms (premier affichage, projection comprise : {:.0} ms) ; requête triviale {:.2} ms ; rapport {:.0}",
        page.len() as f64 / 1024.0,
        warm.as_secs_f64() * 1000.0,
        cold.as_secs_f64() * 1000.0,
        trivial.as_secs_f64() * 1000.0,
        warm.as_secs_f64() / trivial.as_secs_f64()
    );
    Ok(())
}

/// Imports every département of the referential (`communes.csv`, `geo/`)
/// through the territory import; the number of départements.
pub(crate) async fn import_france(db: &Db, referential: &Path) -> anyhow::Result<usize> {
    let csv = referential.join("communes.csv");
    let mut files: Vec<PathBuf> = std::fs::read_dir(referential.join("geo"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for file in &files {
        let departement = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .context("file name")?
            .to_owned();
        territory::import(db, &departement, file, Some(&csv))
            .await
            .with_context(|| format!("{}", file.display()))?;
    }
    Ok(files.len())
}
