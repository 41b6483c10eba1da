//! What the lists' tests share: a server with two communes, the
//! administrator's forms, the sensor's manifest, and a list source on
//! 127.0.0.1, reached as `localhost`: the one host the test server allows
//! on its own machine (issue 14).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::Value;
use vigie_core::lists::ListManifest;
use vigie_server::accounts::Role;

use crate::common::{TestServer, sign_in_as};

pub const A: &str = "42218";
pub const B: &str = "42059";

/// The hosts the lists' test server fetches from although they are on its
/// own machine (`--allow-list-host localhost`).
pub fn allowed() -> Vec<String> {
    vec!["localhost".to_owned()]
}

/// A server with two communes that may fetch from [`allowed`] hosts.
pub async fn server() -> TestServer {
    server_allowing(allowed()).await
}

/// A server with two communes that may fetch from `allowed_hosts` only.
pub async fn server_allowing(allowed_hosts: Vec<String>) -> TestServer {
    let settings = vigie_server::ServerSettings {
        list_fetch_allowed_hosts: allowed_hosts,
        ..vigie_server::ServerSettings::default()
    };
    let server = TestServer::start_with(settings).await;
    for (code, name) in [(A, "Saint-Étienne"), (B, "Chazelles-sur-Lyon")] {
        sqlx::query(
            "INSERT INTO communes (code, name, departement, population) VALUES ($1, $2, '42', 1000)",
        )
        .bind(code)
        .bind(name)
        .execute(&server.db.pool)
        .await
        .unwrap();
    }
    server
}

pub async fn admin(server: &TestServer) -> (reqwest::Client, String) {
    sign_in_as(server, "admin@departement.fr", Role::Admin, None).await
}

/// Posts the upload form; the status and the page's text.
pub async fn upload(
    server: &TestServer,
    (browser, csrf): &(reqwest::Client, String),
    name: &str,
    kind: &str,
    commune: &str,
    content: &str,
) -> (StatusCode, String) {
    let response = browser
        .post(server.at("/listes/depot"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", name),
            ("kind", kind),
            ("commune", commune),
            ("content", content),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Posts the URL form; the status and the page.
pub async fn add_url_page(
    server: &TestServer,
    (browser, csrf): &(reqwest::Client, String),
    name: &str,
    url: &str,
) -> (StatusCode, String) {
    let form = [
        ("csrf", csrf.as_str()),
        ("name", name),
        ("kind", "threat"),
        ("commune", ""),
        ("url", url),
        ("interval_hours", "24"),
    ];
    let response = browser
        .post(server.at("/listes/url"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Posts the URL form; the status.
pub async fn add_url(
    server: &TestServer,
    admin: &(reqwest::Client, String),
    name: &str,
    url: &str,
) -> StatusCode {
    add_url_page(server, admin, name, url).await.0
}

/// The staff's JSON view of list `name`.
pub async fn list(server: &TestServer, browser: &reqwest::Client, name: &str) -> Value {
    let lists: Vec<Value> = browser
        .get(server.at("/api/v1/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    lists.into_iter().find(|l| l["name"] == name).unwrap()
}

pub async fn page(server: &TestServer, browser: &reqwest::Client, path: &str) -> String {
    let response = browser.get(server.at(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

/// The sensor's manifest: status, manifest (on 200) and ETag.
pub async fn manifest(
    server: &TestServer,
    token: &str,
    etag: Option<&str>,
) -> (StatusCode, Option<ListManifest>, Option<String>) {
    let mut request = reqwest::Client::new()
        .get(server.at("/api/v1/sensors/lists"))
        .bearer_auth(token);
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = if status == StatusCode::OK {
        Some(response.json().await.unwrap())
    } else {
        None
    };
    (status, body, etag)
}

pub fn names(manifest: &ListManifest) -> Vec<&str> {
    manifest.lists.iter().map(|l| l.name.as_str()).collect()
}

/// A list source on 127.0.0.1: answers every request with the status,
/// body and redirect currently set, and counts the connections it gets.
pub struct Upstream {
    /// `http://localhost:PORT/firehol_level1.netset`.
    pub url: String,
    pub port: u16,
    answer: Arc<Mutex<Answer>>,
    hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Answer {
    status: u16,
    body: String,
    location: Option<String>,
}

impl Upstream {
    pub fn start(body: &str) -> Upstream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://localhost:{port}/firehol_level1.netset");
        let answer = Arc::new(Mutex::new(Answer {
            status: 200,
            body: body.to_owned(),
            location: None,
        }));
        let hits = Arc::new(AtomicUsize::new(0));
        let (shared, counted) = (answer.clone(), hits.clone());
        std::thread::spawn(move || {
            for mut socket in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let Answer {
                    status,
                    body,
                    location,
                } = shared.lock().unwrap().clone();
                let location = location.map_or_else(String::new, |l| format!("Location: {l}\r\n"));
                let head = format!(
                    "HTTP/1.1 {status} Test\r\nContent-Type: text/plain\r\n{location}\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes());
                let _ = socket.write_all(body.as_bytes());
            }
        });
        Upstream {
            url,
            port,
            answer,
            hits,
        }
    }

    pub fn set(&self, status: u16, body: &str) {
        *self.answer.lock().unwrap() = Answer {
            status,
            body: body.to_owned(),
            location: None,
        };
    }

    /// Answers with a 302 to `location`.
    pub fn redirect(&self, location: &str) {
        *self.answer.lock().unwrap() = Answer {
            status: 302,
            body: String::new(),
            location: Some(location.to_owned()),
        };
    }

    /// Connections received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
