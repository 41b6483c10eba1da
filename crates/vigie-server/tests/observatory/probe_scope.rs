//! The probe's scope file prefilled from the pre-audit (issue 16), end to
//! end: the town hall names two agents on its identity sheet, the staff
//! download the commune's scope file (a commune user may not), the probe's
//! own parser reads it once the agreement's placeholders are filled, with
//! those agents, and the probe's usual accounts include their
//! `prenom.nom`.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use common::{TestServer, post_as_machine, sign_in_as};
use reqwest::StatusCode;
use serde_json::json;
use vigie_probe::credentials::likely;
use vigie_probe::scope::Scope;
use vigie_server::accounts::Role;

const OWN: &str = "42218"; // Saint-Étienne, the commune user's

/// The placeholders an operator fills from the agreement.
fn filled(scope: &str) -> String {
    scope
        .replace(
            "# networks = [\"192.168.1.0/24\"]",
            "networks = [\"192.168.1.0/24\"]",
        )
        .replace("# [period]", "[period]")
        .replace("# start = ", "start = ")
        .replace("# end = ", "end = ")
}

#[tokio::test]
async fn the_identity_sheet_agents_reach_the_probe_scope() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (staff, _) = sign_in_as(&server, "equipe@loire.fr", Role::Operator, None).await;
    let path = format!("/communes/{OWN}/sonde/perimetre.toml");

    // Before any pre-audit: the file has no agents, only their placeholder.
    let before = staff.get(server.at(&path)).send().await.unwrap();
    assert_eq!(before.status(), StatusCode::OK);
    let before = before.text().await.unwrap();
    assert!(before.contains("# agents = ["), "{before}");
    let bare = Scope::parse("perimetre.toml", &filled(&before)).unwrap();
    assert!(bare.agents().is_empty());

    // The town hall names two agents on its identity sheet.
    accounts_token(&server).await;
    let token = vigie_server::accounts::create_token(&server.db, "script@loire.fr")
        .await
        .unwrap();
    let (status, created) = post_as_machine(
        &server,
        &format!("/api/v1/communes/{OWN}/audits"),
        &token,
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let audit = created["id"].as_str().unwrap().to_owned();
    let (secretary, csrf) = sign_in_as(
        &server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await;
    let saved = secretary
        .put(server.at(&format!("/api/v1/audits/{audit}/answers")))
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "commune.agents_comptes": "Marie-Hélène Le Gall (secrétaire)\nJean Martin\n"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        saved.status(),
        StatusCode::OK,
        "{}",
        saved.text().await.unwrap()
    );

    // The commune may not download it; a stranger is sent to sign in.
    let refused = secretary.get(server.at(&path)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let anonymous = stranger.get(server.at(&path)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);

    // The staff's download, as the probe reads it.
    let response = staff.get(server.at(&path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("perimetre-42218.toml"),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("name = \"Saint-Étienne\""), "{text}");
    assert!(text.contains("# postcode = "), "{text}");
    assert!(
        Scope::parse("perimetre.toml", &text).is_err(),
        "the networks and the period stay for the operator to fill"
    );
    let scope = Scope::parse("perimetre.toml", &filled(&text)).unwrap();
    assert_eq!(scope.commune(), Some(OWN));
    assert_eq!(scope.name(), Some("Saint-Étienne"));
    assert_eq!(scope.agents(), ["Marie-Hélène Le Gall", "Jean Martin"]);

    // The probe tries their usual accounts.
    let words = likely::Words::new(scope.name(), scope.postcode(), 2026, scope.agents());
    let accounts: Vec<String> = likely::accounts(likely::ACCOUNTS, &words)
        .into_iter()
        .map(|usual| usual.account)
        .collect();
    for expected in [
        "mariehelene.legall",
        "jean.martin",
        "jmartin",
        "saintetienne",
    ] {
        assert!(
            accounts.contains(&expected.to_owned()),
            "{expected} in {accounts:?}"
        );
    }

    // The probe page links to it, for the staff only.
    let page = |client: &reqwest::Client| {
        client
            .get(server.at(&format!("/communes/{OWN}/sonde")))
            .send()
    };
    let staff_page = page(&staff).await.unwrap().text().await.unwrap();
    assert!(staff_page.contains(&path), "{staff_page}");
    let commune_page = page(&secretary).await.unwrap().text().await.unwrap();
    assert!(!commune_page.contains(&path));
}

/// A script's account of the staff, for the API.
async fn accounts_token(server: &TestServer) {
    vigie_server::accounts::add_user(
        &server.db,
        "script@loire.fr",
        Role::Operator,
        None,
        common::PASSWORD,
    )
    .await
    .unwrap();
}
