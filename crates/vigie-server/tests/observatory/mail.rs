//! The outbox against a real SMTP server on loopback (Python's aiosmtpd,
//! `smtp_sink.py`, started by each test on a port of its own): messages
//! arrive with both bodies and the right headers; a relay that is down is
//! retried later; a crash between the relay's acceptance and the record
//! sends the message again with the same Message-ID; a silent sensor tells
//! the staff once, and again when it comes back (issue 9).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use sqlx::Row;
use vigie_server::accounts::{self, Role};
use vigie_server::config::{Smtp, SmtpSecurity};
use vigie_server::db::now_ms;
use vigie_server::outbox::{self, Email, Relay};
use vigie_server::sensors::alerts;

use crate::common::{TestServer, commune, sign_in_as};

const PUBLIC_URL: &str = "https://observatoire.example.fr";

/// The aiosmtpd sink: its process and the directory it writes to.
pub(crate) struct Sink {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python with aiosmtpd (Debian's python3-aiosmtpd first), or None: the
/// tests then skip, except in CI (`VIGIE_TEST_SMTP_REQUIRED`).
pub(crate) fn python() -> Option<&'static str> {
    let found = ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("VIGIE_TEST_SMTP_REQUIRED").is_none(),
            "aiosmtpd is required (apt-get install python3-aiosmtpd)"
        );
        eprintln!("skipped: no Python with aiosmtpd (apt-get install python3-aiosmtpd)");
    }
    found
}

/// A free port on loopback (nothing listens on it once returned).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn start_sink(python: &str, port: u16) -> Sink {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/observatory/smtp_sink.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
    Sink { child, dir }
}

impl Sink {
    /// The messages received so far, in order.
    pub(crate) fn received(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
            .collect()
    }
}

pub(crate) fn relay(port: u16) -> Relay {
    Relay::new(&Smtp {
        host: "127.0.0.1".to_owned(),
        port,
        security: SmtpSecurity::None,
        from: "Observatoire <noreply@example.fr>".to_owned(),
        ..Smtp::default()
    })
    .unwrap()
}

/// Writes one e-mail as a cause would, in a transaction; its Message-ID.
async fn write_one(server: &TestServer, to: &str) -> String {
    let email = Email {
        kind: "test",
        recipient: to.to_owned(),
        subject: "Essai de l'observatoire : ça marche".to_owned(),
        text: "Texte brut, accentué : été.".to_owned(),
        html: "<p>Texte <strong>HTML</strong>, accentué : été.</p>".to_owned(),
    };
    let mut tx = server.db.pool.begin().await.unwrap();
    let id = outbox::enqueue(&mut tx, &email, PUBLIC_URL, now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn status_of(server: &TestServer, message_id: &str) -> (String, i64) {
    let row = sqlx::query("SELECT status, attempts FROM outbox WHERE message_id = $1")
        .bind(message_id)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    (row.get("status"), row.get("attempts"))
}

#[tokio::test]
async fn a_message_arrives_with_both_bodies_and_its_headers() {
    let Some(python) = python() else { return };
    let server = TestServer::start().await;
    let port = free_port();
    let sink = start_sink(python, port);
    let message_id = write_one(&server, "maire@commune.example.fr").await;
    assert!(
        message_id.ends_with("@observatoire.example.fr>"),
        "{message_id}"
    );

    let summary = outbox::send_due(&server.db, &relay(port), now_ms())
        .await
        .unwrap();
    assert_eq!(summary.sent, 1, "{summary:?}");
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail["rcpt_tos"][0], "maire@commune.example.fr");
    assert_eq!(mail["mail_from"], "noreply@example.fr");
    assert_eq!(mail["subject"], "Essai de l'observatoire : ça marche");
    assert_eq!(mail["from"], "Observatoire <noreply@example.fr>");
    assert_eq!(mail["message_id"], message_id.as_str());
    assert_eq!(mail["content_type"], "multipart/alternative");
    assert_eq!(
        mail["text"].as_str().unwrap().trim(),
        "Texte brut, accentué : été."
    );
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .contains("<strong>HTML</strong>")
    );
    assert_eq!(
        status_of(&server, &message_id).await,
        ("sent".to_owned(), 1)
    );

    // Sent once: the next round has nothing to do.
    let again = outbox::send_due(&server.db, &relay(port), now_ms() + 3_600_000)
        .await
        .unwrap();
    assert_eq!(again, outbox::SendSummary::default());
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_relay_down_is_retried_later() {
    let Some(python) = python() else { return };
    let server = TestServer::start().await;
    let port = free_port();
    let message_id = write_one(&server, "operateur@example.fr").await;
    let now = now_ms();

    // Nothing listens yet: the attempt fails and the message waits.
    let summary = outbox::send_due(&server.db, &relay(port), now)
        .await
        .unwrap();
    assert_eq!(summary.retried, 1, "{summary:?}");
    assert_eq!(
        status_of(&server, &message_id).await,
        ("queued".to_owned(), 1)
    );

    let sink = start_sink(python, port);
    // Not before its backoff...
    let early = outbox::send_due(&server.db, &relay(port), now + 1000)
        .await
        .unwrap();
    assert_eq!(early, outbox::SendSummary::default());
    assert!(sink.received().is_empty());
    // ...then delivered.
    let later = now + outbox::FIRST_RETRY_SECS * 1000 + 1;
    let summary = outbox::send_due(&server.db, &relay(port), later)
        .await
        .unwrap();
    assert_eq!(summary.sent, 1, "{summary:?}");
    assert_eq!(sink.received().len(), 1);
    assert_eq!(sink.received()[0]["message_id"], message_id.as_str());
    assert_eq!(
        status_of(&server, &message_id).await,
        ("sent".to_owned(), 2)
    );
}

#[tokio::test]
async fn a_crash_after_acceptance_sends_again_with_the_same_message_id() {
    let Some(python) = python() else { return };
    let server = TestServer::start().await;
    let port = free_port();
    let sink = start_sink(python, port);
    let message_id = write_one(&server, "admin@example.fr").await;
    let now = now_ms();

    // The relay accepts it; the process "dies" before the record.
    outbox::send_due_then_crash(&server.db, &relay(port), now)
        .await
        .unwrap();
    assert_eq!(sink.received().len(), 1);
    assert_eq!(
        status_of(&server, &message_id).await,
        ("queued".to_owned(), 1)
    );

    // Another worker, while the dead one's lease holds: nothing.
    let held = outbox::send_due(&server.db, &relay(port), now + 1000)
        .await
        .unwrap();
    assert_eq!(held, outbox::SendSummary::default());
    // Once it has ended: sent again, recognisably the same message.
    let later = now + 10 * 60 * 1000;
    let summary = outbox::send_due(&server.db, &relay(port), later)
        .await
        .unwrap();
    assert_eq!(summary.sent, 1, "{summary:?}");
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0]["message_id"], received[1]["message_id"]);
    assert_eq!(received[1]["message_id"], message_id.as_str());
    assert_eq!(
        status_of(&server, &message_id).await,
        ("sent".to_owned(), 2)
    );
}

#[tokio::test]
async fn a_silent_sensor_tells_the_staff_once_and_its_return_too() {
    let Some(python) = python() else { return };
    let server = TestServer::start().await;
    let db = &server.db;
    commune(db, "42218", "Saint-Étienne").await;
    const PASSWORD: &str = "un mot de passe de test assez long";
    accounts::add_user(db, "admin@example.fr", Role::Admin, None, PASSWORD)
        .await
        .unwrap();
    accounts::add_user(db, "operateur@example.fr", Role::Operator, None, PASSWORD)
        .await
        .unwrap();
    accounts::add_user(
        db,
        "mairie@example.fr",
        Role::Commune,
        Some("42218"),
        PASSWORD,
    )
    .await
    .unwrap();
    let now = now_ms();
    let hour = 3_600_000;
    sqlx::query(
        "INSERT INTO sensors (id, commune, created_at, installed_at, last_report_at)
         VALUES ('cap-0a1b2c3d', '42218', $1, $1, $2)",
    )
    .bind(now - 48 * hour)
    .bind(now - 2 * hour)
    .execute(&db.pool)
    .await
    .unwrap();

    // Silent for two hours, threshold one hour: one e-mail per staff member.
    let first = alerts::check(db, now, 3600, PUBLIC_URL).await.unwrap();
    assert_eq!((first.silent, first.emails), (1, 2), "{first:?}");
    // The next check (or another replica's) announces nothing more.
    let second = alerts::check(db, now + 60_000, 3600, PUBLIC_URL)
        .await
        .unwrap();
    assert_eq!(second, alerts::AlertSummary::default());

    // It comes back.
    sqlx::query("UPDATE sensors SET last_report_at = $1 WHERE id = 'cap-0a1b2c3d'")
        .bind(now + 120_000)
        .execute(&db.pool)
        .await
        .unwrap();
    let back = alerts::check(db, now + 180_000, 3600, PUBLIC_URL)
        .await
        .unwrap();
    assert_eq!((back.back, back.emails), (1, 2), "{back:?}");
    let quiet = alerts::check(db, now + 240_000, 3600, PUBLIC_URL)
        .await
        .unwrap();
    assert_eq!(quiet, alerts::AlertSummary::default());

    let port = free_port();
    let sink = start_sink(python, port);
    // The return's e-mails were written at the test's "now + 3 min".
    let summary = outbox::send_due(db, &relay(port), now + 300_000)
        .await
        .unwrap();
    assert_eq!(summary.sent, 4, "{summary:?}");
    let received = sink.received();
    let mut recipients: Vec<&str> = received
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap())
        .collect();
    recipients.sort_unstable();
    assert_eq!(
        recipients,
        [
            "admin@example.fr",
            "admin@example.fr",
            "operateur@example.fr",
            "operateur@example.fr"
        ]
    );
    let silent = received
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .contains("ne donne plus de nouvelles")
        })
        .unwrap();
    let text = silent["text"].as_str().unwrap();
    assert!(
        text.contains("Le boîtier cap-0a1b2c3d de Saint-Étienne ne donne plus de nouvelles depuis"),
        "{text}"
    );
    assert!(text.contains("Que faire"), "{text}");
    let link = "https://observatoire.example.fr/capteurs/cap-0a1b2c3d";
    assert!(text.contains(link), "{text}");
    assert!(
        silent["html"]
            .as_str()
            .unwrap()
            .contains(&format!("href=\"{link}\""))
    );
    assert!(received.iter().any(|m| {
        m["subject"]
            .as_str()
            .unwrap()
            .contains("donne de nouveau des nouvelles")
    }));
}

#[tokio::test]
async fn the_staff_page_says_when_no_relay_is_configured() {
    let server = TestServer::start().await;
    write_one(&server, "admin@example.fr").await;
    let (browser, _) = sign_in_as(&server, "op@example.fr", Role::Operator, None).await;
    let page = browser.get(server.at("/courriels")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Aucun relais SMTP n'est configuré"), "{html}");
    assert!(html.contains("en attente"), "{html}");
    commune(&server.db, "42218", "Saint-Étienne").await;
    let (mayor, _) = sign_in_as(&server, "m@example.fr", Role::Commune, Some("42218")).await;
    let refused = mayor.get(server.at("/courriels")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let anonymous = server
        .browser()
        .get(server.at("/courriels"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
}
