//! What every handler receives: the database and the settings. Nothing
//! here is mutable: every replica sharing a PostgreSQL database behaves the
//! same, whichever one a request reaches.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::RwLock;

use crate::AppError;
use crate::db::Db;
use crate::territory::MapGeometry;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<ServerSettings>,
    /// Report batches being parsed and stored at once: one per core. A
    /// batch is up to 8 MiB of JSON; without a bound, a few sensors
    /// catching up at once would take every core from the pages.
    pub ingest_permits: Arc<tokio::sync::Semaphore>,
    /// Documents being laid out at once: one per core. A large report
    /// takes a second and hundreds of megabytes; without a bound, a few
    /// people printing at once would take every core from the pages.
    render_permits: Arc<tokio::sync::Semaphore>,
    /// The projected map, derived from the communes table and kept with
    /// the territory's revision it came from: every replica rebuilds its
    /// own when an import changes the territory.
    map: Arc<RwLock<Option<CachedMap>>>,
    /// The phishing exercises' events not yet written, and the tokens
    /// seen (issue 11): the one state kept in memory, written to the
    /// database within a second and before any figure is read.
    pub tracker: Arc<crate::phishing::Tracker>,
    /// The public page's figures (issue 15), computed at most once every
    /// ten minutes: the page is anonymous and reads the whole territory.
    pub public_figures: Arc<crate::risk::public::Cache>,
    /// The territory list as a box fetches it whole, written once per
    /// change of the list (issue 16).
    pub defence_snapshot: Arc<crate::defence::SnapshotCache>,
}

/// A projected map and the territory revision it was projected from.
type CachedMap = (i64, Arc<MapGeometry>);

/// Server settings, with their defaults in `Default`.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// Mark cookies `Secure` (served behind HTTPS). Off for a loopback demo.
    pub secure_cookies: bool,
    /// A sensor that has not reported for this long is "silent".
    pub silent_after_secs: i64,
    /// How long a session lasts without activity.
    pub session_hours: i64,
    /// Sign-in attempts allowed for one account from one client in
    /// `login_window_secs` (see `accounts::limit`).
    pub login_max_failures: i64,
    pub login_window_secs: i64,
    /// Sign-in attempts allowed from one client, whatever the account.
    pub login_max_per_client: i64,
    /// Attempts on one account from anywhere before each further one must
    /// wait (1 s, then doubling).
    pub login_account_free: i64,
    /// The longest such wait: what a stranger can make the owner wait.
    pub login_max_backoff_secs: i64,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    /// They carry many clients: no per-client connection cap applies to
    /// them (the flood limits still count each forwarded client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Host names a threat list may be fetched from even when they resolve
    /// to an internal address (a territory's own mirror); exact names.
    pub list_fetch_allowed_hosts: Vec<String>,
    /// What one connection, and one client, may hold (issue 14).
    pub connections: ConnectionLimits,
    /// The request rates anonymous clients get (issue 14).
    pub flood: FloodLimits,
    /// The observatory's address as people reach it, without a final
    /// `/`: every link sent starts with it (issue 9).
    pub public_url: String,
    /// The relay e-mails leave through; none: they stay queued.
    pub smtp: Option<crate::config::Smtp>,
    /// How long records are kept (the retention job).
    pub retention: crate::config::Retention,
    /// The document engine, with the territory's branding and templates.
    pub documents: vigie_docs::Engine,
    /// The pre-audit's questionnaires and costs (issue 10).
    pub questionnaires: Arc<crate::audits::Book>,
    /// The phishing scenarios, built-in and the territory's (issue 11).
    pub scenarios: Arc<crate::phishing::scenarios::Library>,
    /// The offers agreements are made of, built-in and the territory's
    /// (issue 12).
    pub offers: Arc<crate::agreements::Catalogue>,
    /// The risk map's rule (`data/risk.toml` or `risk_file`).
    pub risk: Arc<crate::risk::Rules>,
    /// The campaigns' settings (issue 11).
    pub campaigns: crate::phishing::CampaignSettings,
    /// The programme's reminders (issue 12).
    pub agreements: crate::agreements::AgreementSettings,
    /// The territory list's rules (issue 16).
    pub defence: crate::defence::DefenceSettings,
    /// Serve the territory's public, anonymised page (`/public/territoire`,
    /// issue 15); off: 404.
    pub public_territory: bool,
}

/// What the server loop ([`crate::serve`]) allows connections; defaults
/// in `Default`. A connection beyond a cap is accepted and closed at once.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once, all clients together (lowered at start
    /// to stay below the process's open-file limit).
    pub max_connections: usize,
    /// Connections open at once from one client address (an IPv6 client by
    /// its /64); 0 = no cap. Trusted proxies are never capped.
    pub per_client: usize,
    /// Time a client gets to send a request's headers, counted from the
    /// connection's start or the end of the previous answer: it also
    /// closes idle HTTP/1.1 keep-alive connections.
    pub header_read_timeout: Duration,
    /// An HTTP/2 connection with no request in flight for this long is
    /// closed (HTTP/1.1 is closed by `header_read_timeout` first).
    pub idle_timeout: Duration,
    /// Time for a whole request, its body and the handler's answer: beyond
    /// it the client gets 408.
    pub request_timeout: Duration,
    /// Time a client gets to finish its TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// After Ctrl-C or SIGTERM, how long open connections get to finish.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 4096,
            per_client: 64,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            // A box on a slow municipal uplink sends up to 8 MiB, a probe
            // up to 32 MiB; a PDF report takes seconds to lay out.
            request_timeout: Duration::from_secs(120),
            tls_handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Token buckets per client (`ClientAddr`), kept in this process only: a
/// coarse flood limit, not the sign-in counters (those are in the
/// database). Requests made in-process, without a connection, are not
/// counted.
#[derive(Clone, Debug)]
pub struct FloodLimits {
    /// Guesses a client may make at once: enrolment codes, sign-in forms
    /// posted, requests whose bearer token was refused.
    pub guess_burst: u32,
    /// Then one more guess every this long.
    pub guess_every: Duration,
    /// Requests without a bearer token a client may make at once (pages,
    /// static files, the sign-in form).
    pub anonymous_burst: u32,
    /// Then one more every this long.
    pub anonymous_every: Duration,
    /// Clients remembered; beyond, the oldest are forgotten, so memory
    /// does not grow with the number of attacking addresses.
    pub clients: usize,
}

impl Default for FloodLimits {
    fn default() -> Self {
        FloodLimits {
            guess_burst: 20,
            guess_every: Duration::from_secs(3),
            anonymous_burst: 600,
            anonymous_every: Duration::from_millis(10),
            clients: 65_536,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            secure_cookies: false,
            silent_after_secs: 3600,
            session_hours: 12,
            login_max_failures: 5,
            login_window_secs: 900,
            login_max_per_client: 30,
            login_account_free: 10,
            login_max_backoff_secs: 60,
            trusted_proxies: Vec::new(),
            list_fetch_allowed_hosts: Vec::new(),
            connections: ConnectionLimits::default(),
            flood: FloodLimits::default(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            smtp: None,
            retention: crate::config::Retention::default(),
            documents: vigie_docs::Engine::built_in(),
            // The built-in files are checked by a test: never empty.
            questionnaires: Arc::new(crate::audits::Book::built_in().unwrap_or_default()),
            // The same for the scenarios.
            scenarios: Arc::new(crate::phishing::scenarios::Library::builtin().unwrap_or_default()),
            // And for the offers.
            offers: Arc::new(crate::agreements::Catalogue::built_in().unwrap_or_default()),
            risk: Arc::new(crate::risk::Rules::built_in().unwrap_or_default()),
            campaigns: crate::phishing::CampaignSettings::default(),
            agreements: crate::agreements::AgreementSettings::default(),
            defence: crate::defence::DefenceSettings::default(),
            public_territory: false,
        }
    }
}

impl AppState {
    pub fn new(db: Db, settings: ServerSettings) -> Self {
        AppState {
            db,
            settings: Arc::new(settings),
            ingest_permits: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, usize::from),
            )),
            render_permits: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, usize::from),
            )),
            map: Arc::default(),
            tracker: Arc::default(),
            public_figures: Arc::default(),
            defence_snapshot: Arc::default(),
        }
    }

    /// Renders `template` with `data` through the document engine, off the
    /// async threads and at most one per core at a time.
    pub async fn render_pdf<T: serde::Serialize + Send + 'static>(
        &self,
        template: &'static str,
        data: T,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<u8>, AppError> {
        let documents = self.settings.documents.clone();
        self.render_with(move || documents.pdf(template, &data, at))
            .await
    }

    /// Runs a document job (`job` lays out a PDF) off the async threads,
    /// at most one per core at a time.
    pub async fn render_with(
        &self,
        job: impl FnOnce() -> Result<Vec<u8>, vigie_docs::DocError> + Send + 'static,
    ) -> Result<Vec<u8>, AppError> {
        let _permit = self
            .render_permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(format!("render permits: {e}")))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| AppError::Internal(format!("document task: {e}")))?
            .map_err(|e| AppError::Internal(format!("document: {e}")))
    }

    /// The territory's map geometry, projected once per revision of the
    /// territory.
    pub async fn map_geometry(&self) -> Result<Arc<MapGeometry>, AppError> {
        let fingerprint = crate::territory::revision(&self.db).await?;
        if let Some((known, geometry)) = self.map.read().await.as_ref()
            && *known == fingerprint
        {
            return Ok(geometry.clone());
        }
        let geometry = Arc::new(
            crate::territory::map_geometry(&self.db)
                .await
                .map_err(|e| AppError::Internal(format!("map geometry: {e}")))?,
        );
        *self.map.write().await = Some((fingerprint, geometry.clone()));
        Ok(geometry)
    }
}
