//! Who may see what, route by route and role by role: a commune never sees
//! another commune's details; the staff see everything; the journal is the
//! administrator's; nothing but the sign-in page is open to strangers.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use common::{TestServer, enrolled_sensor, sign_in_as};
use reqwest::StatusCode;
use vigie_server::accounts::{self, Role};

const OWN: &str = "42218"; // Saint-Étienne, the commune user's
const OTHER: &str = "42095"; // Firminy

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    Admin,
    Operator,
    Commune,
}

/// What each role gets on a route: (anonymous, admin, operator, commune).
type Row = (&'static str, [u16; 4]);

fn matrix(own_sensor: &str, other_sensor: &str, scans: (&str, &str)) -> Vec<(String, [u16; 4])> {
    let pages: [Row; 22] = [
        ("/", [303, 200, 200, 200]),
        ("/carte", [303, 200, 200, 200]),
        ("/territoire", [303, 200, 200, 200]),
        ("/compte", [303, 200, 200, 200]),
        ("/communes/OWN", [303, 200, 200, 200]),
        ("/communes/OTHER", [303, 200, 200, 404]),
        ("/communes/99999", [303, 404, 404, 404]),
        ("/capteurs", [303, 200, 200, 200]),
        ("/capteurs/OWN_SENSOR", [303, 200, 200, 200]),
        ("/capteurs/OTHER_SENSOR", [303, 200, 200, 404]),
        ("/capteurs/OTHER_SENSOR/attestation", [303, 200, 200, 404]),
        ("/journal", [303, 200, 403, 403]),
        ("/comptes", [303, 200, 403, 403]),
        ("/tableau-de-bord", [303, 200, 200, 403]),
        ("/export/meteo.csv", [303, 200, 200, 200]),
        ("/export/meteo.geojson", [303, 200, 200, 200]),
        ("/communes/OWN/sonde", [303, 200, 200, 200]),
        ("/communes/OTHER/sonde", [303, 200, 200, 404]),
        ("/communes/99999/sonde", [303, 404, 404, 404]),
        ("/sondes/OWN_SCAN", [303, 200, 200, 200]),
        ("/sondes/OTHER_SCAN", [303, 200, 200, 404]),
        ("/sondes/OTHER_SCAN.pdf", [303, 200, 200, 404]),
    ];
    let api: [Row; 8] = [
        ("/api/v1/me", [401, 200, 200, 200]),
        ("/api/v1/weather", [401, 200, 200, 200]),
        ("/api/v1/communes", [401, 200, 200, 200]),
        ("/api/v1/communes/OWN/days", [401, 200, 200, 200]),
        ("/api/v1/communes/OTHER/days", [401, 200, 200, 404]),
        ("/api/v1/communes/OWN/incidents", [401, 200, 200, 200]),
        ("/api/v1/communes/OTHER/incidents", [401, 200, 200, 404]),
        ("/connexion", [200, 200, 200, 200]),
    ];
    pages
        .iter()
        .chain(api.iter())
        .map(|(path, expected)| {
            let path = path
                .replace("OWN_SENSOR", own_sensor)
                .replace("OTHER_SENSOR", other_sensor)
                .replace("OWN_SCAN", scans.0)
                .replace("OTHER_SCAN", scans.1)
                .replace("OWN", OWN)
                .replace("OTHER", OTHER);
            (path, *expected)
        })
        .collect()
}

async fn sensor_id(server: &TestServer, commune: &str) -> String {
    use sqlx::Row;
    enrolled_sensor(server, commune).await;
    let row = sqlx::query("SELECT id FROM sensors WHERE commune = $1")
        .bind(commune)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    row.try_get(0).unwrap()
}

/// A network probe scan of `commune`, stored directly: its id.
async fn scan_id(server: &TestServer, commune: &str) -> String {
    let report: vigie_core::probe::ProbeReport = serde_json::from_value(serde_json::json!({
        "schema": "vigie.probe/1", "commune": commune,
        "started_at": "2025-03-12T08:14:00Z", "finished_at": "2025-03-12T09:14:00Z",
        "lab": false, "interrupted": false,
        "scope": { "networks": ["192.168.1.0/24"], "excluded": [], "intensity": "polite" },
        "hosts": [], "findings": [], "top": []
    }))
    .unwrap();
    let stored = vigie_server::probes::store(&server.db, &report, None, 0)
        .await
        .unwrap();
    stored.id.to_string()
}

#[tokio::test]
async fn every_route_for_every_role() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (own_sensor, other_sensor) = (
        sensor_id(&server, OWN).await,
        sensor_id(&server, OTHER).await,
    );
    let browsers = [
        (Who::Anonymous, server.browser()),
        (
            Who::Admin,
            sign_in_as(&server, "admin@loire.fr", Role::Admin, None)
                .await
                .0,
        ),
        (
            Who::Operator,
            sign_in_as(&server, "operateur@prestataire.fr", Role::Operator, None)
                .await
                .0,
        ),
        (
            Who::Commune,
            sign_in_as(
                &server,
                "secretariat@saint-etienne.fr",
                Role::Commune,
                Some(OWN),
            )
            .await
            .0,
        ),
    ];
    let mut failures = Vec::new();
    let scans = (scan_id(&server, OWN).await, scan_id(&server, OTHER).await);
    for (path, expected) in matrix(&own_sensor, &other_sensor, (&scans.0, &scans.1)) {
        for (column, (who, browser)) in browsers.iter().enumerate() {
            let status = browser.get(server.at(&path)).send().await.unwrap().status();
            if status.as_u16() != expected[column] {
                failures.push(format!(
                    "{who:?} GET {path}: {status}, expected {}",
                    expected[column]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn api_tokens_carry_the_same_rights() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    accounts::add_user(
        &server.db,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
        "un mot de passe assez long",
    )
    .await
    .unwrap();
    let token = accounts::create_token(&server.db, "secretariat@saint-etienne.fr")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let get = |path: String| client.get(server.at(&path)).bearer_auth(&token).send();
    assert_eq!(
        get(format!("/api/v1/communes/{OWN}/days"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(format!("/api/v1/communes/{OTHER}/days"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(format!("/api/v1/communes/{OTHER}/incidents"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/api/v1/weather".into()).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_commune_page_of_another_commune_leaks_nothing() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (mayor, _) = sign_in_as(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let other = mayor
        .get(server.at(&format!("/communes/{OTHER}")))
        .send()
        .await
        .unwrap();
    let missing = mayor
        .get(server.at("/communes/99999"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (other.status(), missing.status()),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    // The same answer as for a commune that does not exist: no existence leak.
    assert_eq!(other.text().await.unwrap(), missing.text().await.unwrap());
}

#[tokio::test]
async fn a_commune_exports_only_its_own_weather() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (mayor, _) = sign_in_as(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let csv = mayor
        .get(server.at("/export/meteo.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 90, "90 days of one commune");
    assert!(rows.iter().all(|row| row.contains(";42218;")), "{csv}");
    let geojson: serde_json::Value = mayor
        .get(server.at("/export/meteo.geojson"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let features = geojson["features"].as_array().unwrap();
    assert_eq!(features.len(), 1);
    assert_eq!(features[0]["properties"]["code"], OWN);
    assert_eq!(features[0]["geometry"]["type"], "MultiPolygon");

    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let geojson: serde_json::Value = admin
        .get(server.at("/export/meteo.geojson"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(geojson["features"].as_array().unwrap().len(), 320);
    let bad = admin
        .get(server.at("/export/meteo.csv?from=2026-01-01&to=2020-01-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
