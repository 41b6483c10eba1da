//! Accounts over HTTP, as a browser and a script would use them: sign-in
//! and sign-out, sessions, bearer tokens, CSRF, password change, rate
//! limiting, the audit log, and the checks of `add_user`.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestServer, commune, post_sign_in};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use sqlx::Row;
use vigie_server::accounts::{self, AccountError, Role};
use vigie_server::{AppState, Db, ServerSettings};

const ADMIN: &str = "admin@loire.fr";
const PASSWORD: &str = "un mot de passe solide";

/// A server with an administrator, an operator and a Saint-Étienne user.
async fn server_with_users() -> TestServer {
    let server = TestServer::start().await;
    commune(&server.db, "42218", "Saint-Étienne").await;
    accounts::add_user(&server.db, ADMIN, Role::Admin, None, PASSWORD)
        .await
        .unwrap();
    accounts::add_user(
        &server.db,
        "ops@prestataire.fr",
        Role::Operator,
        None,
        PASSWORD,
    )
    .await
    .unwrap();
    accounts::add_user(
        &server.db,
        "mairie@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
        PASSWORD,
    )
    .await
    .unwrap();
    server
}

/// A browser signed in as `email`, and its session secret.
async fn signed_in(server: &TestServer, email: &str, password: &str) -> (reqwest::Client, String) {
    let browser = server.browser();
    let response = post_sign_in(&browser, server, email, password).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in of {email}"
    );
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let secret = cookie
        .strip_prefix("vigie_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (browser, secret)
}

/// The CSRF token of the signed-in browser, read from a form as a person's
/// browser would submit it.
async fn csrf(server: &TestServer, browser: &reqwest::Client) -> String {
    let html = browser
        .get(server.at("/compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let token = &html[start..start + html[start..].find('"').unwrap()];
    assert_eq!(token.len(), 64);
    token.to_owned()
}

async fn me(client: &reqwest::Client, server: &TestServer) -> (StatusCode, Value) {
    let response = client.get(server.at("/api/v1/me")).send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// A client that is not a browser: sends exactly the headers it is given.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn sign_in_success_and_failure() {
    let server = server_with_users().await;
    let browser = server.browser();
    for (email, password) in [
        (ADMIN, "pas le bon mot de passe"),
        ("inconnu@loire.fr", PASSWORD),
    ] {
        let response = post_sign_in(&browser, &server, email, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(SET_COOKIE).is_none());
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Adresse e-mail ou mot de passe incorrect."),
            "{html}"
        );
        assert!(!html.contains(password));
    }
    assert_eq!(me(&browser, &server).await.0, StatusCode::UNAUTHORIZED);

    // The address is case-insensitive; the cookie has its attributes.
    let response = post_sign_in(&browser, &server, " Admin@Loire.FR", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("vigie_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "loopback test server: no Secure"
    );
    let (status, body) = me(&browser, &server).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"email": ADMIN, "role": "admin", "commune": null})
    );

    let html = browser
        .get(server.at("/compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("administrateur du territoire"), "{html}");

    let (commune, _) = signed_in(&server, "mairie@saint-etienne.fr", PASSWORD).await;
    let html = commune
        .get(server.at("/compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Saint-Étienne (42218)"), "{html}");
}

#[tokio::test]
async fn sign_in_goes_back_only_to_local_paths() {
    let server = server_with_users().await;
    for (suite, expected) in [
        ("/compte", "/compte"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
    ] {
        let response = server
            .browser()
            .post(server.at("/connexion"))
            .form(&[("email", ADMIN), ("password", PASSWORD), ("suite", suite)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[LOCATION], expected, "suite {suite}");
    }
}

/// Another site's page posting the sign-in form (with the attacker's own
/// account) opens no session in the person's browser; the same form from
/// the observatory's own page does.
#[tokio::test]
async fn a_sign_in_sent_from_another_site_is_refused() {
    let server = server_with_users().await;
    let own_origin = server.url.trim_end_matches('/').to_owned();
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = server
            .browser()
            .post(server.at("/connexion"))
            .header(name, value)
            .form(&[("email", ADMIN), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        assert!(response.headers().get(SET_COOKIE).is_none(), "{name}");
        let page = response.text().await.unwrap();
        assert!(page.contains("depuis un autre site"), "{page}");
    }
    let response = server
        .browser()
        .post(server.at("/connexion"))
        .header("origin", own_origin)
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers().get(SET_COOKIE).is_some());
}

#[tokio::test]
async fn strangers_are_sent_to_sign_in_or_refused() {
    let server = server_with_users().await;
    let browser = server.browser();
    for (path, expected) in [
        ("/compte", "/connexion?suite=/compte"),
        ("/journal?page=2", "/connexion?suite=/journal%3Fpage%3D2"),
    ] {
        let response = browser.get(server.at(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[LOCATION], expected);
    }
    let (status, body) = me(&browser, &server).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("Connexion"),
        "{body}"
    );

    let response = browser
        .post(server.at("/compte/mot-de-passe"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[LOCATION],
        "/connexion",
        "no coming back to a POST"
    );

    // The sign-in form carries the way back, and drops a foreign one.
    let html = browser
        .get(server.at("/connexion?suite=/compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"name="suite" value="/compte""#), "{html}");
    let html = browser
        .get(server.at("/connexion?suite=//evil.example"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("evil.example"), "{html}");

    // A made-up session cookie is no session.
    let response = bare()
        .get(server.at("/api/v1/me"))
        .header(COOKIE, "vigie_session=0123abcd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bearer_tokens() {
    let server = server_with_users().await;
    let token = accounts::create_token(&server.db, "Mairie@Saint-Etienne.fr")
        .await
        .unwrap();
    assert!(token.starts_with("vgt_") && token.len() == 68, "{token}");
    let client = bare();
    let call = |value: String| {
        client
            .get(server.at("/api/v1/me"))
            .header(AUTHORIZATION, value)
            .send()
    };

    let response = call(format!("Bearer {token}")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"email": "mairie@saint-etienne.fr", "role": "commune", "commune": "42218"})
    );
    for garbage in [
        "Bearer vgt_0000",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "vgt_nothing",
    ] {
        let response = call(garbage.to_owned()).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{garbage}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string());
    }
    // Only the hash is stored.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // A disabled account's token stops working, and so does a revoked one.
    let other = accounts::create_token(&server.db, ADMIN).await.unwrap();
    sqlx::query("UPDATE users SET disabled = 1 WHERE email = $1")
        .bind(ADMIN)
        .execute(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(
        call(format!("Bearer {other}")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        accounts::revoke_token(&server.db, &token, None)
            .await
            .unwrap()
    );
    assert!(
        !accounts::revoke_token(&server.db, &token, None)
            .await
            .unwrap()
    );
    assert_eq!(
        call(format!("Bearer {token}")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(matches!(
        accounts::create_token(&server.db, "personne@loire.fr").await,
        Err(AccountError::UnknownUser(_))
    ));
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let server = server_with_users().await;
    let (browser, secret) = signed_in(&server, ADMIN, PASSWORD).await;
    let token = csrf(&server, &browser).await;
    for form in [
        vec![],
        vec![("csrf", "0".repeat(64))],
        vec![("csrf", String::new())],
    ] {
        let response = browser
            .post(server.at("/deconnexion"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{form:?}");
    }
    let response = browser
        .post(server.at("/deconnexion"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no body at all");
    assert_eq!(
        me(&browser, &server).await.0,
        StatusCode::OK,
        "still signed in after refused sign-outs"
    );

    let response = browser
        .post(server.at("/deconnexion"))
        .form(&[("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/connexion");
    assert!(
        response.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(me(&browser, &server).await.0, StatusCode::UNAUTHORIZED);
    // The session is gone from the server, not only from the browser.
    let replay = bare()
        .get(server.at("/api/v1/me"))
        .header(COOKIE, format!("vigie_session={secret}"))
        .send();
    assert_eq!(replay.await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_change() {
    let server = server_with_users().await;
    let email = "mairie@saint-etienne.fr";
    let (browser, _) = signed_in(&server, email, PASSWORD).await;
    let (elsewhere, _) = signed_in(&server, email, PASSWORD).await;
    let token = csrf(&server, &browser).await;
    let new = "un autre mot de passe, plus long";
    let change = |csrf: &str, current: &str, new: &str, again: &str| {
        let form = [
            ("csrf", csrf),
            ("current_password", current),
            ("new_password", new),
            ("new_password_again", again),
        ];
        browser
            .post(server.at("/compte/mot-de-passe"))
            .form(&form)
            .send()
    };

    assert_eq!(
        change("", PASSWORD, new, new).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        change(&"f".repeat(64), PASSWORD, new, new)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    for (current, new_one, again, message) in [
        (PASSWORD, new, "autre chose encore", "différentes"),
        (PASSWORD, "court", "court", "trop court"),
        ("pas le mot de passe", new, new, "actuel est incorrect"),
    ] {
        let response = change(&token, current, new_one, again).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{message}");
        assert!(
            response.text().await.unwrap().contains(message),
            "{message}"
        );
    }

    let response = change(&token, PASSWORD, new, new).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/compte?modifie=1");
    let html = browser
        .get(server.at("/compte?modifie=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Votre mot de passe a été modifié."));
    // This session goes on; the other one ended with the old password.
    assert_eq!(me(&browser, &server).await.0, StatusCode::OK);
    assert_eq!(me(&elsewhere, &server).await.0, StatusCode::UNAUTHORIZED);

    let response = post_sign_in(&server.browser(), &server, email, PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    signed_in(&server, email, new).await;
}

/// A second replica on the same database, as `vigie serve` run twice.
async fn replica(db: &Db) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), ServerSettings::default());
    tokio::spawn(async move { vigie_server::serve(state, listener, None).await.unwrap() });
    url
}

#[tokio::test]
async fn sign_in_rate_limit_is_shared_by_replicas() {
    let server = server_with_users().await;
    let other = replica(&server.db).await;
    let max = ServerSettings::default().login_max_failures;
    // An old counter of someone else, outside the window: pruned.
    sqlx::query(
        "INSERT INTO login_limits (key, count, window_start, next_at) VALUES ('ancien', 3, $1, 0)",
    )
    .bind(vigie_server::db::now_ms() - 2 * 1000 * ServerSettings::default().login_window_secs)
    .execute(&server.db.pool)
    .await
    .unwrap();

    for _ in 0..max {
        let response =
            post_sign_in(&server.browser(), &server, ADMIN, "mauvais mot de passe").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = server
        .browser()
        .post(format!("{other}/connexion"))
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "right password, but too many failures"
    );
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Trop de tentatives")
    );
    let response = post_sign_in(&server.browser(), &server, "Admin@Loire.fr", PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "same address, other case"
    );

    // Other addresses are not affected; the old row is gone.
    signed_in(&server, "ops@prestataire.fr", PASSWORD).await;
    let old: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_limits WHERE key = 'ancien'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(old, 0);

    // When the attempts leave the window, the address may sign in again.
    sqlx::query("UPDATE login_limits SET window_start = window_start - $1")
        .bind(1000 * ServerSettings::default().login_window_secs)
        .execute(&server.db.pool)
        .await
        .unwrap();
    signed_in(&server, ADMIN, PASSWORD).await;
}

#[tokio::test]
async fn sessions_work_on_every_replica_and_expire() {
    let server = server_with_users().await;
    let other = replica(&server.db).await;
    let (_, secret) = signed_in(&server, ADMIN, PASSWORD).await;
    let cookie = format!("vigie_session={secret}");
    let status = || async {
        bare()
            .get(format!("{other}/api/v1/me"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(status().await, StatusCode::OK);

    let now = vigie_server::db::now_ms();
    let lifetime = ServerSettings::default().session_hours * 3_600_000;
    let set_expiry = |at: i64| {
        sqlx::query("UPDATE sessions SET expires_at = $1")
            .bind(at)
            .execute(&server.db.pool)
    };
    let expiry = || {
        sqlx::query_scalar::<_, i64>("SELECT expires_at FROM sessions").fetch_one(&server.db.pool)
    };

    // Used within the first minute of its life: no write.
    set_expiry(now + lifetime - 20_000).await.unwrap();
    assert_eq!(status().await, StatusCode::OK);
    assert_eq!(expiry().await.unwrap(), now + lifetime - 20_000);
    // Used later: its life starts again.
    set_expiry(now + 600_000).await.unwrap();
    assert_eq!(status().await, StatusCode::OK);
    assert!(expiry().await.unwrap() >= now + lifetime);
    // Expired: refused, and deleted.
    set_expiry(now - 1).await.unwrap();
    assert_eq!(status().await, StatusCode::UNAUTHORIZED);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn journal_is_for_the_administrator() {
    let server = server_with_users().await;
    for email in ["ops@prestataire.fr", "mairie@saint-etienne.fr"] {
        let (browser, _) = signed_in(&server, email, PASSWORD).await;
        let response = browser.get(server.at("/journal")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{email}");
    }
    post_sign_in(
        &server.browser(),
        &server,
        "intrus@ailleurs.fr",
        "devine-moi-1234",
    )
    .await;
    let (admin, _) = signed_in(&server, ADMIN, PASSWORD).await;
    let html = admin
        .get(server.at("/journal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("échec de connexion"), "{html}");
    assert!(html.contains("intrus@ailleurs.fr"));
    assert!(
        !html.contains("devine-moi-1234"),
        "never a password in the journal"
    );
    assert!(!html.contains(PASSWORD));
    for who in ["ops@prestataire.fr", "mairie@saint-etienne.fr", ADMIN] {
        assert!(html.contains(who), "{who}");
    }
    // Newest first: the administrator's own sign-in tops the list.
    let first_row = &html[html.find("<tbody>").unwrap()..];
    let first_row = &first_row[..first_row.find("</tr>").unwrap()];
    assert!(
        first_row.contains(ADMIN) && first_row.contains("<td>connexion</td>"),
        "{first_row}"
    );

    // 100 entries per page.
    for n in 0..150 {
        accounts::audit(&server.db, None, "test_entry", &format!("entrée {n}")).await;
    }
    let page = admin
        .get(server.at("/journal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("<td>test_entry</td>").count(), 100);
    assert!(page.contains("entrée 149") && !page.contains("entrée 49<"));
    assert!(page.contains("/journal?page=2"));
    let page = admin
        .get(server.at("/journal?page=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("<td>test_entry</td>").count(), 50);
    assert!(page.contains("entrée 49<") && page.contains("entrée 0<"));
}

#[tokio::test]
async fn add_user_checks_its_input() {
    let server = TestServer::start().await;
    commune(&server.db, "42218", "Saint-Étienne").await;
    let db = &server.db;
    let add =
        |email: &'static str, role: Role, commune: Option<&'static str>, password: &'static str| {
            accounts::add_user(db, email, role, commune, password)
        };
    let error = add("pas-une-adresse", Role::Admin, None, PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(error, AccountError::InvalidEmail(_)));
    assert!(error.to_string().contains("adresse e-mail"), "{error}");
    let error = add("a@loire.fr", Role::Admin, None, "court")
        .await
        .unwrap_err();
    assert!(matches!(error, AccountError::PasswordTooShort));
    assert!(error.to_string().contains("mot de passe"), "{error}");
    let error = add("a@loire.fr", Role::Commune, Some("99999"), PASSWORD)
        .await
        .unwrap_err();
    assert!(
        matches!(error, AccountError::UnknownCommune(ref code) if code == "99999"),
        "{error}"
    );
    assert!(error.to_string().contains("commune"), "{error}");
    assert!(matches!(
        add("a@loire.fr", Role::Commune, None, PASSWORD).await,
        Err(AccountError::CommuneRequired)
    ));
    assert!(matches!(
        add("a@loire.fr", Role::Operator, Some("42218"), PASSWORD).await,
        Err(AccountError::CommuneNotAllowed)
    ));

    let id = add("a@loire.fr", Role::Commune, Some("42218"), PASSWORD)
        .await
        .unwrap();
    let error = add("A@Loire.fr", Role::Admin, None, PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(error, AccountError::DuplicateEmail(_)));
    assert!(error.to_string().contains("a@loire.fr"), "{error}");

    let row = sqlx::query("SELECT email, role, commune, password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("email"), "a@loire.fr");
    assert_eq!(row.get::<String, _>("role"), "commune");
    assert_eq!(
        row.get::<Option<String>, _>("commune").as_deref(),
        Some("42218")
    );
    assert!(
        row.get::<String, _>("password_hash")
            .starts_with("$argon2id$")
    );
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(users, 1, "nothing created by the refused calls");
}
