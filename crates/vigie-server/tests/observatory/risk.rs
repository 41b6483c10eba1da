//! The territory's risk map over HTTP (issue 15): the API's contract and
//! who sees what, the factors moving with the data behind them (a
//! compromise, a probe scan's critical findings, an audit's progress, a
//! purged phishing exercise, e-learning), "whom to help first" with its
//! next step and path 2 eligibility, the pages, and the monthly snapshot
//! behind "what changed since last month".

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use common::{TestServer, enrolled_sensor, incident, post_report, sign_in_as};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_server::accounts::{self, Role};
use vigie_server::{AppState, ServerSettings};

const OWN: &str = "42218"; // Saint-Étienne, the commune user's
const OTHER: &str = "42095"; // Firminy
const SMALL: &str = "42001"; // Aboën, under 3,500 inhabitants

async fn server() -> TestServer {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

async fn token(server: &TestServer, email: &str, role: Role, commune: Option<&str>) -> String {
    accounts::add_user(&server.db, email, role, commune, common::PASSWORD)
        .await
        .unwrap();
    accounts::create_token(&server.db, email).await.unwrap()
}

async fn get_json(server: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The API's entry for `code`.
async fn entry(server: &TestServer, token: &str, code: &str) -> Value {
    let (status, all) = get_json(server, token, "/api/v1/risk").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    all.as_array()
        .unwrap()
        .iter()
        .find(|e| e["commune"] == code)
        .unwrap_or_else(|| panic!("{code} missing"))
        .clone()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Every scored question of the commune questionnaire answered at its
/// best (`best`) or at its worst known answer.
async fn answer_all(server: &TestServer, token: &str, audit: &str, best: bool) {
    let (_, all) = get_json(server, token, "/api/v1/questionnaires").await;
    let mut answers = serde_json::Map::new();
    for q in all
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["id"] == "securite-services")
        .flat_map(|q| q["questions"].as_array().unwrap())
    {
        let choices: Vec<&str> = q["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .filter(|a| *a != "unknown" && *a != "na")
            .collect();
        let pick = if best {
            choices[0]
        } else {
            choices[choices.len() - 1]
        };
        answers.insert(q["id"].as_str().unwrap().to_owned(), json!(pick));
    }
    let response = reqwest::Client::new()
        .put(server.at(&format!("/api/v1/audits/{audit}/answers")))
        .bearer_auth(token)
        .json(&answers)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn post_id(server: &TestServer, token: &str, path: &str) -> String {
    let response = reqwest::Client::new()
        .post(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_risk_map_follows_the_data_and_each_commune_sees_only_its_own() {
    let server = server().await;
    let staff = token(&server, "equipe@loire.fr", Role::Operator, None).await;
    let mayor = token(&server, "mairie@saint-etienne.fr", Role::Commune, Some(OWN)).await;

    // No data: every factor unknown, never good.
    let blank = entry(&server, &staff, OWN).await;
    assert_eq!(blank["risk"], Value::Null);
    assert_eq!(blank["level"], "unknown");
    for factor in ["pressure", "exposure", "maturity", "human"] {
        assert_eq!(blank["factors"][factor]["score"], Value::Null, "{factor}");
        assert!(!blank["factors"][factor]["why"].as_str().unwrap().is_empty());
    }
    let (_, all) = get_json(&server, &staff, "/api/v1/risk").await;
    assert!(
        all.as_array().unwrap().len() > 300,
        "the staff see every commune"
    );
    let (_, own) = get_json(&server, &mayor, "/api/v1/risk").await;
    let codes: Vec<&str> = own
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["commune"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [OWN], "a commune user sees only its own");
    let anonymous = reqwest::get(server.at("/api/v1/risk")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = get_json(&server, &staff, "/api/v1/risk?day=2999-01-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Last month's snapshot, before anything happened.
    let state = AppState::new(server.db.clone(), ServerSettings::default());
    let rules = vigie_server::risk::Rules::built_in().unwrap();
    let last_month = vigie_server::cybermeteo::today() - chrono::Duration::days(35);
    let kept = vigie_server::risk::snapshot::take(&state, &rules, last_month)
        .await
        .unwrap();
    assert!(kept > 300);
    assert_eq!(
        vigie_server::risk::snapshot::take(&state, &rules, last_month)
            .await
            .unwrap(),
        0,
        "a month is kept once"
    );

    // A town-hall machine talks to a malicious host: a compromise.
    let sensor = enrolled_sensor(&server, OWN).await;
    let now = now_rfc3339();
    let incidents = vec![
        incident("scan", "inbound", &now),
        incident("reputation", "outbound", &now),
    ];
    assert_eq!(
        post_report(&server, &sensor, 1, &now, &now, incidents).await,
        StatusCode::OK
    );
    // The probe finds three critical weaknesses.
    let started = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let report = crate::probes::scan(OWN, &started, 3);
    vigie_server::probes::store(&server.db, &report, None, vigie_server::db::now_ms())
        .await
        .unwrap();
    let e = entry(&server, &mayor, OWN).await;
    assert_eq!(e["factors"]["pressure"]["score"], 85, "{e}");
    assert!(
        e["factors"]["pressure"]["why"]
            .as_str()
            .unwrap()
            .starts_with("1 alerte sortante en 30 jours"),
        "{e}"
    );
    assert_eq!(e["factors"]["exposure"]["score"], 3 * 30 + 2, "{e}");
    assert!(
        e["factors"]["exposure"]["why"]
            .as_str()
            .unwrap()
            .contains("3 failles critiques et 0 élevée, dont « Partage de fichiers en SMBv1 »"),
        "{e}"
    );
    assert_eq!(e["level"], "critical", "{e}");
    assert_eq!(e["risk"], 89, "(25 × 85 + 30 × 92) / 55");

    // A pre-audit, then a follow-up with progress: maturity risk falls.
    let first = post_id(&server, &staff, &format!("/api/v1/communes/{OWN}/audits")).await;
    answer_all(&server, &staff, &first, false).await;
    let before = entry(&server, &staff, OWN).await["factors"]["maturity"]["score"]
        .as_u64()
        .unwrap();
    assert_eq!(before, 100, "every answer at its worst");
    let second = post_id(
        &server,
        &staff,
        &format!("/api/v1/audits/{first}/follow-up"),
    )
    .await;
    answer_all(&server, &staff, &second, true).await;
    let maturity = entry(&server, &staff, OWN).await["factors"]["maturity"].clone();
    assert_eq!(maturity["score"], 0, "{maturity}");
    assert!(
        maturity["why"]
            .as_str()
            .unwrap()
            .contains("(+100 depuis le tour précédent) ; 5 sur 5 des manques prioritaires"),
        "{maturity}"
    );

    // A purged exercise (only its summary left) and e-learning.
    sqlx::query(
        "INSERT INTO campaigns (id, commune, scenarios, start_day, end_day, targets, created_at, \
         purge_due_at, purged_at, summary) VALUES ('c1', $1, '[]', '2026-01-05', '2026-01-09', 10, \
         $2, $2, $2, $3)",
    )
    .bind(OWN)
    .bind(vigie_server::db::now_ms() - 3_600_000)
    .bind(
        json!({"total": {"targets": 10, "sent": 10, "opened": 6, "clicked": 3, "submitted": 1,
               "scanner_clicks": 0}, "by_role": {}, "by_scenario": {}, "days": []})
        .to_string(),
    )
    .execute(&server.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO elearning_completions (commune, module, version, score, questions, day) \
         VALUES ($1, 'hameconnage', '1', 4, 5, '2026-01-10')",
    )
    .bind(OWN)
    .execute(&server.db.pool)
    .await
    .unwrap();
    let human = entry(&server, &staff, OWN).await["factors"]["human"].clone();
    // 30 % clicked × 2 + 10 % typed × 4, less 20 × 1/6 of the modules.
    assert_eq!(human["score"], 60 + 40 - 3, "{human}");
    assert!(
        human["why"]
            .as_str()
            .unwrap()
            .contains("3 sur 10 personnes ont cliqué (30"),
        "{human}"
    );

    // A small commune with only an old exercise's worth of data stays unknown.
    let small = entry(&server, &staff, SMALL).await;
    assert_eq!(small["level"], "unknown");

    // The staff's page: the map, whom to help first, what changed.
    let (browser, _) = sign_in_as(&server, "chef@loire.fr", Role::Admin, None).await;
    let page = browser.get(server.at("/risques")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg"), "the map is drawn by the server");
    assert!(html.contains(r#"href="/communes/42218/risques""#));
    assert!(html.contains("Qui aider en premier"));
    assert!(
        html.contains("Isoler la machine de la mairie"),
        "the compromise first"
    );
    assert!(html.contains("Le parcours 2 est réservé aux communes de moins de 3"));
    assert!(
        html.contains("Nouvelles failles critiques"),
        "since last month"
    );
    assert!(html.contains("Nouvelles alertes sortantes"));
    assert!(!html.contains("<script>"), "no inline script");
    for vue in ["pression", "exposition", "maturite", "humain"] {
        let page = browser
            .get(server.at(&format!("/risques?vue={vue}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{vue}");
        assert!(page.text().await.unwrap().contains("aria-current=\"page\""));
    }

    // The commune's own page; never another's; the staff's map is not theirs.
    let (town, _) = sign_in_as(
        &server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await;
    let own = town
        .get(server.at(&format!("/communes/{OWN}/risques")))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let html = own.text().await.unwrap();
    assert!(html.contains("Risques de Saint-Étienne"));
    assert!(html.contains("À faire maintenant"));
    assert!(html.contains("Nouvelle alerte sortante"));
    assert!(
        !html.contains("/conventions/nouvelle"),
        "the staff prepare agreements"
    );
    let other = town
        .get(server.at(&format!("/communes/{OTHER}/risques")))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let map = town.get(server.at("/risques")).send().await.unwrap();
    assert_eq!(map.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_commune_without_an_audit_is_offered_the_path_it_may_sign() {
    let server = server().await;
    // A small commune with a compromise-free, critical scan: exposure
    // drives, and path 2 is open to it.
    let sensor = enrolled_sensor(&server, SMALL).await;
    let now = now_rfc3339();
    let incidents = vec![incident("scan", "inbound", &now)];
    assert_eq!(
        post_report(&server, &sensor, 1, &now, &now, incidents).await,
        StatusCode::OK
    );
    let started = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let report = crate::probes::scan(SMALL, &started, 1);
    vigie_server::probes::store(&server.db, &report, None, vigie_server::db::now_ms())
        .await
        .unwrap();
    let (browser, _) = sign_in_as(&server, "chef@loire.fr", Role::Admin, None).await;
    let html = browser
        .get(server.at("/risques"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Facteur principal : Exposition"), "{html}");
    assert!(html.contains("« Partage de fichiers en SMBv1 » : Désactiver SMBv1 sur le serveur."));
    assert!(html.contains(&format!(
        "/conventions/nouvelle?commune={SMALL}&amp;offre=awareness_2"
    )));
    let page = browser
        .get(server.at(&format!("/communes/{SMALL}/risques")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Pas encore de pré-diagnostic : la maturité"));
}
