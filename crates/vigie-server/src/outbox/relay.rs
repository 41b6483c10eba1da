//! Sending the due messages through the SMTP relay (lettre, tokio, rustls).
//!
//! A message is claimed with a compare-and-swap on its lease (so two
//! workers never send it at once), its attempt counted, then handed to the
//! relay, and only then marked sent. A process that dies between the two
//! leaves it claimed: when the lease ends it is sent again, with the same
//! Message-ID. A round's messages share one connection (`session`).

use std::sync::Arc;

use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::ContentType;
use lettre::message::header::HeaderName;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use super::session::{Endpoint, Session};
use super::{MAX_ATTEMPTS, backoff_secs};
use crate::config::Smtp;
use crate::db::Db;
use crate::phishing::schedule::{self, Calendar};

/// How long a worker holds a message it is sending: longer than the SMTP
/// timeout, so a live worker never loses it to another.
const LEASE_MS: i64 = 5 * 60 * 1000;
const _: () = assert!(LEASE_MS > super::session::SMTP_TIMEOUT.as_millis() as i64);
/// Messages one round sends at most.
const BATCH: i64 = 50;

/// The configured relay, ready to send.
#[derive(Clone)]
pub struct Relay {
    endpoint: Endpoint,
    from: Mailbox,
    /// Whose working days a campaign's messages keep to (issue 11).
    calendar: Calendar,
    /// Signs the campaigns' messages (RFC 6376), whose shown sender is in
    /// the signing domain.
    dkim: Option<Arc<DkimConfig>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("adresse d'expéditeur « {0} » invalide")]
    From(String),
    #[error("fichier de mot de passe SMTP {0} illisible ({1})")]
    Password(String, std::io::Error),
    #[error("relais SMTP {0} : {1}")]
    Transport(String, lettre::transport::smtp::Error),
    #[error("clé DKIM {0} illisible ({1})")]
    DkimFile(String, std::io::Error),
    #[error(
        "clé DKIM {0} : une clé RSA au format PEM PKCS#1 (« BEGIN RSA PRIVATE KEY ») est attendue ; \
         convertissez-la avec « openssl rsa -in CLÉ -traditional -out CLÉ-pkcs1.pem »"
    )]
    DkimKey(String),
}

impl Relay {
    /// The relay of `[smtp]`; reads the password file now.
    pub fn new(smtp: &Smtp) -> Result<Relay, RelayError> {
        let from = smtp
            .from
            .parse::<Mailbox>()
            .map_err(|_| RelayError::From(smtp.from.clone()))?;
        Ok(Relay {
            endpoint: Endpoint::new(smtp)?,
            from,
            calendar: Calendar::default(),
            dkim: None,
        })
    }

    /// The relay for campaigns' messages too: kept to `calendar`'s working
    /// days, signed with `dkim` when given (reads the key file now).
    pub fn for_campaigns(
        self,
        calendar: Calendar,
        dkim: Option<&crate::phishing::settings::Dkim>,
    ) -> Result<Relay, RelayError> {
        let dkim = match dkim {
            None => None,
            Some(settings) => {
                let path = settings.private_key_file.display().to_string();
                let pem = std::fs::read_to_string(&settings.private_key_file)
                    .map_err(|e| RelayError::DkimFile(path.clone(), e))?;
                let key = DkimSigningKey::new(&pem, DkimSigningAlgorithm::Rsa)
                    .map_err(|_| RelayError::DkimKey(path))?;
                // Relaxed headers: a relay may refold a long subject.
                Some(Arc::new(DkimConfig::new(
                    settings.selector.clone(),
                    settings.domain.clone(),
                    key,
                    [
                        "From",
                        "To",
                        "Subject",
                        "Date",
                        "Message-ID",
                        "MIME-Version",
                    ]
                    .into_iter()
                    .map(HeaderName::new_from_ascii_str)
                    .collect(),
                    DkimCanonicalization {
                        header: DkimCanonicalizationType::Relaxed,
                        body: DkimCanonicalizationType::Relaxed,
                    },
                )))
            }
        };
        Ok(Relay {
            calendar,
            dkim,
            ..self
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
    let due: Vec<Due> = sqlx::query_as(
        "SELECT o.id, o.campaign_id, c.end_day FROM outbox o
             LEFT JOIN campaigns c ON c.id = o.campaign_id
         WHERE o.status = 'queued' AND o.next_attempt_at <= $1 AND o.lease_until <= $1
         ORDER BY o.next_attempt_at, o.id LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(&db.pool)
    .await?;
    let mut summary = SendSummary::default();
    let mut session = Session::new(&relay.endpoint);
    for Due {
        id,
        campaign_id,
        end_day,
    } in due
    {
        if campaign_id.is_some() && !campaign_may_send(db, relay, id, end_day, now).await? {
            continue;
        }
        let Some(claimed) = claim(db, id, now).await? else {
            continue;
        };
        let outcome = match build(relay, &claimed) {
            Ok(message) => session
                .send(&message)
                .await
                .map_err(|e| (e.is_permanent(), e.to_string())),
            Err(e) => Err((true, e)),
        };
        if record == Record::No {
            return Ok(summary);
        }
        match outcome {
            Ok(()) => {
                // A campaign's mail is not kept once it left: its body holds
                // the person's first name and tracking token (issue 11).
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = 0,
                         last_error = NULL,
                         body_text = CASE WHEN campaign_id IS NULL THEN body_text ELSE '' END,
                         body_html = CASE WHEN campaign_id IS NULL THEN body_html ELSE '' END
                     WHERE id = $2",
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
                let mut next =
                    now.saturating_add(backoff_secs(claimed.attempts).saturating_mul(1000));
                if claimed.campaign_id.is_some() {
                    next = sending_time(next, relay.calendar);
                }
                sqlx::query(
                    "UPDATE outbox SET status = $1, next_attempt_at = $2, lease_until = 0,
                         last_error = $3 WHERE id = $4",
                )
                .bind(if last { "failed" } else { "queued" })
                .bind(next)
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
    session.close().await;
    Ok(summary)
}

/// A message due now, and the campaign it belongs to, if any.
#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    campaign_id: Option<String>,
    end_day: Option<String>,
}

/// Whether a campaign's message may leave now (issue 11): never outside
/// the sending hours (it waits for the next ones, its attempt not
/// counted), never after the campaign's last day (it is marked failed:
/// the exercise is over), and never once the campaign is purged (its
/// rows are gone with it).
async fn campaign_may_send(
    db: &Db,
    relay: &Relay,
    id: i64,
    end_day: Option<String>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let last_day = end_day.and_then(|day| day.parse::<chrono::NaiveDate>().ok());
    let now_at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    if last_day.is_none_or(|last| vigie_core::local_day(now_at) > last) {
        sqlx::query(
            "UPDATE outbox SET status = 'failed', lease_until = 0,
                 last_error = 'campagne terminée avant l''envoi : message abandonné'
             WHERE id = $1 AND status = 'queued' AND lease_until <= $2",
        )
        .bind(id)
        .bind(now)
        .execute(&db.pool)
        .await?;
        return Ok(false);
    }
    if schedule::is_sending_time(now_at, relay.calendar) {
        return Ok(true);
    }
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1
         WHERE id = $2 AND status = 'queued' AND lease_until <= $3",
    )
    .bind(sending_time(now, relay.calendar))
    .bind(id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(false)
}

/// `at` (Unix ms), or the next instant of the sending hours after it.
fn sending_time(at: i64, calendar: Calendar) -> i64 {
    let at = chrono::DateTime::from_timestamp_millis(at).unwrap_or_default();
    schedule::next_sending_time(at, calendar).timestamp_millis()
}

/// A message this worker holds.
#[derive(sqlx::FromRow)]
struct Claimed {
    message_id: String,
    sender: Option<String>,
    campaign_id: Option<String>,
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
        "SELECT message_id, sender, campaign_id, recipient, subject, body_text, body_html,
             attempts
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
    let from = match &claimed.sender {
        Some(sender) => sender
            .parse::<Mailbox>()
            .map_err(|e| format!("expéditeur « {sender} » invalide : {e}"))?,
        None => relay.from.clone(),
    };
    let mut message = Message::builder()
        .message_id(Some(claimed.message_id.clone()))
        .from(from)
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
        .map_err(|e| format!("message impossible à construire : {e}"))?;
    if let (Some(dkim), Some(_)) = (&relay.dkim, &claimed.sender) {
        message.sign(dkim);
    }
    Ok(message)
}
