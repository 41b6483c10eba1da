//! Issue 13: each role's pages at 1400 px and on a 390 px phone, as the
//! mayor, the town hall's secretary, the territory's team and an agent
//! following a training link see them.

use chrono::{Duration, Utc};
use vigie_server::accounts::Role;

use super::{check_widths, chromium, fetched, shots_dir};
use crate::common::{TestServer, enrolled_sensor, incident, post_report, sign_in_as};

/// The built-in territory and ten days of Saint-Étienne's box, today with
/// a storm and an outbound incident.
async fn seeded_server() -> TestServer {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let today = vigie_core::local_day(Utc::now());
    let token = enrolled_sensor(&server, "42218").await;
    for (seq, back) in (1..).zip((0..10).rev()) {
        let day = today - Duration::days(back);
        let at = format!("{day}T09:30:00Z");
        let mut incidents = vec![incident("brute_force", "inbound", &at); 3 + 4 * back as usize];
        if back == 0 {
            incidents.extend(vec![incident("brute_force", "inbound", &at); 88]);
            let mut out = incident("reputation", "outbound", &at);
            out["internal_host"] = serde_json::json!("h:3f2a9c0172be");
            incidents.push(out);
        }
        assert_eq!(
            post_report(&server, &token, seq, &at, &at, incidents).await,
            200
        );
    }
    server
}

/// An awareness agreement of Saint-Étienne started three weeks ago: the
/// calendar and the register have something to show (issue 12).
async fn agreement_due_soon(server: &TestServer) {
    use vigie_server::agreements::{Facts, store};
    let started = vigie_core::local_day(Utc::now()) - Duration::days(21);
    let facts = Facts {
        signed_on: Some(started - Duration::days(10)),
        started_on: Some(started),
        ..Facts::default()
    };
    let nobody = store::Referent::default();
    let new = store::NewAgreement {
        commune: "42218",
        offer: "awareness_1",
        facts: &facts,
        territory_referent: &nobody,
        commune_referent: &nobody,
        costs: None,
        data_at_end: None,
        created_by: None,
        detail: "Convention de test.",
    };
    store::create(&server.db, &new, 0).await.unwrap();
}

/// Issue 13: every role's pages at 1400 px and on a 390 px phone: no
/// horizontal scrolling, a keyboard focus that shows, and no serious nor
/// critical axe-core violation (RGAA: contrast, labels, landmarks,
/// alternatives for the charts and the map); on a mayor's home the
/// outbound alert comes first and the weather in words and the advice
/// show without scrolling; the keyboard reaches the map's communes.
#[tokio::test]
async fn issue_13_every_page_fits_a_phone_passes_axe_and_a_mayor_reads_their_day() {
    let Some(browser_bin) = chromium() else {
        return;
    };
    let server = seeded_server().await;
    let shots = shots_dir();
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (operator, _) = sign_in_as(&server, "ops@loire.fr", Role::Operator, None).await;
    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let mayor_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind("maire@saint-etienne.fr")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let book = vigie_server::audits::Book::built_in().unwrap();
    let now = Utc::now().timestamp_millis();
    let audit = vigie_server::audits::create(&server.db, "42218", &book, mayor_id, now)
        .await
        .unwrap();
    let overview = format!("/audits/{audit}");
    let questions = format!("/audits/{audit}/questions?page=0");
    let (training, module) = training_pages(&server).await;
    agreement_due_soon(&server).await;
    let agent = server.browser();
    let pages: [(&str, &reqwest::Client, Vec<&str>); 4] = [
        (
            "admin",
            &admin,
            vec![
                "/",
                "/communes/42218",
                "/tableau-de-bord",
                "/capteurs",
                "/journal",
                "/comptes",
                "/listes",
                "/territoire",
                &overview,
                "/formation",
                "/kit",
                "/calendrier?par=semaine",
                "/registre-traitements",
            ],
        ),
        (
            "operator",
            &operator,
            vec!["/", "/capteurs", "/tableau-de-bord"],
        ),
        (
            "commune",
            &mayor,
            vec![
                "/",
                "/carte",
                "/capteurs",
                "/compte",
                &overview,
                &questions,
                "/communes/42218/formation",
                "/kit",
                "/calendrier",
                "/registre-traitements",
            ],
        ),
        ("agent", &agent, vec![&training, &module]),
    ];
    let mut failures = Vec::new();
    for (role, client, paths) in pages {
        for path in paths {
            let html = fetched(client, &server, path).await;
            for (width, checked) in check_widths(&browser_bin, &shots, &html, path) {
                let m = &checked.measure;
                eprintln!("{role} {path} {width}px: {m:?}");
                failures.extend(checked.failures(&format!("{role} {path} at {width}px")));
                let map_page =
                    (role == "commune" && path == "/carte") || (role != "commune" && path == "/");
                if map_page {
                    assert!(m.map_link_focusable, "{role} {path}: Tab reaches a commune");
                }
                if role == "commune" && path == "/" {
                    assert_eq!(m.first_in_main, "alert", "the outbound alert first");
                    let sentence = m.sentence_bottom.unwrap();
                    let advice = m.advice_bottom.unwrap();
                    assert!(
                        sentence <= m.viewport_height && advice <= m.viewport_height,
                        "{width}px: the weather in words and the advice without scrolling: {m:?}"
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issue 11: Saint-Étienne's training link, as its agents open it: the
/// list of modules and one module with its quiz.
pub(super) async fn training_pages(server: &TestServer) -> (String, String) {
    let code = vigie_server::territory::CommuneCode::parse("42218").unwrap();
    let now = Utc::now().timestamp_millis();
    let (_, token) = vigie_server::elearning::create_link(&server.db, &code, None, now)
        .await
        .unwrap();
    (
        format!("/formation/{token}"),
        format!("/formation/{token}/hameconnage"),
    )
}
