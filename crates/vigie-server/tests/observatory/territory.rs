//! The territory: the built-in Loire, importing Moselle from the files of
//! the referential, the routes; bad files (each fault named, nothing
//! half-imported) in `territory/bad_files.rs`; the map's projection and
//! size (the Loire, and all of France from `../shared/data/communes/geo/`,
//! sizes printed) in `territory/map.rs`.
//!
//! The referential lives outside the repository (`VIGIE_REFERENTIAL`,
//! by default `/work/shared/data/communes`); tests that need it say so and
//! skip when it is missing.

#![allow(clippy::unwrap_used)]

mod bad_files;
use crate::common;
mod map;

use std::path::{Path, PathBuf};

use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row;
use vigie_server::Db;
use vigie_server::accounts::{self, Role};
use vigie_server::territory;

pub fn referential() -> Option<PathBuf> {
    let dir = std::env::var("VIGIE_REFERENTIAL")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/communes")
        });
    if dir.join("communes.csv").exists() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no referential at {} (set VIGIE_REFERENTIAL)",
            dir.display()
        );
        None
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// Everything an import may touch, to compare before and after.
pub async fn snapshot(db: &Db) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT code, name, departement, population, COALESCE(epci, ''), COALESCE(email, ''), \
         COALESCE(phone, ''), COALESCE(website, ''), COALESCE(geometry, '') FROM communes ORDER BY code",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut all: Vec<String> = rows
        .iter()
        .map(|r| {
            let text = |i: usize| r.try_get::<String, _>(i).unwrap();
            let population: i64 = r.try_get(3).unwrap();
            format!(
                "{}|{}|{}|{population}|{}|{}|{}|{}|{}",
                text(0),
                text(1),
                text(2),
                text(4),
                text(5),
                text(6),
                text(7),
                text(8)
            )
        })
        .collect();
    let territory = sqlx::query("SELECT name, departements, revision FROM territory")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    for r in territory {
        let revision: i64 = r.try_get(2).unwrap();
        all.push(format!(
            "territory {}|{}|{revision}",
            r.try_get::<String, _>(0).unwrap(),
            r.try_get::<String, _>(1).unwrap()
        ));
    }
    all
}

#[tokio::test]
async fn the_loire_is_built_in() {
    let server = TestServer::start().await;
    let db = &server.db;
    assert_eq!(territory::territory_name(db).await.unwrap(), "Territoire");
    territory::ensure_builtin(db).await.unwrap();
    let first = snapshot(db).await;
    territory::ensure_builtin(db).await.unwrap();
    assert_eq!(snapshot(db).await, first, "ensure_builtin is idempotent");

    let communes = territory::communes(db).await.unwrap();
    assert_eq!(communes.len(), 320);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM communes WHERE geometry IS NOT NULL"
        )
        .await,
        320
    );
    let with_contact = communes
        .iter()
        .filter(|c| c.email.is_some() || c.phone.is_some() || c.website.is_some())
        .count();
    assert_eq!(with_contact, 320);
    assert!(
        communes
            .iter()
            .all(|c| c.departement == "42" && c.epci.is_some())
    );
    let keys: Vec<String> = communes
        .iter()
        .map(|c| territory::sort_key(&c.name))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "sorted by name");
    assert_eq!(communes[0].name, "Aboën");

    let saint_etienne = territory::commune(db, "42218").await.unwrap().unwrap();
    assert_eq!(saint_etienne.name, "Saint-Étienne");
    assert_eq!(saint_etienne.population, 173_136);
    assert_eq!(
        saint_etienne.email.as_deref(),
        Some("courriermairie@saint-etienne.fr")
    );
    assert!(territory::commune(db, "57463").await.unwrap().is_none());

    assert_eq!(
        territory::territory_name(db).await.unwrap(),
        "Département de la Loire"
    );
    assert_eq!(territory::departement_codes(db).await.unwrap(), ["42"]);
    assert_eq!(territory::revision(db).await.unwrap(), 1);
}

/// Replicas starting together on one PostgreSQL both try to load the
/// Loire: one does, the other finds it there or updates it to the same.
#[tokio::test]
async fn concurrent_starts_load_the_loire_once() {
    let server = TestServer::start().await;
    let db = &server.db;
    let (a, b) = tokio::join!(territory::ensure_builtin(db), territory::ensure_builtin(db));
    a.unwrap();
    b.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM communes").await, 320);
    assert_eq!(territory::departement_codes(db).await.unwrap(), ["42"]);
}

#[tokio::test]
async fn moselle_is_imported_from_the_referential() {
    let Some(dir) = referential() else { return };
    let server = TestServer::start().await;
    let db = &server.db;
    territory::ensure_builtin(db).await.unwrap();
    let geo = dir.join("geo/57.geojson.gz");
    let csv = dir.join("communes.csv");

    let summary = territory::import(db, "57", &geo, Some(&csv)).await.unwrap();
    // 725 features, 725 rows of département 57; 722 with a contact.
    assert_eq!(
        (summary.communes, summary.with_geometry, summary.contacts),
        (725, 725, 722)
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM communes WHERE departement = '57'").await,
        725
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM communes").await, 320 + 725);
    let metz = territory::commune(db, "57463").await.unwrap().unwrap();
    assert_eq!((metz.name.as_str(), metz.population), ("Metz", 122_572));
    assert_eq!(metz.website.as_deref(), Some("https://metz.fr/"));
    assert_eq!(
        territory::departement_codes(db).await.unwrap(),
        ["42", "57"]
    );
    assert_eq!(
        territory::territory_name(db).await.unwrap(),
        "Département de la Loire"
    );

    // Importing again updates in place; contours alone keep the contacts.
    let before = territory::revision(db).await.unwrap();
    let again = territory::import(db, "57", &geo, None).await.unwrap();
    assert_eq!(
        (again.communes, again.with_geometry, again.contacts),
        (725, 725, 0)
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM communes").await, 320 + 725);
    assert_eq!(
        territory::commune(db, "57463").await.unwrap().unwrap(),
        metz
    );
    assert!(territory::revision(db).await.unwrap() > before);
    assert_eq!(
        territory::departement_codes(db).await.unwrap(),
        ["42", "57"]
    );
}

#[tokio::test]
async fn a_departement_alone_names_the_territory() {
    let Some(dir) = referential() else { return };
    let server = TestServer::start().await;
    let db = &server.db;
    let summary = territory::import(
        db,
        "2A",
        &dir.join("geo/2A.geojson.gz"),
        Some(&dir.join("communes.csv")),
    )
    .await
    .unwrap();
    assert_eq!(
        summary.communes,
        count(db, "SELECT COUNT(*) FROM communes WHERE code LIKE '2A%'").await as usize
    );
    assert!(summary.communes > 100);
    assert_eq!(
        territory::territory_name(db).await.unwrap(),
        "Département de la Corse-du-Sud"
    );
    // The Loire is built in only on an empty territory.
    territory::ensure_builtin(db).await.unwrap();
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM communes WHERE departement = '42'").await,
        0
    );
}

#[tokio::test]
async fn the_communes_routes_are_for_signed_in_users() {
    let server = TestServer::start().await;
    let db = &server.db;
    territory::ensure_builtin(db).await.unwrap();
    let password = "un mot de passe solide";
    accounts::add_user(db, "admin@loire.fr", Role::Admin, None, password)
        .await
        .unwrap();
    accounts::add_user(
        db,
        "mairie@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
        password,
    )
    .await
    .unwrap();
    let admin = accounts::create_token(db, "admin@loire.fr").await.unwrap();
    let mairie = accounts::create_token(db, "mairie@saint-etienne.fr")
        .await
        .unwrap();
    let client = server.browser();

    let anonymous = client
        .get(server.at("/api/v1/communes"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let anonymous = client.get(server.at("/territoire")).send().await.unwrap();
    assert!(
        anonymous.status().is_redirection(),
        "{}",
        anonymous.status()
    );

    let list: Vec<Value> = client
        .get(server.at("/api/v1/communes"))
        .bearer_auth(&mairie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 320);
    let entry = list.iter().find(|c| c["code"] == "42218").unwrap();
    assert_eq!(entry["name"], "Saint-Étienne");
    assert_eq!(entry["population"], 173_136);
    assert_eq!(entry["departement"], "42");
    assert!(entry["epci"].is_string());
    assert!(entry.get("email").is_none());

    let page = client
        .get(server.at("/territoire"))
        .bearer_auth(&mairie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Département de la Loire") && html.contains("320 communes"),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/communes/42218">Saint-Étienne</a>"#));
    assert!(
        !html.contains(r#"href="/communes/42001""#),
        "another commune's page is not linked"
    );
    assert!(!html.contains("mailto:"), "contacts are for the staff");

    let html = client
        .get(server.at("/territoire"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<a href="/communes/42001">Aboën</a>"#));
    assert!(html.contains("mailto:courriermairie@saint-etienne.fr"));
}
