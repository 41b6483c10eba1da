//! Phishing-awareness campaigns end to end (issue 11): a campaign created
//! through the API, its mails received by a real SMTP server on loopback
//! (aiosmtpd), a target played as a browser would (the image, the link,
//! the form with a password), a mail scanner's fetch set aside, the
//! figures, who may see them, and the purge, down to the database files.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_server::accounts::Role;
use vigie_server::outbox;
use vigie_server::{ServerSettings, phishing};

use crate::common::{TestServer, sign_in_as};
use crate::mail::{free_port, python, relay, start_sink};

const PASSWORD_TYPED: &str = "Mot-De-Passe-Tape-Pendant-L-Exercice-42";
const TARGETS: [&str; 3] = [
    "secretariat.mairie@feurs-test.fr",
    "maire.adjoint@feurs-test.fr",
    "agent.accueil@feurs-test.fr",
];

/// A browser's headers: people's browsers always name their language.
pub(crate) fn as_browser(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        )
        .header("accept-language", "fr-FR,fr;q=0.9")
}

async fn started_campaign(
    server: &TestServer,
    admin: &reqwest::Client,
    csrf: &str,
) -> (String, Value) {
    let today = vigie_core::local_day(chrono::Utc::now());
    let csv = format!(
        "email;prenom;role\r\n{};Anne;agent\r\n{};Bruno;élu\r\n{};;agent\r\n",
        TARGETS[0], TARGETS[1], TARGETS[2]
    );
    let response = admin
        .post(server.at("/api/v1/campaigns"))
        .header("x-csrf-token", csrf)
        .json(&json!({
            "commune": "42094",
            "scenarios": ["remboursement-impots", "colis-douane"],
            "targets_csv": csv,
            "start": today.to_string(),
            "end": (today + chrono::Duration::days(20)).to_string(),
        }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let figures = figures(server, admin, &id).await;
    (id, figures)
}

async fn figures(server: &TestServer, client: &reqwest::Client, id: &str) -> Value {
    let response = client
        .get(server.at(&format!("/api/v1/campaigns/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The token in a mail's link (`/c/TOKEN`).
fn token_in(text: &str) -> String {
    let start = text
        .find("/c/")
        .unwrap_or_else(|| panic!("no tracking link: {text}"))
        + 3;
    text[start..start + 32].to_owned()
}

/// Every text the database holds, table by table (SQLite or PostgreSQL).
async fn database_text(server: &TestServer) -> String {
    use sqlx::Row;
    let tables: Vec<String> = if server.database_url.starts_with("sqlite") {
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&server.db.pool)
            .await
            .unwrap()
    } else {
        sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(&server.db.pool)
        .await
        .unwrap()
    };
    let mut all = String::new();
    // The migrations' own table holds only their names and checksums.
    for table in tables.into_iter().filter(|t| !t.starts_with("_sqlx")) {
        let sql = if server.database_url.starts_with("sqlite") {
            format!("SELECT * FROM \"{table}\"")
        } else {
            format!("SELECT row_to_json(t)::text FROM \"{table}\" t")
        };
        for row in sqlx::query(&sql).fetch_all(&server.db.pool).await.unwrap() {
            for index in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(index) {
                    all.push_str(&text);
                    all.push('\n');
                }
            }
        }
    }
    all
}

/// The SQLite database's files (main file, log, shared memory), as bytes.
fn sqlite_files(server: &TestServer) -> Vec<(String, Vec<u8>)> {
    let path = server
        .database_url
        .trim_start_matches("sqlite://")
        .to_owned();
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| {
            let file = format!("{path}{suffix}");
            std::fs::read(&file).ok().map(|bytes| (file, bytes))
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Every log line of this test binary from the first call on, at INFO
/// (one line per request) and above: a global subscriber, since the
/// server's tasks may run on any thread. The other tests' lines land here
/// too; none of them types this test's password.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn logs() -> &'static Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish(),
        )
        .unwrap();
        logs
    })
}

#[tokio::test]
async fn issue_11_a_campaign_from_sending_to_purge() {
    let Some(python) = python() else {
        return;
    };
    let logs = logs();
    let port = free_port();
    let sink = start_sink(python, port);
    let settings = ServerSettings {
        campaigns: phishing::CampaignSettings {
            sender_domain: "exercice.loire-test.fr".to_owned(),
            // Short, so the test can be a person after it has passed.
            scanner_window_seconds: 2,
            ..phishing::CampaignSettings::default()
        },
        ..ServerSettings::default()
    };
    let server = TestServer::start_with(settings).await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (id, before) = started_campaign(&server, &admin, &csrf).await;
    assert_eq!(before["status"], "scheduled", "{before}");
    assert_eq!(before["targets"], 3);
    assert_eq!(before["sent"], 0);
    assert_eq!(before["purged_at"], Value::Null);

    // The relay sends when the plan says: at the last planned instant, all
    // are due, and it is a sending time by construction.
    let last: i64 = sqlx::query_scalar("SELECT MAX(send_at) FROM campaign_targets")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let summary = outbox::send_due(&server.db, &relay(port), last)
        .await
        .unwrap();
    assert_eq!(summary.sent, 3, "{summary:?}");
    let mails = sink.received();
    assert_eq!(mails.len(), 3);
    for mail in &mails {
        assert!(
            mail["from"]
                .as_str()
                .unwrap()
                .contains("@exercice.loire-test.fr"),
            "{mail}"
        );
        let text = mail["text"].as_str().unwrap();
        let html = mail["html"].as_str().unwrap();
        assert!(text.contains("/c/") && html.contains("/o/"), "{mail}");
        assert!(!html.contains("[[") && !html.contains("{{"), "{html}");
    }
    let anne = mails
        .iter()
        .find(|m| m["to"].as_str().unwrap().contains(TARGETS[0]))
        .unwrap();
    assert!(anne["text"].as_str().unwrap().contains("Anne"), "{anne}");
    let token = token_in(anne["text"].as_str().unwrap());
    // Sent, the mail is not kept: neither the first name it greeted nor
    // the clear token it carried (only the token's hash).
    let stored = database_text(&server).await;
    assert!(
        !stored.contains("Anne") && !stored.contains("Bruno"),
        "a first name kept"
    );
    assert!(!stored.contains(&token), "a clear token kept");

    // The mail scanner: a HEAD, then a browser-like fetch at once.
    let anonymous = server.browser();
    let head = anonymous
        .head(server.at(&format!("/c/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let early = as_browser(anonymous.get(server.at(&format!("/c/{token}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    // The person: the image, the link, the form with a password.
    let image = as_browser(anonymous.get(server.at(&format!("/o/{token}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/gif");
    let landing = as_browser(anonymous.get(server.at(&format!("/c/{token}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(landing.status(), StatusCode::OK);
    assert_eq!(landing.headers()["referrer-policy"], "no-referrer");
    let page = landing.text().await.unwrap();
    assert!(page.contains("<form") && page.contains(&format!("/c/{token}")));
    for tag in ["<input", "<select", "<textarea", "<button"] {
        for (at, _) in page.match_indices(tag) {
            let element = &page[at..at + page[at..].find('>').unwrap()];
            assert!(!element.contains("name="), "a field with a name: {element}");
        }
    }
    let submitted = as_browser(anonymous.post(server.at(&format!("/c/{token}"))))
        .form(&[("password", PASSWORD_TYPED), ("login", TARGETS[0])])
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let awareness = as_browser(anonymous.get(server.at(&format!("/c/{token}/exercice"))))
        .send()
        .await
        .unwrap();
    assert_eq!(awareness.status(), StatusCode::OK);
    let awareness = awareness.text().await.unwrap();
    assert!(awareness.contains("exercice"), "{awareness}");
    assert!(
        awareness.contains("<mark"),
        "the clues are shown on the mail"
    );

    // A token that does not exist is a 404, as any unknown link.
    let unknown = anonymous
        .get(server.at(&format!("/c/{}", "0".repeat(32))))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let after = figures(&server, &admin, &id).await;
    assert_eq!(after["status"], "running", "{after}");
    assert_eq!(after["sent"], 3, "{after}");
    assert_eq!(after["opened"], 1, "{after}");
    assert_eq!(after["clicked"], 1, "{after}");
    assert_eq!(after["submitted"], 1, "{after}");
    assert_eq!(after["scanner_clicks"], 2, "{after}");
    assert_eq!(after["by_role"]["agent"]["clicked"], 1, "{after}");

    // Only the address and the first times with their counts: never what
    // was typed, in any table, file or log line; no browser in the logs.
    let logged = logs.text();
    assert!(
        logged.contains("/c/{token}"),
        "the requests are logged: {logged}"
    );
    assert!(!logged.contains(PASSWORD_TYPED), "the password in the logs");
    assert!(!logged.contains("Firefox"), "a user agent in the logs");
    assert!(!logged.contains(&token), "a token in the logs");
    assert!(!database_text(&server).await.contains(PASSWORD_TYPED));
    for (file, bytes) in sqlite_files(&server) {
        assert!(!contains(&bytes, PASSWORD_TYPED), "{file}");
    }

    // Who may see it: the commune's users, the staff; nobody else.
    let (own, _) = sign_in_as(&server, "mairie@feurs.fr", Role::Commune, Some("42094")).await;
    assert_eq!(figures(&server, &own, &id).await["clicked"], 1);
    let (other, _) = sign_in_as(&server, "mairie@boen.fr", Role::Commune, Some("42019")).await;
    let refused = other
        .get(server.at(&format!("/api/v1/campaigns/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let page = own
        .get(server.at(&format!("/campagnes/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("seront effacés le"), "{page}");

    // The deliverable, as a PDF and as a page: figures, meaning, the three
    // things to do; never a name.
    let pdf = own
        .get(server.at(&format!("/campaigns/{id}/results.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    if let Some(text) = vigie_docs::read_back::pdf_text(&pdf) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [
            "Résultats de la campagne",
            "Feurs",
            "est passé",
            "Les trois choses à faire maintenant",
            "1 personne a saisi un mot de passe",
            "seront effacés le",
        ] {
            assert!(flat.contains(expected), "{expected} not in:\n{flat}");
        }
        assert!(
            !flat.contains("Anne") && !flat.contains(TARGETS[0]),
            "{flat}"
        );
    }
    let results = own
        .get(server.at(&format!("/campagnes/{id}/resultats")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        results.contains("Les trois choses à faire maintenant"),
        "{results}"
    );
    assert!(
        results.contains("33\u{202f}%"),
        "one person in three clicked: {results}"
    );

    // Before the purge the addresses are there, in a table and the files
    // (so the checks below can fail).
    assert!(database_text(&server).await.contains(TARGETS[0]));
    let files = sqlite_files(&server);
    assert!(
        files.is_empty() || files.iter().any(|(_, bytes)| contains(bytes, TARGETS[0])),
        "the SQLite files hold the addresses before the purge"
    );

    // The purge: the figures stay, no address is left anywhere.
    let purged = admin
        .post(server.at(&format!("/api/v1/campaigns/{id}/purge")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(purged.status(), StatusCode::OK);
    let kept = figures(&server, &admin, &id).await;
    assert_eq!(kept["status"], "purged");
    assert!(kept["purged_at"].is_string(), "{kept}");
    assert_eq!(kept["clicked"], 1, "{kept}");
    assert_eq!(kept["scanner_clicks"], 2, "{kept}");
    let text = database_text(&server).await;
    for address in TARGETS {
        assert!(!text.contains(address), "{address} left in a table");
        for (file, bytes) in sqlite_files(&server) {
            assert!(!contains(&bytes, address), "{address} left in {file}");
        }
    }
    assert!(!text.contains("Bruno"), "a first name left in a table");
    let gone = as_browser(anonymous.get(server.at(&format!("/c/{token}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let page = own
        .get(server.at(&format!("/campagnes/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ont été effacés le"), "{page}");
}

#[tokio::test]
async fn issue_11_a_bad_targets_file_names_its_lines_and_stores_nothing() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let today = vigie_core::local_day(chrono::Utc::now());
    let response = admin
        .post(server.at("/api/v1/campaigns"))
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "commune": "42094",
            "scenarios": ["colis-douane"],
            "targets_csv": "email,prenom,role\nbon@mairie-test.fr,Anne,agent\npas-une-adresse,Luc,agent\nautre@mairie-test.fr,Léa,maire\n",
            "start": today.to_string(),
            "end": (today + chrono::Duration::days(10)).to_string(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("ligne 3") && message.contains("ligne 4"),
        "{message}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(queued, 0);
    // The staff's form, with the file a spreadsheet saved: the bad line is
    // named on the form, what was chosen stays chosen, nothing is stored.
    let form = |file: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("commune", "42094")
            .text("scenario", "colis-douane")
            .text("targets", "")
            .text("role", "agent")
            .text("start", today.to_string())
            .text("end", (today + chrono::Duration::days(10)).to_string())
            .text("rate", "")
            .part(
                "targets_file",
                reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("agents.csv"),
            )
    };
    let page = admin
        .post(server.at("/campagnes"))
        .multipart(form(
            "\u{feff}email;prenom;role\r\nbon@mairie-test.fr;Anne;agent\r\nmauvaise adresse;Luc;agent\r\n",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("ligne 3") && page.contains("n'est pas créée"),
        "{page}"
    );
    assert!(page.contains("value=\"colis-douane\" checked"), "{page}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let created = admin
        .post(server.at("/campagnes"))
        .multipart(form(
            "\u{feff}email;prenom;role\r\nbon@mairie-test.fr;Anne;agent\r\nmaire@mairie-test.fr;;élu\r\n",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let page = admin
        .get(server.at(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Programmée") && page.contains("Feurs"),
        "{page}"
    );

    let scenarios: Value = admin
        .get(server.at("/api/v1/scenarios"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(scenarios.as_array().unwrap().len() >= 6, "{scenarios}");
    assert!(scenarios[0]["title"].is_string());
}

/// The next Saturday at 10:00 Paris after today, in Unix ms.
fn next_saturday_morning() -> i64 {
    use chrono::{Datelike, TimeZone};
    let mut day = vigie_core::local_day(chrono::Utc::now()) + chrono::Duration::days(1);
    while day.weekday() != chrono::Weekday::Sat {
        day += chrono::Duration::days(1);
    }
    vigie_core::LOCAL_TZ
        .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .timestamp_millis()
}

/// An RSA key (PKCS#1 PEM) and its DNS record, from openssl; None (a skip,
/// except in CI) without it.
fn dkim_key(dir: &std::path::Path) -> Option<(std::path::PathBuf, String)> {
    use std::process::Command;
    let key = dir.join("dkim.pem");
    let made = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key)
        .arg("2048")
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("VIGIE_TEST_SMTP_REQUIRED").is_none(),
            "openssl is required to make a DKIM key"
        );
        eprintln!("skipped: no openssl to make a DKIM key");
        return None;
    }
    let public = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl rsa -in '{}' -pubout -outform DER 2>/dev/null | openssl base64 -A",
            key.display()
        ))
        .output()
        .unwrap();
    let p = String::from_utf8(public.stdout).unwrap();
    assert!(p.len() > 300, "public key: {p}");
    Some((key, format!("v=DKIM1; k=rsa; p={}", p.trim())))
}

#[tokio::test]
async fn issue_11_mails_leave_in_working_hours_only_and_signed() {
    let Some(python) = python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some((key, record)) = dkim_key(dir.path()) else {
        return;
    };
    let port = free_port();
    let sink = start_sink(python, port);
    let server = TestServer::start_with(ServerSettings {
        campaigns: phishing::CampaignSettings {
            sender_domain: "vigie.invalid".to_owned(),
            ..phishing::CampaignSettings::default()
        },
        ..ServerSettings::default()
    })
    .await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (_, _) = started_campaign(&server, &admin, &csrf).await;
    let relay = relay(port)
        .for_campaigns(
            phishing::schedule::Calendar::France,
            Some(&phishing::settings::Dkim {
                domain: "vigie.invalid".to_owned(),
                selector: "vigie".to_owned(),
                private_key_file: key,
            }),
        )
        .unwrap();

    // A Saturday: due or not, nothing leaves; the mails wait for Monday 8 h.
    let saturday = next_saturday_morning();
    let summary = outbox::send_due(&server.db, &relay, saturday)
        .await
        .unwrap();
    assert_eq!(summary.sent, 0, "{summary:?}");
    assert!(sink.received().is_empty());
    let next = phishing::schedule::next_sending_time(
        chrono::DateTime::from_timestamp_millis(saturday).unwrap(),
        phishing::schedule::Calendar::France,
    )
    .timestamp_millis();
    let waiting: Vec<i64> =
        sqlx::query_scalar("SELECT next_attempt_at FROM outbox WHERE campaign_id IS NOT NULL")
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(waiting, vec![next; 3], "the next working day at 8 h");
    let summary = outbox::send_due(&server.db, &relay, next).await.unwrap();
    assert_eq!(summary.sent, 3, "{summary:?}");

    // Signed for the sender's domain, and the signature verifies against
    // the published key (dkimpy, as a receiving server would).
    for mail in sink.received() {
        let raw = mail["raw"].as_str().unwrap();
        assert!(raw.contains("DKIM-Signature:"), "{raw}");
        let checked = std::process::Command::new(python)
            .args([
                "-c",
                "import dkim, sys\n\
                 raw = sys.stdin.buffer.read()\n\
                 record = sys.argv[1].encode()\n\
                 ok = dkim.verify(raw, dnsfunc=lambda name, timeout=5: record)\n\
                 sys.exit(0 if ok else 1)",
                &record,
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(&raw.chars().map(|c| c as u8).collect::<Vec<u8>>())?;
                child.wait()
            });
        match checked {
            Ok(status) if status.code() == Some(0) => {}
            Ok(_) => panic!("the DKIM signature does not verify:\n{raw}"),
            Err(e) => panic!("cannot run dkimpy: {e}"),
        }
    }
}

/// Issue 10 meets issue 11: a high click rate in the commune's last
/// exercise ranks its awareness shortcomings higher, and says why.
#[tokio::test]
async fn issue_10_a_high_click_rate_ranks_the_awareness_shortcomings() {
    use vigie_server::audits::questionnaire::Exposure;
    let settings = ServerSettings {
        campaigns: phishing::CampaignSettings {
            scanner_window_seconds: 0,
            ..phishing::CampaignSettings::default()
        },
        ..ServerSettings::default()
    };
    let server = TestServer::start_with(settings).await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let created: Value = admin
        .post(server.at("/api/v1/communes/42094/audits"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let audit = created["id"].as_str().unwrap().to_owned();
    // Only the questions a phishing exercise speaks to, answered « non ».
    let book = vigie_server::audits::Book::built_in().unwrap();
    let mut answers = serde_json::Map::new();
    for (_, question) in book.questions() {
        if question.exposure == Some(Exposure::Phishing) && question.is_scored() {
            answers.insert(question.id.clone(), json!("no"));
        }
    }
    assert!(answers.len() >= 2, "{answers:?}");
    let saved = admin
        .put(server.at(&format!("/api/v1/audits/{audit}/answers")))
        .header("x-csrf-token", &csrf)
        .json(&answers)
        .send()
        .await
        .unwrap();
    assert_eq!(
        saved.status(),
        StatusCode::OK,
        "{}",
        saved.text().await.unwrap()
    );
    let because = |top: &Value| -> Vec<String> {
        top["top"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["because"].as_str().map(str::to_owned))
            .collect()
    };
    let before: Value = admin
        .get(server.at(&format!("/api/v1/audits/{audit}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !because(&before).iter().any(|b| b.contains("hameçonnage")),
        "{before}"
    );

    // An exercise where one person in three clicks.
    let (id, _) = started_campaign(&server, &admin, &csrf).await;
    let last: i64 = sqlx::query_scalar("SELECT MAX(send_at) FROM campaign_targets")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let port = free_port();
    let Some(python) = python() else {
        return;
    };
    let sink = start_sink(python, port);
    outbox::send_due(&server.db, &relay(port), last)
        .await
        .unwrap();
    let token = token_in(sink.received()[0]["text"].as_str().unwrap());
    let clicked = as_browser(server.browser().get(server.at(&format!("/c/{token}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);
    assert_eq!(figures(&server, &admin, &id).await["clicked"], 1);

    let after: Value = admin
        .get(server.at(&format!("/api/v1/audits/{audit}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reasons = because(&after);
    assert!(
        reasons
            .iter()
            .any(|b| b.contains("exercice d'hameçonnage") && b.contains("1 sur 3 personnes")),
        "{after}"
    );
}
