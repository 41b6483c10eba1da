//! Error pages: a person's browser gets French HTML in the site's layout,
//! with a way back, for every error; `/api/` keeps its JSON.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigie_server::ServerSettings;
use vigie_server::accounts::Role;

use crate::common::{TestServer, sign_in_as};

/// The status, headers and text of an answer that must be a page.
async fn page(response: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("text/html"),
        "{status}: {content_type}"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"), "the layout: {html}");
    assert!(
        html.contains("<a class=\"brand\" href=\"/\">Vigie</a>"),
        "{html}"
    );
    (status, headers, html)
}

/// The status and `error` of an API answer.
async fn json_error(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

/// Sends `head` and `body` on a connection of its own; the whole answer.
async fn raw(server: &TestServer, head: &str, body: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn an_unknown_page_is_a_french_page_and_the_api_answers_json() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let (status, _, html) = page(browser.get(server.at("/nulle-part")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page introuvable."), "{html}");
    assert!(html.contains("Retour à l"), "{html}");
    assert!(html.contains("<a href=\"/\">"), "a way back home: {html}");

    let (status, error) = json_error(
        browser
            .get(server.at("/api/v1/nulle-part"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::NOT_FOUND, "Page introuvable.")
    );
    let (status, error) =
        json_error(browser.get(server.at("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "Connexion nécessaire.")
    );
}

#[tokio::test]
async fn a_commune_user_on_a_staff_page_gets_a_french_403_in_their_layout() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let (status, _, html) = page(
        mayor
            .get(server.at("/tableau-de-bord"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Accès refusé"), "{html}");
    assert!(html.contains("avez pas accès à cette page."), "{html}");
    // The layout knows who is signed in.
    assert!(html.contains("maire@saint-etienne.fr"), "{html}");
    assert!(html.contains("<a href=\"/\">"), "{html}");
    // The same refusal through the API is JSON.
    let (status, _) = json_error(mayor.get(server.at("/api/v1/lists")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A commune it may not see: the same 404 page as for none.
    let (status, _, html) = page(
        mayor
            .get(server.at("/communes/42095"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page introuvable."), "{html}");
}

#[tokio::test]
async fn a_commune_route_with_no_insee_code_is_not_found() {
    let server = TestServer::start().await;
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    // Not the shape of a code (`CommuneCode`): the same 404 as for a
    // commune that does not exist, as a page and through the API.
    for code in ["4221", "422180", "2C001", "2a004", "42O59"] {
        let response = admin
            .get(server.at(&format!("/communes/{code}")))
            .send()
            .await
            .unwrap();
        let (status, _, html) = page(response).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{code}");
        assert!(html.contains("Page introuvable."), "{code}: {html}");
        let response = admin
            .get(server.at(&format!("/api/v1/communes/{code}/days")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_error(response).await.0,
            StatusCode::NOT_FOUND,
            "{code}"
        );
    }
}

#[tokio::test]
async fn a_form_without_its_token_is_refused_with_a_page_that_says_why() {
    let server = TestServer::start().await;
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let response = admin
        .post(server.at("/deconnexion"))
        .form(&[("csrf", "pas-le-bon")])
        .send()
        .await
        .unwrap();
    let (status, _, html) = page(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("Ce formulaire a expiré ou ne vient pas de ce site"),
        "{html}"
    );
    // Still signed in.
    assert_eq!(
        admin
            .get(server.at("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Through the API (the probe upload with a session), JSON.
    let response = admin
        .post(server.at("/api/v1/probes"))
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, error) = json_error(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(error.contains("Ce formulaire a expiré"), "{error}");
}

#[tokio::test]
async fn a_refused_form_leads_back_to_its_page_and_says_the_typing_is_kept() {
    let server = TestServer::start().await;
    let (staff, csrf) = sign_in_as(&server, "agent@loire.fr", Role::Operator, None).await;
    let post = |referer: String| {
        staff
            .post(server.at("/crise/materiels"))
            .header("referer", referer)
            .form(&[
                ("csrf", csrf.as_str()),
                ("kind", "laptop"),
                ("label", "PC de secours"),
                ("serial", ""),
            ])
            .send()
    };
    let (status, _, html) = page(post(server.at("/crise?vue=inventaire")).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("« Numéro de série » : à remplir"), "{html}");
    assert!(
        html.contains("<a href=\"/crise?vue=inventaire\">Revenir au formulaire</a>"),
        "{html}"
    );
    assert!(html.contains("bouton « Précédent »"), "{html}");
    // Nothing stored.
    let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kit_items")
        .fetch_one(server.db.read())
        .await
        .unwrap();
    assert_eq!(items, 0);
    // A referer of another site is never linked.
    let (status, _, html) = page(
        post("https://ailleurs.example/crise".to_owned())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("ailleurs.example"), "{html}");
    assert!(html.contains("Retour à l"), "{html}");
}

#[tokio::test]
async fn an_expired_session_goes_to_sign_in_with_a_message() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let response = admin.get(server.at("/territoire")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/connexion?suite=/territoire&session=expiree");
    let (status, _, html) = page(admin.get(server.at(&location)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Votre session a expiré : reconnectez-vous pour continuer."),
        "{html}"
    );
    assert!(
        html.contains("name=\"suite\" value=\"/territoire\""),
        "{html}"
    );
    // A stranger who never signed in is not told about a session.
    let stranger = server.browser();
    let response = stranger.get(server.at("/territoire")).send().await.unwrap();
    assert_eq!(
        response.headers()["location"],
        "/connexion?suite=/territoire"
    );
    // The API says 401, in JSON, as before.
    let (status, _) = json_error(admin.get(server.at("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_body_too_large_is_a_page_for_a_browser_and_json_for_the_api() {
    let server = TestServer::start().await;
    let head = |path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 100000000\r\n\r\n"
        )
    };
    let answer = raw(&server, &head("/connexion"), &[b'a'; 1024]).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        answer.contains("Envoi trop volumineux : au plus 64 Kio."),
        "{answer}"
    );
    assert!(answer.contains("<html lang=\"fr\">"), "{answer}");
    let answer = raw(&server, &head("/api/v1/sensors/heartbeat"), &[b'a'; 1024]).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(answer.contains("{\"error\":"), "{answer}");
}

#[tokio::test]
async fn a_flood_is_told_to_wait_on_a_page_with_its_retry_after() {
    let mut settings = ServerSettings::default();
    settings.flood.anonymous_burst = 2;
    settings.flood.anonymous_every = Duration::from_secs(60);
    let server = TestServer::start_with(settings).await;
    let browser = server.browser();
    for _ in 0..2 {
        browser.get(server.at("/connexion")).send().await.unwrap();
    }
    let (status, headers, html) =
        page(browser.get(server.at("/connexion")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    assert!(html.contains("Trop de requêtes : réessayez dans"), "{html}");
    let (status, error) =
        json_error(browser.get(server.at("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(error.contains("Trop de requêtes"), "{error}");
}

#[tokio::test]
async fn a_request_too_slow_is_a_page_too() {
    let mut settings = ServerSettings::default();
    settings.connections.request_timeout = Duration::from_secs(1);
    let server = TestServer::start_with(settings).await;
    // Ten bytes announced, three sent: the form is never complete.
    let head = "POST /connexion HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n";
    let answer = raw(&server, head, b"a=b").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("La demande a pris trop de temps"),
        "{answer}"
    );
}
