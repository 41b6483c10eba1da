//! The outbox: e-mails written to the database in the same transaction as
//! what causes them ([`enqueue`]), then sent by a worker through the SMTP
//! relay ([`send_due`], the `outbox.send` job), retried with exponential
//! backoff, marked failed after [`MAX_ATTEMPTS`]. [`sink`] is a relay
//! for demonstrations and tests: it takes every message and keeps none.
//!
//! What it must never do: lose a message (a row is deleted only by the
//! retention purge, once sent or failed), or send one twice except when the
//! process died between the relay's acceptance and the row's update; then
//! the repeat carries the same Message-ID, fixed when the row is written,
//! so that a mail client recognises it.

mod page;
mod relay;
mod session;
pub mod sink;

use sqlx::AnyConnection;

use crate::db::{Db, random_hex};
use crate::web::{Access, Routes};

pub use relay::{Relay, RelayError, SendSummary, send_due, send_due_then_crash};

/// The staff's page of the outbox.
pub fn router() -> Routes {
    Routes::new().get("/courriels", Access::Staff, page::page)
}

/// Attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// First wait after a failure, doubled at each attempt (1 min, 2, 4... so
/// 8 attempts span about four hours).
pub const FIRST_RETRY_SECS: i64 = 60;

/// An e-mail to write: both bodies already rendered (from the templates of
/// `templates/mail/`).
#[derive(Clone, Debug)]
pub struct Email {
    /// What caused it (`sensor_silent`, `sensor_back`...), for the staff page.
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Writes `email` in the caller's transaction, due at once; returns its
/// Message-ID (`<random@host of public_url>`).
pub async fn enqueue(
    conn: &mut AnyConnection,
    email: &Email,
    public_url: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    insert(conn, email, public_url, now, None).await
}

/// A phishing-awareness message (issue 11): sent from the scenario's shown
/// `sender` (`Name <address>`), not before `due`, and only in the sending
/// hours (the relay checks them again when it sends); deleted with the
/// campaign by its purge.
#[derive(Clone, Copy, Debug)]
pub struct CampaignMail<'a> {
    pub campaign: &'a str,
    pub sender: &'a str,
    pub due: i64,
}

/// Writes a campaign's `email` in the caller's transaction; returns its
/// Message-ID.
pub async fn enqueue_campaign(
    conn: &mut AnyConnection,
    email: &Email,
    public_url: &str,
    now: i64,
    campaign: CampaignMail<'_>,
) -> Result<String, sqlx::Error> {
    insert(conn, email, public_url, now, Some(campaign)).await
}

async fn insert(
    conn: &mut AnyConnection,
    email: &Email,
    public_url: &str,
    now: i64,
    campaign: Option<CampaignMail<'_>>,
) -> Result<String, sqlx::Error> {
    let message_id = format!("<{}.{now}@{}>", random_hex(12), domain_of(public_url));
    sqlx::query(
        "INSERT INTO outbox (message_id, kind, recipient, subject, body_text, body_html,
             created_at, next_attempt_at, sender, campaign_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&message_id)
    .bind(email.kind)
    .bind(&email.recipient)
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(now)
    .bind(campaign.map_or(now, |c| c.due))
    .bind(campaign.map(|c| c.sender))
    .bind(campaign.map(|c| c.campaign))
    .execute(&mut *conn)
    .await?;
    Ok(message_id)
}

/// The host of the public URL, for Message-IDs.
fn domain_of(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    if host.is_empty() {
        "vigie.invalid".to_owned()
    } else {
        host.to_owned()
    }
}

/// A message as the staff page shows it.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Queued {
    pub id: i64,
    pub message_id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

/// The latest `limit` messages, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<Queued>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, message_id, kind, recipient, subject, status, attempts, created_at,
             next_attempt_at, sent_at, last_error
         FROM outbox ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.read())
    .await
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones.
pub fn backoff_secs(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY_SECS.saturating_mul(1 << doublings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff_secs(1), 60);
        assert_eq!(backoff_secs(2), 120);
        assert_eq!(backoff_secs(4), 480);
        assert_eq!(backoff_secs(0), 60);
    }

    #[test]
    fn message_id_domains() {
        assert_eq!(
            domain_of("https://observatoire.example.fr"),
            "observatoire.example.fr"
        );
        assert_eq!(domain_of("http://127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(domain_of(""), "vigie.invalid");
    }
}
