//! What every handler receives: the database and the settings. Nothing
//! here is mutable: every replica sharing a PostgreSQL database behaves the
//! same, whichever one a request reaches.

use std::sync::Arc;

use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<ServerSettings>,
}

/// Server settings, with their defaults in `Default`.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// Mark cookies `Secure` (served behind HTTPS). Off for a loopback demo.
    pub secure_cookies: bool,
    /// A sensor that has not reported for this long is "silent".
    pub silent_after_secs: i64,
    /// How long a session lasts without activity.
    pub session_hours: i64,
    /// Failed sign-ins per e-mail address allowed in `login_window_secs`.
    pub login_max_failures: i64,
    pub login_window_secs: i64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            secure_cookies: false,
            silent_after_secs: 3600,
            session_hours: 12,
            login_max_failures: 5,
            login_window_secs: 900,
        }
    }
}

impl AppState {
    pub fn new(db: Db, settings: ServerSettings) -> Self {
        AppState {
            db,
            settings: Arc::new(settings),
        }
    }
}
