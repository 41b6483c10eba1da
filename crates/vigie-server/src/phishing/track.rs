//! The tracking links of the exercise mails: the image (`/o/{token}`, an
//! opening), the link (`/c/{token}`, a click, answered with the scenario's
//! sign-in page), the form (`POST /c/{token}`, a submission, answered with
//! the awareness page at `/c/{token}/exercice`).
//!
//! Events are counted in this process's memory and written in batches
//! ([`Tracker::flush`]: at most a second after the last one, before any
//! page or API answer reads the figures, and when the server stops), so a
//! whole town hall clicking at once costs one transaction, not hundreds.
//! The memory is bounded by the tokens that exist: an unknown token is a
//! 404 (counted as a guess by the flood limit), never remembered.
//!
//! What it must never do: read the form's body (its fields have no name,
//! and the handler has no body extractor: a password typed in the
//! exercise never reaches the server), keep or log an IP address, a user
//! agent or a referrer (the user agent is read to spot mail scanners,
//! then dropped), or count a mail scanner's fetch as a person's click.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::http::{HeaderMap, Method, header};

use crate::Db;
use crate::db::token_hash;

/// Tokens remembered at most; beyond, the cache starts again (they are
/// read back from the database at their next use).
const MAX_KNOWN: usize = 200_000;
/// Events wait at most this long in memory (ms) while links are used.
const FLUSH_EVERY_MS: i64 = 1000;

/// A target, as its links need it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Known {
    pub target: i64,
    pub campaign: String,
    pub scenario: String,
    pub commune_name: String,
    /// When the relay took its mail; none before.
    pub sent_at: Option<i64>,
}

/// What one use of a link is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Open,
    Click,
    Submit,
    /// A mail scanner fetching the link: set aside.
    ScannerClick,
}

/// Events of one target not yet written.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    first_open: Option<i64>,
    opens: i64,
    first_click: Option<i64>,
    clicks: i64,
    first_submit: Option<i64>,
    submissions: i64,
    scanner_clicks: i64,
}

impl Pending {
    fn add(&mut self, event: Event, at: i64) {
        let (first, count) = match event {
            Event::Open => (&mut self.first_open, &mut self.opens),
            Event::Click => (&mut self.first_click, &mut self.clicks),
            Event::Submit => (&mut self.first_submit, &mut self.submissions),
            Event::ScannerClick => {
                self.scanner_clicks = self.scanner_clicks.saturating_add(1);
                return;
            }
        };
        first.get_or_insert(at);
        *count = count.saturating_add(1);
    }

    fn merge(&mut self, other: &Pending) {
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.first_open = min(self.first_open, other.first_open);
        self.first_click = min(self.first_click, other.first_click);
        self.first_submit = min(self.first_submit, other.first_submit);
        self.opens = self.opens.saturating_add(other.opens);
        self.clicks = self.clicks.saturating_add(other.clicks);
        self.submissions = self.submissions.saturating_add(other.submissions);
        self.scanner_clicks = self.scanner_clicks.saturating_add(other.scanner_clicks);
    }
}

/// This process's tracking state: a cache of tokens and the events not
/// yet written.
#[derive(Default)]
pub struct Tracker {
    known: Mutex<HashMap<String, Known>>,
    pending: Mutex<HashMap<i64, Pending>>,
    /// Held while a batch is written: a reader's flush waits for one
    /// under way, so it reads every event counted before it.
    writing: tokio::sync::Mutex<()>,
    last_flush: AtomicI64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Tracker {
    /// The target of `token`, from the cache or the database; `None` for a
    /// token that does not exist (or whose campaign was purged).
    pub async fn lookup(&self, db: &Db, token: &str) -> Result<Option<Known>, sqlx::Error> {
        // Tokens are 32 hex digits; anything else cannot be one.
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = token_hash(token);
        // A token whose mail has not left yet is read again: its sending
        // time decides what a fetch is.
        if let Some(known) = lock(&self.known).get(&hash)
            && known.sent_at.is_some()
        {
            return Ok(Some(known.clone()));
        }
        let found: Option<Known> = sqlx::query_as(
            "SELECT t.id AS target, t.campaign_id AS campaign, t.scenario,
                 m.name AS commune_name, o.sent_at
             FROM campaign_targets t
                 JOIN campaigns c ON c.id = t.campaign_id
                 JOIN communes m ON m.code = c.commune
                 LEFT JOIN outbox o ON o.message_id = t.message_id
             WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(db.read())
        .await?;
        if let Some(known) = &found {
            let mut cache = lock(&self.known);
            if cache.len() >= MAX_KNOWN {
                cache.clear();
            }
            cache.insert(hash, known.clone());
        }
        Ok(found)
    }

    /// Counts `event` for `target` at `now` (ms).
    pub fn record(&self, target: i64, event: Event, now: i64) {
        lock(&self.pending)
            .entry(target)
            .or_default()
            .add(event, now);
    }

    /// Whether the events waiting should be written now.
    pub fn flush_due(&self, now: i64) -> bool {
        now.saturating_sub(self.last_flush.load(Ordering::Relaxed)) >= FLUSH_EVERY_MS
            && self.writing.try_lock().is_ok()
    }

    /// Writes every waiting event in one transaction. On failure they are
    /// put back, to be written at the next flush: none is lost.
    pub async fn flush(&self, db: &Db, now: i64) -> Result<usize, sqlx::Error> {
        let _writing = self.writing.lock().await;
        self.last_flush.store(now, Ordering::Relaxed);
        let batch = std::mem::take(&mut *lock(&self.pending));
        let written = write(db, &batch).await;
        if written.is_err() {
            let mut pending = lock(&self.pending);
            for (target, events) in &batch {
                pending.entry(*target).or_default().merge(events);
            }
        }
        written.map(|()| batch.len())
    }

    /// Forgets a purged campaign's tokens and unwritten events.
    pub fn forget(&self, campaign: &str) {
        let mut known = lock(&self.known);
        let targets: Vec<i64> = known
            .values()
            .filter(|k| k.campaign == campaign)
            .map(|k| k.target)
            .collect();
        known.retain(|_, k| k.campaign != campaign);
        drop(known);
        let mut pending = lock(&self.pending);
        for target in targets {
            pending.remove(&target);
        }
    }
}

async fn write(db: &Db, batch: &HashMap<i64, Pending>) -> Result<(), sqlx::Error> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool.begin().await?;
    for (target, p) in batch {
        sqlx::query(
            "UPDATE campaign_targets SET
                 opened_at = COALESCE(opened_at, $1), opens = opens + $2,
                 clicked_at = COALESCE(clicked_at, $3), clicks = clicks + $4,
                 submitted_at = COALESCE(submitted_at, $5), submissions = submissions + $6,
                 scanner_clicks = scanner_clicks + $7
             WHERE id = $8",
        )
        .bind(p.first_open)
        .bind(p.opens)
        .bind(p.first_click)
        .bind(p.clicks)
        .bind(p.first_submit)
        .bind(p.submissions)
        .bind(p.scanner_clicks)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// User agents of mail security gateways and link checkers (lower case):
/// they fetch every link of a mail to look for a trap, before any person.
const SCANNER_SIGNATURES: [&str; 16] = [
    "barracuda",
    "proofpoint",
    "mimecast",
    "safelinks",
    "bingpreview",
    "microsoft office",
    "ms-office",
    "forcepoint",
    "trendmicro",
    "sophos",
    "symantec",
    "python-requests",
    "go-http-client",
    "curl/",
    "wget/",
    "headlesschrome",
];

/// Whether a fetch of the link is a mail scanner's: a `HEAD` request, a
/// known scanner's user agent, no language (every browser sends
/// `Accept-Language`), or a fetch within `window_ms` of the relay taking
/// the mail (people do not read that fast; gateways do). The headers are
/// read here and nowhere kept.
pub fn is_scanner(
    method: &Method,
    headers: &HeaderMap,
    sent_at: Option<i64>,
    now: i64,
    window_ms: i64,
) -> bool {
    if method == Method::HEAD {
        return true;
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if agent.is_empty() || SCANNER_SIGNATURES.iter().any(|s| agent.contains(s)) {
        return true;
    }
    if !headers.contains_key(header::ACCEPT_LANGUAGE) {
        return true;
    }
    sent_at.is_some_and(|sent| now.saturating_sub(sent) < window_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::USER_AGENT,
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"
                .parse()
                .unwrap(),
        );
        headers.insert(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9".parse().unwrap());
        headers
    }

    #[test]
    fn scanners_are_told_apart() {
        let window = 30_000;
        assert!(!is_scanner(
            &Method::GET,
            &browser(),
            Some(0),
            60_000,
            window
        ));
        assert!(is_scanner(
            &Method::HEAD,
            &browser(),
            Some(0),
            60_000,
            window
        ));
        assert!(is_scanner(&Method::GET, &browser(), Some(0), 5_000, window));
        let mut gateway = browser();
        gateway.insert(
            header::USER_AGENT,
            "Mozilla/5.0 (compatible; Barracuda Sentinel)"
                .parse()
                .unwrap(),
        );
        assert!(is_scanner(&Method::GET, &gateway, Some(0), 60_000, window));
        let mut bare = browser();
        bare.remove(header::ACCEPT_LANGUAGE);
        assert!(is_scanner(&Method::GET, &bare, Some(0), 60_000, window));
        bare.remove(header::USER_AGENT);
        assert!(is_scanner(&Method::GET, &bare, None, 60_000, window));
    }

    #[test]
    fn pending_events_keep_the_first_time_and_add_counts() {
        let mut a = Pending::default();
        a.add(Event::Click, 50);
        a.add(Event::Click, 40);
        a.add(Event::ScannerClick, 10);
        let mut b = Pending::default();
        b.add(Event::Click, 30);
        b.add(Event::Open, 20);
        a.merge(&b);
        assert_eq!(a.first_click, Some(30));
        assert_eq!(a.clicks, 3);
        assert_eq!(a.first_open, Some(20));
        assert_eq!(a.scanner_clicks, 1);
    }
}
