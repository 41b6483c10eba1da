//! What a sensor's numbers can do to the observatory (issue 14): counts a
//! box cannot see are refused whole, sums never wrap, and a batch vouches
//! only for the days its events cover. On SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_server::accounts::Role;

use crate::common::{TestServer, enrolled_sensor, incident, post_as_machine, sign_in_as};

const HUGE: u64 = 1 << 62;

/// The Europe/Paris day `days_ago` days ago: the observatory's days.
fn paris_day(days_ago: i64) -> chrono::NaiveDate {
    vigie_core::local_day(Utc::now() - Duration::days(days_ago))
}

fn at(days_ago: i64) -> String {
    (Utc::now() - Duration::days(days_ago)).to_rfc3339()
}

fn report(seq: u64, first: &str, last: &str, incidents: Vec<Value>) -> Value {
    json!({
        "schema": "vigie.report/1", "seq": seq, "packets": 1000, "bytes": 100000, "malformed": 0,
        "first_seen": first, "last_seen": last, "incidents": incidents, "daily": []
    })
}

async fn post(server: &TestServer, token: &str, body: &Value) -> (StatusCode, Value) {
    post_as_machine(
        server,
        "/api/v1/reports",
        token,
        body.to_string().into_bytes(),
    )
    .await
}

/// Saint-Étienne's weather `days_ago` days ago, from the weather API.
async fn weather(server: &TestServer, browser: &reqwest::Client, days_ago: i64) -> Value {
    let day = paris_day(days_ago);
    let response = browser
        .get(server.at(&format!("/api/v1/weather?day={day}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let all: Vec<Value> = response.json().await.unwrap();
    all.into_iter().find(|w| w["commune"] == "42218").unwrap()
}

async fn incidents_stored(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sensors_numbers_cannot_break_pages_or_fake_the_weather() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let token = enrolled_sensor(&server, "42218").await;
    let now = at(0);
    // A real batch first: it must survive what follows untouched.
    let (status, _) = post(
        &server,
        &token,
        &report(1, &now, &now, vec![incident("scan", "inbound", &now)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The attack seen: `dropped` and a daily count of 2^62, posted three
    // times; then an incident of 2^63 - 1 events; then packets of 2^62.
    let today = paris_day(0).to_string();
    for seq in 2..5u64 {
        let mut forged = report(seq, &now, &now, vec![]);
        forged["dropped"] = HUGE.into();
        forged["daily"] =
            json!([{ "day": today, "category": "scan", "count": HUGE, "outbound": 0 }]);
        let (status, answer) = post(&server, &token, &forged).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("dropped"),
            "{answer}"
        );
    }
    let mut events = incident("scan", "inbound", &now);
    events["events"] = (i64::MAX as u64).into();
    let (status, answer) = post(&server, &token, &report(5, &now, &now, vec![events])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("incidents[0].events"),
        "{answer}"
    );
    let mut packets = report(6, &now, &now, vec![]);
    packets["packets"] = HUGE.into();
    let (status, _) = post(&server, &token, &packets).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Nothing of them was stored; the pages and the API still answer, and
    // the score is the real one.
    assert_eq!(incidents_stored(&server).await, 1);
    let (browser, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let today_weather = weather(&server, &browser, 0).await;
    assert_eq!(today_weather["score"], 1, "{today_weather}");
    assert_eq!(today_weather["level"], "cloud", "{today_weather}");
    let response = browser
        .get(server.at(&format!(
            "/api/v1/communes/42218/days?from={today}&to={today}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = browser
        .get(server.at("/communes/42218"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn stored_sums_stop_before_they_overflow() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let token = enrolled_sensor(&server, "42218").await;
    let now = at(0);
    let today = paris_day(0).to_string();
    // A commune's stored count already near the ceiling (as if a great
    // many batches had added up): the next batch is refused whole.
    sqlx::query(
        "INSERT INTO daily_counts (commune, day, category, inbound, outbound) VALUES ('42218', $1, 'scan', $2, 0)",
    )
    .bind(&today)
    .bind((1_i64 << 53) - 1)
    .execute(&server.db.pool)
    .await
    .unwrap();
    let (status, answer) = post(
        &server,
        &token,
        &report(
            1,
            &now,
            &now,
            vec![
                incident("scan", "inbound", &now),
                incident("scan", "inbound", &now),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("rien n'a été enregistré"),
        "{answer}"
    );
    assert_eq!(incidents_stored(&server).await, 0);
    let stored: i64 =
        sqlx::query_scalar("SELECT inbound FROM daily_counts WHERE commune = '42218' AND day = $1")
            .bind(&today)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, (1 << 53) - 1);
    // The batch was not recorded either: the sensor may send it again.
    let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(reports, 0);
}

#[tokio::test]
async fn a_batch_marks_as_reported_only_the_days_its_events_cover() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let token = enrolled_sensor(&server, "42218").await;
    // First packet 399 days ago, last one now: only those two days and
    // the incidents' days are vouched for.
    let (status, _) = post(
        &server,
        &token,
        &report(
            1,
            &at(399),
            &at(0),
            vec![incident("scan", "inbound", &at(3))],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (browser, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    for n in [0, 3] {
        let reported = weather(&server, &browser, n).await;
        assert_ne!(reported["level"], "no_data", "day -{n}: {reported}");
    }
    for n in [1, 2, 4, 5, 9] {
        let silent = weather(&server, &browser, n).await;
        assert_eq!(
            silent["level"], "no_data",
            "day -{n} is not vouched for: {silent}"
        );
    }
}

#[tokio::test]
async fn readers_do_not_wait_for_a_writer() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    vigie_server::accounts::add_user(
        &server.db,
        "admin@loire.fr",
        Role::Admin,
        None,
        "un mot de passe de test assez long",
    )
    .await
    .unwrap();
    let token = vigie_server::accounts::create_token(&server.db, "admin@loire.fr")
        .await
        .unwrap();
    // A writer holds its transaction open, as a large batch being stored
    // does: on SQLite, the only write connection.
    let mut writer = server.db.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, action, detail) VALUES (0, NULL, 'test', 'held')",
    )
    .execute(&mut *writer)
    .await
    .unwrap();
    // Readers still get their answers. (Before: they queued behind the
    // writer until the pool gave up, 30 s later, with a 500.)
    let client = reqwest::Client::new();
    for path in [
        "/api/v1/me",
        "/api/v1/communes",
        &format!("/api/v1/weather?day={}", paris_day(0)),
    ] {
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            client.get(server.at(path)).bearer_auth(&token).send(),
        )
        .await
        .unwrap_or_else(|_| panic!("{path} waited for the writer"))
        .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
    writer.rollback().await.unwrap();
}
