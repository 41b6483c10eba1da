//! Issues 15 and 16: the risk map (the territory's, a commune's, the
//! public page) and the territory list's staff page, with an address
//! listed, at 1400 px and on a 390 px phone: no sideways scrolling, a
//! focus that shows, no serious axe-core violation.

use chrono::Utc;
use vigie_server::ServerSettings;
use vigie_server::accounts::Role;
use vigie_server::defence::{self, DefenceSettings};

use super::{assert_pages, chromium, fetched, shots_dir};
use crate::common::{TestServer, enrolled_sensor, incident, post_report, sign_in_as};

#[tokio::test]
async fn issues_15_16_risk_and_defence_pages_fit_a_phone_and_pass_axe() {
    let Some(browser_bin) = chromium() else {
        return;
    };
    let server = TestServer::start_with(ServerSettings {
        public_territory: true,
        ..ServerSettings::default()
    })
    .await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let shots = shots_dir();
    // Three town halls brute-forced from one address: listed.
    let at = (Utc::now() - chrono::Duration::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for commune in ["42218", "42095", "42094"] {
        let token = enrolled_sensor(&server, commune).await;
        let mut attack = incident("brute_force", "inbound", &at);
        attack["source"] = serde_json::json!("203.0.113.7");
        assert_eq!(
            post_report(&server, &token, 1, &at, &at, vec![attack]).await,
            200
        );
    }
    let run = defence::compute(
        &server.db,
        &DefenceSettings::default(),
        Utc::now().timestamp_millis(),
    )
    .await
    .unwrap();
    assert_eq!(run.listed, 1);

    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let mut pages: Vec<(&str, String, String)> = Vec::new();
    for path in ["/defense", "/risques", "/communes/42218/risques"] {
        let html = fetched(&admin, &server, path).await;
        if path == "/defense" {
            assert!(html.contains("203.0.113.7"), "{html}");
        }
        pages.push(("admin", html, path.to_owned()));
    }
    let path = "/communes/42218/risques";
    pages.push((
        "commune",
        fetched(&mayor, &server, path).await,
        path.to_owned(),
    ));
    let anonymous = server.browser();
    let path = "/public/territoire";
    pages.push((
        "public",
        fetched(&anonymous, &server, path).await,
        path.to_owned(),
    ));
    assert_pages(&browser_bin, &shots, &pages);
}
