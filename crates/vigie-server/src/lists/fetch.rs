//! Fetches the URL lists: on their schedule ([`fetch_due`], every minute
//! from the `lists.fetch` job, [`crate::jobs`]) or when the administrator asks ([`refresh`]).
//!
//! Only http and https, at most [`super::MAX_LIST_BYTES`], within
//! [`FETCH_TIMEOUT`], and never from this machine or an internal network
//! unless the host is allowed by name ([`super::destination`]). What it
//! must never do: drop the current version because a fetch failed (the
//! error is recorded and shown instead), let one slow or failing source
//! stop the others, or put what a source answered into the error shown
//! (issue 14: it would read the internal network through the list page).

use std::time::Duration;

use reqwest::Url;

use super::content::{self, Origin};
use super::destination::{
    Allowed, CheckedResolver, Refused, SchemeRefused, TooManyRedirects, url_ip,
};
use super::store::{self, ListRow};
use super::{ListError, MAX_LIST_BYTES, Saved};
use crate::db::{Db, now_ms};

/// Longest a whole fetch may take, connection and body included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// After a failure, the next attempt comes after this or the list's
/// interval, whichever is shorter.
pub const RETRY_AFTER_FAILURE_SECS: i64 = 3600;
/// How often the `lists.fetch` job looks for due lists.
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
/// `allowed_hosts` are fetched from even at internal addresses
/// (`ServerSettings::list_fetch_allowed_hosts`).
pub async fn fetch_due(db: &Db, allowed_hosts: &[String]) -> Result<FetchSummary, sqlx::Error> {
    fetch_due_at(db, allowed_hosts, now_ms()).await
}

/// [`fetch_due`] as if it were `now` (Unix milliseconds).
pub async fn fetch_due_at(
    db: &Db,
    allowed_hosts: &[String],
    now: i64,
) -> Result<FetchSummary, sqlx::Error> {
    let due = store::claim_due(db, now).await?;
    let mut summary = FetchSummary::default();
    if due.is_empty() {
        return Ok(summary);
    }
    let allowed = Allowed::new(allowed_hosts);
    let client = client(&allowed);
    for list in &due {
        summary.fetched += 1;
        // One list's trouble (even the database's, such as a list deleted
        // meanwhile) must not cost the others their turn: they are claimed.
        match refresh_with(db, &allowed, client.as_ref(), list, now).await {
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
pub(super) async fn refresh(
    db: &Db,
    allowed_hosts: &[String],
    list: &ListRow,
) -> Result<Result<Saved, ListError>, sqlx::Error> {
    let now = now_ms();
    store::schedule(db, list.id, now + list.interval_secs * 1000).await?;
    let allowed = Allowed::new(allowed_hosts);
    let client = client(&allowed);
    refresh_with(db, &allowed, client.as_ref(), list, now).await
}

/// Checks an administrator's URL without the DNS: http or https, with a
/// host that is not a refused address.
pub(super) fn check_url(url: &str, allowed: &Allowed) -> Result<Url, ListError> {
    let parsed = Url::parse(url)
        .map_err(|e| ListError::BadUrl(format!("« {url} » n'est pas une adresse valide ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ListError::BadUrl(format!(
            "« {url} » : seules les adresses http:// et https:// sont acceptées"
        )));
    }
    allowed.check_literal(&parsed).map_err(ListError::Refused)?;
    Ok(parsed)
}

/// [`check_url`], then the addresses the host name has now, as the
/// administrator saves the URL: a name of the internal network is
/// refused on the form. A name that does not resolve yet is accepted (the
/// fetch will say); it is checked again at each fetch.
pub(super) async fn check_destination(
    url: &str,
    allowed_hosts: &[String],
) -> Result<(), ListError> {
    let allowed = Allowed::new(allowed_hosts);
    let parsed = check_url(url, &allowed)?;
    let host = match parsed.host_str() {
        Some(host) if url_ip(&parsed).is_none() => host,
        _ => return Ok(()),
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, allowed.resolve(host)).await {
        Ok(Err(error)) => match error.downcast::<Refused>() {
            Ok(refused) => Err(ListError::Refused(*refused)),
            Err(_) => Ok(()),
        },
        Ok(Ok(_)) | Err(_) => Ok(()),
    }
}

/// Fetches, checks and saves one list, recording a failure on it.
async fn refresh_with(
    db: &Db,
    allowed: &Allowed,
    client: Result<&reqwest::Client, &String>,
    list: &ListRow,
    now: i64,
) -> Result<Result<Saved, ListError>, sqlx::Error> {
    let outcome = match (client, list.url.as_deref()) {
        (Ok(client), Some(url)) => fetch_and_check(client, allowed, list, url).await,
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
    allowed: &Allowed,
    list: &ListRow,
    url: &str,
) -> Result<content::Checked, ListError> {
    // Checked again: the URL may have been saved before the rules, or the
    // allowed hosts changed since.
    let url = match check_url(url, allowed) {
        Err(ListError::Refused(refused)) => {
            return Err(ListError::Fetch(format!("destination refusée : {refused}")));
        }
        other => other?,
    };
    let body = download(client, url).await.map_err(ListError::Fetch)?;
    content::check(&list.name, list.kind, Origin::Fetched, body).await
}

/// The body at `url`, at most [`MAX_LIST_BYTES`]; the error says why not,
/// in French, and never quotes the answer.
async fn download(client: &reqwest::Client, url: Url) -> Result<Vec<u8>, String> {
    let too_big = || format!("plus de {} Mio", MAX_LIST_BYTES / (1024 * 1024));
    let mut response = client.get(url).send().await.map_err(describe)?;
    let status = response.status();
    if !status.is_success() {
        // The standard reason, not the one the server wrote.
        return Err(format!(
            "le serveur a répondu {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        )
        .trim_end()
        .to_owned());
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

/// A French reason for a failed request: what went wrong, never what the
/// other side sent (a protocol error or a certificate's names would quote
/// it).
fn describe(error: reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        causes.push(inner);
        // An io::Error shows its inner error's source, not the inner error.
        if let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            causes.push(wrapped);
        }
        source = inner.source();
    }
    for cause in &causes {
        // Our own refusals: the resolver's and the redirect policy's.
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return format!("destination refusée : {refused}");
        }
        if let Some(scheme) = cause.downcast_ref::<SchemeRefused>() {
            return format!("destination refusée : {scheme}");
        }
        if cause.downcast_ref::<TooManyRedirects>().is_some() {
            return TooManyRedirects.to_string();
        }
    }
    if error.is_timeout() {
        return "délai dépassé".to_owned();
    }
    if error.is_connect() {
        return connect_failure(&causes).to_owned();
    }
    if error.is_redirect() {
        "redirection refusée".to_owned()
    } else if error.is_body() || error.is_decode() {
        "réponse illisible".to_owned()
    } else {
        "échec du téléchargement".to_owned()
    }
}

fn connect_failure(causes: &[&(dyn std::error::Error + 'static)]) -> &'static str {
    use std::io::ErrorKind;
    for cause in causes {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(_) => {
                    "connexion impossible (certificat du serveur refusé)"
                }
                _ => "connexion impossible (échec TLS)",
            };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return "connexion impossible (refusée)",
                ErrorKind::TimedOut => return "connexion impossible (délai dépassé)",
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    return "connexion impossible (serveur injoignable)";
                }
                _ => {}
            }
        }
        // hyper-util's resolver failure.
        if cause.to_string().starts_with("dns error") {
            return "connexion impossible (nom introuvable)";
        }
    }
    "connexion impossible"
}

/// One client per round: rustls, no proxy (the checked addresses must be
/// the ones connected to), checked names and redirects, bounded time. The
/// error (a TLS setup failure) is recorded on each list.
fn client(allowed: &Allowed) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(CheckedResolver(allowed.clone())))
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(allowed.redirect_policy())
        .user_agent(concat!("vigie-observatory/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("client HTTP indisponible : {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https() {
        let none = Allowed::default();
        let check_url = |url| check_url(url, &none);
        assert!(check_url("https://iplists.firehol.org/files/firehol_level1.netset").is_ok());
        assert!(check_url("http://9.9.9.9:8080/list.txt").is_ok());
        assert!(check_url("http://192.0.2.1:8080/list.txt").is_err());
        assert!(check_url("http://127.0.0.1:8080/list.txt").is_err());
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
