//! The cyber weather as a user sees it through the API and the map, after
//! sensors reported through the real ingest.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use common::{TestServer, enrolled_sensor, incident, post_report, sign_in_as};
use serde_json::Value;
use vigie_server::accounts::Role;

/// Noon UTC of `day`, RFC 3339.
fn noon(day: NaiveDate) -> String {
    format!("{day}T12:00:00Z")
}

fn days_ago(n: i64) -> NaiveDate {
    vigie_core::local_day(Utc::now()) - Duration::days(n)
}

/// The latest Monday-to-Friday day at least one day ago.
fn past_weekday() -> NaiveDate {
    use chrono::Datelike;
    (1..8)
        .map(days_ago)
        .find(|d| d.weekday().num_days_from_monday() < 5)
        .unwrap()
}

async fn weather(browser: &reqwest::Client, server: &TestServer, day: NaiveDate) -> Vec<Value> {
    let response = browser
        .get(server.at(&format!("/api/v1/weather?day={day}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn of<'a>(weather: &'a [Value], code: &str) -> &'a Value {
    weather.iter().find(|w| w["commune"] == code).unwrap()
}

#[tokio::test]
async fn levels_at_each_threshold_and_the_outbound_weight() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let day = days_ago(2);
    // (commune, inbound incidents, outbound incidents, expected score, level)
    let cases = [
        ("42001", 0, 0, 0, "sun"),
        ("42002", 1, 0, 1, "cloud"),
        ("42003", 10, 0, 10, "cloud"),
        ("42005", 11, 0, 11, "rain"),
        ("42006", 99, 0, 99, "rain"),
        ("42007", 100, 0, 100, "storm"),
        ("42008", 0, 1, 10, "cloud"),
        ("42009", 1, 1, 11, "rain"),
        ("42010", 0, 10, 100, "storm"),
    ];
    for (code, inbound, outbound, _, _) in cases {
        let token = enrolled_sensor(&server, code).await;
        let mut incidents = vec![incident("scan", "inbound", &noon(day)); inbound];
        incidents.extend(vec![
            incident("reputation", "outbound", &noon(day));
            outbound
        ]);
        let status = post_report(
            &server,
            &token,
            1,
            &format!("{day}T00:00:01Z"),
            &format!("{day}T22:00:00Z"),
            incidents,
        )
        .await;
        assert_eq!(status, 200, "{code}");
    }
    // A sensor that has not reported that day, and a commune without one.
    let silent = enrolled_sensor(&server, "42011").await;
    let other_day = days_ago(5);
    assert_eq!(
        post_report(
            &server,
            &silent,
            1,
            &noon(other_day),
            &noon(other_day),
            vec![]
        )
        .await,
        200
    );

    let (browser, _) = sign_in_as(&server, "maire@aboen.fr", Role::Commune, Some("42001")).await;
    let weather = weather(&browser, &server, day).await;
    assert_eq!(weather.len(), 320, "every commune of the Loire");
    for (code, _, _, score, level) in cases {
        let w = of(&weather, code);
        assert_eq!(
            (w["score"].as_i64().unwrap(), w["level"].as_str().unwrap()),
            (score, level),
            "{code}: {w}"
        );
    }
    assert_eq!(
        of(&weather, "42011")["level"],
        "no_data",
        "no report that day is no data, never sun"
    );
    assert_eq!(
        of(&weather, "42012")["level"],
        "no_data",
        "no sensor is no data"
    );
    assert_eq!(of(&weather, "42011")["name"], "Balbigny");
}

#[tokio::test]
async fn a_territory_sets_its_own_thresholds() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    sqlx::query("UPDATE territory SET cloud_min = 5, rain_min = 20, storm_min = 40 WHERE id = 1")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let day = days_ago(1);
    let token = enrolled_sensor(&server, "42218").await;
    let incidents = vec![incident("scan", "inbound", &noon(day)); 4];
    assert_eq!(
        post_report(&server, &token, 1, &noon(day), &noon(day), incidents).await,
        200
    );
    let (browser, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    assert_eq!(
        of(&weather(&browser, &server, day).await, "42218")["level"],
        "sun"
    );
    let more = vec![incident("flood", "inbound", &noon(day)); 16];
    assert_eq!(
        post_report(&server, &token, 2, &noon(day), &noon(day), more).await,
        200
    );
    assert_eq!(
        of(&weather(&browser, &server, day).await, "42218")["level"],
        "rain"
    );
}

#[tokio::test]
async fn a_silent_sensor_shows_no_data_today() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let token = enrolled_sensor(&server, "42218").await;
    let today = days_ago(0);
    let yesterday = days_ago(1);
    let first = format!("{yesterday}T10:00:00Z");
    assert_eq!(
        post_report(
            &server,
            &token,
            1,
            &first,
            &first,
            vec![incident("scan", "inbound", &first)]
        )
        .await,
        200
    );
    let (browser, _) = sign_in_as(&server, "operateur@loire.fr", Role::Operator, None).await;
    assert_eq!(
        of(&weather(&browser, &server, today).await, "42218")["level"],
        "sun",
        "reported a moment ago"
    );
    // Two hours without a report: silent.
    let two_hours_ago = vigie_server::db::now_ms() - 2 * 3600 * 1000;
    sqlx::query("UPDATE sensors SET last_report_at = $1")
        .bind(two_hours_ago)
        .execute(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(
        of(&weather(&browser, &server, today).await, "42218")["level"],
        "no_data"
    );
    // The past keeps its weather.
    assert_eq!(
        of(&weather(&browser, &server, yesterday).await, "42218")["level"],
        "cloud"
    );
}

#[tokio::test]
async fn paris_midnight_splits_the_days() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let token = enrolled_sensor(&server, "42218").await;
    let day = days_ago(3);
    let paris = |hour, minute| {
        let local = day.and_hms_opt(hour, minute, 0).unwrap();
        chrono_tz::Europe::Paris
            .from_local_datetime(&local)
            .single()
            .unwrap()
            .with_timezone(&Utc)
            .to_rfc3339()
    };
    // 23:30 Paris belongs to `day`, 00:30 the next morning to the day after.
    let late = paris(23, 30);
    let next_morning =
        (chrono::DateTime::parse_from_rfc3339(&late).unwrap() + Duration::hours(1)).to_rfc3339();
    let incidents = vec![
        incident("scan", "inbound", &late),
        incident("scan", "inbound", &next_morning),
        incident("sweep", "inbound", &next_morning),
    ];
    assert_eq!(
        post_report(&server, &token, 1, &paris(0, 5), &next_morning, incidents).await,
        200
    );
    let (browser, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    assert_eq!(
        of(&weather(&browser, &server, day).await, "42218")["score"],
        1
    );
    assert_eq!(
        of(
            &weather(&browser, &server, day + Duration::days(1)).await,
            "42218"
        )["score"],
        2
    );
    let days: Vec<Value> = browser
        .get(server.at(&format!(
            "/api/v1/communes/42218/days?from={day}&to={}",
            day + Duration::days(1)
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(days.len(), 3, "{days:?}");
    assert_eq!(days[0]["day"], day.to_string());
}

#[tokio::test]
async fn the_map_draws_the_territory_and_links_what_the_reader_may_open() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let day = days_ago(1);
    let token = enrolled_sensor(&server, "42218").await;
    let storm = vec![incident("scan", "inbound", &noon(day)); 120];
    assert_eq!(
        post_report(&server, &token, 1, &noon(day), &noon(day), storm).await,
        200
    );

    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    // Issue 13: a mayor's home is their commune, the map one tap away.
    let home = mayor
        .get(server.at(&format!("/?jour={day}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains(">Saint-Étienne <span class=\"level\">") && home.contains("href=\"/carte\""),
        "{home}"
    );
    let page = mayor
        .get(server.at(&format!("/carte?jour={day}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = &page[page.find("<svg").unwrap()..page.find("</svg>").unwrap()];
    assert!(
        html.contains(r#"class="o own""#),
        "their commune highlighted"
    );
    let shapes = html.matches("<path ").count();
    assert!(shapes >= 300, "the Loire drawn: {shapes} shapes");
    assert_eq!(
        html.matches("href=\"/communes/").count(),
        1,
        "a mayor opens only their own commune"
    );
    assert!(
        html.contains("Saint-Étienne : Orage (score 120)"),
        "tooltip with name and score"
    );
    assert!(html.contains("⚡"), "storm symbol");

    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let page = admin
        .get(server.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = &page[page.find("<svg").unwrap()..page.find("</svg>").unwrap()];
    assert_eq!(
        html.matches("href=\"/communes/").count(),
        shapes,
        "the staff open every commune"
    );
    let bad = admin.get(server.at("/?jour=hier")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("AAAA-MM-JJ"));
}

#[tokio::test]
async fn the_commune_page_tells_the_day() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let day = past_weekday();
    let token = enrolled_sensor(&server, "42218").await;
    let mut incidents = vec![incident("brute_force", "inbound", &format!("{day}T02:10:00Z")); 3];
    incidents.push(incident(
        "reputation",
        "outbound",
        &format!("{day}T09:00:00Z"),
    ));
    assert_eq!(
        post_report(&server, &token, 1, &noon(day), &noon(day), incidents).await,
        200
    );
    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let html = mayor
        .get(server.at(&format!("/communes/42218?jour={day}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = html.replace("&#39;", "'").replace("&quot;", "\"");
    for expected in [
        "Saint-Étienne",
        "Pluie",
        "3 tentatives d'attaque, surtout des essais de mots de passe",
        "Une machine de la mairie a contacté une adresse malveillante",
        "À faire maintenant :",
        "Que faire ?",
        "Essais de mots de passe",
        "Adresse malveillante connue",
        "203.0.113.7",
        "Les 90 derniers jours",
        "Heure par heure",
    ] {
        assert!(html.contains(expected), "{expected:?} missing");
    }
    // Outside working hours: the 03:10 brute force stays, the 10:00 contact goes.
    let night = mayor
        .get(server.at(&format!("/communes/42218?jour={day}&hors_heures=1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(night.contains("Essais de mots de passe"));
    assert!(!night.contains("Adresse malveillante connue"));
    // The filter says it is on, and applies to the headline too.
    assert!(night.contains("Filtre actif"), "{night}");
    assert!(night.contains("3 attaques sur 4 ce jour"), "{night}");
}

#[tokio::test]
async fn the_administrator_sets_the_thresholds_on_the_dashboard() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let day = days_ago(1);
    let token = enrolled_sensor(&server, "42218").await;
    let incidents = vec![incident("scan", "inbound", &noon(day)); 4];
    assert_eq!(
        post_report(&server, &token, 1, &noon(day), &noon(day), incidents).await,
        200
    );
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    assert_eq!(
        of(&weather(&admin, &server, day).await, "42218")["level"],
        "cloud"
    );
    let set = |csrf: String, values: [&'static str; 3]| {
        let form = [
            ("csrf", csrf),
            ("cloud_min", values[0].into()),
            ("rain_min", values[1].into()),
            ("storm_min", values[2].into()),
        ];
        admin
            .post(server.at("/tableau-de-bord/seuils"))
            .form(&form)
            .send()
    };
    assert_eq!(
        set(String::new(), ["2", "3", "4"]).await.unwrap().status(),
        403,
        "no CSRF token"
    );
    let bad = set(csrf.clone(), ["5", "3", "4"]).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("nuageux &#60; pluie &#60; orage"),
        "the page says why, in French"
    );
    assert_eq!(
        set(csrf.clone(), ["x", "3", "4"]).await.unwrap().status(),
        400
    );
    assert_eq!(
        set(csrf, ["2", "3", "4"]).await.unwrap().status(),
        303,
        "saved, back to the dashboard"
    );
    assert_eq!(
        of(&weather(&admin, &server, day).await, "42218")["level"],
        "storm"
    );
    let journal = admin
        .get(server.at("/journal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(journal.contains("nuageux 2, pluie 3, orage 4"));

    let (operator, operator_csrf) =
        sign_in_as(&server, "operateur@loire.fr", Role::Operator, None).await;
    let form = [
        ("csrf", operator_csrf.as_str()),
        ("cloud_min", "1"),
        ("rain_min", "2"),
        ("storm_min", "3"),
    ];
    let refused = operator
        .post(server.at("/tableau-de-bord/seuils"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        403,
        "only the administrator sets thresholds"
    );
}
