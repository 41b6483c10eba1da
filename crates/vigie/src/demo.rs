//! `vigie demo`: the observatory on its embedded default (SQLite, the
//! Loire), with demonstration accounts and sensors for a few dozen
//! communes whose history is built by running the real sensor engine on
//! generated days of traffic and posting each report to the real API.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use tower::ServiceExt;
use vigie_core::{LOCAL_TZ, local_day};
use vigie_lists::Intel;
use vigie_sensor::capture::CaptureReader;
use vigie_sensor::engine::{Engine, Settings};
use vigie_sensor::synth::Rng;
use vigie_sensor::synth::day::{DEMO_C2, DayPlan, write_day};
use vigie_server::accounts::{self, Role};
use vigie_server::{AppState, Db, ServerSettings, sensors, territory};

#[derive(clap::Args)]
pub struct DemoArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The database to fill (default: a new SQLite file in a temporary
    /// directory, gone when the demo stops).
    #[arg(long)]
    database: Option<String>,
    /// Communes equipped with a sensor.
    #[arg(long, default_value_t = 36)]
    communes: usize,
    /// Days of history, today included.
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// Fill, print the accounts and stop, without serving.
    #[arg(long)]
    no_serve: bool,
}

/// The demonstration's accounts: (e-mail, role, commune).
const ACCOUNTS: [(&str, Role, Option<&str>); 3] = [
    ("admin@demo.vigie.fr", Role::Admin, None),
    ("operateur@demo.vigie.fr", Role::Operator, None),
    (
        "mairie@saint-etienne.demo.vigie.fr",
        Role::Commune,
        Some("42218"),
    ),
];

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let url = args
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("vigie-demo.db").display()));
        let db = Db::connect(&url)
            .await
            .with_context(|| format!("base de données {url}"))?;
        territory::ensure_builtin(&db).await?;
        let state = AppState::new(db.clone(), ServerSettings::default());
        let app = vigie_server::router(state.clone());
        let passwords = create_accounts(&db).await?;
        fill(&db, &app, args.communes, args.days).await?;
        println!("\nVigie — démonstration prête : http://{}", args.listen);
        println!("Comptes (mot de passe affiché une seule fois) :");
        for ((email, role, _), password) in ACCOUNTS.iter().zip(&passwords) {
            println!("  {email:<38} {password}   ({})", role.label_fr());
        }
        if args.no_serve {
            return Ok(ExitCode::SUCCESS);
        }
        println!("Ctrl-C pour arrêter.");
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("impossible d'écouter sur {}", args.listen))?;
        vigie_server::serve(state, listener, None)
            .await
            .with_context(|| format!("service sur {}", args.listen))?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn create_accounts(db: &Db) -> anyhow::Result<Vec<String>> {
    let mut passwords = Vec::new();
    for (email, role, commune) in ACCOUNTS {
        let password = format!("demo-{}", vigie_server::db::random_hex(6));
        accounts::add_user(db, email, role, commune, &password).await?;
        passwords.push(password);
    }
    Ok(passwords)
}

/// Equips `count` communes (Saint-Étienne first, then a spread of large
/// and small ones) and posts `days` days of reports for each.
async fn fill(db: &Db, app: &Router, count: usize, days: u32) -> anyhow::Result<()> {
    let mut communes = territory::communes(db).await?;
    communes.sort_by_key(|c| std::cmp::Reverse(c.population));
    let step = (communes.len() / count.max(1)).max(1);
    let mut chosen: Vec<String> = vec!["42218".to_owned()];
    chosen.extend(
        communes
            .iter()
            .step_by(step)
            .map(|c| c.code.to_string())
            .filter(|c| c != "42218"),
    );
    chosen.truncate(count.max(1));
    let mut intel = Intel::builder();
    intel.add_list("botnet_c2", &DEMO_C2.to_string());
    let intel = Arc::new(intel.build());
    let today = local_day(Utc::now());
    for (done, code) in chosen.iter().enumerate() {
        let sensor = sensors::add_sensor(db, code).await?;
        let token = enroll(app, &sensor.code).await?;
        for (seq, day) in (0..days)
            .rev()
            .map(|back| today - Duration::days(i64::from(back)))
            .enumerate()
        {
            let report = analyse_day(code, day, today, intel.clone())?;
            post_report(app, &token, seq as u64, report).await?;
        }
        eprint!(
            "\rhistorique : {}/{} communes équipées",
            done + 1,
            chosen.len()
        );
    }
    eprintln!();
    Ok(())
}

/// Generates the day's traffic of commune `code` and runs the engine on it.
fn analyse_day(
    code: &str,
    day: NaiveDate,
    today: NaiveDate,
    intel: Arc<Intel>,
) -> anyhow::Result<vigie_core::Report> {
    let midnight = LOCAL_TZ
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).context("midnight")?)
        .earliest()
        .context("midnight in Paris")?
        .with_timezone(&Utc);
    let span_secs = if day == today {
        (Utc::now() - midnight).num_seconds().max(300)
    } else {
        0
    };
    let plan = plan(
        code,
        day,
        midnight.timestamp_nanos_opt().unwrap_or_default(),
        span_secs,
    );
    let mut capture = Vec::new();
    write_day(&mut capture, &plan)?;
    let mut engine = Engine::new(Settings {
        intel,
        host_key: *blake3::hash(code.as_bytes()).as_bytes(),
        ..Settings::default()
    });
    engine.read_capture(&mut CaptureReader::new(&capture[..])?)?;
    Ok(engine.finish())
}

/// A day of a commune: its own level of exposure, quiet days, busy days,
/// now and then a storm, rarely a machine calling a command centre.
fn plan(code: &str, day: NaiveDate, start: i64, span_secs: i64) -> DayPlan {
    let commune_seed = u64::from_le_bytes(
        blake3::hash(code.as_bytes()).as_bytes()[..8]
            .try_into()
            .unwrap_or_default(),
    );
    let day_seed = commune_seed
        ^ (day
            .to_string()
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    let mut rng = Rng::new(day_seed);
    let mut next = || rng.next();
    let exposure = 1 + commune_seed % 6;
    let storm = next() % 30 == 0;
    DayPlan {
        start,
        span_secs,
        sessions: 100,
        scans: (next() % (exposure * 2)) as u32 + if storm { 60 + (next() % 80) as u32 } else { 0 },
        brute_forces: (next() % exposure) as u32 / 2,
        web_attacks: (next() % (exposure + 1)) as u32,
        sweeps: u32::from(next() % 8 == 0),
        c2_contacts: u32::from(exposure >= 5 && next() % 12 == 0),
        seed: next(),
    }
}

async fn call(app: &Router, request: Request<Body>) -> anyhow::Result<(StatusCode, String)> {
    let response = app.clone().oneshot(request).await?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

async fn enroll(app: &Router, code: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({ "code": code }).to_string();
    let request = Request::post("/api/v1/sensors/enroll")
        .header("content-type", "application/json")
        .body(Body::from(body))?;
    let (status, text) = call(app, request).await?;
    if status != StatusCode::OK {
        bail!("enrolment refused ({status}): {text}");
    }
    let answer: serde_json::Value = serde_json::from_str(&text)?;
    answer["token"]
        .as_str()
        .map(str::to_owned)
        .context("no token in the enrolment answer")
}

async fn post_report(
    app: &Router,
    token: &str,
    seq: u64,
    mut report: vigie_core::Report,
) -> anyhow::Result<()> {
    report.seq = Some(seq);
    let request = Request::post("/api/v1/reports")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(serde_json::to_vec(&report)?))?;
    let (status, text) = call(app, request).await?;
    if status != StatusCode::OK {
        bail!("report refused ({status}): {text}");
    }
    Ok(())
}
