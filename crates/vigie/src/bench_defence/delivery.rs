//! The delivery: the real server (`vigie_server::serve_until` on a
//! runtime and threads of its own, as in `bench campaigns`) on a loopback
//! port, over the database the day left, asked by the load generator as
//! the registered boxes ask it. Five phases of the same length, one after
//! the other: the reference (the lists' manifest, answered `304` as a box
//! already holding it gets it every 30 minutes, the same token check and
//! one query), the territory list with nothing new (`304`), with the last
//! few changes, the whole list (a box's first poll), and the heartbeat
//! every box also posts each minute (a write).
//!
//! Each phase starts with one request alone, whose exact bytes give the
//! sizes; a phase whose first answer is not the expected one stops the
//! bench.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use hyper::body::Bytes;
use hyper::{Method, StatusCode};
use vigie_core::defence::DEFENCE_PATH;
use vigie_core::lists::MANIFEST_PATH;
use vigie_server::{AppState, Db, ServerSettings};

use super::load::{self, Ask, One, Outcome};
use crate::bench_campaigns::cpu::{self, Cores};
use crate::bench_campaigns::tracking::Server;
use crate::bench_national::traffic::{self, Kind};

/// What the delivery measure is given.
pub struct Plan {
    pub connections: usize,
    pub duration: Duration,
    /// Changes a box gets when there is news (the day's average).
    pub changes: i64,
}

/// One phase: what was asked, one answer's bytes, and the load's figures.
pub struct Phase {
    pub name: String,
    pub sample: Sample,
    pub outcome: Outcome,
    pub cores: Cores,
}

/// One answer's exact sizes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// Request and response, headers and body, as carried.
    pub sent: u64,
    pub received: u64,
    pub body: u64,
    /// The body's first line (the update's header).
    pub head_line: u64,
}

impl Sample {
    fn of(one: &One) -> Sample {
        let text = String::from_utf8_lossy(&one.body);
        let head_line = text.find('\n').map_or(0, |i| i + 1) as u64;
        Sample {
            sent: one.sent,
            received: one.received,
            body: one.body.len() as u64,
            head_line,
        }
    }

    /// The response without its body: status line and headers.
    pub fn headers(&self) -> u64 {
        self.received.saturating_sub(self.body)
    }
}

/// The phases, in the order of the module's description.
pub struct Measure {
    pub manifest: Phase,
    pub nothing_new: Phase,
    pub changes: Phase,
    pub snapshot: Phase,
    pub heartbeat: Phase,
}

/// The phases against a server on database `url`, which `db` is too.
pub async fn measure(
    url: &str,
    db: &Db,
    tokens: Vec<String>,
    plan: &Plan,
) -> anyhow::Result<Measure> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let server_at = listener.local_addr()?;
    // A pool of its own: a PostgreSQL connection opened on the server's
    // runtime cannot be used once that runtime has stopped.
    let served = Db::connect(url).await?;
    let server = Server::start(AppState::new(served, ServerSettings::default()), listener)?;
    let measured = phases(server_at, db, Arc::new(tokens), plan).await;
    server.stop().await;
    measured
}

async fn phases(
    server: SocketAddr,
    db: &Db,
    tokens: Arc<Vec<String>>,
    plan: &Plan,
) -> anyhow::Result<Measure> {
    let token = tokens.first().context("aucun boîtier")?.clone();
    let run = |name: String, ask: Ask| {
        let tokens = tokens.clone();
        let token = token.clone();
        async move {
            let one = load::once(server, &ask, &token).await?;
            if one.status != ask.expected {
                bail!("{} : {} au lieu de {}", ask.path, one.status, ask.expected);
            }
            let before = cpu::sample();
            let outcome = load::run(server, &ask, &tokens, plan.connections, plan.duration).await;
            let cores = before.cores_until(&cpu::sample());
            anyhow::Ok(Phase {
                name,
                sample: Sample::of(&one),
                outcome,
                cores,
            })
        }
    };

    let etag = load::once(server, &Ask::get(MANIFEST_PATH, StatusCode::OK), &token)
        .await?
        .etag
        .context("le manifeste des listes n'a pas d'ETag")?;
    let manifest = Ask {
        etag: Some(etag),
        ..Ask::get(MANIFEST_PATH, StatusCode::NOT_MODIFIED)
    };
    let manifest = run(
        "référence : manifeste des listes, rien de nouveau (304)".to_owned(),
        manifest,
    )
    .await?;

    let last = vigie_server::defence::queries::last_seq(db).await?;
    let first = vigie_server::defence::queries::first_seq(db).await?;
    if last == 0 {
        bail!("la journée n'a écrit aucun changement de la liste");
    }
    let defence =
        |since: i64, expected| Ask::get(&format!("{DEFENCE_PATH}?since={since}"), expected);
    let nothing_new = run(
        "liste du territoire, rien de nouveau (304)".to_owned(),
        defence(last, StatusCode::NOT_MODIFIED),
    )
    .await?;
    let k = plan.changes.clamp(1, last - first + 1);
    let changes = run(
        format!("liste du territoire, les {k} derniers changements"),
        defence(last - k, StatusCode::OK),
    )
    .await?;
    let snapshot = run(
        "liste du territoire entière (premier appel d'un boîtier)".to_owned(),
        defence(0, StatusCode::OK),
    )
    .await?;

    let heartbeat = traffic::heartbeat(0, 0, chrono::Utc::now());
    let heartbeat = Ask {
        method: Method::POST,
        body: Some(Bytes::from(serde_json::to_vec(&heartbeat)?)),
        ..Ask::get(Kind::Heartbeat.path(), StatusCode::OK)
    };
    let heartbeat = run(
        "pour mémoire : signal de vie (POST, une écriture)".to_owned(),
        heartbeat,
    )
    .await?;
    Ok(Measure {
        manifest,
        nothing_new,
        changes,
        snapshot,
        heartbeat,
    })
}
