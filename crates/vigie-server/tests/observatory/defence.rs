//! The territory list (issue 16) on a real database, through the boxes'
//! own reports: an address that attacked three communes is listed, one
//! seen at two is not, one the staff marked legitimate never is; the
//! boxes' endpoint answers the list, then 304 while nothing changes, then
//! the change when the staff take an address off.
//!
//! The list's clock is the `now` its job is given: `lifecycle` runs it
//! days ahead, or replays attacks dated days ago, to see entries expire,
//! come back for twice as long, stay pinned, and stay off once the staff
//! removed them.

use reqwest::StatusCode;
use vigie_server::db::now_ms;
use vigie_server::defence::{self, DefenceSettings, queries};

use crate::common::{TestServer, enrolled_sensor, incident, post_report};

mod catch_up;
mod lifecycle;
mod recovery;

/// Posts a report of one scan from `source`, ten minutes ago.
async fn scanned(server: &TestServer, token: &str, seq: u64, source: &str) {
    let at = (chrono::Utc::now() - chrono::Duration::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut scan = incident("scan", "inbound", &at);
    scan["source"] = serde_json::json!(source);
    let status = post_report(server, token, seq, &at, &at, vec![scan]).await;
    assert_eq!(status, StatusCode::OK, "report from {source}");
}

async fn fetch(server: &TestServer, token: &str, since: i64) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .get(server.at(&format!("/api/v1/sensors/defence?since={since}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The cursor an update gives, read as a box reads it.
fn cursor(text: &str) -> i64 {
    vigie_core::defence::parse(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e:?}: {text}"))
        .cursor
}

#[tokio::test]
async fn the_territory_list_follows_its_rules_on_the_database() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for commune in ["42218", "42095", "42094"] {
        tokens.push(enrolled_sensor(&server, commune).await);
    }
    let legitimate = "192.0.2.50";
    queries::mark_legitimate(
        &server.db,
        legitimate,
        "scanner du territoire",
        "test",
        now_ms(),
    )
    .await
    .unwrap();
    let mut seq = 0;
    for (index, token) in tokens.iter().enumerate() {
        seq += 1;
        scanned(&server, token, seq, "203.0.113.7").await;
        seq += 1;
        scanned(&server, token, seq, legitimate).await;
        if index < 2 {
            seq += 1;
            scanned(&server, token, seq, "198.51.100.9").await;
        }
    }

    let now = now_ms();
    let summary = defence::compute(&server.db, &DefenceSettings::default(), now)
        .await
        .unwrap();
    assert_eq!(summary.listed, 1, "{summary:?}");
    let active = queries::active(&server.db).await.unwrap();
    let listed: Vec<&str> = active.iter().map(|e| e.address.as_str()).collect();
    assert_eq!(listed, ["203.0.113.7"]);
    let stay = active[0].expires_at - now;
    let day = 24 * 3600 * 1000;
    assert!(stay > day - 60_000 && stay <= day + 60_000, "{stay} ms");

    // A box gets the whole list first, then 304 while nothing changes.
    let (status, whole) = fetch(&server, &tokens[0], 0).await;
    assert_eq!(status, StatusCode::OK);
    assert!(whole.contains("203.0.113.7"), "{whole}");
    assert!(
        !whole.contains(legitimate) && !whole.contains("198.51.100.9"),
        "{whole}"
    );
    let at = cursor(&whole);
    let (status, nothing) = fetch(&server, &tokens[0], at).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(nothing.is_empty());
    // The staff take it off: the next poll says so.
    assert!(
        queries::remove(&server.db, "203.0.113.7", "admin@loire.fr", now_ms())
            .await
            .unwrap()
    );
    let (status, change) = fetch(&server, &tokens[0], at).await;
    assert_eq!(status, StatusCode::OK);
    assert!(change.contains("203.0.113.7"), "{change}");
    assert!(cursor(&change) > at);
    // Without a sensor's token: nothing.
    let anonymous = reqwest::Client::new()
        .get(server.at("/api/v1/sensors/defence?since=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
