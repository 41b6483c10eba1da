//! The sensor's side against the real observatory: `ListSync` over HTTP
//! (blocking reqwest, as the box's uplink thread), first sync, nothing
//! changed, then a change swapped in.

use std::net::IpAddr;

use reqwest::StatusCode;

use super::support::{A, B, admin, server, upload};
use crate::common::enrolled_sensor;

/// A sensor's `ListSync` against the real observatory over HTTP, as its
/// uplink thread would drive it.
#[tokio::test]
async fn a_sensor_keeps_its_lists_in_step_with_the_observatory() {
    let server = server().await;
    let admin = admin(&server).await;
    upload(&server, &admin, "menaces", "threat", "", "203.0.113.0/24\n").await;
    upload(
        &server,
        &admin,
        "allowlist_42218",
        "allow",
        A,
        "203.0.113.10\n",
    )
    .await;
    upload(
        &server,
        &admin,
        "allowlist_42059",
        "allow",
        B,
        "203.0.113.20\n",
    )
    .await;
    let token = enrolled_sensor(&server, A).await;
    let cache = tempfile::tempdir().unwrap();
    let base = server.url.clone();
    let dir = cache.path().to_owned();

    let sync = move |expect_change: bool| {
        let (base, token, dir) = (base.clone(), token.clone(), dir.clone());
        tokio::task::spawn_blocking(move || {
            let client = reqwest::blocking::Client::new();
            let mut get = |path: &str, etag: Option<&str>| {
                let mut request = client.get(format!("{base}{path}")).bearer_auth(&token);
                if let Some(etag) = etag {
                    request = request.header("If-None-Match", etag);
                }
                let response = request.send().map_err(|e| e.to_string())?;
                if response.status() == StatusCode::NOT_MODIFIED {
                    return Ok(None);
                }
                if !response.status().is_success() {
                    return Err(format!("HTTP {}", response.status()));
                }
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = response.bytes().map_err(|e| e.to_string())?.to_vec();
                Ok(Some((body, etag)))
            };
            let mut lists = vigie_sensor::live::lists::ListSync::open(&dir).unwrap();
            let synced = lists.sync(&mut get).unwrap();
            assert_eq!(synced.is_some(), expect_change);
            lists.load_cached().unwrap()
        })
    };
    let listed = |intel: &vigie_lists::Intel, ip: &str| {
        let ip: IpAddr = ip.parse().unwrap();
        intel.lookup_ip(ip).map(|id| intel.label(id).to_owned())
    };

    let (intel, versions) = sync(true).await.unwrap();
    assert_eq!(listed(&intel, "203.0.113.9").as_deref(), Some("menaces"));
    // Its own commune's allowlist applies, not the other's.
    assert_eq!(listed(&intel, "203.0.113.10"), None);
    assert_eq!(listed(&intel, "203.0.113.20").as_deref(), Some("menaces"));
    let mut names: Vec<_> = versions
        .iter()
        .map(|v| (v.name.as_str(), v.version.as_str()))
        .collect();
    names.sort();
    assert_eq!(names, [("allowlist_42218", "1"), ("menaces", "1")]);

    // Nothing changed: 304, nothing rebuilt.
    sync(false).await.unwrap();

    upload(
        &server,
        &admin,
        "menaces",
        "threat",
        "",
        "198.51.100.0/24\n",
    )
    .await;
    let (intel, versions) = sync(true).await.unwrap();
    assert_eq!(listed(&intel, "203.0.113.9"), None);
    assert_eq!(listed(&intel, "198.51.100.1").as_deref(), Some("menaces"));
    assert!(
        versions
            .iter()
            .any(|v| v.name == "menaces" && v.version == "2")
    );
}
