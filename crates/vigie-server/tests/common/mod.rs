//! Starts the real server on 127.0.0.1:0 with a fresh database, as the
//! integration tests drive it: a temporary SQLite file, or a fresh database
//! on the PostgreSQL server of `VIGIE_TEST_POSTGRES` (an admin URL such as
//! `postgres://postgres@127.0.0.1/postgres`) when it is set.

#![allow(dead_code, clippy::unwrap_used)] // shared by several test binaries

use std::net::SocketAddr;

use vigie_server::{AppState, Db, ServerSettings};

pub struct TestServer {
    pub url: String,
    pub db: Db,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let url = match std::env::var("VIGIE_TEST_POSTGRES") {
            Ok(admin) => fresh_postgres(&admin).await,
            Err(_) => format!("sqlite://{}", dir.path().join("vigie.db").display()),
        };
        let db = Db::connect(&url).await.unwrap();
        let state = AppState::new(db.clone(), ServerSettings::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, vigie_server::router(state)).await.unwrap();
        });
        TestServer {
            url: format!("http://{addr}"),
            db,
            _dir: dir,
        }
    }

    /// A client that keeps cookies, as a browser would.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

/// Creates an empty database on the PostgreSQL server and returns its URL.
async fn fresh_postgres(admin: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("vigie_test_{}", vigie_server::db::random_hex(6));
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap_or(admin);
    format!("{base}/{name}")
}
