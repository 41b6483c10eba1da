//! Threat lists and allowlists over HTTP: the administrator uploads and
//! adds URLs (versions only on change), the schedule fetches from a local
//! HTTP server (a failure keeps the version and shows the error), each
//! sensor gets its own commune's allowlists only, ETags answer 304, only
//! the administrator changes lists, and a sensor's `ListSync` keeps its
//! cache in step with the observatory.

#![allow(clippy::unwrap_used)]

mod access;
use crate::common;
mod destinations;
mod sensor_sync;
mod support;

use common::enrolled_sensor;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row;
use support::{
    A, B, Upstream, add_url, admin, allowed, list, manifest, names, page, server, upload,
};
use vigie_server::db::now_ms;
use vigie_server::lists::{FetchSummary, KEEP_VERSIONS, fetch_due, fetch_due_at};

#[tokio::test]
async fn an_upload_makes_a_version_only_when_the_content_changes() {
    let server = server().await;
    let admin = admin(&server).await;
    let content = "# Département\n203.0.113.0/24\nnot an address\n198.51.100.7\n";
    let (status, _) = upload(
        &server,
        &admin,
        "menaces_departement",
        "threat",
        "",
        content,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let first = list(&server, &admin.0, "menaces_departement").await;
    assert_eq!(first["version"], 1);
    assert_eq!(first["entries"], 2);
    assert_eq!(first["malformed"], 1);
    assert_eq!(first["url"], Value::Null);

    // The same file again (a textarea sends CRLF): still version 1.
    let crlf = content.replace('\n', "\r\n");
    upload(&server, &admin, "menaces_departement", "threat", "", &crlf).await;
    let same = list(&server, &admin.0, "menaces_departement").await;
    assert_eq!(same["version"], 1);
    assert_eq!(same["sha256"], first["sha256"]);

    upload(
        &server,
        &admin,
        "menaces_departement",
        "threat",
        "",
        "198.51.100.8\n",
    )
    .await;
    let changed = list(&server, &admin.0, "menaces_departement").await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["entries"], 1);
    assert_ne!(changed["sha256"], first["sha256"]);

    // Nothing parses: refused, the version stays.
    let (status, html) = upload(
        &server,
        &admin,
        "menaces_departement",
        "threat",
        "",
        "<html>\n",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("aucune adresse"), "{html}");
    assert_eq!(
        list(&server, &admin.0, "menaces_departement").await["version"],
        2
    );

    // The pages show the list, its malformed count and its history.
    let listes = page(&server, &admin.0, "/listes").await;
    assert!(listes.contains("/listes/menaces_departement"), "{listes}");
    let detail = page(&server, &admin.0, "/listes/menaces_departement").await;
    assert!(
        detail.contains(first["sha256"].as_str().unwrap()),
        "{detail}"
    );

    // Only the last few versions are kept.
    for n in 0..KEEP_VERSIONS + 2 {
        upload(
            &server,
            &admin,
            "menaces_departement",
            "threat",
            "",
            &format!("198.51.100.{}\n", 20 + n),
        )
        .await;
    }
    let kept = sqlx::query("SELECT COUNT(*) AS n, MIN(version) AS low FROM list_versions")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(kept.try_get::<i64, _>("n").unwrap(), KEEP_VERSIONS);
    let latest = 2 + KEEP_VERSIONS + 2;
    assert_eq!(
        kept.try_get::<i64, _>("low").unwrap(),
        latest - KEEP_VERSIONS + 1
    );
    let audited = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'list_upload'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(
        audited.try_get::<i64, _>("n").unwrap(),
        3 + KEEP_VERSIONS + 2
    );
}

#[tokio::test]
async fn url_lists_follow_their_schedule_and_a_failure_keeps_the_version() {
    let server = server().await;
    let admin = admin(&server).await;
    let token = enrolled_sensor(&server, A).await;
    let upstream = Upstream::start("# FireHOL level 1\n203.0.113.0/24\n");
    assert_eq!(
        add_url(&server, &admin, "firehol_level1", &upstream.url).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        add_url(&server, &admin, "local", "file:///etc/passwd").await,
        StatusCode::BAD_REQUEST
    );
    // Not fetched yet: not served.
    assert_eq!(
        list(&server, &admin.0, "firehol_level1").await["version"],
        0
    );
    assert!(
        manifest(&server, &token, None)
            .await
            .1
            .unwrap()
            .lists
            .is_empty()
    );

    let round = fetch_due(&server.db, &allowed()).await.unwrap();
    assert_eq!(
        round,
        FetchSummary {
            fetched: 1,
            new_versions: 1,
            failed: 0
        }
    );
    assert_eq!(
        list(&server, &admin.0, "firehol_level1").await["version"],
        1
    );
    // Fetched a moment ago: not due again before its interval.
    assert_eq!(fetch_due(&server.db, &allowed()).await.unwrap().fetched, 0);
    let tomorrow = now_ms() + 25 * 3600 * 1000;
    let same = fetch_due_at(&server.db, &allowed(), tomorrow)
        .await
        .unwrap();
    assert_eq!(
        same,
        FetchSummary {
            fetched: 1,
            new_versions: 0,
            failed: 0
        }
    );

    // The source fails a day later: the version stays, the error shows.
    upstream.set(500, "oops");
    let failed = fetch_due_at(&server.db, &allowed(), tomorrow + 25 * 3600 * 1000)
        .await
        .unwrap();
    assert_eq!(failed.failed, 1);
    let view = list(&server, &admin.0, "firehol_level1").await;
    assert_eq!(view["version"], 1);
    assert!(
        view["last_error"].as_str().unwrap().contains("500"),
        "{view}"
    );
    assert!(
        page(&server, &admin.0, "/listes")
            .await
            .contains("500 Internal Server Error")
    );
    let served = manifest(&server, &token, None).await.1.unwrap();
    assert_eq!(served.lists[0].version, 1);

    // A page instead of a list: refused too.
    upstream.set(200, "<html><body>Maintenance</body></html>");
    let now = |path: &str| {
        admin
            .0
            .post(server.at(path))
            .form(&[("csrf", admin.1.as_str())])
    };
    let response = now("/listes/firehol_level1/actualiser")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let view = list(&server, &admin.0, "firehol_level1").await;
    assert!(
        view["last_error"]
            .as_str()
            .unwrap()
            .contains("aucune adresse"),
        "{view}"
    );

    // Fixed: fetch now gives a new version and clears the error.
    upstream.set(200, "203.0.113.0/24\n192.0.2.0/24\n");
    now("/listes/firehol_level1/actualiser")
        .send()
        .await
        .unwrap();
    let view = list(&server, &admin.0, "firehol_level1").await;
    assert_eq!(view["version"], 2);
    assert_eq!(view["entries"], 2);
    assert_eq!(view["last_error"], Value::Null);
}

#[tokio::test]
async fn each_sensor_gets_its_own_communes_allowlists_only() {
    let server = server().await;
    let admin = admin(&server).await;
    for (name, kind, commune, content) in [
        ("menaces", "threat", "", "203.0.113.0/24\n"),
        ("allowlist_territoire", "allow", "", "departement42.fr\n"),
        ("allowlist_42218", "allow", A, "203.0.113.10\n"),
        ("allowlist_42059", "allow", B, "203.0.113.20\n"),
    ] {
        let (status, html) = upload(&server, &admin, name, kind, commune, content).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{name}: {html}");
    }
    let sensor_a = enrolled_sensor(&server, A).await;
    let sensor_b = enrolled_sensor(&server, B).await;
    let (_, seen_a, _) = manifest(&server, &sensor_a, None).await;
    let seen_a = seen_a.unwrap();
    assert_eq!(
        names(&seen_a),
        ["allowlist_42218", "allowlist_territoire", "menaces"]
    );
    let (_, seen_b, _) = manifest(&server, &sensor_b, None).await;
    assert_eq!(
        names(&seen_b.unwrap()),
        ["allowlist_42059", "allowlist_territoire", "menaces"]
    );

    let get = |token: &str, name: &str| {
        reqwest::Client::new()
            .get(server.at(&format!("/api/v1/sensors/lists/{name}")))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        get(&sensor_a, "allowlist_42059").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let own = get(&sensor_a, "allowlist_42218").await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let etag = own.headers()["etag"].to_str().unwrap().to_owned();
    let body = own.bytes().await.unwrap();
    assert_eq!(body.as_ref(), b"203.0.113.10\n");
    let entry = seen_a
        .lists
        .iter()
        .find(|l| l.name == "allowlist_42218")
        .unwrap();
    assert_eq!(etag, format!("\"{}\"", entry.sha256));
    assert_eq!(vigie_core::lists::sha256_hex(&body), entry.sha256);

    // What the forms refuse.
    let (status, html) = upload(&server, &admin, "menaces_a", "threat", A, "192.0.2.1\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("tout le territoire"), "{html}");
    let (status, _) = upload(&server, &admin, "mairie", "allow", A, "192.0.2.1\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = upload(
        &server,
        &admin,
        "allowlist_x",
        "allow",
        "99999",
        "192.0.2.1\n",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = upload(&server, &admin, "menaces", "allow", "", "192.0.2.1\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unchanged_sets_and_lists_answer_304() {
    let server = server().await;
    let admin = admin(&server).await;
    upload(&server, &admin, "menaces", "threat", "", "203.0.113.0/24\n").await;
    let token = enrolled_sensor(&server, A).await;
    let (status, first, etag) = manifest(&server, &token, None).await;
    assert_eq!(status, StatusCode::OK);
    let etag = etag.unwrap();
    assert_eq!(etag, format!("\"{}\"", first.unwrap().version));
    let (status, body, again) = manifest(&server, &token, Some(&etag)).await;
    assert_eq!((status, body), (StatusCode::NOT_MODIFIED, None));
    assert_eq!(again.as_deref(), Some(etag.as_str()));

    let content = |etag: Option<String>| {
        let mut request = reqwest::Client::new()
            .get(server.at("/api/v1/sensors/lists/menaces"))
            .bearer_auth(&token);
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        request.send()
    };
    let list_etag = content(None).await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        content(Some(list_etag)).await.unwrap().status(),
        StatusCode::NOT_MODIFIED
    );

    // A change, a new list or a deletion change the set's ETag.
    upload(&server, &admin, "menaces", "threat", "", "203.0.113.0/25\n").await;
    let (status, changed, new_etag) = manifest(&server, &token, Some(&etag)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed.unwrap().lists[0].version, 2);
    assert_ne!(new_etag.as_deref(), Some(etag.as_str()));
    let response = admin
        .0
        .post(server.at("/listes/menaces/supprimer"))
        .form(&[("csrf", admin.1.as_str()), ("confirm", "oui")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, emptied, _) = manifest(&server, &token, new_etag.as_deref()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(emptied.unwrap().lists.is_empty());
}

/// Issue 16: a threat list named like an allowlist would report the
/// addresses it was meant to protect: refused, with why, in French.
#[tokio::test]
async fn issue16_a_threat_list_named_like_an_allowlist_is_refused() {
    let server = server().await;
    let admin = admin(&server).await;
    let site = "mairie.example.fr\n203.0.113.10\n";
    let (status, html) = upload(&server, &admin, "allow", "threat", "", site).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("ressemble à celui d&#39;une liste blanche"),
        "{html}"
    );
    let listes = page(&server, &admin.0, "/listes").await;
    assert!(!listes.contains("/listes/allow\""), "{listes}");
    // The same content as the allowlist it is.
    let (status, _) = upload(&server, &admin, "allowlist_site", "allow", "", site).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}
