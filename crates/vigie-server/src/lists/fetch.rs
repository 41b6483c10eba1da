//! Fetches the URL lists: on their schedule ([`fetch_due`], every minute
//! from [`spawn_fetcher`]) or when the administrator asks ([`refresh`]).
//!
//! Only http and https, at most [`super::MAX_LIST_BYTES`], within
//! [`FETCH_TIMEOUT`]. What it must never do: drop the current version
//! because a fetch failed (the error is recorded and shown instead), or
//! let one slow or failing source stop the others.

use std::time::Duration;

use super::content;
use super::store::{self, ListRow};
use super::{ListError, MAX_LIST_BYTES, Saved};
use crate::db::{Db, now_ms};

/// Longest a whole fetch may take, connection and body included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// After a failure, the next attempt comes after this or the list's
/// interval, whichever is shorter.
pub const RETRY_AFTER_FAILURE_SECS: i64 = 3600;
/// How often [`spawn_fetcher`] looks for due lists.
pub const FETCHER_PERIOD: Duration = Duration::from_secs(60);

/// What one round of [`fetch_due`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchSummary {
    /// Lists fetched (claimed as due by this round).
    pub fetched: usize,
    /// Of those, lists that got a new version.
    pub new_versions: usize,
    /// Of those, lists whose fetch or content failed.
    pub failed: usize,
}

/// Fetches every URL list due now. Each due list is claimed first, so
/// replicas sharing the database never fetch one twice. Only claiming can
/// fail the round; a list's failure is counted and recorded on it.
pub async fn fetch_due(db: &Db) -> Result<FetchSummary, sqlx::Error> {
    fetch_due_at(db, now_ms()).await
}

/// [`fetch_due`] as if it were `now` (Unix milliseconds).
pub async fn fetch_due_at(db: &Db, now: i64) -> Result<FetchSummary, sqlx::Error> {
    let due = store::claim_due(db, now).await?;
    let mut summary = FetchSummary::default();
    if due.is_empty() {
        return Ok(summary);
    }
    let client = client();
    for list in &due {
        summary.fetched += 1;
        // One list's trouble (even the database's, such as a list deleted
        // meanwhile) must not cost the others their turn: they are claimed.
        match refresh_with(db, client.as_ref(), list, now).await {
            Ok(Ok(Saved::New(_))) => summary.new_versions += 1,
            Ok(Ok(Saved::Unchanged(_))) => {}
            Ok(Err(_)) => summary.failed += 1,
            Err(e) => {
                tracing::warn!(list = %list.name, "cannot save the fetched list: {e}");
                summary.failed += 1;
            }
        }
    }
    Ok(summary)
}

/// Fetches a URL list now, whatever its schedule, and reschedules it.
/// The outer error is the database's; the inner one, the fetch's (also
/// recorded on the list).
pub async fn refresh(db: &Db, list: &ListRow) -> Result<Result<Saved, ListError>, sqlx::Error> {
    let now = now_ms();
    store::schedule(db, list.id, now + list.interval_secs * 1000).await?;
    let client = client();
    refresh_with(db, client.as_ref(), list, now).await
}

/// Runs [`fetch_due`] every minute until the runtime stops; errors are
/// logged and the next round goes on.
pub fn spawn_fetcher(db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(FETCHER_PERIOD);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match fetch_due(&db).await {
                Ok(summary) if summary.fetched > 0 => {
                    tracing::info!(
                        fetched = summary.fetched,
                        new_versions = summary.new_versions,
                        failed = summary.failed,
                        "lists fetched"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot fetch the due lists: {e}"),
            }
        }
    })
}

/// Checks an administrator's URL: http or https, with a host.
pub(super) fn check_url(url: &str) -> Result<(), ListError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ListError::BadUrl(format!("« {url} » n'est pas une adresse valide ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ListError::BadUrl(format!(
            "« {url} » : seules les adresses http:// et https:// sont acceptées"
        )));
    }
    Ok(())
}

/// Fetches, checks and saves one list, recording a failure on it.
async fn refresh_with(
    db: &Db,
    client: Result<&reqwest::Client, &String>,
    list: &ListRow,
    now: i64,
) -> Result<Result<Saved, ListError>, sqlx::Error> {
    let outcome = match (client, list.url.as_deref()) {
        (Ok(client), Some(url)) => fetch_and_check(client, list, url).await,
        (Err(e), _) => Err(ListError::Fetch(e.clone())),
        (_, None) => Err(ListError::FetchedList(list.name.clone())),
    };
    match outcome {
        Ok(checked) => Ok(Ok(store::save_version(db, list.id, &checked, now).await?)),
        Err(ListError::Db(e)) => Err(e),
        Err(error) => {
            tracing::warn!(list = %list.name, "list fetch failed: {error}");
            store::record_error(db, list.id, &error.to_string(), now).await?;
            let retry = now + list.interval_secs.min(RETRY_AFTER_FAILURE_SECS) * 1000;
            store::schedule(db, list.id, retry).await?;
            Ok(Err(error))
        }
    }
}

async fn fetch_and_check(
    client: &reqwest::Client,
    list: &ListRow,
    url: &str,
) -> Result<content::Checked, ListError> {
    check_url(url)?;
    let body = download(client, url).await.map_err(ListError::Fetch)?;
    content::check(&list.name, list.kind, body).await
}

/// The body at `url`, at most [`MAX_LIST_BYTES`]; the error says why not,
/// in French.
async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let too_big = || format!("plus de {} Mio", MAX_LIST_BYTES / (1024 * 1024));
    let mut response = client.get(url).send().await.map_err(describe)?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("le serveur a répondu {status}"));
    }
    if response
        .content_length()
        .is_some_and(|length| length > MAX_LIST_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > MAX_LIST_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn describe(error: reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "délai dépassé"
    } else if error.is_connect() {
        "connexion impossible"
    } else if error.is_redirect() {
        "trop de redirections"
    } else {
        "échec du téléchargement"
    };
    // The cause chain says which host and why (DNS, TLS, refused...).
    let mut cause = String::new();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what} ({cause})")
    }
}

/// One client per round: rustls, bounded redirects and time. The error
/// (a TLS setup failure) is recorded on each list.
fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("vigie-observatory/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("client HTTP indisponible : {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https() {
        assert!(check_url("https://iplists.firehol.org/files/firehol_level1.netset").is_ok());
        assert!(check_url("http://127.0.0.1:8080/list.txt").is_ok());
        for bad in [
            "file:///etc/passwd",
            "ftp://example.org/x",
            "example.org/x",
            "https://",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
