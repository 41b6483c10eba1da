//! `vigie demo`'s phishing-awareness campaigns (issue 11): Saint-Étienne's,
//! finished six weeks ago and purged on its due date (its figures kept,
//! its addresses gone), and Firminy's, running since the start of the
//! week, its mails read, clicked and sometimes answered as people do.
//!
//! Everything goes through the real code: the targets through the CSV
//! import, the sends planned by `schedule::plan`, the campaign written by
//! `phishing::store::create`, its mails sent by the outbox to a loopback
//! SMTP sink, the mail scanners' fetches and today's visits through the
//! public routes (`HEAD /c/…`, `GET /o/…`, `POST /c/…`). Only the past
//! visits of people are told to the `Tracker` directly, at their own
//! times: a route counts at the instant of the request, and a campaign of
//! last month needs last month's clicks. What it must never do: write a
//! figure into a table.

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use tower::ServiceExt;
use vigie_core::{LOCAL_TZ, local_day};
use vigie_server::AppState;
use vigie_server::outbox::{self, sink::Sink};
use vigie_server::phishing::{self, schedule, store, targets, track::Event};

/// A demonstration campaign and how its people behave.
struct Spec {
    commune: &'static str,
    /// The town hall's mail domain (fictitious).
    domain: &'static str,
    agents: usize,
    elected: usize,
    scenarios: &'static [&'static str],
    /// Its first day, in days ago (moved back to a working day).
    started_days_ago: i64,
    days: i64,
    /// Shares, in thousandths, of the people who open the mail, who click
    /// and who type their password (each a part of the one before).
    opened: u64,
    clicked: u64,
    submitted: u64,
    /// Purged on its due date once played.
    purged: bool,
}

const CAMPAIGNS: [Spec; 2] = [
    Spec {
        commune: "42218",
        domain: "saint-etienne.demo.vigie.fr",
        agents: 30,
        elected: 10,
        scenarios: &["messagerie-expiration", "colis-douane", "facture-impayee"],
        started_days_ago: 47,
        days: 12,
        opened: 620,
        clicked: 290,
        submitted: 120,
        purged: true,
    },
    Spec {
        commune: "42095",
        domain: "firminy.demo.vigie.fr",
        agents: 18,
        elected: 6,
        scenarios: &["document-partage", "remboursement-impots"],
        started_days_ago: 2,
        days: 14,
        opened: 450,
        clicked: 210,
        submitted: 90,
        purged: false,
    },
];

/// First names given to the targets, in turn.
const FIRST_NAMES: [&str; 12] = [
    "Anne",
    "Bruno",
    "Chantal",
    "David",
    "Élodie",
    "François",
    "Gisèle",
    "Hervé",
    "Isabelle",
    "Julien",
    "Karine",
    "Laurent",
];

/// Creates, sends and plays the campaigns; returns their ids.
pub async fn fill(state: &AppState, app: &Router) -> anyhow::Result<Vec<String>> {
    let sink = Sink::start()
        .await
        .context("serveur SMTP de démonstration")?;
    let relay = sink
        .relay("Vigie démo <noreply@demo.vigie.fr>")?
        .for_campaigns(state.settings.campaigns.calendar, None)?;
    let creator: i64 = sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
        .fetch_one(&state.db.pool)
        .await
        .context("compte administrateur de la démonstration")?;
    let mut ids = Vec::new();
    for spec in &CAMPAIGNS {
        let (id, sends) = create(state, spec, creator).await?;
        let last = sends.last().map_or(0, DateTime::timestamp_millis);
        // The links, as the mails carry them: read before they leave (a
        // sent campaign mail's body is emptied).
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body_text FROM outbox WHERE campaign_id = $1 ORDER BY id")
                .bind(&id)
                .fetch_all(&state.db.pool)
                .await?;
        loop {
            let round = outbox::send_due(&state.db, &relay, last).await?;
            if round.sent == 0 {
                break;
            }
        }
        play(state, app, spec, &bodies, &sends).await?;
        state
            .tracker
            .flush(&state.db, vigie_server::db::now_ms())
            .await?;
        if spec.purged {
            purge_on_due_date(state, &id).await?;
        }
        ids.push(id);
    }
    if sink.received() == 0 {
        bail!("aucun courriel de campagne n'est parti");
    }
    Ok(ids)
}

/// The campaign written as the staff's form would, created the day
/// before its first day: its id and its planned sends.
async fn create(
    state: &AppState,
    spec: &Spec,
    creator: i64,
) -> anyhow::Result<(String, Vec<DateTime<Utc>>)> {
    let calendar = state.settings.campaigns.calendar;
    let start = working_day_before(
        local_day(Utc::now()) - Duration::days(spec.started_days_ago),
        calendar,
    );
    let end = start + Duration::days(spec.days - 1);
    let created = paris(start - Duration::days(1), 16)?;
    let commune = vigie_server::territory::commune(&state.db, spec.commune)
        .await?
        .with_context(|| format!("commune {} absente du territoire", spec.commune))?;
    let targets = targets::from_csv(targets_csv(spec).as_bytes())
        .map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let window = schedule::Window { start, end };
    let sends = schedule::plan(&window, targets.len(), None, created, calendar)?;
    let scenarios: Vec<String> = spec.scenarios.iter().map(|s| (*s).to_owned()).collect();
    let settings = &state.settings;
    let domain = settings.campaigns.domain(None, &settings.public_url);
    let new = store::NewCampaign {
        commune: &commune,
        scenarios: &scenarios,
        targets: &targets,
        sends: &sends,
        start,
        end,
        rate_per_hour: None,
        purge_due_at: phishing::purge_due(end, settings.campaigns.purge_after_days),
        created_by: creator,
    };
    let sending = store::Sending {
        library: &settings.scenarios,
        public_url: &settings.public_url,
        sender_domain: &domain,
    };
    let id = store::create(&state.db, &new, &sending, created.timestamp_millis()).await?;
    Ok((id, sends))
}

/// The targets file the town hall would give: agents, then élus.
fn targets_csv(spec: &Spec) -> String {
    let mut csv = String::from("email;prenom;role\n");
    for n in 0..spec.agents + spec.elected {
        let (role, number) = if n < spec.agents {
            ("agent", n + 1)
        } else {
            ("élu", n + 1 - spec.agents)
        };
        let who = if role == "agent" { "agent" } else { "elu" };
        let first = FIRST_NAMES[n % FIRST_NAMES.len()];
        csv.push_str(&format!(
            "{who}.{number:02}@{};{first};{role}\n",
            spec.domain
        ));
    }
    csv
}

/// `day` if it is a working day, else the working day before it.
fn working_day_before(mut day: NaiveDate, calendar: schedule::Calendar) -> NaiveDate {
    while !calendar.is_working_day(day) {
        day -= Duration::days(1);
    }
    day
}

/// `hour` o'clock in Paris on `day`.
fn paris(day: NaiveDate, hour: u32) -> anyhow::Result<DateTime<Utc>> {
    let local = day.and_hms_opt(hour, 0, 0).context("heure")?;
    Ok(LOCAL_TZ
        .from_local_datetime(&local)
        .earliest()
        .context("heure à Paris")?
        .with_timezone(&Utc))
}

/// 64 bits of the BLAKE3 hash of the commune and a target's number: each
/// person's own dice, the same at every run of the demo.
fn dice(commune: &str, index: usize, what: &str) -> u64 {
    let hash = blake3::hash(format!("{commune}/{index}/{what}").as_bytes());
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().unwrap_or_default())
}

/// The campaign's people and the mail scanners at work on its mails.
async fn play(
    state: &AppState,
    app: &Router,
    spec: &Spec,
    bodies: &[String],
    sends: &[DateTime<Utc>],
) -> anyhow::Result<()> {
    let now = Utc::now();
    for (index, (body, sent)) in bodies.iter().zip(sends).enumerate() {
        let token = token_in(body)?;
        let known = state
            .tracker
            .lookup(&state.db, &token)
            .await?
            .context("jeton de campagne inconnu")?;
        // One mail in three goes through a gateway that checks its link.
        if dice(spec.commune, index, "scanner").is_multiple_of(3) {
            scanner_fetches(app, &token, dice(spec.commune, index, "gateway")).await?;
        }
        let roll = dice(spec.commune, index, "person") % 1000;
        // Élus are sent more such mails, and fall for them a little more.
        let boost = if index >= spec.agents { 60 } else { 0 };
        let steps = [
            (spec.opened + boost, Event::Open),
            (spec.clicked + boost, Event::Click),
            (spec.submitted + boost / 2, Event::Submit),
        ];
        let mut at = *sent + delay(dice(spec.commune, index, "delay"));
        for (share, event) in steps {
            if roll >= share || at >= now {
                break;
            }
            // A click without an opening: the mail client blocked images.
            let blocked =
                event == Event::Open && dice(spec.commune, index, "images").is_multiple_of(5);
            if !blocked {
                state
                    .tracker
                    .record(known.target, event, at.timestamp_millis());
            }
            at += Duration::seconds(40 + (dice(spec.commune, index, "pause") % 300) as i64);
        }
    }
    if !spec.purged {
        visits_today(app, bodies).await?;
    }
    Ok(())
}

/// How long after its delivery a mail is first opened: mostly within the
/// working day, sometimes days later.
fn delay(roll: u64) -> Duration {
    match roll % 10 {
        0..=5 => Duration::minutes(3 + (roll / 10 % 120) as i64),
        6..=8 => Duration::minutes(150 + (roll / 10 % 360) as i64),
        _ => Duration::days(1 + (roll / 10 % 4) as i64),
    }
}

/// A mail gateway checking a link: a `HEAD`, and sometimes a fetch under
/// its own name, through the public route (set aside, never a click).
async fn scanner_fetches(app: &Router, token: &str, roll: u64) -> anyhow::Result<()> {
    let head = Request::head(format!("/c/{token}")).body(Body::empty())?;
    expect_ok(app, head).await?;
    if roll.is_multiple_of(2) {
        let get = Request::get(format!("/c/{token}"))
            .header(
                "user-agent",
                "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
            )
            .body(Body::empty())?;
        expect_ok(app, get).await?;
    }
    Ok(())
}

/// Today, through the public routes as a browser sends them: two people
/// open the mail (its image), one of them types a password in the form.
async fn visits_today(app: &Router, bodies: &[String]) -> anyhow::Result<()> {
    let browser = |request: axum::http::request::Builder| {
        request
            .header(
                "user-agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            )
            .header("accept-language", "fr-FR,fr;q=0.9")
    };
    for (n, body) in bodies.iter().rev().take(2).enumerate() {
        let token = token_in(body)?;
        expect_ok(
            app,
            browser(Request::get(format!("/o/{token}"))).body(Body::empty())?,
        )
        .await?;
        if n == 0 {
            let form = browser(Request::post(format!("/c/{token}")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::empty())?;
            let response = app.clone().oneshot(form).await?;
            if response.status() != StatusCode::SEE_OTHER {
                bail!("formulaire de l'exercice refusé ({})", response.status());
            }
        }
    }
    Ok(())
}

async fn expect_ok(app: &Router, request: Request<Body>) -> anyhow::Result<()> {
    let uri = request.uri().clone();
    let response = app.clone().oneshot(request).await?;
    if response.status() != StatusCode::OK {
        bail!("{uri} refusé ({})", response.status());
    }
    Ok(())
}

/// The token of a mail's link (`/c/TOKEN`).
fn token_in(body: &str) -> anyhow::Result<String> {
    let start = body.find("/c/").context("lien absent du courriel")? + 3;
    body.get(start..start + 32)
        .map(str::to_owned)
        .context("jeton tronqué dans le courriel")
}

/// The purge, as its job would have run it on its due date: the figures
/// kept, every address, token and event deleted.
async fn purge_on_due_date(state: &AppState, id: &str) -> anyhow::Result<()> {
    let campaign = store::get(&state.db, id)
        .await?
        .context("campagne disparue")?;
    store::purge(&state.db, id, campaign.purge_due_at).await?;
    state.tracker.forget(id);
    Ok(())
}
