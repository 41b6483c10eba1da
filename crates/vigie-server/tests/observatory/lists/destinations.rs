//! Issue 14, "list URLs reach the server's own network": a list URL on
//! this machine or an internal network is refused on the form and again at
//! each fetch (before any connection), names are checked on the addresses
//! they resolve to, redirects are checked hop by hop, only a host allowed
//! by name goes through, and no error ever quotes what a source answered.

use reqwest::StatusCode;
use vigie_server::lists::{FetchSummary, fetch_due};

use super::support::{
    Upstream, add_url, add_url_page, admin, allowed, list, page, server, server_allowing,
};
use crate::common::TestServer;

/// What a server on the internal network could answer.
const SECRET: &str = "root:x:0:0:secret-interne:/root:/bin/bash";

/// A URL list written straight into the database, as one saved before
/// the rules (or whose name resolved elsewhere when it was saved).
async fn saved_before(server: &TestServer, name: &str, url: &str) {
    sqlx::query(
        "INSERT INTO lists (name, kind, commune, url, interval_secs, next_fetch_at, created_at) \
         VALUES ($1, 'threat', NULL, $2, 86400, 0, 0)",
    )
    .bind(name)
    .bind(url)
    .execute(&server.db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn issue_14_list_urls_on_this_machine_or_the_internal_network_are_refused_on_the_form() {
    let server = server_allowing(Vec::new()).await;
    let admin = admin(&server).await;
    let upstream = Upstream::start(SECRET);
    let port = upstream.port;
    for (url, expected) in [
        (
            format!("http://127.0.0.1:{port}/x"),
            "adresse refusée : 127.0.0.1 est une adresse de bouclage de ce serveur".to_owned(),
        ),
        (
            format!("http://[::1]:{port}/x"),
            "adresse refusée : ::1 est une adresse de bouclage de ce serveur".to_owned(),
        ),
        // A name is judged by what it resolves to.
        (
            format!("http://localhost:{port}/x"),
            "adresse refusée : localhost (".to_owned(),
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "adresse refusée : 169.254.169.254 est l&#39;adresse des métadonnées".to_owned(),
        ),
        (
            "http://10.0.0.1/liste.txt".to_owned(),
            "adresse refusée : 10.0.0.1 est une adresse privée".to_owned(),
        ),
        (
            "http://[::ffff:10.0.0.1]/liste.txt".to_owned(),
            "adresse refusée : ::ffff:10.0.0.1 est une adresse privée".to_owned(),
        ),
        (
            "ftp://example.org/liste.txt".to_owned(),
            "seules les adresses http:// et https:// sont acceptées".to_owned(),
        ),
    ] {
        let (status, html) = add_url_page(&server, &admin, "interne", &url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
        assert!(html.contains(&expected), "{url}: {expected}\n{html}");
    }
    assert_eq!(upstream.hits(), 0, "nothing was contacted");
    let lists = page(&server, &admin.0, "/listes").await;
    assert!(!lists.contains("/listes/interne"), "nothing was saved");
}

#[tokio::test]
async fn issue_14_a_saved_internal_url_is_refused_at_each_fetch_before_connecting() {
    let server = server_allowing(Vec::new()).await;
    let admin = admin(&server).await;
    let upstream = Upstream::start(&format!("203.0.113.7\n{SECRET}\n"));
    let port = upstream.port;
    let urls = [
        ("bouclage", format!("http://127.0.0.1:{port}/x")),
        ("bouclage_v6", format!("http://[::1]:{port}/x")),
        // Resolved when connecting: the addresses connected to are checked.
        ("nom_local", format!("http://localhost:{port}/x")),
        (
            "metadonnees",
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        ),
        ("prive", "http://10.0.0.1/liste.txt".to_owned()),
    ];
    for (name, url) in &urls {
        saved_before(&server, name, url).await;
    }
    let round = fetch_due(&server.db, &[]).await.unwrap();
    assert_eq!(
        round,
        FetchSummary {
            fetched: urls.len(),
            new_versions: 0,
            failed: urls.len()
        }
    );
    assert_eq!(upstream.hits(), 0, "nothing was contacted");
    for (name, expected) in [
        (
            "bouclage",
            "destination refusée : 127.0.0.1 est une adresse de bouclage",
        ),
        (
            "bouclage_v6",
            "destination refusée : ::1 est une adresse de bouclage",
        ),
        ("nom_local", "destination refusée : localhost ("),
        (
            "metadonnees",
            "destination refusée : 169.254.169.254 est l'adresse des métadonnées",
        ),
        (
            "prive",
            "destination refusée : 10.0.0.1 est une adresse privée",
        ),
    ] {
        let view = list(&server, &admin.0, name).await;
        let error = view["last_error"].as_str().unwrap();
        assert!(error.contains(expected), "{name}: {error}");
        assert_eq!(view["version"], 0, "{name}");
    }
}

#[tokio::test]
async fn issue_14_an_allowed_host_is_fetched_but_not_its_redirect_to_loopback() {
    let server = server().await;
    let admin = admin(&server).await;
    let mirror = Upstream::start("203.0.113.0/24\n");
    let inside = Upstream::start(&format!("198.51.100.7\n{SECRET}\n"));
    // `localhost` is allowed by name: saved and fetched.
    assert_eq!(
        add_url(&server, &admin, "miroir", &mirror.url).await,
        StatusCode::SEE_OTHER
    );
    let round = fetch_due(&server.db, &allowed()).await.unwrap();
    assert_eq!((round.new_versions, round.failed), (1, 0));
    assert_eq!(list(&server, &admin.0, "miroir").await["version"], 1);

    // Its redirect to an address of this machine is not followed.
    mirror.redirect(&format!("http://127.0.0.1:{}/x", inside.port));
    let refresh = |name: &str| {
        admin
            .0
            .post(server.at(&format!("/listes/{name}/actualiser")))
            .form(&[("csrf", admin.1.as_str())])
            .send()
    };
    assert_eq!(
        refresh("miroir").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let view = list(&server, &admin.0, "miroir").await;
    let error = view["last_error"].as_str().unwrap();
    assert!(
        error.contains("destination refusée : 127.0.0.1 est une adresse de bouclage"),
        "{error}"
    );
    assert_eq!(view["version"], 1);
    assert_eq!(inside.hits(), 0, "the redirect was not followed");

    // Nor to a scheme other than http and https (a location without a
    // host is not even a redirect: the 302 stays).
    for (location, expected) in [
        (
            "ftp://example.org/liste.txt",
            "destination refusée : redirection vers une adresse ftp://",
        ),
        ("file:///etc/passwd", "302"),
    ] {
        mirror.redirect(location);
        refresh("miroir").await.unwrap();
        let error = list(&server, &admin.0, "miroir").await["last_error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.contains(expected), "{location}: {error}");
    }

    // To the allowed name, it is.
    mirror.redirect(&inside.url);
    refresh("miroir").await.unwrap();
    let view = list(&server, &admin.0, "miroir").await;
    assert_eq!(view["version"], 2, "{view}");
    assert_eq!(inside.hits(), 1);
}

#[tokio::test]
async fn issue_14_errors_and_problems_never_quote_a_fetched_answer() {
    let server = server().await;
    let admin = admin(&server).await;
    let upstream = Upstream::start(&format!("<html>{SECRET}</html>\n"));
    assert_eq!(
        add_url(&server, &admin, "source", &upstream.url).await,
        StatusCode::SEE_OTHER
    );
    fetch_due(&server.db, &allowed()).await.unwrap();
    let error = list(&server, &admin.0, "source").await["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("ligne 1"), "{error}");
    assert!(!error.contains("secret"), "{error}");

    let refresh = || {
        admin
            .0
            .post(server.at("/listes/source/actualiser"))
            .form(&[("csrf", admin.1.as_str())])
            .send()
    };
    upstream.set(500, SECRET);
    refresh().await.unwrap();
    let error = list(&server, &admin.0, "source").await["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("500"), "{error}");
    assert!(!error.contains("secret"), "{error}");

    // Content that partly parses: the bad lines are numbered, not quoted.
    upstream.set(200, &format!("203.0.113.7\n{SECRET}\n"));
    refresh().await.unwrap();
    let view = list(&server, &admin.0, "source").await;
    assert_eq!(
        (view["version"].as_i64(), view["malformed"].as_i64()),
        (Some(1), Some(1))
    );
    for path in ["/listes", "/listes/source"] {
        let html = page(&server, &admin.0, path).await;
        assert!(!html.contains("secret"), "{path}: {html}");
    }
    let audit: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_log")
        .fetch_all(&server.db.pool)
        .await
        .unwrap();
    assert!(audit.iter().all(|d| !d.contains("secret")), "{audit:?}");
}
