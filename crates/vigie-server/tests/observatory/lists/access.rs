//! Who may change the lists: the administrator only (with the session's
//! CSRF token); the operator sees them; a commune user and a stranger do
//! not; a sensor needs its own token.

use reqwest::StatusCode;
use vigie_server::accounts::Role;

use super::support::{A, add_url, admin, list, manifest, page, server, upload};
use crate::common::sign_in_as;

#[tokio::test]
async fn only_the_administrator_changes_lists() {
    let server = server().await;
    let admin = admin(&server).await;
    upload(&server, &admin, "menaces", "threat", "", "203.0.113.0/24\n").await;
    let operator = sign_in_as(&server, "ops@prestataire.fr", Role::Operator, None).await;
    let mayor = sign_in_as(&server, "mairie@42218.fr", Role::Commune, Some(A)).await;

    // The operator sees, the commune user does not.
    assert!(
        page(&server, &operator.0, "/listes")
            .await
            .contains("menaces")
    );
    assert_eq!(
        operator
            .0
            .get(server.at("/api/v1/lists"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    for path in ["/listes", "/listes/menaces", "/api/v1/lists"] {
        let status = mayor.0.get(server.at(path)).send().await.unwrap().status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // Neither changes anything.
    for who in [&operator, &mayor] {
        let (status, _) = upload(&server, who, "menaces", "threat", "", "192.0.2.1\n").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            add_url(&server, who, "autre", "http://127.0.0.1:9/x").await,
            StatusCode::FORBIDDEN
        );
        for action in ["supprimer", "actualiser"] {
            let response = who
                .0
                .post(server.at(&format!("/listes/menaces/{action}")))
                .form(&[("csrf", who.1.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
        }
    }
    // The administrator needs the session's CSRF token.
    let forged = (admin.0.clone(), "0".repeat(64));
    let (status, _) = upload(&server, &forged, "menaces", "threat", "", "192.0.2.1\n").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(list(&server, &admin.0, "menaces").await["version"], 1);
    // A stranger is sent to sign in.
    let status = server
        .browser()
        .get(server.at("/listes"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Sensors: no token, an unknown one, a user's API token.
    let anonymous = reqwest::Client::new()
        .get(server.at("/api/v1/sensors/lists"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, _, _) = manifest(&server, "vgs_unknown", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let content = reqwest::Client::new()
        .get(server.at("/api/v1/sensors/lists/menaces"))
        .bearer_auth("vgs_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), StatusCode::UNAUTHORIZED);
}
