//! A live sensor's heartbeat over HTTP, as a box sends it and a browser
//! reads it: stored and shown in plain French on the sensor's page, the
//! next one replacing it, a bad one refused with the field named and
//! nothing changed, a revoked sensor refused, another commune's user kept
//! out, and a heartbeat counted as a sign of life (but never as data).

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestServer, commune, post_as_machine};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;
use vigie_server::accounts::Role;
use vigie_server::sensors::{self, SensorState};
use vigie_server::territory::CommuneCode;

/// Numbers as the pages write them: thousands apart by a narrow space.
const NNBSP: &str = "\u{202f}";

/// A server with Saint-Étienne (42218) and Chazelles (42059), and a sensor
/// enrolled in Saint-Étienne: its id and token.
async fn setup() -> (TestServer, String, String) {
    let server = TestServer::start().await;
    commune(&server.db, "42218", "Saint-Étienne").await;
    commune(&server.db, "42059", "Chazelles-sur-Lyon").await;
    let token = common::enrolled_sensor(&server, "42218").await;
    let id: String = sqlx::query("SELECT id FROM sensors WHERE commune = '42218'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
        .get("id");
    (server, id, token)
}

/// A heartbeat with every field set apart, so each shows on the page.
fn heartbeat() -> Value {
    json!({
        "schema": "vigie.heartbeat/1", "version": "0.5.0-essai", "mode": "filter",
        "started_at": "2026-07-14T08:00:00Z", "uptime_secs": 7500,
        "packets": 123_456_789u64, "bytes": 98_765_432_100u64,
        "kernel_drops": 4321, "interface_drops": 17,
        "incidents": 2468, "open_incidents": 3,
        "spool_batches": 7, "spool_bytes": 20480,
        "dropped_incidents": 13, "blocked_now": 42,
        "lists": [
            {"name": "firehol_level1", "version": "2026-07-14.3"},
            {"name": "abuse_ch_feodo", "version": "v812"}
        ]
    })
}

async fn send_raw(server: &TestServer, token: &str, body: Vec<u8>) -> (StatusCode, Value) {
    post_as_machine(server, "/api/v1/sensors/heartbeat", token, body).await
}

async fn send(server: &TestServer, token: &str, heartbeat: &Value) -> (StatusCode, Value) {
    send_raw(server, token, heartbeat.to_string().into_bytes()).await
}

/// The stored row: (version, kernel_drops, received_at, drops_grew_at,
/// drops_growth), or None.
async fn stored(server: &TestServer) -> Option<(String, i64, i64, Option<i64>, i64)> {
    let rows = sqlx::query(
        "SELECT version, kernel_drops, received_at, drops_grew_at, drops_growth
         FROM sensor_heartbeats",
    )
    .fetch_all(&server.db.pool)
    .await
    .unwrap();
    assert!(rows.len() <= 1, "one heartbeat kept per sensor");
    rows.first().map(|row| {
        (
            row.get("version"),
            row.get("kernel_drops"),
            row.get("received_at"),
            row.get("drops_grew_at"),
            row.get("drops_growth"),
        )
    })
}

async fn page(browser: &reqwest::Client, server: &TestServer, path: &str) -> (StatusCode, String) {
    let response = browser.get(server.at(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn assert_shows(html: &str, texts: &[&str]) {
    for text in texts {
        assert!(html.contains(text), "missing {text:?} in {html}");
    }
}

#[tokio::test]
async fn a_heartbeat_is_stored_shown_and_replaced() {
    let (server, id, token) = setup().await;
    let (status, body) = send(&server, &token, &heartbeat()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "status": "ok" }));
    let (version, drops, _, grew_at, growth) = stored(&server).await.unwrap();
    assert_eq!(
        (version.as_str(), drops, growth),
        ("0.5.0-essai", 4321, 4321)
    );
    assert!(grew_at.is_some(), "a run's first drops are a growth");

    // Issue 13: the town hall reads whether its box works; the technical
    // table is the staff's.
    let (mayor, _) =
        common::sign_in_as(&server, "mairie@st.fr", Role::Commune, Some("42218")).await;
    let (status, html) = page(&mayor, &server, &format!("/capteurs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_shows(
        &html,
        &[
            "Oui, votre boîtier fonctionne.",
            "Dernier signe de vie il y a",
        ],
    );
    assert!(!html.contains("Santé du boîtier") && !html.contains("Paquets perdus"));
    let (_, mine) = page(&mayor, &server, "/capteurs").await;
    assert_shows(&mine, &["Mon boîtier", "Oui, votre boîtier fonctionne."]);
    assert!(
        !mine.contains("Lots reçus"),
        "no operations table for the town hall"
    );
    let (staff, _) = common::sign_in_as(&server, "ops@loire.fr", Role::Operator, None).await;
    let (status, html) = page(&staff, &server, &format!("/capteurs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_shows(
        &html,
        &[
            "Santé du boîtier",
            "0.5.0-essai",
            "filtrage : le boîtier bloque",
            "14/07/2026 10:00, soit 2 heures et 5 minutes",
            &format!("123{NNBSP}456{NNBSP}789"),
            "98,8 Go",
            &format!("<td class=\"num\">4{NNBSP}321</td>"),
            "<td class=\"num\">17</td>",
            &format!("<td class=\"num\">2{NNBSP}468</td>"),
            "7 lots (20,5 ko)",
            "<td class=\"num\">13</td>",
            "détail perdu, comptage conservé",
            "<td>42</td>",
            "firehol_level1</td><td>2026-07-14.3",
            "abuse_ch_feodo</td><td>v812",
            &format!("Le capteur ne suit pas le débit : 4{NNBSP}321 paquets perdus"),
            "En service : dernier signe de vie",
        ],
    );
    let (_, list) = page(&staff, &server, "/capteurs").await;
    assert_shows(&list, &["0.5.0-essai", "ne suit pas le débit", "transmet"]);

    // The next heartbeat of the same run, no new drop: it replaces the
    // first, and the drop warning keeps the time of the last growth.
    let mut next = heartbeat();
    next["version"] = "0.5.1".into();
    next["mode"] = "observe".into();
    next["packets"] = 200_000_000u64.into();
    next["dropped_incidents"] = 0.into();
    next["spool_batches"] = 0.into();
    next["lists"] = json!([]);
    assert_eq!(send(&server, &token, &next).await.0, StatusCode::OK);
    let (version, drops, _, grew_again, growth) = stored(&server).await.unwrap();
    assert_eq!((version.as_str(), drops, growth), ("0.5.1", 4321, 4321));
    assert_eq!(grew_again, grew_at);
    let (_, html) = page(&staff, &server, &format!("/capteurs/{id}")).await;
    assert_shows(
        &html,
        &[
            "0.5.1",
            &format!("200{NNBSP}000{NNBSP}000"),
            "observation : le boîtier regarde",
            "aucune : en mode observation",
            "aucun : tout a été remis",
            "Aucune liste chargée",
        ],
    );
    for gone in [
        "0.5.0-essai",
        "firehol_level1",
        "détail perdu, comptage conservé",
    ] {
        assert!(!html.contains(gone), "{gone} still shown");
    }

    // Drops grow within the run: the growth is the difference.
    next["kernel_drops"] = 4400.into();
    assert_eq!(send(&server, &token, &next).await.0, StatusCode::OK);
    assert_eq!(stored(&server).await.unwrap().4, 79);
    // A new run counts from zero again: no drop, no growth recorded.
    next["started_at"] = "2026-07-14T11:00:00Z".into();
    next["kernel_drops"] = 0.into();
    assert_eq!(send(&server, &token, &next).await.0, StatusCode::OK);
    let (_, drops, _, _, growth) = stored(&server).await.unwrap();
    assert_eq!((drops, growth), (0, 79));
}

#[tokio::test]
async fn a_bad_heartbeat_is_refused_with_the_field_and_changes_nothing() {
    let (server, _, token) = setup().await;
    assert_eq!(send(&server, &token, &heartbeat()).await.0, StatusCode::OK);
    let before = stored(&server).await.unwrap();
    let mut cases: Vec<(Vec<u8>, &str)> = Vec::new();
    let mut bad = |change: &dyn Fn(&mut Value), expected: &'static str| {
        let mut value = heartbeat();
        value["version"] = "9.9.9-refusé".into();
        change(&mut value);
        cases.push((value.to_string().into_bytes(), expected));
    };
    bad(&|v| v["schema"] = "vigie.report/1".into(), "schema");
    bad(&|v| v["packets"] = (-5).into(), "packets");
    bad(&|v| v["spool_bytes"] = "beaucoup".into(), "spool_bytes");
    bad(
        &|v| {
            v.as_object_mut().unwrap().remove("started_at");
        },
        "started_at",
    );
    bad(
        &|v| v["lists"] = json!(vec![json!({"name": "l", "version": "1"}); 257]),
        "lists : 257 listes, au plus 256",
    );
    bad(
        &|v| v["lists"][1]["version"] = "v".repeat(200).into(),
        "lists[1] : nom et version",
    );
    bad(
        &|v| v["kernel_drops"] = u64::MAX.into(),
        "kernel_drops (18446744073709551615) est trop grand",
    );
    cases.push((b"{\"schema\": \"vigie.heartbeat/1\",".to_vec(), "illisible"));
    for (body, expected) in cases {
        let (status, answer) = send_raw(&server, &token, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
        assert!(message.starts_with("signal de vie"), "{message}");
    }
    let huge = format!(
        "{{\"schema\": \"vigie.heartbeat/1\", \"version\": \"{}\"}}",
        "x".repeat(sensors::MAX_HEARTBEAT_BYTES)
    );
    let (status, answer) = send_raw(&server, &token, huge.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(stored(&server).await.unwrap(), before);
}

#[tokio::test]
async fn unknown_or_revoked_sensor_gets_401() {
    let (server, id, token) = setup().await;
    let (status, body) = send(&server, "not-a-token", &heartbeat()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let response = reqwest::Client::new()
        .post(server.at("/api/v1/sensors/heartbeat"))
        .json(&heartbeat())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(sensors::revoke_sensor(&server.db, &id).await.unwrap());
    let (status, body) = send(&server, &token, &heartbeat()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("révoqué"),
        "{body}"
    );
    assert_eq!(stored(&server).await, None);
}

#[tokio::test]
async fn another_communes_user_never_sees_the_health() {
    let (server, id, token) = setup().await;
    assert_eq!(send(&server, &token, &heartbeat()).await.0, StatusCode::OK);
    let (other, _) =
        common::sign_in_as(&server, "mairie@chazelles.fr", Role::Commune, Some("42059")).await;
    let (status, html) = page(&other, &server, &format!("/capteurs/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("0.5.0-essai"));
    let (status, list) = page(&other, &server, "/capteurs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !list.contains(&id) && !list.contains("0.5.0-essai"),
        "{list}"
    );
    let (staff, _) = common::sign_in_as(&server, "ops@loire.fr", Role::Operator, None).await;
    let (status, html) = page(&staff, &server, &format!("/capteurs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("0.5.0-essai"));
}

#[tokio::test]
async fn a_sensor_with_only_heartbeats_is_alive_but_has_no_data() {
    let (server, id, token) = setup().await;
    let (staff, _) = common::sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let saint_etienne = CommuneCode::parse("42218").unwrap();
    let state = |server: &TestServer| {
        let db = server.db.clone();
        async move {
            sensors::commune_sensor_state(&db, &saint_etienne, vigie_server::db::now_ms(), 3600)
                .await
                .unwrap()
        }
    };
    // Enrolled, nothing received: silent.
    assert_eq!(state(&server).await, Some(SensorState::Silent));
    let (_, list) = page(&staff, &server, "/capteurs").await;
    assert!(list.contains("ALERTE"), "{list}");

    assert_eq!(send(&server, &token, &heartbeat()).await.0, StatusCode::OK);
    assert_eq!(state(&server).await, Some(SensorState::Reporting));
    let states = sensors::commune_sensor_states(&server.db, vigie_server::db::now_ms(), 3600)
        .await
        .unwrap();
    assert_eq!(states.get(&saint_etienne), Some(&SensorState::Reporting));
    let (_, list) = page(&staff, &server, "/capteurs").await;
    assert!(
        !list.contains("ALERTE") && list.contains("transmet"),
        "{list}"
    );
    let (_, html) = page(&staff, &server, &format!("/capteurs/{id}")).await;
    assert_shows(
        &html,
        &["En service : dernier signe de vie", "Aucun rapport reçu"],
    );

    // Alive, but no report covers today: the weather still says no data.
    let weather: Value = staff
        .get(server.at("/api/v1/weather"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ours = weather
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["commune"] == "42218")
        .unwrap();
    assert_eq!(ours["level"], "no_data", "{weather}");

    // A heartbeat two hours old: silent again, since then.
    let two_hours_ago = vigie_server::db::now_ms() - 2 * 3600 * 1000;
    sqlx::query("UPDATE sensor_heartbeats SET received_at = $1")
        .bind(two_hours_ago)
        .execute(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(state(&server).await, Some(SensorState::Silent));
    let (_, html) = page(&staff, &server, &format!("/capteurs/{id}")).await;
    assert_shows(
        &html,
        &[
            "Silencieux depuis le",
            "ni rapport ni signal de vie depuis 2 heures",
        ],
    );
}
