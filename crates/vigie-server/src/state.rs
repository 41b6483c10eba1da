//! What every handler receives: the database and the settings. Nothing
//! here is mutable: every replica sharing a PostgreSQL database behaves the
//! same, whichever one a request reaches.

use std::sync::Arc;

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
    /// The projected map, derived from the communes table and kept with
    /// the territory's revision it came from: every replica rebuilds its
    /// own when an import changes the territory.
    map: Arc<RwLock<Option<CachedMap>>>,
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
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Host names a threat list may be fetched from even when they resolve
    /// to an internal address (a territory's own mirror); exact names.
    pub list_fetch_allowed_hosts: Vec<String>,
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
            map: Arc::default(),
        }
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
