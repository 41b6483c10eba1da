//! The network probe's scans at the observatory, over HTTP: an operator's
//! upload stored once (a retry finds the same scan), a commune user may not
//! upload and sees only its own commune's scans, the history shows the
//! trend from one scan to the next, and a bad document is refused with the
//! field named and nothing stored.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use chrono::{DateTime, Utc};
use common::{TestServer, post_as_machine, sign_in_as};
use reqwest::StatusCode;
use serde_json::Value;
use vigie_core::probe::{
    Finding, Host, HostPort, PROBE_SCHEMA, ProbeReport, ScopeSummary, TopFinding, Transport,
    severity_of,
};
use vigie_server::ServerSettings;
use vigie_server::accounts::{self, Role};

const OWN: &str = "42218"; // Saint-Étienne, the commune user's
const OTHER: &str = "42095"; // Firminy

/// The observatory of a territory that named itself for its documents.
async fn server() -> TestServer {
    let documents = vigie_docs::Engine::new(
        vigie_docs::Branding {
            territory_name: "Département de la Loire".to_owned(),
            ..vigie_docs::Branding::default()
        },
        None,
    )
    .unwrap();
    let server = TestServer::start_with(ServerSettings {
        documents,
        ..ServerSettings::default()
    })
    .await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

/// A personal API token for a new user of `role`.
async fn token(server: &TestServer, email: &str, role: Role, commune: Option<&str>) -> String {
    accounts::add_user(
        &server.db,
        email,
        role,
        commune,
        "un mot de passe assez long",
    )
    .await
    .unwrap();
    accounts::create_token(&server.db, email).await.unwrap()
}

/// A scan of `commune` starting at `started` with `critical` critical
/// findings (SMBv1 on as many machines) and one medium one.
pub(crate) fn scan(commune: &str, started: &str, critical: usize) -> ProbeReport {
    let started: DateTime<Utc> = started.parse().unwrap();
    let finding = |id: &str, title: &str, cvss: f32, host: String, port: u16| Finding {
        id: id.to_owned(),
        host: host.parse().unwrap(),
        port: Some(port),
        transport: Some(Transport::Tcp),
        cvss,
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned(),
        severity: severity_of(cvss),
        cves: vec![],
        title: title.to_owned(),
        impact: "Un rançongiciel peut chiffrer les fichiers de la mairie.".to_owned(),
        recommendation: "Désactiver SMBv1 sur le serveur.".to_owned(),
        evidence: "dialecte NT LM 0.12 accepté".to_owned(),
    };
    let mut findings: Vec<Finding> = (0..critical)
        .map(|i| {
            finding(
                "smb.v1",
                "Partage de fichiers en SMBv1",
                9.8,
                format!("192.168.1.{}", 10 + i),
                445,
            )
        })
        .collect();
    findings.push(finding(
        "tls.self_signed",
        "Certificat auto-signé",
        5.3,
        "192.168.1.1".to_owned(),
        443,
    ));
    let mut top = Vec::new();
    if critical > 0 {
        top.push(TopFinding {
            id: "smb.v1".to_owned(),
            title: "Partage de fichiers en SMBv1".to_owned(),
            cvss: 9.8,
            severity: severity_of(9.8),
            recommendation: "Désactiver SMBv1 sur le serveur.".to_owned(),
            hosts: findings
                .iter()
                .filter(|f| f.id == "smb.v1")
                .map(|f| HostPort {
                    host: f.host,
                    port: f.port,
                })
                .collect(),
        });
    }
    top.push(TopFinding {
        id: "tls.self_signed".to_owned(),
        title: "Certificat auto-signé".to_owned(),
        cvss: 5.3,
        severity: severity_of(5.3),
        recommendation: "Installer un certificat d'une autorité reconnue.".to_owned(),
        hosts: vec![HostPort {
            host: "192.168.1.1".parse().unwrap(),
            port: Some(443),
        }],
    });
    ProbeReport {
        schema: PROBE_SCHEMA.to_owned(),
        commune: Some(commune.to_owned()),
        started_at: started,
        finished_at: started + chrono::Duration::minutes(95),
        lab: false,
        interrupted: false,
        scope: ScopeSummary {
            networks: vec!["192.168.1.0/24".to_owned()],
            excluded: vec![],
            intensity: "polite".to_owned(),
        },
        hosts: vec![Host {
            address: "192.168.1.1".parse().unwrap(),
            names: vec!["box".to_owned()],
            os: None,
            services: vec![],
        }],
        findings,
        top,
    }
}

/// Posts `body` with a bearer token: the status and the JSON answer.
async fn post(server: &TestServer, token: &str, body: Vec<u8>) -> (StatusCode, Value) {
    post_as_machine(server, "/api/v1/probes", token, body).await
}

async fn upload(server: &TestServer, token: &str, report: &ProbeReport) -> (StatusCode, Value) {
    post(server, token, serde_json::to_vec(report).unwrap()).await
}

async fn runs(server: &TestServer) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM probe_runs")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

#[tokio::test]
async fn an_operator_upload_is_stored_once() {
    let server = server().await;
    let operator = token(&server, "operateur@prestataire.fr", Role::Operator, None).await;
    let report = scan(OWN, "2025-03-12T08:14:00Z", 2);
    let (status, first) = upload(&server, &operator, &report).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "stored");
    let id = first["id"].as_i64().unwrap();
    assert_eq!(first["page"], format!("/sondes/{id}"));
    // The same document again, as a retry would send it: the same scan.
    let (status, again) = upload(&server, &operator, &report).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["status"].as_str(), again["id"].as_i64()),
        (Some("duplicate"), Some(id))
    );
    // And through the probe's own upload client.
    let url = server.url.clone();
    let answer = tokio::task::spawn_blocking(move || {
        vigie_probe::upload::upload(
            &url,
            &operator,
            &report,
            &vigie_probe::upload::Trust::PublicRoots,
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!((answer.status.as_str(), answer.id), ("duplicate", id));
    assert_eq!(answer.page, format!("{}/sondes/{id}", server.url));
    assert_eq!(runs(&server).await, 1);
    // An administrator may upload too; a stranger may not.
    let admin = token(&server, "admin@loire.fr", Role::Admin, None).await;
    let (status, _) = upload(&server, &admin, &scan(OWN, "2025-04-01T08:00:00Z", 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = upload(
        &server,
        "vgt_unknown",
        &scan(OWN, "2025-05-01T08:00:00Z", 1),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(runs(&server).await, 2);
}

#[tokio::test]
async fn a_session_upload_needs_the_csrf_token() {
    let server = server().await;
    let (browser, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let body = serde_json::to_vec(&scan(OWN, "2025-03-12T08:14:00Z", 1)).unwrap();
    let send = |csrf: Option<&str>| {
        let mut request = browser
            .post(server.at("/api/v1/probes"))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    assert_eq!(send(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(runs(&server).await, 0);
    assert_eq!(
        send(Some(&csrf)).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(runs(&server).await, 1);
}

#[tokio::test]
async fn a_commune_user_cannot_upload_and_sees_only_its_own_scans() {
    let server = server().await;
    let operator = token(&server, "operateur@prestataire.fr", Role::Operator, None).await;
    let mayor = token(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let (status, answer) = upload(&server, &mayor, &scan(OWN, "2025-03-12T08:14:00Z", 1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(runs(&server).await, 0);

    let (_, own) = upload(&server, &operator, &scan(OWN, "2025-03-12T08:14:00Z", 1)).await;
    let (_, other) = upload(&server, &operator, &scan(OTHER, "2025-03-13T08:14:00Z", 3)).await;
    let (own, other) = (own["id"].as_i64().unwrap(), other["id"].as_i64().unwrap());
    let (browser, _) = sign_in_as(
        &server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await;
    let get = |path: String| browser.get(server.at(&path)).send();
    let status = |path: String| async { get(path).await.unwrap().status() };

    let history = get(format!("/communes/{OWN}/sonde")).await.unwrap();
    assert_eq!(history.status(), StatusCode::OK);
    let history = history.text().await.unwrap();
    assert!(
        history.contains("Partage de fichiers en SMBv1"),
        "{history}"
    );
    assert!(history.contains(&format!("/sondes/{own}")));
    let page = get(format!("/sondes/{own}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Les 10 vulnérabilités les plus critiques"));
    assert!(page.contains("Désactiver SMBv1 sur le serveur."));
    // The observatory knows the commune's name: the report is titled with it.
    assert!(
        page.contains("<h1>Rapport de la sonde réseau — Saint-Étienne (42218)</h1>"),
        "{page}"
    );
    assert!(!page.contains("commune 42218"), "{page}");
    let pdf = get(format!("/sondes/{own}.pdf")).await.unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = vigie_docs::read_back::pdf_text(&pdf) {
        for words in [
            "Département de la Loire",
            "Rapport de la sonde réseau — Saint-Étienne (42218)",
            "Désactiver SMBv1 sur le serveur.",
        ] {
            assert!(text.contains(words), "{words:?} missing from {text}");
        }
        assert!(!text.contains("commune 42218"), "{text}");
    }

    // Another commune's scans: the 404 of a page that does not exist.
    assert_eq!(
        status(format!("/communes/{OTHER}/sonde")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(format!("/sondes/{other}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(format!("/sondes/{other}.pdf")).await,
        StatusCode::NOT_FOUND
    );
    let leaked = get(format!("/sondes/{other}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let missing = get("/sondes/999999".to_owned())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(leaked, missing);
    assert_eq!(
        status("/sondes/abc".to_owned()).await,
        StatusCode::NOT_FOUND
    );
    // The staff see both.
    let (staff, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    for path in [
        format!("/communes/{OTHER}/sonde"),
        format!("/sondes/{other}.pdf"),
    ] {
        let response = staff.get(server.at(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_history_shows_the_trend_and_the_commune_page_the_last_scan() {
    let server = server().await;
    let operator = token(&server, "operateur@prestataire.fr", Role::Operator, None).await;
    let (browser, _) =
        sign_in_as(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let commune = browser
        .get(server.at(&format!("/communes/{OWN}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(commune.contains("Aucun scan de la sonde réseau pour l'instant."));

    let (status, _) = upload(&server, &operator, &scan(OWN, "2025-03-12T08:14:00Z", 5)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = upload(&server, &operator, &scan(OWN, "2025-06-10T07:30:00Z", 2)).await;
    assert_eq!(status, StatusCode::CREATED);
    let history = browser
        .get(server.at(&format!("/communes/{OWN}/sonde")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let newer = history.find("10/06/2025 à 09:30").unwrap();
    let trend = history.find("3 vulnérabilités critiques de moins").unwrap();
    let older = history.rfind("12/03/2025 à 09:14").unwrap();
    let first = history.find("premier scan").unwrap();
    assert!(newer < trend && trend < older && older < first, "{history}");
    // The latest scan's top ten: two machines with SMBv1.
    assert!(
        history.contains("192.168.1.10:445, 192.168.1.11:445</td>"),
        "{history}"
    );

    let commune = browser
        .get(server.at(&format!("/communes/{OWN}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        commune.contains(
            "Dernier scan le 10/06/2025 à 09:30 : 2 critiques, 0 élevée, 1 moyenne, 0 faible."
        ),
        "{commune}"
    );
    assert!(commune.contains(&format!("href=\"/communes/{OWN}/sonde\"")));
}

#[tokio::test]
async fn bad_documents_are_refused_with_the_field_named() {
    let server = server().await;
    let operator = token(&server, "operateur@prestataire.fr", Role::Operator, None).await;
    let good = serde_json::to_value(scan(OWN, "2025-03-12T08:14:00Z", 2)).unwrap();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut document = good.clone();
        change(&mut document);
        serde_json::to_vec(&document).unwrap()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            with(&|d| d["findings"][1]["cvss"] = 12.0.into()),
            "findings[1]",
        ),
        (
            with(&|d| d["hosts"][0]["address"] = "pas-une-adresse".into()),
            "hosts[0].address",
        ),
        (with(&|d| d["schema"] = "vigie.probe/2".into()), "schema"),
        (with(&|d| d["commune"] = Value::Null), "commune"),
        (with(&|d| d["commune"] = "99999".into()), "commune"),
        (
            with(&|d| d["started_at"] = "2030-01-01T00:00:00Z".into()),
            "started_at",
        ),
        (
            with(&|d| d["finished_at"] = "2999-01-01T00:00:00Z".into()),
            "finished_at",
        ),
        (
            with(&|d| {
                let top = d["top"][0].clone();
                d["top"] = Value::Array(vec![top; 11]);
            }),
            "top",
        ),
        (
            with(&|d| d["findings"][0]["severity"] = "grave".into()),
            "findings[0].severity",
        ),
        (b"{ pas du json".to_vec(), "illisible"),
    ];
    for (body, field) in cases {
        let (status, answer) = post(&server, &operator, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(field), "{field}: {message}");
    }
    assert_eq!(runs(&server).await, 0);
}
