//! The weather exports (issue 14): a spreadsheet opening the CSV never
//! runs a formula from an imported name, and a commune user's export is
//! computed for their commune only, with the filter in the queries.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is the failure report

use crate::common;

use chrono::{Duration, NaiveDate, Utc};
use common::{TestServer, commune, enrolled_sensor, incident, post_report, sign_in_as};
use vigie_server::accounts::Role;
use vigie_server::cybermeteo::weather::{self, Communes};
use vigie_server::territory::CommuneCode;

const OWN: &str = "42218";
const OTHER: &str = "42095";

fn days_ago(n: i64) -> NaiveDate {
    vigie_core::local_day(Utc::now()) - Duration::days(n)
}

/// The export's rows, parsed as a spreadsheet would, header first.
async fn export(browser: &reqwest::Client, server: &TestServer, query: &str) -> Vec<Vec<String>> {
    let response = browser
        .get(server.at(&format!("/export/meteo.csv{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename="),
        "a download"
    );
    let bytes = response.bytes().await.unwrap();
    // As a French spreadsheet opens it: a UTF-8 byte-order mark, then
    // semicolon-separated cells.
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .expect("a UTF-8 byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(b';')
        .from_reader(body)
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn issue_14_csv_export_cells_cannot_run_formulas() {
    let server = TestServer::start().await;
    let formula = r#"=HYPERLINK("http://evil.example","x")"#;
    commune(&server.db, "42990", formula).await;
    commune(&server.db, "42991", "-2+3+cmd|' /C calc'!A0").await;
    commune(&server.db, "42992", "@SUM(1+1)").await;
    commune(&server.db, OWN, "Saint-Étienne").await;
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let today = days_ago(0);
    let rows = export(&admin, &server, &format!("?from={today}&to={today}")).await;
    assert_eq!(
        rows[0],
        [
            "Jour",
            "Code INSEE",
            "Commune",
            "Score",
            "Attaques entrantes",
            "Attaques sortantes",
            "Météo"
        ]
    );
    let name = |code: &str| {
        rows.iter()
            .find(|row| row[1] == code)
            .map(|row| row[2].clone())
            .unwrap()
    };
    assert_eq!(name("42990"), format!("'{formula}"));
    assert_eq!(name("42991"), "'-2+3+cmd|' /C calc'!A0");
    assert_eq!(name("42992"), "'@SUM(1+1)");
    assert_eq!(name(OWN), "Saint-Étienne");
    // The numbers the export computes stay numbers.
    assert!(rows[1..].iter().all(|row| row[3] == "0"), "{rows:?}");

    // The same for the commune's own user.
    let (user, _) = sign_in_as(&server, "maire@evil.example", Role::Commune, Some("42990")).await;
    let own = export(&user, &server, &format!("?from={today}&to={today}")).await;
    assert_eq!(own.len(), 2);
    assert_eq!(own[1][2], format!("'{formula}"));
}

#[tokio::test]
async fn issue_14_a_commune_users_export_is_computed_for_their_commune_only() {
    let server = TestServer::start().await;
    commune(&server.db, OWN, "Saint-Étienne").await;
    commune(&server.db, OTHER, "Firminy").await;
    for (code, seq_base, events) in [(OWN, 1, 1), (OTHER, 100, 3)] {
        let token = enrolled_sensor(&server, code).await;
        for back in 1..=3 {
            let day = days_ago(back);
            let at = format!("{day}T12:00:00Z");
            let incidents = (0..events)
                .map(|_| incident("scan", "inbound", &at))
                .collect();
            let status =
                post_report(&server, &token, seq_base + back as u64, &at, &at, incidents).await;
            assert_eq!(status, 200);
        }
    }
    let (from, to) = (days_ago(9), days_ago(0));

    // Through the filtered path: only their commune's rows, from the
    // queries themselves.
    let filtered = weather::for_days(
        &server.db,
        Communes::One(CommuneCode::parse(OWN).unwrap()),
        from,
        to,
        to,
        0,
    )
    .await
    .unwrap();
    assert_eq!(filtered.len(), 10);
    assert!(
        filtered
            .iter()
            .all(|(_, day)| day.len() == 1 && day[0].commune == OWN),
        "{filtered:?}"
    );
    // The same figures as the whole territory's.
    let all = weather::for_days(&server.db, Communes::All, from, to, to, 0)
        .await
        .unwrap();
    for ((day, own), (same_day, every)) in filtered.iter().zip(&all) {
        assert_eq!(day, same_day);
        assert_eq!(every.len(), 2);
        let same = every.iter().find(|w| w.commune == OWN).unwrap();
        assert_eq!(&own[0], same, "{day}");
    }
    assert_eq!(filtered[8].1[0].inbound, 1, "yesterday");

    // Over HTTP: exactly their rows, their scores.
    let (mayor, _) = sign_in_as(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let rows = export(&mayor, &server, &format!("?from={from}&to={to}")).await;
    assert_eq!(rows.len(), 1 + 10);
    assert!(rows[1..].iter().all(|row| row[1] == OWN), "{rows:?}");
    let scores: Vec<&str> = rows[1..].iter().map(|row| row[3].as_str()).collect();
    assert_eq!(scores, ["0", "0", "0", "0", "0", "0", "1", "1", "1", "0"]);
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let every = export(&admin, &server, &format!("?from={from}&to={to}")).await;
    assert_eq!(every.len(), 1 + 2 * 10);
    assert!(every.iter().any(|row| row[1] == OTHER && row[3] == "3"));
    // Issue 13: French days and weather levels, one cell each.
    let yesterday = days_ago(1).format("%d/%m/%Y").to_string();
    let row = rows.iter().find(|row| row[0] == yesterday).unwrap();
    assert_eq!(row.len(), 7, "{row:?}");
    assert_eq!((row[3].as_str(), row[6].as_str()), ("1", "Nuageux"));
    assert!(rows[1..].iter().all(|row| {
        ["Soleil", "Nuageux", "Pluie", "Orage", "Pas de données"].contains(&row[6].as_str())
    }));
}
