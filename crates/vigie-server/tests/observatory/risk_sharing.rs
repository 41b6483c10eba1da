//! What the territory shares (issue 15, "Sharing"): the public,
//! anonymised page by EPCI and its CSV (off by default; a group of 4
//! communes with data withheld, one of 5 published, no commune named),
//! and the attacking sources for the regional CSIRT as a STIX 2.1 bundle
//! validated against OASIS's JSON schemas, and as CSV (staff only,
//! external addresses only, bounded range).

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::process::Command;

use crate::common;

use common::{TestServer, enrolled_sensor, incident, post_report};
use reqwest::StatusCode;
use serde_json::Value;
use vigie_server::ServerSettings;
use vigie_server::accounts::{self, Role};

/// EPCI 200066587: four of its communes get a sensor (withheld).
const SMALL_EPCI: &str = "200066587";
const SMALL: [(&str, &str); 7] = [
    ("42055", "Châtelus"),
    ("42062", "Chevrières"),
    ("42102", "Grammond"),
    ("42138", "Maringes"),
    ("42216", "Saint-Denis-sur-Coise"),
    ("42335", "Viricelles"),
    ("42336", "Virigneux"),
];
/// EPCI 244200820: five of its communes get a sensor (published).
const LARGE_EPCI: &str = "244200820";
const LARGE: [(&str, &str); 5] = [
    ("42047", "Champoly"),
    ("42061", "Cherier"),
    ("42076", "Cremeaux"),
    ("42116", "Juré"),
    ("42248", "Saint-Just-en-Chevalet"),
];

async fn server(public: bool) -> TestServer {
    let settings = ServerSettings {
        public_territory: public,
        ..ServerSettings::default()
    };
    let server = TestServer::start_with(settings).await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

/// Wednesday of last complete week, at noon UTC, RFC 3339.
fn last_wednesday() -> String {
    let monday = vigie_server::risk::public::last_week(vigie_server::cybermeteo::today());
    let day = monday + chrono::Duration::days(2);
    format!("{day}T12:00:00Z")
}

/// A sensor for `commune` reporting one scan from each of `sources` at `at`.
async fn report(server: &TestServer, commune: &str, at: &str, sources: &[&str]) {
    let sensor = enrolled_sensor(server, commune).await;
    let incidents = sources
        .iter()
        .map(|source| {
            let mut i = incident("scan", "inbound", at);
            i["source"] = Value::from(*source);
            i
        })
        .collect();
    assert_eq!(
        post_report(server, &sensor, 1, at, at, incidents).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_public_page_is_off_by_default() {
    let server = server(false).await;
    for path in ["/public/territoire", "/public/territoire.csv"] {
        let response = reqwest::get(server.at(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_public_page_withholds_groups_under_five_communes() {
    let server = server(true).await;
    let at = last_wednesday();
    for (code, _) in &SMALL[..4] {
        report(&server, code, &at, &["45.155.205.233"]).await;
    }
    for (code, _) in LARGE {
        report(&server, code, &at, &["45.155.205.233", "2a01:4f8::1"]).await;
    }

    let response = reqwest::get(server.at("/public/territoire")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!("EPCI {LARGE_EPCI}")), "{html}");
    assert!(html.contains(&format!("EPCI {SMALL_EPCI}")));
    assert!(
        html.contains("Attaques et météo : données non publiées : moins de 5 communes"),
        "{html}"
    );
    // The five published communes' 10 scans; the withheld four's are in no total.
    assert!(
        html.contains("10 attaques, vues par les capteurs de 5 communes équipées"),
        "{html}"
    );
    assert!(html.contains("10 attaques la semaine"), "{html}");
    assert!(!html.contains("<script"), "no inline script");
    assert!(html.contains("width=device-width"), "usable on a phone");

    let response = reqwest::get(server.at("/public/territoire.csv"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
    let csv = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(csv.contains(";Communes avec capteur;Attaques;Balayage de ports;"));
    let small_row = csv
        .lines()
        .find(|l| l.contains(SMALL_EPCI))
        .unwrap()
        .to_owned();
    assert!(
        small_row
            .contains("capteurs et pré-diagnostics : données non publiées : moins de 5 communes"),
        "{small_row}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(LARGE_EPCI) && l.contains(";5;10;10;")),
        "{csv}"
    );

    // No commune of any group is named, by name or code.
    for (code, name) in SMALL.iter().chain(LARGE.iter()) {
        for text in [&html, &csv] {
            assert!(!text.contains(code), "{code} shown");
            assert!(!text.contains(name), "{name} shown");
        }
    }

    // An anonymous page reads no body.
    let response = reqwest::Client::new()
        .get(server.at("/public/territoire"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn token(server: &TestServer, email: &str, role: Role, commune: Option<&str>) -> String {
    accounts::add_user(&server.db, email, role, commune, common::PASSWORD)
        .await
        .unwrap();
    accounts::create_token(&server.db, email).await.unwrap()
}

async fn get(server: &TestServer, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_csirt_gets_external_sources_as_valid_stix_and_csv() {
    let server = server(false).await;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    report(&server, "42218", &at, &["45.155.205.233", "192.168.1.20"]).await;
    report(
        &server,
        "42095",
        &at,
        &["45.155.205.233", "2a01:4f8::1", "fd00::5"],
    )
    .await;
    let staff = token(&server, "equipe@loire.fr", Role::Operator, None).await;
    let mayor = token(&server, "mairie@firminy.fr", Role::Commune, Some("42095")).await;

    let response = get(&server, &staff, "/api/v1/exports/stix").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/stix+json;version=2.1"
    );
    let text = response.text().await.unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    validate(&text);
    let objects = bundle["objects"].as_array().unwrap();
    let identity = &objects[0];
    assert_eq!(identity["type"], "identity");
    let indicators: Vec<&Value> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .collect();
    assert_eq!(indicators.len(), 2, "only the external addresses: {text}");
    assert_eq!(
        indicators[0]["pattern"],
        "[ipv4-addr:value = '45.155.205.233']"
    );
    assert_eq!(indicators[0]["x_vigie_communes"], 2);
    assert_eq!(indicators[0]["created_by_ref"], identity["id"]);
    assert_eq!(
        indicators[1]["pattern"],
        "[ipv6-addr:value = '2a01:4f8::1']"
    );
    for secret in [
        "192.168.1.20",
        "fd00::5",
        "42218",
        "42095",
        "Saint-Étienne",
        "Firminy",
    ] {
        assert!(!text.contains(secret), "{secret} in the bundle");
    }
    // Stable: the same address keeps its id in a later export.
    let from = vigie_server::cybermeteo::today() - chrono::Duration::days(200);
    let again: Value = get(
        &server,
        &staff,
        &format!("/api/v1/exports/stix?from={from}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["objects"][1]["id"], indicators[0]["id"]);

    let response = get(&server, &staff, "/api/v1/exports/sources.csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}Adresse;Version IP;Catégories;Incidents;"));
    assert!(
        csv.contains("45.155.205.233;IPv4;Balayage de ports (2);2;0;2;"),
        "{csv}"
    );
    assert!(!csv.contains("192.168.1.20") && !csv.contains("fd00::5"));

    for (path, status) in [
        (
            "/api/v1/exports/stix?from=2026-03-10&to=2026-03-01",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/exports/stix?from=2024-01-01&to=2026-01-01",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/exports/sources.csv?from=hier",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let response = get(&server, &staff, path).await;
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("from"), "{body}");
    }
    let response = get(&server, &mayor, "/api/v1/exports/stix").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = reqwest::get(server.at("/api/v1/exports/sources.csv"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// Validates `bundle` against the STIX 2.1 JSON schemas with Python's
/// jsonschema (`stix_validate.py`). Without jsonschema or the schemas the
/// test says why it skips this check, except under CI
/// (`VIGIE_TEST_STIX_REQUIRED`), where it fails.
fn validate(bundle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.json");
    std::fs::write(&path, bundle).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/observatory/stix_validate.py"
    );
    let required = std::env::var_os("VIGIE_TEST_STIX_REQUIRED").is_some();
    let mut missing = Vec::new();
    for python in ["/usr/bin/python3", "python3"] {
        let Ok(output) = Command::new(python).arg(script).arg(&path).output() else {
            missing.push(format!("{python}: not found"));
            continue;
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        match output.status.code() {
            Some(0) => return,
            Some(1) => panic!("the STIX bundle is not valid STIX 2.1:\n{stderr}\n{bundle}"),
            _ => missing.push(format!("{python}: {}", stderr.trim())),
        }
    }
    let why = missing.join("; ");
    assert!(
        !required,
        "the STIX 2.1 schema check could not run ({why}): install python3-jsonschema and set \
         VIGIE_STIX_SCHEMAS to OASIS's STIX 2.1 schemas (.ci/run does both)"
    );
    eprintln!("skipped: the STIX 2.1 schema check ({why})");
}
