//! Starts the real server on 127.0.0.1:0 with a fresh database, as the
//! integration tests drive it: a temporary SQLite file, or a fresh database
//! on the PostgreSQL server of `VIGIE_TEST_POSTGRES` (an admin URL such as
//! `postgres://postgres@127.0.0.1/postgres`) when it is set.

#![allow(dead_code, clippy::unwrap_used)] // not every helper serves every run

use std::net::SocketAddr;

use vigie_server::{AppState, Db, ServerSettings};

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub db: Db,
    /// The database's URL, for a second replica on it.
    pub database_url: String,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database made for this test: (admin URL, name).
    postgres: Option<(String, String)>,
}

impl Drop for TestServer {
    /// Drops the test's PostgreSQL database, so that runs leave nothing
    /// behind on a shared server. Done on a thread of its own: `drop` cannot
    /// await, and the test's runtime may be shutting down.
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

impl TestServer {
    /// The server with the default settings, as `vigie serve` runs it.
    pub async fn start() -> TestServer {
        TestServer::start_with(ServerSettings::default()).await
    }

    /// The server with `settings` (small limits for the hardening tests),
    /// served by the observatory's own server loop.
    pub async fn start_with(settings: ServerSettings) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let (url, postgres) = match std::env::var("VIGIE_TEST_POSTGRES") {
            Ok(admin) => {
                let (url, name) = fresh_postgres(&admin).await;
                (url, Some((admin, name)))
            }
            Err(_) => (
                format!("sqlite://{}", dir.path().join("vigie.db").display()),
                None,
            ),
        };
        let db = Db::connect(&url).await.unwrap();
        let state = AppState::new(db.clone(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            vigie_server::serve(state, listener, None).await.unwrap();
        });
        TestServer {
            url: format!("http://{addr}"),
            addr,
            db,
            database_url: url,
            _dir: dir,
            postgres,
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

/// Creates an empty database on the PostgreSQL server: its URL and name.
async fn fresh_postgres(admin: &str) -> (String, String) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("vigie_test_{}", vigie_server::db::random_hex(6));
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(admin);
    (format!("{base}/{name}"), name)
}

/// Posts the sign-in form from `client`, as a browser would.
pub async fn post_sign_in(
    client: &reqwest::Client,
    server: &TestServer,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(server.at("/connexion"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// A user of the given role, created through the accounts module, signed
/// in through the login form like a browser. Returns the browser (holding
/// the session cookie) and the session's CSRF token for forms.
pub async fn sign_in_as(
    server: &TestServer,
    email: &str,
    role: vigie_server::accounts::Role,
    commune: Option<&str>,
) -> (reqwest::Client, String) {
    vigie_server::accounts::add_user(&server.db, email, role, commune, PASSWORD)
        .await
        .unwrap();
    sign_in_again(server, email).await
}

/// The password of the users `sign_in_as` creates.
pub const PASSWORD: &str = "un mot de passe de test assez long";

/// A new session for a user `sign_in_as` created: the browser and the
/// session's CSRF token.
pub async fn sign_in_again(server: &TestServer, email: &str) -> (reqwest::Client, String) {
    let browser = server.browser();
    let response = browser
        .post(server.at("/connexion"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::SEE_OTHER,
        "sign-in of {email}"
    );
    let html = browser
        .get(server.at("/compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..start + 64].to_owned();
    (browser, csrf)
}

/// A sensor for `commune`, enrolled through the API: its bearer token.
pub async fn enrolled_sensor(server: &TestServer, commune: &str) -> String {
    let sensor = vigie_server::sensors::add_sensor(&server.db, commune)
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(server.at("/api/v1/sensors/enroll"))
        .json(&serde_json::json!({ "code": sensor.code }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// An incident of `category` starting at `at` (RFC 3339).
pub fn incident(category: &str, direction: &str, at: &str) -> serde_json::Value {
    let rule = match category {
        "web_exploit" => "web.sqli_union".to_owned(),
        "suspicious_dns" => "dns.dga".to_owned(),
        other => format!("{other}.test"),
    };
    serde_json::json!({
        "category": category, "rule": rule, "label": null, "severity": "medium",
        "source": "203.0.113.7", "direction": direction, "target_port": 22, "service": "ssh",
        "first_seen": at, "last_seen": at, "events": 3
    })
}

/// Posts a report batch holding `incidents`, covering `first`..`last`.
pub async fn post_report(
    server: &TestServer,
    token: &str,
    seq: u64,
    first: &str,
    last: &str,
    incidents: Vec<serde_json::Value>,
) -> reqwest::StatusCode {
    let report = serde_json::json!({
        "schema": "vigie.report/1", "seq": seq, "packets": 1000, "bytes": 100000, "malformed": 0,
        "first_seen": first, "last_seen": last, "incidents": incidents, "daily": []
    });
    reqwest::Client::new()
        .post(server.at("/api/v1/reports"))
        .bearer_auth(token)
        .json(&report)
        .send()
        .await
        .unwrap()
        .status()
}

/// A commune row, for a test that needs one without loading the territory.
pub async fn commune(db: &Db, code: &str, name: &str) {
    sqlx::query(
        "INSERT INTO communes (code, name, departement, population) VALUES ($1, $2, '42', 1000) \
         ON CONFLICT (code) DO NOTHING",
    )
    .bind(code)
    .bind(name)
    .execute(&db.pool)
    .await
    .unwrap();
}

/// Posts `body` as JSON to `path` with a bearer token, as a sensor or the
/// probe does: the status and the answer (as JSON, else as a string).
pub async fn post_as_machine(
    server: &TestServer,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(server.at(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}
