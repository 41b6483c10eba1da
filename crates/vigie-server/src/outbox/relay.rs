//! Sending the due messages through the SMTP relay (lettre, tokio, rustls).
//!
//! A message is claimed with a compare-and-swap on its lease (so two
//! workers never send it at once), its attempt counted, then handed to the
//! relay, and only then marked sent. A process that dies between the two
//! leaves it claimed: when the lease ends it is sent again, with the same
//! Message-ID.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{MAX_ATTEMPTS, backoff_secs};
use crate::config::{Smtp, SmtpSecurity};
use crate::db::Db;

/// How long a worker holds a message it is sending: longer than the SMTP
/// timeout, so a live worker never loses it to another.
const LEASE_MS: i64 = 5 * 60 * 1000;
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// Messages one round sends at most.
const BATCH: i64 = 50;

/// The configured relay, ready to send.
#[derive(Clone)]
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("adresse d'expéditeur « {0} » invalide")]
    From(String),
    #[error("fichier de mot de passe SMTP {0} illisible ({1})")]
    Password(String, std::io::Error),
    #[error("relais SMTP {0} : {1}")]
    Transport(String, lettre::transport::smtp::Error),
}

impl Relay {
    /// The relay of `[smtp]`; reads the password file now.
    pub fn new(smtp: &Smtp) -> Result<Relay, RelayError> {
        let from = smtp
            .from
            .parse::<Mailbox>()
            .map_err(|_| RelayError::From(smtp.from.clone()))?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| RelayError::Transport(host.to_owned(), e))
        };
        let security = match smtp.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls => Tls::Required(tls(&smtp.host)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls(&smtp.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .tls(security)
            .timeout(Some(SMTP_TIMEOUT));
        if !smtp.username.is_empty() {
            let path = &smtp.password_file;
            let password = std::fs::read_to_string(path)
                .map_err(|e| RelayError::Password(path.display().to_string(), e))?;
            let password = password.lines().next().unwrap_or_default().to_owned();
            builder = builder.credentials(Credentials::new(smtp.username.clone(), password));
        }
        Ok(Relay {
            transport: builder.build(),
            from,
        })
    }
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendSummary {
    pub sent: usize,
    /// Refused or unreachable relay: retried later.
    pub retried: usize,
    /// Refused for the last time, or not buildable: marked failed.
    pub failed: usize,
}

/// Sends every message due at `now` (Unix ms).
pub async fn send_due(db: &Db, relay: &Relay, now: i64) -> Result<SendSummary, sqlx::Error> {
    send(db, relay, now, Record::Yes).await
}

/// For the crash test: sends the first due message and stops before
/// recording it, as a process killed at that moment would.
#[doc(hidden)]
pub async fn send_due_then_crash(
    db: &Db,
    relay: &Relay,
    now: i64,
) -> Result<SendSummary, sqlx::Error> {
    send(db, relay, now, Record::No).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    Yes,
    No,
}

async fn send(
    db: &Db,
    relay: &Relay,
    now: i64,
    record: Record,
) -> Result<SendSummary, sqlx::Error> {
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= $1
             AND lease_until <= $1
         ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(&db.pool)
    .await?;
    let mut summary = SendSummary::default();
    for id in due {
        let Some(claimed) = claim(db, id, now).await? else {
            continue;
        };
        let outcome = match build(relay, &claimed) {
            Ok(message) => relay
                .transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| (e.is_permanent(), e.to_string())),
            Err(e) => Err((true, e)),
        };
        if record == Record::No {
            return Ok(summary);
        }
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = 0,
                         last_error = NULL WHERE id = $2",
                )
                .bind(crate::db::now_ms())
                .bind(id)
                .execute(&db.pool)
                .await?;
                summary.sent += 1;
            }
            Err((permanent, error)) => {
                tracing::warn!(message = %claimed.message_id, "e-mail not sent: {error}");
                let last = permanent || claimed.attempts >= MAX_ATTEMPTS;
                sqlx::query(
                    "UPDATE outbox SET status = $1, next_attempt_at = $2, lease_until = 0,
                         last_error = $3 WHERE id = $4",
                )
                .bind(if last { "failed" } else { "queued" })
                .bind(now.saturating_add(backoff_secs(claimed.attempts).saturating_mul(1000)))
                .bind(&error)
                .bind(id)
                .execute(&db.pool)
                .await?;
                if last {
                    summary.failed += 1;
                } else {
                    summary.retried += 1;
                }
            }
        }
    }
    Ok(summary)
}

/// A message this worker holds.
#[derive(sqlx::FromRow)]
struct Claimed {
    message_id: String,
    recipient: String,
    subject: String,
    #[sqlx(rename = "body_text")]
    text: String,
    #[sqlx(rename = "body_html")]
    html: String,
    /// Counting this one.
    attempts: i64,
}

/// Takes message `id` if nobody holds it, counting the attempt.
async fn claim(db: &Db, id: i64, now: i64) -> Result<Option<Claimed>, sqlx::Error> {
    let taken = sqlx::query(
        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1
         WHERE id = $2 AND status = 'queued' AND lease_until <= $3",
    )
    .bind(now.saturating_add(LEASE_MS))
    .bind(id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    if taken.rows_affected() != 1 {
        return Ok(None);
    }
    let claimed = sqlx::query_as(
        "SELECT message_id, recipient, subject, body_text, body_html, attempts
         FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    Ok(Some(claimed))
}

/// The MIME message: plain text and HTML alternatives (RFC 2046).
fn build(relay: &Relay, claimed: &Claimed) -> Result<Message, String> {
    let to = claimed
        .recipient
        .parse::<Mailbox>()
        .map_err(|e| format!("destinataire « {} » invalide : {e}", claimed.recipient))?;
    Message::builder()
        .message_id(Some(claimed.message_id.clone()))
        .from(relay.from.clone())
        .to(to)
        .subject(claimed.subject.clone())
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(claimed.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(claimed.html.clone()),
                ),
        )
        .map_err(|e| format!("message impossible à construire : {e}"))
}
