//! The register of processing activities (issue 12, GDPR article 30):
//! the territory's (every offer) for the staff, a commune's (the offers
//! it signed) for its users, as a page, a PDF checked through its text
//! and a CSV for a French spreadsheet.

use chrono::NaiveDate;
use reqwest::StatusCode;
use vigie_server::accounts::Role;
use vigie_server::agreements::{Catalogue, Facts, store};

use crate::common::{TestServer, sign_in_as};

const OWN: &str = "42218"; // Saint-Étienne
const OTHER: &str = "42095"; // Firminy

async fn signed(server: &TestServer, commune: &str, offer: &str) {
    let facts = Facts {
        signed_on: NaiveDate::from_ymd_opt(2026, 1, 5),
        ..Facts::default()
    };
    let nobody = store::Referent::default();
    let new = store::NewAgreement {
        commune,
        offer,
        facts: &facts,
        territory_referent: &nobody,
        commune_referent: &nobody,
        costs: None,
        data_at_end: None,
        created_by: None,
        detail: "Convention de test.",
    };
    store::create(&server.db, &new, 0).await.unwrap();
}

async fn get(client: &reqwest::Client, server: &TestServer, path: &str) -> reqwest::Response {
    client.get(server.at(path)).send().await.unwrap()
}

/// The CSV's rows after its header, checked for the BOM and the header.
fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap(); // the BOM
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, vigie_server::agreements::register::CSV_HEADER);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn register_the_territorys_and_a_communes_as_page_pdf_and_csv() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    signed(&server, OWN, "sensor").await;
    signed(&server, OTHER, "crisis_kit").await;
    let offers = Catalogue::built_in().unwrap();
    let sensor = offers.get("sensor").unwrap().processing.clone();
    let kit = offers.get("crisis_kit").unwrap().processing.clone();

    // The staff: every offer.
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let csv = get(&admin, &server, "/registre-traitements.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let all = rows(&csv.bytes().await.unwrap());
    assert_eq!(all.len(), offers.len());
    let row = all.iter().find(|r| r[1] == sensor.name).unwrap();
    assert_eq!(row[2], sensor.controller);
    assert_eq!(row[3], sensor.processor);
    assert_eq!(row[5], sensor.purposes.join(" | "));
    assert_eq!(row[9], sensor.retention);
    assert_eq!(row[10], sensor.article);
    let pdf = get(&admin, &server, "/registre-traitements.pdf").await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    if let Some(text) = vigie_docs::read_back::pdf_text(&bytes) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Registre des activités de traitement"),
            "{flat}"
        );
        assert!(flat.contains("Responsable du traitement"), "{flat}");
        for offer in offers.all() {
            let words: Vec<&str> = offer.processing.name.split_whitespace().take(4).collect();
            assert!(flat.contains(&words.join(" ")), "{} in {flat}", offer.id);
        }
    }
    let page = get(
        &admin,
        &server,
        &format!("/communes/{OTHER}/registre-traitements"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains(&kit.name) && !page.contains(&sensor.name));

    // A commune user: its own commune's only.
    let (mayor, _) = sign_in_as(&server, "mairie@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let own = rows(
        &get(&mayor, &server, "/registre-traitements.csv")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(own.len(), 1);
    assert_eq!(own[0][1], sensor.name);
    let page = get(&mayor, &server, "/registre-traitements")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Commune de Saint-Étienne (42218)"), "{page}");
    assert!(!page.contains(&kit.name));
    let pdf = get(
        &mayor,
        &server,
        &format!("/communes/{OWN}/registre-traitements.pdf"),
    )
    .await
    .bytes()
    .await
    .unwrap();
    if let Some(text) = vigie_docs::read_back::pdf_text(&pdf) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("Commune de Saint-Étienne (42218)"), "{flat}");
        assert!(flat.contains(&sensor.controller), "{flat}");
    }
    for path in [
        format!("/communes/{OTHER}/registre-traitements"),
        format!("/communes/{OTHER}/registre-traitements.csv"),
        format!("/communes/{OTHER}/registre-traitements.pdf"),
    ] {
        assert_eq!(
            get(&mayor, &server, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
