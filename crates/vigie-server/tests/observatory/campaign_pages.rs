//! The campaigns where people look for them (issue 11): the staff's menu,
//! the commune's page with its last campaign in words, the campaigns'
//! pages in plain French. Also the fixture the browser tests measure: a
//! campaign sent to six people, one per scenario, with a person's click
//! and submission and a mail scanner's fetch.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_server::accounts::Role;
use vigie_server::outbox::{self, sink::Sink};
use vigie_server::{ServerSettings, phishing};

use crate::campaigns::as_browser;
use crate::common::{TestServer, sign_in_as};

/// The commune of the fixture's campaign: the mayor's of the tests.
pub(crate) const COMMUNE: &str = "42218";

/// A server whose scanner window is nil, so that a test can be a person
/// right after the mails left.
pub(crate) async fn campaign_server() -> TestServer {
    let server = TestServer::start_with(ServerSettings {
        campaigns: phishing::CampaignSettings {
            scanner_window_seconds: 0,
            ..phishing::CampaignSettings::default()
        },
        ..ServerSettings::default()
    })
    .await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

/// A campaign and the tokens of its mails, in the targets' order.
pub(crate) struct SentCampaign {
    pub id: String,
    pub tokens: Vec<String>,
}

/// A campaign of Saint-Étienne to six people, one per scenario, created
/// by the staff through the API and sent through the outbox at its last
/// planned instant (to a loopback SMTP sink); then the first person opens
/// the mail, clicks and submits the form, the second opens and clicks,
/// and a mail scanner checks the third's link.
pub(crate) async fn sent_campaign(
    server: &TestServer,
    admin: &reqwest::Client,
    csrf: &str,
) -> SentCampaign {
    let scenarios: Vec<Value> = admin
        .get(server.at("/api/v1/scenarios"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = scenarios
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "{scenarios:?}");
    let mut csv = "email;prenom;role\r\n".to_owned();
    for (n, role) in ["agent", "élu", "agent", "agent", "élu", "agent"]
        .iter()
        .enumerate()
    {
        csv.push_str(&format!(
            "personne{n}@saint-etienne-test.fr;Prénom{n};{role}\r\n"
        ));
    }
    let today = vigie_core::local_day(chrono::Utc::now());
    let created = admin
        .post(server.at("/api/v1/campaigns"))
        .header("x-csrf-token", csrf)
        .json(&json!({
            "commune": COMMUNE,
            "scenarios": ids,
            "targets_csv": csv,
            "start": today.to_string(),
            "end": (today + chrono::Duration::days(14)).to_string(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sink = Sink::start().await.unwrap();
    let last: i64 = sqlx::query_scalar("SELECT MAX(send_at) FROM campaign_targets")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    // The links, as the mails carry them (read before they leave: a sent
    // campaign mail's body is emptied).
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body_text FROM outbox WHERE campaign_id = $1 ORDER BY id")
            .bind(&id)
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    let tokens: Vec<String> = bodies
        .iter()
        .map(|text| {
            let start = text.find("/c/").unwrap() + 3;
            text[start..start + 32].to_owned()
        })
        .collect();
    let relay = sink.relay("Observatoire <noreply@example.fr>").unwrap();
    let summary = outbox::send_due(&server.db, &relay, last).await.unwrap();
    assert_eq!((summary.sent, sink.received()), (6, 6), "{summary:?}");
    let person = server.browser();
    for (token, steps) in tokens.iter().zip([3, 2]) {
        let opened = as_browser(person.get(server.at(&format!("/o/{token}"))));
        assert_eq!(opened.send().await.unwrap().status(), StatusCode::OK);
        let clicked = as_browser(person.get(server.at(&format!("/c/{token}"))));
        assert_eq!(clicked.send().await.unwrap().status(), StatusCode::OK);
        if steps == 3 {
            let form = as_browser(person.post(server.at(&format!("/c/{token}"))));
            assert_eq!(form.send().await.unwrap().status(), StatusCode::SEE_OTHER);
        }
    }
    let scanner = person.head(server.at(&format!("/c/{}", tokens[2])));
    assert_eq!(scanner.send().await.unwrap().status(), StatusCode::OK);
    SentCampaign { id, tokens }
}

/// The staff's menu leads to the campaigns; the commune's page says where
/// its last campaign stands, how many clicked, and links to them.
#[tokio::test]
async fn issue_11_the_commune_page_tells_its_last_campaign() {
    let server = campaign_server().await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some(COMMUNE),
    )
    .await;
    let page = |client: &reqwest::Client, path: &str| {
        let request = client.get(server.at(path));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            // Apostrophes as askama escapes them, read back.
            response.text().await.unwrap().replace("&#39;", "'")
        }
    };
    let before = page(&mayor, "/").await;
    assert!(
        before.contains("Aucune campagne d'exercice pour l'instant"),
        "{before}"
    );
    assert!(before.contains("Demandez à l'équipe du territoire une campagne d'exercice"));
    assert!(
        !before.contains("/campagnes/nouvelle"),
        "the mayor prepares none"
    );

    let campaign = sent_campaign(&server, &admin, &csrf).await;
    let figures: Value = admin
        .get(server.at(&format!("/api/v1/campaigns/{}", campaign.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &figures["sent"],
            &figures["clicked"],
            &figures["submitted"],
            &figures["scanner_clicks"]
        ),
        (&json!(6), &json!(2), &json!(1), &json!(1)),
        "{figures}"
    );
    let home = page(&mayor, "/").await;
    assert!(
        home.contains("Une campagne d'exercice est en cours"),
        "{home}"
    );
    assert!(
        home.contains("2 personnes sur 6 ont cliqué sur le lien piégé (33\u{202f}%), dont 1 a saisi son mot de passe"),
        "{home}"
    );
    assert!(home.contains(&format!("href=\"/communes/{COMMUNE}/campagnes\"")));
    assert!(home.contains(&format!(
        "<a href=\"/campagnes/{}/resultats\">Les résultats jusqu'ici</a>",
        campaign.id
    )));
    let staff_view = page(&admin, &format!("/communes/{COMMUNE}")).await;
    assert!(
        staff_view.contains("2 personnes sur 6 ont cliqué"),
        "{staff_view}"
    );
    assert!(staff_view.contains(&format!("href=\"/campagnes/nouvelle?commune={COMMUNE}\"")));
    assert!(
        staff_view.contains("<a href=\"/campagnes\">Sensibilisation</a>"),
        "the staff's menu"
    );
    assert!(
        !home.contains("<a href=\"/campagnes\">"),
        "not in the commune's menu"
    );

    // Every link of the campaign's pages leads somewhere, for whoever may
    // see the page.
    for (client, start) in [
        (&mayor, format!("/campagnes/{}", campaign.id)),
        (&admin, format!("/campagnes/{}", campaign.id)),
        (&mayor, format!("/campagnes/{}/resultats", campaign.id)),
        (&mayor, format!("/communes/{COMMUNE}/campagnes")),
        (&admin, "/campagnes".to_owned()),
    ] {
        let html = page(client, &start).await;
        for link in html
            .split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
        {
            if !link.starts_with('/') || link.starts_with("/static/") {
                continue;
            }
            let status = client.get(server.at(link)).send().await.unwrap().status();
            assert_eq!(status, StatusCode::OK, "{start} links to {link}");
        }
    }
    let shown = page(&mayor, &format!("/campagnes/{}", campaign.id)).await;
    assert!(
        shown.contains("1 ouverture du lien par un antivirus de messagerie"),
        "{shown}"
    );
    assert!(shown.contains("2 (33\u{202f}%)"), "{shown}");
}
