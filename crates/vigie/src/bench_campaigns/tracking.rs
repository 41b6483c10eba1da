//! The tracking measure: the real server (`vigie_server::serve_until`,
//! on a runtime and threads of its own, named [`cpu::SERVER_THREADS`])
//! on a loopback port, with a campaign whose mails were sent through the
//! outbox to the local SMTP server, the tokens read from the mails
//! received. The load generator requests their links; the reference is
//! the same generator on the stylesheet of the same server. Afterwards
//! the events stored must be exactly the requests answered.
//!
//! The server's limits are raised for one client address (the generator
//! is one): its anonymous flood bucket, so that the measure is the
//! tracking's and not the limiter's refusals, and the mail-scanner window
//! set to 0, as every fetch here is a person's.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;
use vigie_server::accounts;
use vigie_server::phishing::CampaignSettings;
use vigie_server::{AppState, Db, FloodLimits, ServerSettings};

use super::cpu::{self, Cores};
use super::load::{self, Kind, Outcome, Traffic};
use super::sending;
use super::smtp_sink::Sink;

/// What the tracking measure is given.
pub struct Plan {
    pub targets: usize,
    pub duration: Duration,
    pub connections: usize,
    pub rate: u32,
}

/// One phase of load and the CPU it took.
pub struct Phase {
    pub outcome: Outcome,
    pub cores: Cores,
}

/// Events counted: by the generator (answers it got) or in the database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    pub opens: i64,
    pub clicks: i64,
    pub submissions: i64,
    pub scanner_clicks: i64,
}

pub struct Measure {
    pub tokens: usize,
    pub reference: Phase,
    pub closed: Phase,
    pub open: Phase,
    pub expected: Events,
    pub stored: Events,
    /// `GET /api/v1/campaigns/{id}` after the load.
    pub figures: Value,
}

pub async fn measure(database: &str, sink: &Sink, plan: &Plan) -> anyhow::Result<Measure> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let address = listener.local_addr()?;
    let base = format!("http://{address}");
    let settings = ServerSettings {
        public_url: base.clone(),
        flood: FloodLimits {
            anonymous_burst: u32::MAX,
            guess_burst: 10_000,
            ..FloodLimits::default()
        },
        campaigns: CampaignSettings {
            scanner_window_seconds: 0,
            ..CampaignSettings::default()
        },
        ..ServerSettings::default()
    };
    let db = Db::connect(database).await?;
    let written = sending::create_campaigns(&db, &settings, plan.targets).await?;
    let campaign = written
        .ids
        .first()
        .context("aucune campagne écrite")?
        .clone();
    sink.take();
    let drained = sending::drain(&db, &sending::relay(sink)?, written.last_send).await?;
    let tokens = sink.take().tokens;
    if drained.sent != plan.targets || tokens.len() != plan.targets {
        bail!(
            "{} courriels envoyés, {} jetons lus dans les courriels reçus, pour {} cibles",
            drained.sent,
            tokens.len(),
            plan.targets
        );
    }
    let token = accounts::create_token(&db, sending::ADMIN).await?;
    let server = Server::start(AppState::new(db.clone(), settings), listener)?;

    let tokens = Arc::new(tokens);
    let run = |traffic: Traffic, rate: Option<u32>| load::Run {
        server: address,
        traffic,
        connections: plan.connections,
        duration: plan.duration,
        rate,
    };
    let reference = phase(&run(Traffic::Static, None)).await;
    let closed = phase(&run(Traffic::Tracking(tokens.clone()), None)).await;
    let open = phase(&run(Traffic::Tracking(tokens.clone()), Some(plan.rate))).await;

    // Reading the figures writes the events still in memory first.
    let figures: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/campaigns/{campaign}"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let stored = stored(&db, &campaign).await?;
    server.stop().await;
    let answered = |kind: Kind| -> i64 {
        [&closed, &open]
            .iter()
            .map(|p| p.outcome.answered.get(&kind).copied().unwrap_or(0))
            .sum::<u64>()
            .try_into()
            .unwrap_or(i64::MAX)
    };
    // A submission counts the click that led to it too (`links::submit`).
    let expected = Events {
        opens: answered(Kind::Open),
        clicks: answered(Kind::Click) + answered(Kind::Submit),
        submissions: answered(Kind::Submit),
        scanner_clicks: 0,
    };
    Ok(Measure {
        tokens: tokens.len(),
        reference,
        closed,
        open,
        expected,
        stored,
        figures,
    })
}

async fn phase(run: &load::Run) -> Phase {
    let before = cpu::sample();
    let outcome = load::run(run).await;
    let cores = before.cores_until(&cpu::sample());
    Phase { outcome, cores }
}

/// The sums of the per-target counts of the campaign.
async fn stored(db: &Db, campaign: &str) -> anyhow::Result<Events> {
    let (opens, clicks, submissions, scanner_clicks): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(opens), 0), COALESCE(SUM(clicks), 0),
             COALESCE(SUM(submissions), 0), COALESCE(SUM(scanner_clicks), 0)
         FROM campaign_targets WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_one(db.read())
    .await?;
    Ok(Events {
        opens,
        clicks,
        submissions,
        scanner_clicks,
    })
}

/// The server, on a runtime of its own as `vigie serve` has (one worker
/// thread per core), in a thread of its own.
pub(crate) struct Server {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub(crate) fn start(
        state: AppState,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Server> {
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name(cpu::SERVER_THREADS)
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(cpu::SERVER_THREADS.to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let stopped = async {
                        let _ = stopped.await;
                    };
                    vigie_server::serve_until(state, listener, None, stopped).await
                })
            })?;
        Ok(Server { stop, thread })
    }

    /// Stops it and waits for its thread (open connections get the
    /// server's shutdown grace).
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}
