//! Issue 13: the administrator creates accounts and sends password links
//! from the web; the link goes through the outbox, works once, expires,
//! and applies the password rules. Also: a future day is refused where a
//! day is entered, and the commune pickers are in French order.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common::{self, TestServer, sign_in_as};

use reqwest::StatusCode;
use vigie_server::accounts::Role;

/// The link of the last e-mail written to `recipient`.
async fn link_sent_to(server: &TestServer, recipient: &str) -> String {
    let (kind, text): (String, String) = sqlx::query_as(
        "SELECT kind, body_text FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(recipient)
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(kind, "password_link");
    let start = text.find("/mot-de-passe/").unwrap();
    let token: String = text[start + "/mot-de-passe/".len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 64, "{text}");
    format!("/mot-de-passe/{token}")
}

async fn choose(
    server: &TestServer,
    link: &str,
    first: &str,
    second: &str,
) -> (StatusCode, String) {
    let response = server
        .browser()
        .post(server.at(link))
        .form(&[("password", first), ("password_again", second)])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn signs_in(server: &TestServer, email: &str, password: &str) -> bool {
    let response = server
        .browser()
        .post(server.at("/connexion"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    response.status() == StatusCode::SEE_OTHER
}

#[tokio::test]
async fn issue_13_accounts_are_created_and_passwords_reset_by_a_link() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (operator, ops_csrf) = sign_in_as(&server, "ops@loire.fr", Role::Operator, None).await;

    // Only the administrator creates accounts.
    let form = [
        ("csrf", ops_csrf.as_str()),
        ("email", "secretaire@ecotay.fr"),
        ("role", "commune"),
        ("commune", "42087"),
    ];
    let response = operator
        .post(server.at("/comptes"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A commune account needs its commune: the page says so.
    let response = admin
        .post(server.at("/comptes"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "x@ecotay.fr"),
            ("role", "commune"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let form = [
        ("csrf", csrf.as_str()),
        ("email", "Secretaire@Ecotay.fr"),
        ("role", "commune"),
        ("commune", "42087 — Écotay"),
    ];
    let response = admin
        .post(server.at("/comptes"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = admin
        .get(server.at(response.headers()["location"].to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Compte créé") && page.contains("secretaire@ecotay.fr"),
        "{page}"
    );
    assert!(
        page.contains(r#"href="/journal""#),
        "the journal is one click away"
    );

    let link = link_sent_to(&server, "secretaire@ecotay.fr").await;
    let (status, html) = {
        let response = server.browser().get(server.at(&link)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("secretaire@ecotay.fr"), "{html}");
    // The password rules of the account page apply.
    let (status, html) = choose(&server, &link, "une phrase de passe", "une autre phrase").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("différentes"), "{html}");
    let (status, _) = choose(&server, &link, "court", "court").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = choose(
        &server,
        &link,
        "secretaire@ecotay.fr!!",
        "secretaire@ecotay.fr!!",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let chosen = "le tilleul de la place du village";
    let (status, html) = choose(&server, &link, chosen, chosen).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("mot de passe est enregistré"), "{html}");
    assert!(signs_in(&server, "secretaire@ecotay.fr", chosen).await);
    // Once only.
    let (status, html) = choose(
        &server,
        &link,
        "encore une autre phrase",
        "encore une autre phrase",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Ce lien ne fonctionne pas"), "{html}");
    assert!(signs_in(&server, "secretaire@ecotay.fr", chosen).await);

    // A reset: a new link; the old password works until it is used; an
    // expired link does not work.
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'secretaire@ecotay.fr'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let response = admin
        .post(server.at(&format!("/comptes/{id}/reinitialiser")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let reset = link_sent_to(&server, "secretaire@ecotay.fr").await;
    assert_ne!(reset, link);
    assert!(signs_in(&server, "secretaire@ecotay.fr", chosen).await);
    sqlx::query("UPDATE password_resets SET expires_at = 1 WHERE used_at IS NULL")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let response = server
        .browser()
        .get(server.at(&reset))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (status, _) = choose(
        &server,
        &reset,
        "une phrase toute neuve",
        "une phrase toute neuve",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(signs_in(&server, "secretaire@ecotay.fr", chosen).await);

    // The journal names both actions in French.
    let journal = admin
        .get(server.at("/journal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        journal.contains("lien de nouveau mot de passe envoyé"),
        "{journal}"
    );
    assert!(
        journal.contains("mot de passe choisi par un lien"),
        "{journal}"
    );
}

#[tokio::test]
async fn issue_13_future_days_are_refused_and_pickers_sort_in_french() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let tomorrow = vigie_core::local_day(chrono::Utc::now()) + chrono::Duration::days(1);
    for path in [
        format!("/carte?jour={tomorrow}"),
        format!("/communes/42218?jour={tomorrow}"),
    ] {
        let response = admin.get(server.at(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            response.text().await.unwrap().contains("dans le futur"),
            "{path}"
        );
    }
    // A range may end tomorrow: it asks for everything known so far (the
    // live tests ask so from UTC); one day in the future stays refused.
    let yesterday = tomorrow - chrono::Duration::days(2);
    let response = admin
        .get(server.at(&format!(
            "/api/v1/communes/42218/days?from={yesterday}&to={tomorrow}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = admin
        .get(server.at(&format!("/api/v1/communes/42218/incidents?day={tomorrow}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let today = vigie_core::local_day(chrono::Utc::now());
    let response = admin
        .get(server.at(&format!("/carte?jour={today}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // "Écotay" among the E, not after the Z.
    for path in ["/capteurs", "/comptes", "/listes"] {
        let html = admin
            .get(server.at(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let at = |name: &str| {
            html.find(&format!(">{name}"))
                .unwrap_or_else(|| panic!("{path}: {name}"))
        };
        assert!(
            at("Écotay") < at("Feurs") && at("Écotay") > at("Dargoire"),
            "{path}"
        );
    }
    let _ = common::PASSWORD;
}
