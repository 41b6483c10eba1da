//! Issues 11 and 13: the campaigns' pages, the exercise's pages (the six
//! scenarios' sign-in pages and the awareness page), and the pre-audit's
//! pages never measured on a phone (the dossier, the provider's
//! questionnaire, the provider's link just created), at 1400 px and on a
//! 390 px phone: no sideways scrolling, a focus that shows, no serious
//! axe-core violation.

use reqwest::StatusCode;
use vigie_server::accounts::Role;

use super::{assert_pages, chromium, fetched, inline_css, shots_dir};
use crate::campaign_pages::{COMMUNE, campaign_server, sent_campaign};
use crate::campaigns::as_browser;
use crate::common::{TestServer, sign_in_as};

#[tokio::test]
async fn issue_11_campaign_and_exercise_pages_fit_a_phone_and_pass_axe() {
    let Some(browser_bin) = chromium() else {
        return;
    };
    let server = campaign_server().await;
    let shots = shots_dir();
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (mayor, mayor_csrf) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some(COMMUNE),
    )
    .await;
    let campaign = sent_campaign(&server, &admin, &csrf).await;
    let id = &campaign.id;
    let mut pages: Vec<(&str, String, String)> = Vec::new();
    for path in [
        "/campagnes".to_owned(),
        "/campagnes/nouvelle".to_owned(),
        format!("/campagnes/{id}"),
        format!("/campagnes/{id}/resultats"),
    ] {
        pages.push(("admin", fetched(&admin, &server, &path).await, path));
    }
    for path in [
        format!("/communes/{COMMUNE}/campagnes"),
        format!("/campagnes/{id}"),
    ] {
        pages.push(("commune", fetched(&mayor, &server, &path).await, path));
    }
    // The exercise, as a target sees it: each scenario's sign-in page
    // (the targets have one each), and its awareness page.
    let person = server.browser();
    for token in &campaign.tokens {
        let path = format!("/c/{token}");
        let response = as_browser(person.get(server.at(&path)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        pages.push(("cible", response.text().await.unwrap(), path));
    }
    // Each scenario's mail is shown on its awareness page, clues marked.
    for token in &campaign.tokens {
        let awareness = format!("/c/{token}/exercice");
        let html = fetched(&person, &server, &awareness).await;
        pages.push(("cible", html, awareness));
    }
    for (who, html, path) in audit_pages(&server, &mayor, &mayor_csrf).await {
        pages.push((who, html, path));
    }

    assert_pages(&browser_bin, &shots, &pages);
}

/// The pre-audit's pages never measured on a phone: the dossier, the
/// page showing the provider's link just created (a POST's answer), and
/// the provider's questionnaire opened with that link, by no one signed
/// in.
async fn audit_pages(
    server: &TestServer,
    mayor: &reqwest::Client,
    csrf: &str,
) -> Vec<(&'static str, String, String)> {
    let mayor_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind("maire@saint-etienne.fr")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let book = vigie_server::audits::Book::built_in().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let audit = vigie_server::audits::create(&server.db, COMMUNE, &book, mayor_id, now)
        .await
        .unwrap();
    let dossier = format!("/audits/{audit}/dossier");
    let invite = format!("/audits/{audit}/prestataires");
    let invited = mayor
        .post(server.at(&invite))
        .form(&[
            ("csrf", csrf),
            ("name", "Infogérance du Forez, maintenance et sauvegardes"),
            ("email", "support@infogerance-forez-test.fr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), StatusCode::OK);
    let invited = invited.text().await.unwrap();
    let start = invited.find("/prestataire/").unwrap();
    let link = invited[start..].split('"').next().unwrap().to_owned();
    let provider = server.browser();
    vec![
        ("commune", fetched(mayor, server, &dossier).await, dossier),
        ("commune", inline_css(mayor, server, invited).await, invite),
        ("prestataire", fetched(&provider, server, &link).await, link),
    ]
}
