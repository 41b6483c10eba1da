//! Ending access (issue 14): a person revokes their own token, a password
//! change can end every token, tokens expire, the administrator disables
//! and enables accounts, the staff revoke a sensor. Before, none of it
//! existed: a leaked token or a lost box kept working for good.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use vigie_server::accounts::{self, NewToken, Role};

use crate::common::{TestServer, commune, enrolled_sensor, post_report, sign_in_as};

const PASSWORD: &str = "un mot de passe de test assez long";

async fn me_with(server: &TestServer, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(server.at("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// A token of the mayor's, named `label`, living `days` days.
async fn mayor_token(
    server: &TestServer,
    label: &str,
    days: u32,
) -> Result<String, accounts::AccountError> {
    let new = NewToken {
        label: label.to_owned(),
        expires_in_days: Some(days),
    };
    accounts::create_token_with(&server.db, "maire@saint-etienne.fr", &new).await
}

fn prefix(token: &str) -> &str {
    &token[..12]
}

#[tokio::test]
async fn credentials_can_be_revoked() {
    let server = TestServer::start().await;
    commune(&server.db, "42218", "Saint-Étienne").await;
    let (mayor, csrf) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let kept = accounts::create_token(&server.db, "maire@saint-etienne.fr")
        .await
        .unwrap();
    let leaked = mayor_token(&server, "script de la mairie", 30)
        .await
        .unwrap();
    assert_eq!(me_with(&server, &leaked).await, StatusCode::OK);

    // The account page lists them, by prefix only, and revokes one.
    let page = mayor
        .get(server.at("/compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(prefix(&leaked)) && page.contains("script de la mairie"),
        "{page}"
    );
    assert!(
        !page.contains(&leaked[12..]),
        "the secret is never shown again"
    );
    let response = mayor
        .post(server.at("/compte/jetons/revoquer"))
        .form(&[("csrf", csrf.as_str()), ("prefix", prefix(&leaked))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(me_with(&server, &leaked).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_with(&server, &kept).await, StatusCode::OK);
    // Without the CSRF token, or someone else's token: refused.
    let other = accounts::create_token(&server.db, "maire@saint-etienne.fr")
        .await
        .unwrap();
    let response = mayor
        .post(server.at("/compte/jetons/revoquer"))
        .form(&[("csrf", ""), ("prefix", prefix(&other))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (admin, admin_csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let response = admin
        .post(server.at("/compte/jetons/revoquer"))
        .form(&[("csrf", admin_csrf.as_str()), ("prefix", prefix(&other))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(me_with(&server, &other).await, StatusCode::OK);

    // A password change ends the tokens when asked.
    let new = "une autre phrase de passe";
    let response = mayor
        .post(server.at("/compte/mot-de-passe"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", new),
            ("new_password_again", new),
            ("end_tokens", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(me_with(&server, &kept).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_with(&server, &other).await, StatusCode::UNAUTHORIZED);

    // An expired token is refused.
    let expiring = mayor_token(&server, "", 1).await.unwrap();
    assert_eq!(me_with(&server, &expiring).await, StatusCode::OK);
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE id_prefix = $1")
        .bind(prefix(&expiring))
        .execute(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(me_with(&server, &expiring).await, StatusCode::UNAUTHORIZED);
    assert!(matches!(
        mayor_token(&server, "", 0).await,
        Err(accounts::AccountError::TokenLifetime)
    ));

    // The administrator disables the account: its session and tokens end.
    let token = accounts::create_token(&server.db, "maire@saint-etienne.fr")
        .await
        .unwrap();
    let users = admin
        .get(server.at("/comptes"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(users.contains("maire@saint-etienne.fr"), "{users}");
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'maire@saint-etienne.fr'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    // Issue 13: not without its confirmation box ticked.
    let response = admin
        .post(server.at(&format!("/comptes/{id}/desactiver")))
        .form(&[("csrf", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Cochez la case de confirmation")
    );
    let response = admin
        .post(server.at(&format!("/comptes/{id}/desactiver")))
        .form(&[("csrf", admin_csrf.as_str()), ("confirm", "oui")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(me_with(&server, &token).await, StatusCode::UNAUTHORIZED);
    let session = mayor.get(server.at("/api/v1/me")).send().await.unwrap();
    assert_eq!(session.status(), StatusCode::UNAUTHORIZED);
    let sign_in = server
        .browser()
        .post(server.at("/connexion"))
        .form(&[("email", "maire@saint-etienne.fr"), ("password", new)])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), StatusCode::UNAUTHORIZED);
    // Enabled again: the password works, the tokens stay revoked (they
    // may have leaked with whatever got the account disabled).
    for action in ["reactiver", "jetons/revoquer"] {
        let response = admin
            .post(server.at(&format!("/comptes/{id}/{action}")))
            .form(&[("csrf", admin_csrf.as_str()), ("confirm", "oui")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{action}");
    }
    assert_eq!(me_with(&server, &token).await, StatusCode::UNAUTHORIZED);
    let sign_in = server
        .browser()
        .post(server.at("/connexion"))
        .form(&[("email", "maire@saint-etienne.fr"), ("password", new)])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), StatusCode::SEE_OTHER);
    // The administrator cannot disable their own account.
    let admin_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@loire.fr'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let response = admin
        .post(server.at(&format!("/comptes/{admin_id}/desactiver")))
        .form(&[("csrf", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_the_administrator_manages_accounts_and_only_staff_revoke_sensors() {
    let server = TestServer::start().await;
    commune(&server.db, "42218", "Saint-Étienne").await;
    let (mayor, mayor_csrf) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let (operator, operator_csrf) =
        sign_in_as(&server, "ops@prestataire.fr", Role::Operator, None).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'maire@saint-etienne.fr'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    for (who, browser, csrf, expected) in [
        (
            "anonymous",
            server.browser(),
            String::new(),
            StatusCode::SEE_OTHER,
        ),
        (
            "operator",
            operator.clone(),
            operator_csrf.clone(),
            StatusCode::FORBIDDEN,
        ),
        (
            "commune",
            mayor.clone(),
            mayor_csrf.clone(),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let page = browser.get(server.at("/comptes")).send().await.unwrap();
        assert_eq!(page.status(), expected, "{who} GET /comptes");
        if expected == StatusCode::SEE_OTHER {
            assert!(
                page.headers()[LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/connexion")
            );
        }
        for action in ["desactiver", "reactiver", "jetons/revoquer"] {
            let response = browser
                .post(server.at(&format!("/comptes/{id}/{action}")))
                .form(&[("csrf", csrf.as_str()), ("confirm", "oui")])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), expected, "{who} POST {action}");
        }
    }

    let sensor_token = enrolled_sensor(&server, "42218").await;
    let sensor_id: String = sqlx::query_scalar("SELECT id FROM sensors WHERE commune = '42218'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let at = chrono::Utc::now().to_rfc3339();
    assert_eq!(
        post_report(&server, &sensor_token, 1, &at, &at, vec![]).await,
        StatusCode::OK
    );
    let revoke = |browser: reqwest::Client, csrf: String| {
        let url = server.at(&format!("/capteurs/{sensor_id}/revoquer"));
        async move {
            browser
                .post(url)
                .form(&[("csrf", csrf.as_str()), ("confirm", "oui")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        revoke(mayor.clone(), mayor_csrf.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        revoke(operator.clone(), String::new()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_report(&server, &sensor_token, 2, &at, &at, vec![]).await,
        StatusCode::OK
    );
    let page = operator
        .get(server.at(&format!("/capteurs/{sensor_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Révoquer le capteur"), "{page}");
    assert_eq!(
        revoke(operator.clone(), operator_csrf.clone()).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post_report(&server, &sensor_token, 3, &at, &at, vec![]).await,
        StatusCode::UNAUTHORIZED
    );
}
