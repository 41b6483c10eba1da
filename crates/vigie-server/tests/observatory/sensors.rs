//! Sensors over HTTP, as a box and a browser use them: enrolment with the
//! one-time code, report ingest (stored once and whole, refused whole with a
//! message that says why), local-day boundaries, a real report of the sensor
//! engine, and who may see which sensor page.

#![allow(clippy::unwrap_used)]

use crate::common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::{TestServer, commune, post_as_machine};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;
use vigie_server::Db;
use vigie_server::accounts::{self, Role};
use vigie_server::sensors::{self, SensorError};

const PASSWORD: &str = "un mot de passe solide";

/// A server with two communes: Saint-Étienne (42218) and Chazelles (42059).
async fn server() -> TestServer {
    let server = TestServer::start().await;
    commune(&server.db, "42218", "Saint-Étienne").await;
    commune(&server.db, "42059", "Chazelles-sur-Lyon").await;
    server
}

async fn enroll(server: &TestServer, code: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(server.at("/api/v1/sensors/enroll"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// A sensor of `commune`, enrolled: its id and token.
async fn enrolled(server: &TestServer, commune: &str) -> (String, String) {
    let new = sensors::add_sensor(&server.db, commune).await.unwrap();
    let (status, body) = enroll(server, &new.code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sensor_id"], new.sensor_id.as_str());
    (new.sensor_id, body["token"].as_str().unwrap().to_owned())
}

async fn post_raw(server: &TestServer, token: &str, body: Vec<u8>) -> (StatusCode, Value) {
    post_as_machine(server, "/api/v1/reports", token, body).await
}

async fn post(server: &TestServer, token: &str, report: &Value) -> (StatusCode, Value) {
    post_raw(server, token, report.to_string().into_bytes()).await
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn incident(category: &str, rule: &str, direction: &str, at: DateTime<Utc>) -> Value {
    json!({
        "category": category, "rule": rule, "label": null, "severity": "medium",
        "source": "203.0.113.9", "direction": direction, "target_port": 22, "service": "ssh",
        "first_seen": rfc3339(at), "last_seen": rfc3339(at + Duration::seconds(30)), "events": 7
    })
}

/// A batch covering its incidents (or the last hour when it has none).
fn report(seq: u64, incidents: Vec<Value>) -> Value {
    let times: Vec<DateTime<Utc>> = incidents
        .iter()
        .flat_map(|i| [&i["first_seen"], &i["last_seen"]])
        .map(|t| t.as_str().unwrap().parse().unwrap())
        .collect();
    let now = Utc::now();
    let first = times
        .iter()
        .min()
        .copied()
        .unwrap_or(now - Duration::hours(1));
    let last = times.iter().max().copied().unwrap_or(now);
    json!({
        "schema": "vigie.report/1", "seq": seq, "packets": 1000, "bytes": 64000, "malformed": 1,
        "first_seen": rfc3339(first), "last_seen": rfc3339(last),
        "incidents": incidents,
        // Deliberately wrong: the server counts from the incidents.
        "daily": [{ "day": "2026-01-01", "category": "flood", "count": 99, "outbound": 0 }]
    })
}

/// Row counts of every table a batch writes.
async fn rows(db: &Db) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["reports", "incidents", "daily_counts", "sensor_days"] {
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&db.pool)
            .await
            .unwrap();
        counts.push(row.try_get("n").unwrap());
    }
    counts
}

async fn daily(db: &Db, commune: &str) -> Vec<(String, String, i64, i64)> {
    sqlx::query("SELECT day, category, inbound, outbound FROM daily_counts WHERE commune = $1 ORDER BY day, category")
        .bind(commune)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("day"), r.get("category"), r.get("inbound"), r.get("outbound")))
        .collect()
}

/// Noon, Paris time, `days` days ago.
fn paris_noon(days: i64) -> (NaiveDate, DateTime<Utc>) {
    let day = vigie_core::local_day(Utc::now()) - Duration::days(days);
    (day, paris(day, 12, 0))
}

fn paris(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    vigie_core::LOCAL_TZ
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn enrolment_code_works_once() {
    let server = server().await;
    let new = sensors::add_sensor(&server.db, "42218").await.unwrap();
    assert!(
        new.sensor_id.starts_with("cap-") && new.sensor_id.len() == 12,
        "{}",
        new.sensor_id
    );
    assert_eq!(new.code.len(), 19, "{}", new.code);
    let (status, body) = enroll(&server, "AAAA-BBBB-CCCC-DDDD").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("inconnu"),
        "{body}"
    );
    // Typed in lower case with spaces: the same code.
    let typed = new.code.to_lowercase().replace('-', " ");
    let (status, body) = enroll(&server, &typed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sensor_id"], new.sensor_id.as_str());
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 32);
    let (status, body) = enroll(&server, &new.code).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a code is used once: {body}"
    );
    let row =
        sqlx::query("SELECT token_hash, installed_at, enroll_code_hash FROM sensors WHERE id = $1")
            .bind(&new.sensor_id)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(
        row.get::<String, _>("token_hash"),
        vigie_server::db::token_hash(token)
    );
    let installed: i64 = row.get("installed_at");
    assert!((vigie_server::db::now_ms() - installed).abs() < 60_000);
    assert_eq!(row.get::<Option<String>, _>("enroll_code_hash"), None);

    // An expired code is told apart, and gives nothing.
    let old = sensors::add_sensor(&server.db, "42218").await.unwrap();
    sqlx::query("UPDATE sensors SET enroll_expires_at = 1 WHERE id = $1")
        .bind(&old.sensor_id)
        .execute(&server.db.pool)
        .await
        .unwrap();
    let (status, body) = enroll(&server, &old.code).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("expiré"), "{body}");

    let unknown = sensors::add_sensor(&server.db, "99999").await;
    assert!(matches!(unknown, Err(SensorError::UnknownCommune(code)) if code == "99999"));
}

#[tokio::test]
async fn ingest_counts_per_commune_day_category_and_direction() {
    let server = server().await;
    let (sensor, token) = enrolled(&server, "42218").await;
    let (_, other_token) = enrolled(&server, "42059").await;
    let (day_a, noon_a) = paris_noon(3);
    let (day_b, noon_b) = paris_noon(2);
    let batch = report(
        1,
        vec![
            incident("scan", "scan.syn", "inbound", noon_a),
            incident("scan", "scan.syn", "inbound", noon_a + Duration::hours(1)),
            incident(
                "reputation",
                "reputation.ip",
                "outbound",
                noon_a + Duration::hours(2),
            ),
            incident("brute_force", "brute_force.ssh", "inbound", noon_b),
        ],
    );
    let (status, body) = post(&server, &token, &batch).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "status": "stored", "incidents": 4 })
        )
    );
    let (a, b) = (day_a.to_string(), day_b.to_string());
    let expected = vec![
        (a.clone(), "reputation".to_owned(), 0, 1),
        (a.clone(), "scan".to_owned(), 2, 0),
        (b.clone(), "brute_force".to_owned(), 1, 0),
    ];
    assert_eq!(daily(&server.db, "42218").await, expected);

    // The same batch again: counted once, nothing changed.
    let before = rows(&server.db).await;
    let (status, body) = post(&server, &token, &batch).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "status": "duplicate" }))
    );
    assert_eq!(rows(&server.db).await, before);
    assert_eq!(daily(&server.db, "42218").await, expected);

    // A new batch adds to the day's counts; another commune's sensor counts
    // for its own commune.
    let next = report(
        2,
        vec![incident(
            "scan",
            "scan.fin",
            "inbound",
            noon_a + Duration::hours(3),
        )],
    );
    assert_eq!(post(&server, &token, &next).await.0, StatusCode::OK);
    let theirs = report(1, vec![incident("scan", "scan.syn", "outbound", noon_b)]);
    assert_eq!(post(&server, &other_token, &theirs).await.0, StatusCode::OK);
    assert_eq!(
        daily(&server.db, "42218").await[1],
        (a.clone(), "scan".to_owned(), 3, 0)
    );
    assert_eq!(
        daily(&server.db, "42059").await,
        vec![(b.clone(), "scan".to_owned(), 0, 1)]
    );

    let incidents = sqlx::query(
        "SELECT commune, day, hour, events, source, service, target_port FROM incidents WHERE sensor_id = $1 ORDER BY first_seen",
    )
    .bind(&sensor)
    .fetch_all(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(incidents.len(), 5);
    let first = &incidents[0];
    assert_eq!(first.get::<String, _>("commune"), "42218");
    assert_eq!(
        (first.get::<String, _>("day"), first.get::<i64, _>("hour")),
        (a.clone(), 12)
    );
    assert_eq!(first.get::<i64, _>("events"), 7);
    assert_eq!(
        first.get::<Option<String>, _>("source").as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(first.get::<Option<i64>, _>("target_port"), Some(22));

    // Days with data: every day of the batch's period, and today.
    let days: Vec<String> =
        sqlx::query("SELECT day FROM sensor_days WHERE commune = '42218' ORDER BY day")
            .fetch_all(&server.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("day"))
            .collect();
    // Days with data: every day of the batches' periods, and today (a day
    // without data in between, yesterday, stays without).
    let today = vigie_core::local_day(Utc::now()).to_string();
    assert_eq!(days, [a, b, today]);
    let sensor_row = sqlx::query("SELECT last_seq, last_report_at, reports_total, incidents_total FROM sensors WHERE id = $1")
        .bind(&sensor)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(sensor_row.get::<Option<i64>, _>("last_seq"), Some(2));
    assert_eq!(sensor_row.get::<i64, _>("reports_total"), 2);
    assert_eq!(sensor_row.get::<i64, _>("incidents_total"), 5);
    assert!(sensor_row.get::<Option<i64>, _>("last_report_at").is_some());
}

#[tokio::test]
async fn bad_batches_are_refused_whole_with_a_reason() {
    let server = server().await;
    let (_, token) = enrolled(&server, "42218").await;
    let (_, noon) = paris_noon(1);
    let good = || incident("scan", "scan.syn", "inbound", noon);
    // Each bad batch carries a good incident first: a partial store would show.
    let change = |edit: &dyn Fn(&mut Value)| {
        let mut batch = report(7, vec![good(), good()]);
        edit(&mut batch);
        batch
    };
    let at = |when: DateTime<Utc>| incident("scan", "scan.syn", "inbound", when);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "bad category",
            change(&|b| b["incidents"][1]["category"] = json!("ddos")),
            "incidents[1].category: unknown variant `ddos`",
        ),
        (
            "rule of another category",
            change(&|b| b["incidents"][1]["rule"] = json!("web.sqli")),
            "does not belong",
        ),
        (
            "events 0",
            change(&|b| b["incidents"][1]["events"] = json!(0)),
            "incidents[1]: events must be at least 1",
        ),
        (
            "incident ends before it starts",
            change(&|b| b["incidents"][1]["last_seen"] = json!(rfc3339(noon - Duration::hours(1)))),
            "incidents[1]: first_seen is after last_seen",
        ),
        (
            "batch ends before it starts",
            change(&|b| b["last_seen"] = json!(rfc3339(noon - Duration::hours(2)))),
            "first_seen is after last_seen",
        ),
        (
            "wrong schema",
            change(&|b| b["schema"] = json!("vigie.report/9")),
            "\"vigie.report/9\"",
        ),
        (
            "missing seq",
            change(&|b| drop(b.as_object_mut().unwrap().remove("seq"))),
            "\"seq\" manquant",
        ),
        (
            "negative seq",
            change(&|b| b["seq"] = json!(-1)),
            "seq: invalid value",
        ),
        (
            "in the future",
            change(&|b| b["incidents"][1] = at(Utc::now() + Duration::days(3))),
            "incidents[1].first_seen",
        ),
        (
            "too old",
            change(&|b| b["incidents"][1] = at(Utc::now() - Duration::days(500))),
            "400 jours",
        ),
    ];
    let before = rows(&server.db).await;
    for (what, batch, expected) in &cases {
        let (status, body) = post(&server, &token, batch).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(expected),
            "{what}: {message:?} should contain {expected:?}"
        );
        assert_eq!(rows(&server.db).await, before, "{what}: nothing stored");
    }
    let (status, body) = post_raw(
        &server,
        &token,
        b"{\"schema\": \"vigie.report/1\",\n  \"seq\": 3,\n  \"packets\": }".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("line 3 column"),
        "{body}"
    );
    let huge = vec![b' '; vigie_server::sensors::MAX_REPORT_BYTES + 1];
    let (status, body) = post_raw(&server, &token, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("trop gros"),
        "{body}"
    );
    assert_eq!(rows(&server.db).await, before);
    // The same seq, now well formed, is stored: refusals kept nothing.
    assert_eq!(
        post(&server, &token, &change(&|_| ())).await.1["status"],
        "stored"
    );
}

#[tokio::test]
async fn unknown_missing_or_revoked_token_is_401() {
    let server = server().await;
    let (sensor, token) = enrolled(&server, "42218").await;
    let batch = report(
        1,
        vec![incident("scan", "scan.syn", "inbound", paris_noon(1).1)],
    );
    let (status, body) = post(&server, "0123456789abcdef", &batch).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let response = reqwest::Client::new()
        .post(server.at("/api/v1/reports"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(sensors::revoke_sensor(&server.db, &sensor).await.unwrap());
    let (status, body) = post(&server, &token, &batch).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("révoqué"),
        "{body}"
    );
    assert_eq!(rows(&server.db).await, [0, 0, 0, 0]);
}

/// Paris's offset from UTC, in hours, at `hour:minute` local time on `day`.
fn offset(day: NaiveDate, hour: u32, minute: u32) -> i64 {
    let local = day.and_hms_opt(hour, minute, 0).unwrap();
    (local - paris(day, hour, minute).naive_utc()).num_hours()
}

/// Days to test, all within the accepted 400 days: one in winter, one in
/// summer, and the two days the clocks change (23 and 25 hours long).
fn boundary_days() -> Vec<NaiveDate> {
    use chrono::Datelike;
    let today = vigie_core::local_day(Utc::now());
    let past: Vec<NaiveDate> = (3..380).map(|n| today - Duration::days(n)).collect();
    let find = |test: &dyn Fn(NaiveDate) -> bool| *past.iter().find(|d| test(**d)).unwrap();
    let steady =
        |d: NaiveDate, hours: i64| (-1..=1).all(|n| offset(d + Duration::days(n), 12, 0) == hours);
    vec![
        find(&|d| [12, 1, 2].contains(&d.month()) && steady(d, 1)),
        find(&|d| [6, 7, 8].contains(&d.month()) && steady(d, 2)),
        find(&|d| offset(d, 0, 30) == 1 && offset(d, 23, 30) == 2),
        find(&|d| offset(d, 0, 30) == 2 && offset(d, 23, 30) == 1),
    ]
}

#[tokio::test]
async fn incidents_land_on_their_paris_day() {
    let server = server().await;
    let (_, token) = enrolled(&server, "42218").await;
    let mut incidents = Vec::new();
    let mut expected_hours = Vec::new();
    let mut expected_days = std::collections::BTreeMap::<String, (i64, i64)>::new();
    for day in boundary_days() {
        // 23:30 the evening before and the evening of, inbound; 00:30 the
        // morning of and the morning after, outbound.
        for (local_day, hour, minute) in [
            (day - Duration::days(1), 23, 30),
            (day, 0, 30),
            (day, 23, 30),
            (day + Duration::days(1), 0, 30),
        ] {
            let direction = if hour == 23 { "inbound" } else { "outbound" };
            incidents.push(incident(
                "scan",
                "scan.syn",
                direction,
                paris(local_day, hour, minute),
            ));
            expected_hours.push((local_day.to_string(), i64::from(hour)));
            let count = expected_days.entry(local_day.to_string()).or_default();
            if hour == 23 {
                count.0 += 1
            } else {
                count.1 += 1
            }
        }
    }
    let (status, body) = post(&server, &token, &report(1, incidents)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored: Vec<(String, i64)> =
        sqlx::query("SELECT day, hour FROM incidents ORDER BY first_seen")
            .fetch_all(&server.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("day"), r.get("hour")))
            .collect();
    expected_hours.sort();
    assert_eq!(stored, expected_hours);
    let expected: Vec<_> = expected_days
        .into_iter()
        .map(|(day, (i, o))| (day, "scan".to_owned(), i, o))
        .collect();
    assert_eq!(daily(&server.db, "42218").await, expected);
}

#[tokio::test]
async fn a_report_of_the_sensor_engine_is_stored_whole() {
    use vigie_sensor::synth::traffic::{Mix, write_capture};
    let server = server().await;
    let (sensor, token) = enrolled(&server, "42218").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mairie.pcap");
    let start = (Utc::now() - Duration::hours(2))
        .timestamp_nanos_opt()
        .unwrap();
    let mix = Mix {
        packets: 30_000,
        start,
        packets_per_second: 500,
        seed: 5,
        attacks: true,
    };
    write_capture(std::fs::File::create(&path).unwrap(), &mix).unwrap();
    let analysis =
        vigie_sensor::analyze::analyze_file(&path, vigie_sensor::engine::Settings::default())
            .unwrap();
    let mut report = analysis.report;
    assert!(report.incidents.len() >= 4, "{:#?}", report.incidents);
    report.seq = Some(1);
    let body = serde_json::to_value(&report).unwrap();
    let (status, answer) = post(&server, &token, &body).await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::OK,
            json!({ "status": "stored", "incidents": report.incidents.len() })
        )
    );
    let stored = sqlx::query("SELECT rule, events FROM incidents WHERE sensor_id = $1 ORDER BY id")
        .bind(&sensor)
        .fetch_all(&server.db.pool)
        .await
        .unwrap();
    let stored: Vec<(String, i64)> = stored
        .iter()
        .map(|r| (r.get("rule"), r.get("events")))
        .collect();
    let sent: Vec<(String, i64)> = report
        .incidents
        .iter()
        .map(|i| (i.rule.clone(), i.events as i64))
        .collect();
    assert_eq!(stored, sent);
    let total: i64 = daily(&server.db, "42218")
        .await
        .iter()
        .map(|(_, _, i, o)| i + o)
        .sum();
    assert_eq!(total, report.incidents.len() as i64);
    let packets: i64 = sqlx::query("SELECT packets FROM reports")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
        .get("packets");
    assert_eq!(packets, report.packets as i64);
}

#[tokio::test]
async fn one_batch_sent_at_once_many_times_counts_once() {
    let server = server().await;
    let (_, token) = enrolled(&server, "42218").await;
    let batch = report(
        1,
        (0..50)
            .map(|n| {
                incident(
                    "scan",
                    "scan.syn",
                    "inbound",
                    paris_noon(1).1 + Duration::seconds(n),
                )
            })
            .collect(),
    );
    let sends = (0..8).map(|_| {
        let (url, token, batch) = (server.at("/api/v1/reports"), token.clone(), batch.clone());
        tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&batch)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    });
    let mut answers = Vec::new();
    for send in sends.collect::<Vec<_>>() {
        answers.push(send.await.unwrap());
    }
    assert_eq!(
        answers.iter().filter(|a| *a == "stored").count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|a| *a == "duplicate").count(),
        7,
        "{answers:?}"
    );
    assert_eq!(daily(&server.db, "42218").await[0].2, 50);
    assert_eq!(rows(&server.db).await[..2], [1, 50]);
}

/// A browser signed in as `email`.
async fn signed_in(server: &TestServer, email: &str) -> reqwest::Client {
    let browser = server.browser();
    let response = browser
        .post(server.at("/connexion"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in of {email}"
    );
    browser
}

async fn page(browser: &reqwest::Client, server: &TestServer, path: &str) -> (StatusCode, String) {
    let response = browser.get(server.at(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The session's CSRF token, as the page's form carries it.
fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Staff and users of both communes; a sensor in each commune, Saint-Étienne's
/// reporting, Chazelles's silent.
struct Pages {
    server: TestServer,
    ours: String,
    theirs: String,
}

async fn pages() -> Pages {
    let server = server().await;
    let db = &server.db;
    accounts::add_user(db, "admin@loire.fr", Role::Admin, None, PASSWORD)
        .await
        .unwrap();
    accounts::add_user(db, "ops@prestataire.fr", Role::Operator, None, PASSWORD)
        .await
        .unwrap();
    accounts::add_user(
        db,
        "mairie@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
        PASSWORD,
    )
    .await
    .unwrap();
    accounts::add_user(
        db,
        "mairie@chazelles.fr",
        Role::Commune,
        Some("42059"),
        PASSWORD,
    )
    .await
    .unwrap();
    let (ours, token) = enrolled(&server, "42218").await;
    let (theirs, _) = enrolled(&server, "42059").await;
    let now = Utc::now();
    let batch = report(
        1,
        vec![
            incident(
                "brute_force",
                "brute_force.ssh",
                "inbound",
                now - Duration::hours(1),
            ),
            incident(
                "reputation",
                "reputation.ip",
                "outbound",
                now - Duration::hours(2),
            ),
        ],
    );
    assert_eq!(post(&server, &token, &batch).await.0, StatusCode::OK);
    Pages {
        server,
        ours,
        theirs,
    }
}

#[tokio::test]
async fn sensor_pages_follow_the_access_matrix() {
    let Pages {
        server,
        ours,
        theirs,
    } = pages().await;
    let not_mine = [
        format!("/capteurs/{theirs}"),
        format!("/capteurs/{theirs}/attestation"),
        "/capteurs/cap-00000000".to_owned(),
    ];
    for staff in ["admin@loire.fr", "ops@prestataire.fr"] {
        let browser = signed_in(&server, staff).await;
        let (status, list) = page(&browser, &server, "/capteurs").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            list.contains(&ours) && list.contains(&theirs),
            "{staff}: {list}"
        );
        // The silent sensor comes first, with the alert.
        assert!(
            list.find(&theirs).unwrap() < list.find(&ours).unwrap(),
            "{staff}: silent first"
        );
        assert!(
            list.contains("ALERTE") && list.contains("silencieux") && list.contains("transmet")
        );
        assert!(list.contains("Nouveau capteur"));
        for path in [
            format!("/capteurs/{ours}"),
            not_mine[0].clone(),
            not_mine[1].clone(),
        ] {
            assert_eq!(
                page(&browser, &server, &path).await.0,
                StatusCode::OK,
                "{staff} {path}"
            );
        }
    }
    let mayor = signed_in(&server, "mairie@saint-etienne.fr").await;
    let (status, list) = page(&mayor, &server, "/capteurs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&ours) && !list.contains(&theirs), "{list}");
    assert!(!list.contains("Nouveau capteur") && !list.contains("Chazelles"));
    assert_eq!(
        page(&mayor, &server, &format!("/capteurs/{ours}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        page(&mayor, &server, &format!("/capteurs/{ours}/attestation"))
            .await
            .0,
        StatusCode::OK
    );
    for path in &not_mine {
        assert_eq!(
            page(&mayor, &server, path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let other_mayor = signed_in(&server, "mairie@chazelles.fr").await;
    assert_eq!(
        page(&other_mayor, &server, &format!("/capteurs/{ours}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Nobody signed in: sent to the sign-in page.
    for path in [
        "/capteurs".to_owned(),
        format!("/capteurs/{ours}"),
        format!("/capteurs/{ours}/attestation"),
    ] {
        let response = server.browser().get(server.at(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            response.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/connexion")
        );
    }
}

#[tokio::test]
async fn sensor_page_shows_last_report_and_counters() {
    let Pages { server, ours, .. } = pages().await;
    let browser = signed_in(&server, "mairie@saint-etienne.fr").await;
    let (_, html) = page(&browser, &server, &format!("/capteurs/{ours}")).await;
    assert!(
        html.contains("Saint-Étienne") && html.contains("Oui, votre boîtier fonctionne."),
        "{html}"
    );
    // The last report's figures are the staff's (issue 13).
    assert!(!html.contains("Dernier rapport"), "{html}");
    let (staff, _) = common::sign_in_as(&server, "ops@loire.fr", Role::Operator, None).await;
    let (_, technical) = page(&staff, &server, &format!("/capteurs/{ours}")).await;
    assert!(
        technical.contains("transmet") && technical.contains("<td class=\"num\">1\u{202f}000</td>"),
        "packets of the last report: {technical}"
    );
    assert!(
        html.contains("Essais de mots de passe") && html.contains("Adresse malveillante connue"),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"out\">machine de la mairie</span> 1"),
        "outbound marked: {html}"
    );

    let (_, attestation) = page(&browser, &server, &format!("/capteurs/{ours}/attestation")).await;
    let installed = vigie_core::local_day(Utc::now());
    let end = installed
        .checked_add_months(chrono::Months::new(36))
        .unwrap();
    assert!(attestation.contains("Attestation d'installation") && attestation.contains(&ours));
    assert!(
        attestation.contains(&format!(" {}</td>", installed.format("%Y"))),
        "{attestation}"
    );
    assert!(
        attestation.contains(&format!(" {} (3 ans", end.format("%Y"))),
        "{attestation}"
    );
    assert!(attestation.contains("Pour la commune"));
}

#[tokio::test]
async fn staff_create_a_sensor_from_the_page() {
    let Pages { server, .. } = pages().await;
    let admin = signed_in(&server, "admin@loire.fr").await;
    let (_, list) = page(&admin, &server, "/capteurs").await;
    let token = csrf(&list);
    let count = || async {
        sqlx::query("SELECT COUNT(*) AS n FROM sensors")
            .fetch_one(&server.db.pool)
            .await
            .unwrap()
            .get::<i64, _>("n")
    };
    assert_eq!(count().await, 2);

    let forged = admin
        .post(server.at("/capteurs"))
        .form(&[("csrf", "forged"), ("commune", "42059")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let mayor = signed_in(&server, "mairie@saint-etienne.fr").await;
    let mayor_csrf = csrf(&page(&mayor, &server, "/capteurs").await.1);
    let refused = mayor
        .post(server.at("/capteurs"))
        .form(&[("csrf", mayor_csrf.as_str()), ("commune", "42218")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let unknown = admin
        .post(server.at("/capteurs"))
        .form(&[("csrf", token.as_str()), ("commune", "99999")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.text().await.unwrap().contains("commune inconnue"));
    assert_eq!(count().await, 2, "nothing created by refused forms");

    let created = admin
        .post(server.at("/capteurs"))
        .form(&[("csrf", token.as_str()), ("commune", "42059")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let html = created.text().await.unwrap();
    let start = html.find("class=\"enroll-code\"").unwrap();
    let code_start = start + html[start..].find('>').unwrap() + 1;
    let code = &html[code_start..code_start + 19];
    let (status, body) = enroll(&server, code).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the code shown enrols: {code} {body}"
    );
    assert!(html.contains(body["sensor_id"].as_str().unwrap()));
    assert_eq!(count().await, 3);
}

#[tokio::test]
async fn dropped_detail_still_counts_and_blocked_addresses_are_kept() {
    let server = server().await;
    let (sensor, token) = enrolled(&server, "42218").await;
    let (day, noon) = paris_noon(1);
    let mut batch = report(1, vec![incident("scan", "scan.syn", "inbound", noon)]);
    // Two more scans and an outbound reputation hit whose detail a full
    // spool dropped: the counters still carry them.
    batch["dropped"] = json!(3);
    batch["daily"] = json!([
        { "day": day.to_string(), "category": "scan", "count": 3, "outbound": 0 },
        { "day": day.to_string(), "category": "reputation", "count": 1, "outbound": 1 }
    ]);
    batch["blocked"] = json!([
        { "day": day.to_string(), "category": "reputation", "addresses": 2 }
    ]);
    let (status, body) = post(&server, &token, &batch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = day.to_string();
    assert_eq!(
        daily(&server.db, "42218").await,
        vec![
            (d.clone(), "reputation".to_owned(), 0, 1),
            (d.clone(), "scan".to_owned(), 3, 0)
        ]
    );
    let row = sqlx::query("SELECT incidents_total FROM sensors WHERE id = $1")
        .bind(&sensor)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("incidents_total"), 4);
    let blocked =
        sqlx::query("SELECT day, category, addresses FROM blocked_counts WHERE commune = '42218'")
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].get::<String, _>("day"), d);
    assert_eq!(blocked[0].get::<i64, _>("addresses"), 2);

    // Counters that do not add up are refused whole.
    let before = rows(&server.db).await;
    let mut wrong = batch.clone();
    wrong["seq"] = json!(2);
    wrong["dropped"] = json!(7);
    let (status, body) = post(&server, &token, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("daily"), "{body}");
    assert_eq!(rows(&server.db).await, before);
}
