//! `vigie demo`: the observatory on its embedded default (SQLite, the
//! Loire), with demonstration accounts and sensors for a few dozen
//! communes whose history is built by running the real sensor engine on
//! generated days of traffic and posting each report to the real API;
//! then the awareness path's training (`demo_elearning`) and phishing
//! campaigns (`demo_campaigns`), and the agreements behind it all
//! (`demo_agreements`).

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
        crate::demo_elearning::fill(&db, &app).await?;
        crate::demo_campaigns::fill(&state, &app).await?;
        crate::demo_agreements::fill(&state, ACCOUNTS[0].0).await?;
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
/// and small ones), each from its own installation day (spread over the
/// past), and posts one report a day from then on, then a heartbeat.
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
    let story = Story::new(&chosen, days);
    for (done, code) in chosen.iter().enumerate() {
        let installed_back = story.installed_days_ago(done, code);
        let sensor = sensors::add_sensor(db, code).await?;
        let token = enroll(app, &sensor.code).await?;
        backdate_installation(db, &sensor.sensor_id, today, installed_back).await?;
        for (seq, day) in (0..=installed_back)
            .rev()
            .map(|back| today - Duration::days(i64::from(back)))
            .enumerate()
        {
            let report = analyse_day(code, day, today, &story, intel.clone())?;
            post_report(app, &token, seq as u64, report).await?;
        }
        post_heartbeat(app, &token, installed_back).await?;
        eprint!(
            "\rhistorique : {}/{} communes équipées",
            done + 1,
            chosen.len()
        );
    }
    eprintln!();
    Ok(())
}

/// What happens to the territory over the demo's days, so that its history
/// tells a story: two scanning campaigns that hit every commune on the same
/// days, a workstation of a small commune that called a botnet's command
/// centre for three days six weeks ago and was cleaned, and Saint-Étienne's
/// own since yesterday, still going on today (the mayor's account shows it
/// first).
struct Story {
    /// The oldest day of the history, in days ago.
    oldest: u32,
    /// Days ago of the territory-wide storms.
    storms: [u32; 2],
    /// (commune, first day ago, last day ago) of each compromise.
    compromises: Vec<(String, u32, u32)>,
}

impl Story {
    fn new(chosen: &[String], days: u32) -> Story {
        let oldest = days.saturating_sub(1);
        let mut compromises = vec![("42218".to_owned(), 1.min(oldest), 0)];
        // A small commune (the list ends with the smallest).
        if let Some(small) = chosen.iter().rev().nth(2) {
            compromises.push((small.clone(), 44.min(oldest), 42.min(oldest)));
        }
        Story {
            oldest,
            storms: [23.min(oldest), 61.min(oldest)],
            compromises,
        }
    }

    /// When the `index`-th commune's box was installed, in days ago:
    /// Saint-Étienne and the compromised communes on the first day, the
    /// others spread over the period, a week ago at the latest.
    fn installed_days_ago(&self, index: usize, code: &str) -> u32 {
        let compromised = self.compromises.iter().any(|(c, ..)| c == code);
        if index == 0 || compromised || self.oldest <= 7 {
            return self.oldest;
        }
        let seed = seed_of(&[code.as_bytes(), b"installed"]);
        7 + (seed % u64::from(self.oldest - 6)) as u32
    }

    fn storm(&self, back: u32) -> bool {
        self.storms.contains(&back)
    }

    fn compromised(&self, code: &str, back: u32) -> bool {
        self.compromises
            .iter()
            .any(|(c, first, last)| c == code && (*last..=*first).contains(&back))
    }
}

/// 64 bits of the BLAKE3 hash of `parts`: every (commune, day) gets its
/// own stream of numbers (the engine's `Rng` ignores a seed's lowest bit,
/// so seeds that differ only there, as two consecutive days did, repeat).
fn seed_of(parts: &[&[u8]]) -> u64 {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(part);
        hasher.update(b"/");
    }
    u64::from_le_bytes(
        hasher.finalize().as_bytes()[..8]
            .try_into()
            .unwrap_or_default(),
    )
}

/// The box was installed `back` days ago: its enrolment happened then.
async fn backdate_installation(
    db: &Db,
    sensor_id: &str,
    today: NaiveDate,
    back: u32,
) -> anyhow::Result<()> {
    let day = today - Duration::days(i64::from(back));
    let at = LOCAL_TZ
        .from_local_datetime(&day.and_hms_opt(10, 30, 0).context("installation time")?)
        .earliest()
        .context("installation time in Paris")?
        .timestamp_millis()
        .min(vigie_server::db::now_ms());
    // Created a few days before the installation, as a box is prepared.
    sqlx::query("UPDATE sensors SET created_at = $1, installed_at = $2 WHERE id = $3")
        .bind(at - 3 * 24 * 3600 * 1000)
        .bind(at)
        .bind(sensor_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Generates the day's traffic of commune `code` and runs the engine on it.
fn analyse_day(
    code: &str,
    day: NaiveDate,
    today: NaiveDate,
    story: &Story,
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
    let back = u32::try_from((today - day).num_days()).unwrap_or(0);
    let plan = plan(
        code,
        day,
        Events {
            storm: story.storm(back),
            compromised: story.compromised(code, back),
        },
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

/// What the story makes of a commune's day.
#[derive(Clone, Copy)]
struct Events {
    storm: bool,
    compromised: bool,
}

/// A day of a commune: its own level of exposure, quiet weekends, busy
/// days, its own storms now and then, the story's storms and compromises.
fn plan(code: &str, day: NaiveDate, events: Events, start: i64, span_secs: i64) -> DayPlan {
    use chrono::Datelike;
    let commune_seed = seed_of(&[code.as_bytes()]);
    let mut rng = Rng::new(seed_of(&[code.as_bytes(), day.to_string().as_bytes()]));
    let mut next = || rng.next();
    let exposure = 1 + commune_seed % 6;
    // Fewer attempts on a weekend, when the town hall's services are idle.
    let weekend = day.weekday().number_from_monday() >= 6;
    let busy = if weekend { 1 } else { 2 + next() % 3 };
    let own_storm = next() % 40 == 0;
    let storm_scans = if events.storm {
        40 + (next() % 60) as u32
    } else if own_storm {
        20 + (next() % 50) as u32
    } else {
        0
    };
    DayPlan {
        start,
        span_secs,
        sessions: 60 + (next() % 80) as u32,
        scans: (next() % (exposure * busy)) as u32 + storm_scans,
        brute_forces: (next() % (exposure * busy)) as u32 / 2
            + if events.storm { (next() % 6) as u32 } else { 0 },
        web_attacks: (next() % (exposure + busy)) as u32,
        sweeps: u32::from(next() % 6 == 0),
        c2_contacts: if events.compromised {
            2 + (next() % 4) as u32
        } else {
            0
        },
        seed: next(),
    }
}

/// The heartbeat a live box sends every minute, so that the sensor pages
/// show its version and health.
async fn post_heartbeat(app: &Router, token: &str, installed_back: u32) -> anyhow::Result<()> {
    let started = Utc::now() - Duration::hours(30);
    let heartbeat = serde_json::json!({
        "schema": vigie_core::HEARTBEAT_SCHEMA,
        "version": env!("CARGO_PKG_VERSION"),
        "mode": "observe",
        "started_at": started,
        "uptime_secs": 30 * 3600,
        "packets": 1_200_000 * u64::from(installed_back + 1),
        "bytes": 900_000_000 * u64::from(installed_back + 1),
        "kernel_drops": 0,
        "interface_drops": 0,
        "incidents": 0,
        "open_incidents": 0,
        "spool_batches": 0,
        "spool_bytes": 0,
        "dropped_incidents": 0,
        "blocked_now": 0,
        "lists": [{ "name": "botnet_c2", "version": "demo" }],
    });
    let request = Request::post("/api/v1/sensors/heartbeat")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(heartbeat.to_string()))?;
    let (status, text) = call(app, request).await?;
    if status != StatusCode::OK {
        bail!("heartbeat refused ({status}): {text}");
    }
    Ok(())
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
