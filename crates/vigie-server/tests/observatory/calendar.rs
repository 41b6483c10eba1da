//! The programme's calendar (issue 12) as its users meet it: what an
//! agreement's end triggers (its end actions recorded, the commune's
//! campaigns purged), reminders received by a real SMTP server on
//! loopback, by the right people and once, and each person's iCalendar
//! feed over HTTP, secret and revocable.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use sqlx::Row;
use vigie_server::accounts::{self, Role};
use vigie_server::agreements::{self, Facts, calendar, ending, reminders, store};
use vigie_server::db::now_ms;
use vigie_server::{AppState, ServerSettings, outbox};

use crate::common::{PASSWORD, TestServer, sign_in_as};
use crate::mail::{free_port, python, relay, start_sink};

const OWN: &str = "42218"; // Saint-Étienne
const OTHER: &str = "42095"; // Firminy
const PUBLIC_URL: &str = "https://observatoire.example.fr";
const REFERENT: &str = "referent@saint-etienne.fr";

fn settings() -> ServerSettings {
    ServerSettings {
        public_url: PUBLIC_URL.to_owned(),
        ..ServerSettings::default()
    }
}

async fn server() -> (TestServer, AppState) {
    let server = TestServer::start_with(settings()).await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let state = AppState::new(server.db.clone(), settings());
    (server, state)
}

/// An agreement of `offer` for `commune` started `days_ago` days ago:
/// its id.
async fn agreement(server: &TestServer, commune: &str, offer: &str, started: NaiveDate) -> String {
    let facts = Facts {
        signed_on: Some(started - Days::new(10)),
        started_on: Some(started),
        ..Facts::default()
    };
    let referent = store::Referent {
        name: "Claire Martin".to_owned(),
        role: "Secrétaire de mairie".to_owned(),
        email: REFERENT.to_owned(),
        phone: String::new(),
    };
    let new = store::NewAgreement {
        commune,
        offer,
        facts: &facts,
        territory_referent: &store::Referent::default(),
        commune_referent: &referent,
        costs: None,
        data_at_end: Some(store::DataAtEnd::Destroy),
        created_by: None,
        detail: "Convention de test.",
    };
    store::create(&server.db, &new, 0).await.unwrap()
}

/// A campaign of `commune`, ended, not purged: its id.
async fn campaign(server: &TestServer, commune: &str) -> String {
    let id = vigie_server::db::random_hex(12);
    sqlx::query(
        "INSERT INTO campaigns (id, commune, scenarios, start_day, end_day, targets,
             created_at, purge_due_at)
         VALUES ($1, $2, '[\"colis-douane\"]', '2025-01-06', '2025-01-10', 0, 0, $3)",
    )
    .bind(&id)
    .bind(commune)
    .bind(i64::MAX / 2)
    .execute(&server.db.pool)
    .await
    .unwrap();
    id
}

async fn purged(server: &TestServer, id: &str) -> bool {
    sqlx::query_scalar::<_, Option<i64>>("SELECT purged_at FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn calendar_an_ended_agreement_obliges_and_purges_its_communes_campaigns() {
    let (server, state) = server().await;
    let today = agreements::today();
    // Awareness path 2: three months at most, so ended long ago.
    let id = agreement(&server, OWN, "awareness_2", today - Days::new(200)).await;
    let (own, other) = (campaign(&server, OWN).await, campaign(&server, OTHER).await);

    let summary = ending::run(&state, today).await.unwrap();
    assert_eq!((summary.recorded, summary.campaigns_purged), (2, 1));
    assert!(purged(&server, &own).await);
    assert!(!purged(&server, &other).await, "another commune's campaign");
    let actions = store::end_actions(&server.db, &id).await.unwrap();
    let state_of = |action: &str| {
        actions
            .iter()
            .find(|a| a.action == action)
            .map(|a| (a.done_at.is_some(), a.note.clone()))
    };
    assert_eq!(
        state_of("purge_campaigns"),
        Some((
            true,
            "1 campagne effacée (seuls ses chiffres d'ensemble restent).".to_owned()
        ))
    );
    assert_eq!(state_of("collect_devices"), Some((false, String::new())));
    // Once only, whatever runs again.
    assert_eq!(
        ending::run(&state, today).await.unwrap(),
        Default::default()
    );
    let journal: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'agreement_end%'")
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(journal.len(), 3, "{journal:?}");
    let history = store::events(&server.db, &id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|e| e.detail.contains("Récupérer la sonde réseau")),
        "{history:?}"
    );

    // The commune sees what is left to do as late; another commune does not.
    let (mayor, _) = sign_in_as(&server, "mairie@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let page = mayor
        .get(server.at("/calendrier"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("En retard"), "{page}");
    assert!(page.contains("Récupérer la sonde réseau et les dispositifs prêtés"));
    assert!(
        !page.contains("Supprimer les données des campagnes"),
        "done"
    );
    assert!(page.contains(&format!("/conventions/{id}")));
    let (firminy, _) = sign_in_as(&server, "mairie@firminy.fr", Role::Commune, Some(OTHER)).await;
    let page = firminy
        .get(server.at("/calendrier?par=semaine"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&id) && !page.contains("En retard"), "{page}");
    let bad = mayor
        .get(server.at("/calendrier?du=2026-13-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("AAAA-MM-JJ"));
}

#[tokio::test]
async fn calendar_reminders_reach_the_right_people_once_through_real_smtp() {
    let Some(python) = python() else { return };
    let (server, state) = server().await;
    let today = agreements::today();
    for (email, role, commune) in [
        ("admin@loire.fr", Role::Admin, None),
        ("operateur@loire.fr", Role::Operator, None),
        ("mairie@saint-etienne.fr", Role::Commune, Some(OWN)),
        ("mairie@firminy.fr", Role::Commune, Some(OTHER)),
    ] {
        accounts::add_user(&server.db, email, role, commune, PASSWORD)
            .await
            .unwrap();
    }
    // A three-month path started nearly three months ago: its end and
    // its last step are within the leads.
    let id = agreement(&server, OWN, "awareness_1", today - Days::new(80)).await;
    let due = calendar::due(
        &state,
        &calendar::Scope::Territory,
        today,
        today + Days::new(30),
    )
    .await
    .unwrap();
    let expected = due.iter().filter(|d| d.kind != "step_opens").count();
    assert!(expected >= 1, "{due:?}");

    let summary = reminders::run(&state, today, now_ms()).await.unwrap();
    assert_eq!(summary.reminders, expected);
    assert_eq!(
        summary.emails,
        expected * 4,
        "staff, referent, commune user"
    );
    let again = reminders::run(&state, today, now_ms()).await.unwrap();
    assert_eq!(again, reminders::RemindSummary::default(), "sent once");

    let port = free_port();
    let sink = start_sink(python, port);
    outbox::send_due(&server.db, &relay(port), now_ms())
        .await
        .unwrap();
    let received = sink.received();
    assert_eq!(received.len(), expected * 4);
    let to: BTreeSet<String> = received
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = [
        "admin@loire.fr",
        "operateur@loire.fr",
        "mairie@saint-etienne.fr",
        REFERENT,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(to, want, "never Firminy's users");
    let first = &received[0];
    let text = first["text"].as_str().unwrap();
    assert!(
        first["subject"]
            .as_str()
            .unwrap()
            .starts_with("Vigie : échéance ")
    );
    assert!(text.contains("Saint-Étienne (42218)"), "{text}");
    assert!(text.contains("Que faire : "), "{text}");
    assert!(
        text.contains(&format!("{PUBLIC_URL}/conventions/{id}")),
        "{text}"
    );
    assert!(
        first["html"]
            .as_str()
            .unwrap()
            .contains("<a href=\"https://")
    );
    let rows: i64 = sqlx::query("SELECT COUNT(*) AS n FROM agreement_reminders")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(usize::try_from(rows).unwrap(), expected);
}

/// The feed link a calendar page shows once.
fn feed_link(page: &str) -> String {
    let start = page.find("/calendrier/vgc_").unwrap();
    let rest = &page[start..];
    rest[..rest.find(".ics").unwrap() + 4].to_owned()
}

#[tokio::test]
async fn calendar_each_person_has_a_secret_revocable_ical_feed() {
    let (server, _) = server().await;
    let today = agreements::today();
    let own = agreement(&server, OWN, "awareness_1", today - Days::new(20)).await;
    let other = agreement(&server, OTHER, "awareness_1", today - Days::new(20)).await;
    let (mayor, csrf) =
        sign_in_as(&server, "mairie@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let created = mayor
        .post(server.at("/calendrier/abonnement"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = feed_link(&created);
    assert!(link.len() >= "/calendrier/vgc_.ics".len() + 32, "{link}");

    let stranger = reqwest::Client::new();
    let feed = stranger.get(server.at(&link)).send().await.unwrap();
    assert_eq!(feed.status(), reqwest::StatusCode::OK);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let body = feed.text().await.unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n"), "{body}");
    assert!(body.split("\r\n").all(|line| line.len() <= 75), "{body}");
    let unfolded = body.replace("\r\n ", "");
    assert!(unfolded.contains(&format!("URL:{PUBLIC_URL}/conventions/{own}\r\n")));
    assert!(!unfolded.contains(&other), "another commune's agreement");
    assert!(unfolded.contains("DTSTART;VALUE=DATE:"));
    // Stable UIDs: the same feed read twice names its events alike.
    let uids = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("UID:"))
            .map(str::to_owned)
            .collect()
    };
    let again = stranger
        .get(server.at(&link))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(uids(&body), uids(&again));
    assert!(!uids(&body).is_empty());

    // Shown once: the page says a link is open, not what it is.
    let page = mayor
        .get(server.at("/calendrier"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("est ouvert depuis") && !page.contains("vgc_"));
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM calendar_feeds")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert!(!link.contains(&stored), "only the hash is kept");

    mayor
        .post(server.at("/calendrier/abonnement/fermer"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let closed = stranger.get(server.at(&link)).send().await.unwrap();
    assert_eq!(closed.status(), reqwest::StatusCode::NOT_FOUND);
    let wrong = stranger
        .get(server.at("/calendrier/vgc_0000.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn calendar_shows_when_a_campaigns_addresses_are_deleted() {
    let (server, _) = server().await;
    let today = agreements::today();
    let id = campaign(&server, OWN).await;
    let due = (today + Days::new(10))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    sqlx::query("UPDATE campaigns SET purge_due_at = $1 WHERE id = $2")
        .bind(due)
        .bind(&id)
        .execute(&server.db.pool)
        .await
        .unwrap();
    let path = format!(
        "/api/v1/deadlines?from={today}&to={}",
        today + Days::new(30)
    );
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let seen: serde_json::Value = admin
        .get(server.at(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let purge = seen
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "campaign_purge")
        .unwrap_or_else(|| panic!("no purge in {seen}"));
    assert_eq!(purge["day"], (today + Days::new(10)).to_string());
    assert_eq!(purge["commune"], OWN);
    assert_eq!(purge["link"], format!("/campagnes/{id}"));
    assert!(
        purge["title"]
            .as_str()
            .unwrap()
            .contains("effacement des adresses"),
        "{purge}"
    );
    let (other, _) = sign_in_as(&server, "maire@firminy.fr", Role::Commune, Some(OTHER)).await;
    let unseen: serde_json::Value = other
        .get(server.at(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!unseen.to_string().contains("campaign_purge"), "{unseen}");
}
