//! Issue 12: the programme's pages (the offers, the list, the form, an
//! agreement's page as the staff and as its commune see it) at 1400 px
//! and on a 390 px phone: no sideways scrolling, a focus that shows, no
//! serious axe-core violation.

use reqwest::StatusCode;
use serde_json::json;
use vigie_server::accounts::Role;

use super::{assert_pages, chromium, fetched, shots_dir};
use crate::common::{TestServer, sign_in_as};

#[tokio::test]
async fn issue_12_agreement_pages_fit_a_phone_and_pass_axe() {
    let Some(browser_bin) = chromium() else {
        return;
    };
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let shots = shots_dir();
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (mayor, _) = sign_in_as(&server, "maire@feurs.fr", Role::Commune, Some("42094")).await;
    let today = vigie_core::local_day(chrono::Utc::now());
    let mut ids = Vec::new();
    for (offer, days) in [("cyber_path", 200), ("crisis_kit", 30), ("sensor", 10)] {
        let response = admin
            .post(server.at("/api/v1/agreements"))
            .header("x-csrf-token", &csrf)
            .json(&json!({
                "commune": "42094",
                "offer": offer,
                "signed_on": (today - chrono::Duration::days(days)).to_string(),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: serde_json::Value = response.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let mut pages: Vec<(&str, String, String)> = Vec::new();
    let mut admin_paths = vec![
        "/offres".to_owned(),
        "/conventions".to_owned(),
        "/conventions/nouvelle".to_owned(),
    ];
    admin_paths.extend(ids.iter().map(|id| format!("/conventions/{id}")));
    for path in admin_paths {
        pages.push(("admin", fetched(&admin, &server, &path).await, path));
    }
    for path in [
        "/communes/42094/conventions".to_owned(),
        format!("/conventions/{}", ids[0]),
    ] {
        pages.push(("commune", fetched(&mayor, &server, &path).await, path));
    }
    assert_pages(&browser_bin, &shots, &pages);
}
