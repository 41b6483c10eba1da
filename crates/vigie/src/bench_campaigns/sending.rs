//! The sending measure: campaigns written through the server's own code
//! (targets read by the CSV import, sends planned by the schedule, rows
//! and mails written by `store::create`), then the outbox drained by
//! `outbox::send_due` into the local SMTP server, as the `outbox.send`
//! job does, at the last planned instant so every mail is due. The
//! reference: the same mails handed to the same server by a bare lettre
//! loop on one connection, without a database; and a sample through
//! lettre's own transport, as the outbox sent before it had a session.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use vigie_server::accounts::{self, Role};
use vigie_server::config::{Smtp, SmtpSecurity};
use vigie_server::db::now_ms;
use vigie_server::outbox::{self, Relay};
use vigie_server::phishing::schedule::{self, Calendar, Window};
use vigie_server::phishing::{self, store, targets};
use vigie_server::{Db, ServerSettings, territory};

use super::smtp_sink::{Received, Sink};

pub const ADMIN: &str = "mesures@vigie.fr";
const PASSWORD: &str = "une phrase pour le banc d'essai";
const FROM: &str = "Observatoire <noreply@observatoire.example.fr>";
/// The outbox's own SMTP timeout (`outbox/session.rs`), for lettre's
/// transport.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// Mails sent through lettre's own transport: at some 40 ms each, a
/// sample is enough.
const TRANSPORT_SAMPLE: usize = 200;

/// The campaigns written, and when their last mail is planned (Unix ms).
pub struct Written {
    pub ids: Vec<String>,
    pub last_send: i64,
    pub took: Duration,
}

/// Writes campaigns for `count` targets in all, of at most
/// `schedule::MAX_TARGETS` each, one commune of the built-in territory
/// each, every scenario in turn; as `POST /api/v1/campaigns` does after
/// its checks.
pub async fn create_campaigns(
    db: &Db,
    settings: &ServerSettings,
    count: usize,
) -> anyhow::Result<Written> {
    territory::ensure_builtin(db).await?;
    let admin = accounts::add_user(db, ADMIN, Role::Admin, None, PASSWORD).await?;
    let scenarios: Vec<String> = settings.scenarios.all().map(|s| s.id.clone()).collect();
    let per_campaign = schedule::MAX_TARGETS;
    let communes: Vec<String> = sqlx::query_scalar("SELECT code FROM communes ORDER BY code")
        .fetch_all(db.read())
        .await?;
    let domain = settings.campaigns.domain(None, &settings.public_url);
    let today = vigie_core::local_day(chrono::Utc::now());
    let window = Window {
        start: today,
        end: today + chrono::Duration::days(20),
    };
    let start = Instant::now();
    let mut written = Written {
        ids: Vec::new(),
        last_send: 0,
        took: Duration::ZERO,
    };
    let mut left = count;
    for code in &communes {
        if left == 0 {
            break;
        }
        let size = left.min(per_campaign);
        left -= size;
        let commune = territory::commune(db, code)
            .await?
            .context("commune du territoire intégré")?;
        let targets = targets::from_csv(csv(code, size).as_bytes())
            .map_err(|e| anyhow::anyhow!("fichier des cibles : {e}"))?;
        let sends = schedule::plan(
            &window,
            targets.len(),
            None,
            chrono::Utc::now(),
            Calendar::default(),
        )?;
        let new = store::NewCampaign {
            commune: &commune,
            scenarios: &scenarios,
            targets: &targets,
            sends: &sends,
            start: window.start,
            end: window.end,
            rate_per_hour: None,
            purge_due_at: phishing::purge_due(window.end, 30),
            created_by: admin,
        };
        let sending = store::Sending {
            library: &settings.scenarios,
            public_url: &settings.public_url,
            sender_domain: &domain,
        };
        let id = store::create(db, &new, &sending, now_ms())
            .await
            .map_err(|e| anyhow::anyhow!("campagne : {e}"))?;
        written.ids.push(id);
        let last = sends.iter().map(|s| s.timestamp_millis()).max();
        written.last_send = written.last_send.max(last.unwrap_or(0));
    }
    if left > 0 {
        bail!("le territoire intégré n'a pas assez de communes pour {count} cibles");
    }
    written.took = start.elapsed();
    Ok(written)
}

/// A commune's targets file: `size` agents and élus, some with a first
/// name.
fn csv(code: &str, size: usize) -> String {
    let mut text = String::from("email;prenom;role\n");
    for i in 0..size {
        let (name, role) = match i % 4 {
            0 => ("Anne", "élu"),
            1 => ("Bruno", "agent"),
            2 => ("", "agent"),
            _ => ("Chloé", "agent"),
        };
        text.push_str(&format!(
            "agent.{i:05}@mairie-{code}.example.fr;{name};{role}\n"
        ));
    }
    text
}

/// The outbox's relay, to the sink, kept to working days as `vigie serve`
/// builds it.
pub fn relay(sink: &Sink) -> anyhow::Result<Relay> {
    Ok(Relay::new(&smtp(sink))?.for_campaigns(Calendar::default(), None)?)
}

fn smtp(sink: &Sink) -> Smtp {
    Smtp {
        host: "127.0.0.1".to_owned(),
        port: sink.port,
        security: SmtpSecurity::None,
        from: FROM.to_owned(),
        ..Smtp::default()
    }
}

/// What a drain of the outbox did.
pub struct Drained {
    pub sent: usize,
    pub not_sent: usize,
    pub rounds: usize,
    pub took: Duration,
}

/// Calls `send_due` at `now` until a round sends nothing, as the
/// `outbox.send` job would if it ran back to back.
pub async fn drain(db: &Db, relay: &Relay, now: i64) -> anyhow::Result<Drained> {
    let start = Instant::now();
    let mut drained = Drained {
        sent: 0,
        not_sent: 0,
        rounds: 0,
        took: Duration::ZERO,
    };
    loop {
        let round = outbox::send_due(db, relay, now).await?;
        drained.rounds += 1;
        drained.sent += round.sent;
        drained.not_sent += round.retried + round.failed;
        if round.sent + round.retried + round.failed == 0 {
            break;
        }
    }
    drained.took = start.elapsed();
    Ok(drained)
}

/// The outbox measure: `messages` mails written, then sent.
pub struct Measure {
    pub written: Written,
    pub drained: Drained,
    pub received: Received,
    /// Message-IDs the outbox recorded as sent that the sink never saw.
    pub missing: usize,
    pub reference: Reference,
    pub transport: Reference,
}

/// The bare lettre loop.
pub struct Reference {
    pub sent: usize,
    pub took: Duration,
    pub received: Received,
}

/// Writes `messages` mails in campaigns on `db`, drains the outbox into
/// `sink`, then sends the same mails with the bare loop.
pub async fn measure(db: &Db, sink: &Sink, messages: usize) -> anyhow::Result<Measure> {
    let settings = ServerSettings {
        public_url: "https://observatoire.example.fr".to_owned(),
        ..ServerSettings::default()
    };
    let written = create_campaigns(db, &settings, messages).await?;
    let mails = queued(db).await?;
    sink.take();
    let drained = drain(db, &relay(sink)?, written.last_send).await?;
    let received = sink.take();
    let sent: HashSet<String> =
        sqlx::query_scalar("SELECT message_id FROM outbox WHERE status = 'sent'")
            .fetch_all(db.read())
            .await?
            .into_iter()
            .collect();
    let missing = sent
        .iter()
        .filter(|id| !received.ids.contains_key(*id))
        .count();
    let reference = bare_lettre(sink, &mails).await?;
    let transport = lettre_transport(sink, &mails).await?;
    Ok(Measure {
        written,
        drained,
        received,
        missing,
        reference,
        transport,
    })
}

/// A mail as the outbox holds it.
#[derive(sqlx::FromRow)]
struct Queued {
    recipient: String,
    sender: Option<String>,
    subject: String,
    body_text: String,
    body_html: String,
}

async fn queued(db: &Db) -> anyhow::Result<Vec<Queued>> {
    Ok(sqlx::query_as(
        "SELECT recipient, sender, subject, body_text, body_html FROM outbox
         WHERE status = 'queued' ORDER BY id",
    )
    .fetch_all(db.read())
    .await?)
}

/// The same mails, built as the relay builds them (text and HTML
/// alternatives) with Message-IDs of their own, sent one after the other
/// on one connection with Nagle's algorithm off, as the outbox's session
/// does: lettre alone, without a database.
async fn bare_lettre(sink: &Sink, mails: &[Queued]) -> anyhow::Result<Reference> {
    sink.take();
    let start = Instant::now();
    let stream = tokio::net::TcpStream::connect(sink.address()).await?;
    stream.set_nodelay(true)?;
    let mut connection =
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &ClientId::default()).await?;
    for (index, mail) in mails.iter().enumerate() {
        let message = mime(mail, index, "reference")?;
        connection
            .send(message.envelope(), &message.formatted())
            .await?;
    }
    connection.quit().await?;
    Ok(Reference {
        sent: mails.len(),
        took: start.elapsed(),
        received: sink.take(),
    })
}

/// The first mails through lettre's own transport, as the outbox sent
/// before its session: a connection per message, opened by lettre with
/// Nagle's algorithm on.
async fn lettre_transport(sink: &Sink, mails: &[Queued]) -> anyhow::Result<Reference> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port)
        .tls(Tls::None)
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    let sample = &mails[..mails.len().min(TRANSPORT_SAMPLE)];
    sink.take();
    let start = Instant::now();
    for (index, mail) in sample.iter().enumerate() {
        transport.send(mime(mail, index, "transport")?).await?;
    }
    Ok(Reference {
        sent: sample.len(),
        took: start.elapsed(),
        received: sink.take(),
    })
}

/// A queued mail as the relay builds it, with a Message-ID of its own.
fn mime(mail: &Queued, index: usize, kind: &str) -> anyhow::Result<Message> {
    let from: Mailbox = match &mail.sender {
        Some(sender) => sender.parse()?,
        None => FROM.parse()?,
    };
    Ok(Message::builder()
        .message_id(Some(format!("<{kind}.{index}@observatoire.example.fr>")))
        .from(from)
        .to(mail.recipient.parse()?)
        .subject(mail.subject.clone())
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.body_text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(mail.body_html.clone()),
                ),
        )?)
}
