//! The programme (issue 12) over HTTP: the API's contract, eligibility on
//! real populations, an agreement's life (its dates, documents produced
//! and signed, a termination), the sensor agreement starting at the box's
//! installation, who sees what, and the staff's forms.

use chrono::{Duration, NaiveDate};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_server::accounts::Role;

use crate::common::{TestServer, enrolled_sensor, sign_in_as};

fn today() -> NaiveDate {
    vigie_core::local_day(chrono::Utc::now())
}

/// The server's French text with its narrow no-break spaces (« 3 500 »)
/// as plain ones, for reading.
fn plain(text: &str) -> String {
    text.replace('\u{202f}', " ")
}

/// The server with the Loire's communes, as `vigie serve` starts.
async fn loire() -> TestServer {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

async fn post_json(
    client: &reqwest::Client,
    server: &TestServer,
    csrf: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = client
        .post(server.at(path))
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = plain(&response.text().await.unwrap());
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get_json(
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
) -> (StatusCode, Value) {
    let response = client.get(server.at(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A PDF's words, one space between each; `None` without `pdftotext`.
async fn pdf_words(client: &reqwest::Client, server: &TestServer, path: &str) -> Option<String> {
    let response = client.get(server.at(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{path} is not a PDF");
    vigie_docs::read_back::pdf_text(&bytes).map(|text| {
        plain(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Uploads a signed scan through the page's form.
async fn upload_scan(
    client: &reqwest::Client,
    server: &TestServer,
    csrf: &str,
    id: &str,
    (kind, step): (&str, &str),
    signed_on: NaiveDate,
    bytes: &'static [u8],
) -> StatusCode {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("type", kind.to_owned())
        .text("etape", step.to_owned())
        .text("signed_on", signed_on.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("scan.pdf"),
        );
    client
        .post(server.at(&format!("/conventions/{id}/signe")))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status()
}

const SCAN: &[u8] = b"%PDF-1.4\n% signed scan\n%%EOF\n";

#[tokio::test]
async fn an_agreement_from_signature_to_termination() {
    let server = loire().await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;

    let (status, offers) = get_json(&admin, &server, "/api/v1/offers").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = offers
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    for id in [
        "sensor",
        "cyber_path",
        "awareness_1",
        "awareness_2",
        "crisis_kit",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(offers[0]["title"].is_string());

    // The cybersecurity path for Feurs, signed ten days ago.
    let signed = today() - Duration::days(10);
    let (status, created) = post_json(
        &admin,
        &server,
        &csrf,
        "/api/v1/agreements",
        json!({ "commune": "42094", "offer": "cyber_path", "signed_on": signed.to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/agreements/{id}");
    let (status, agreement) = get_json(&admin, &server, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(agreement["status"], "active", "{agreement}");
    assert_eq!(agreement["starts_on"], signed.to_string());
    // Renewed tacitly until the final minutes: no end fixed yet, a day
    // for notice before the next renewal.
    assert_eq!(agreement["ends_on"], Value::Null);
    let notice_by: NaiveDate = agreement["notice_by"].as_str().unwrap().parse().unwrap();
    assert!(
        notice_by >= today() && notice_by < signed + Duration::days(366),
        "{agreement}"
    );
    let kinds: Vec<(String, String, String)> = agreement["deliverables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["step"].as_str().unwrap().to_owned(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("agreement".into(), "".into(), "to_produce".into()),
            ("phase_minutes".into(), "step_1".into(), "to_produce".into()),
            ("final_minutes".into(), "".into(), "to_produce".into()),
        ]
    );

    // The agreement, prefilled from the offer and the referential.
    let words = pdf_words(
        &admin,
        &server,
        &format!("/conventions/{id}/document.pdf?type=agreement"),
    )
    .await;
    if let Some(words) = words {
        for expected in [
            "Convention : Parcours cybersécurité",
            "la commune de Feurs (code INSEE 42094",
            "Mairie de Feurs",
            "un préavis de 2 mois",
            "Étape 2 : réunion de suivi",
            "entre 3 et 6 mois après la date de « Étape 1",
            "Protection des données personnelles",
        ] {
            assert!(words.contains(expected), "« {expected} » not in: {words}");
        }
    }
    let (_, agreement) = get_json(&admin, &server, &path).await;
    assert_eq!(agreement["deliverables"][0]["status"], "produced");

    // The first phase's minutes signed: the step is done that day.
    let phase_day = today() - Duration::days(3);
    let status = upload_scan(
        &admin,
        &server,
        &csrf,
        &id,
        ("phase_minutes", "step_1"),
        phase_day,
        SCAN,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, agreement) = get_json(&admin, &server, &path).await;
    assert_eq!(
        agreement["deliverables"][1]["status"], "signed",
        "{agreement}"
    );
    assert_eq!(agreement["steps"][0]["done_on"], phase_day.to_string());
    let scan = admin
        .get(server.at(&format!(
            "/conventions/{id}/signe?type=phase_minutes&etape=step_1"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(scan.status(), StatusCode::OK);
    assert_eq!(scan.bytes().await.unwrap().as_ref(), SCAN);

    // The path's costs, typed the French way; the phase's minutes say
    // what they make due.
    let typed = admin
        .post(server.at(&format!("/conventions/{id}/couts")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("total", "3 000"),
            ("founders", ""),
            ("commune", "1 500,50"),
            ("phase_step_1", "750 €"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(typed.status(), StatusCode::SEE_OTHER);
    let (_, agreement) = get_json(&admin, &server, &path).await;
    assert_eq!(
        agreement["costs"],
        json!({"total_cents": 300000, "founders_cents": null, "commune_cents": 150050,
               "phases": [{"step": "step_1", "cents": 75000}]})
    );
    let wrong = admin
        .post(server.at(&format!("/conventions/{id}/couts")))
        .form(&[("csrf", csrf.as_str()), ("total", "douze euros")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = plain(&wrong.text().await.unwrap());
    assert!(page.contains("Coût total : « douze euros »"), "{page}");
    assert!(page.contains("pas un montant en euros"), "{page}");
    let words = pdf_words(
        &admin,
        &server,
        &format!("/conventions/{id}/document.pdf?type=phase_minutes&etape=step_1"),
    )
    .await;
    if let Some(words) = words {
        for expected in [
            "Procès-verbal d'achèvement de phase",
            "Étape 1 : audit, sécurisation et sensibilisation",
            "la contribution de la commune pour cette phase : 750 €",
        ] {
            assert!(words.contains(expected), "« {expected} » not in: {words}");
        }
    }

    // A scan that is not one, and a step that does not exist: refused,
    // nothing changed.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("type", "agreement")
        .text("signed_on", today().to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(&b"MZ\x90\x00"[..]).file_name("virus.exe"),
        );
    let refused = admin
        .post(server.at(&format!("/conventions/{id}/signe")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("ni un PDF"));
    let (status, error) = post_json(
        &admin,
        &server,
        &csrf,
        &format!("{path}/events"),
        json!({ "kind": "step_done", "step": "step_9", "on": today().to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("n'est pas une étape"),
        "{error}"
    );
    let (_, unchanged) = get_json(&admin, &server, &path).await;
    assert_eq!(unchanged["deliverables"][0]["status"], "produced");

    // The commune gives notice today: the agreement ends in two months.
    let (status, ending) = post_json(
        &admin,
        &server,
        &csrf,
        &format!("{path}/events"),
        json!({ "kind": "notice", "by": "commune", "on": today().to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ending}");
    assert_eq!(ending["status"], "ending");
    let ends: NaiveDate = ending["ends_on"].as_str().unwrap().parse().unwrap();
    assert!(
        ends > today() + Duration::days(55) && ends < today() + Duration::days(63),
        "{ending}"
    );
    assert_eq!(ending["notice_by"], Value::Null);

    // The calendar says when it ends.
    let (status, due) = get_json(
        &admin,
        &server,
        &format!(
            "/api/v1/deadlines?from={}&to={}",
            today(),
            today() + Duration::days(90)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let end = due
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "ends" && d["agreement"] == id.as_str())
        .unwrap_or_else(|| panic!("no end in {due}"));
    assert_eq!(end["day"], ends.to_string());
    assert_eq!(end["commune"], "42094");
    assert!(
        end["title"]
            .as_str()
            .unwrap()
            .starts_with("Parcours cybersécurité")
    );
    let (status, _) = get_json(
        &admin,
        &server,
        "/api/v1/deadlines?from=2026-02-01&to=2026-01-01",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Feurs's town hall sees its agreement; another commune does not,
    // and a commune changes nothing.
    let (feurs, feurs_csrf) =
        sign_in_as(&server, "mairie@feurs.fr", Role::Commune, Some("42094")).await;
    let (status, seen) = get_json(&feurs, &server, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["status"], "ending");
    let page = feurs
        .get(server.at(&format!("/conventions/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("État : en fin de convention."), "{page}");
    assert!(page.contains("Elle se termine le"), "{page}");
    // Its page says so too, and what else the commune may ask for.
    let home = feurs
        .get(server.at("/communes/42094"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Conventions avec le territoire"), "{home}");
    assert!(
        home.contains("Parcours cybersécurité</a> : En fin de convention"),
        "{home}"
    );
    // Feurs (8 367 inhabitants) may not ask for path 2.
    assert!(
        home.contains("La commune peut aussi demander : Boîtier"),
        "{home}"
    );
    assert!(
        !home.contains("Parcours 2 : cyber-sensibilisation enrichie"),
        "{home}"
    );
    let (status, _) = post_json(
        &feurs,
        &server,
        &feurs_csrf,
        &format!("{path}/events"),
        json!({ "kind": "completed", "on": today().to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (montbrison, _) = sign_in_as(
        &server,
        "mairie@montbrison.fr",
        Role::Commune,
        Some("42147"),
    )
    .await;
    let (status, _) = get_json(&montbrison, &server, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = get_json(&montbrison, &server, "/api/v1/agreements").await;
    assert_eq!(list, json!([]));
    let (_, due) = get_json(&montbrison, &server, "/api/v1/deadlines").await;
    assert_eq!(due, json!([]));
}

/// Populations as in `../shared/data` (INSEE 2024): Langeac (43112) has
/// 3 499 inhabitants, Saint-Colomban (44155) 3 500.
async fn add_commune(server: &TestServer, code: &str, name: &str, population: i64) {
    sqlx::query(
        "INSERT INTO communes (code, name, departement, population) VALUES ($1, $2, $3, $4)",
    )
    .bind(code)
    .bind(name)
    .bind(&code[..2])
    .bind(population)
    .execute(&server.db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn eligibility_is_checked_on_real_populations() {
    let server = loire().await;
    add_commune(&server, "43112", "Langeac", 3499).await;
    add_commune(&server, "44155", "Saint-Colomban", 3500).await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let create = |commune: &'static str, offer: &'static str| {
        let (admin, csrf, server) = (&admin, &csrf, &server);
        async move {
            post_json(
                admin,
                server,
                csrf,
                "/api/v1/agreements",
                json!({ "commune": commune, "offer": offer, "signed_on": today().to_string() }),
            )
            .await
        }
    };
    let (status, body) = create("43112", "awareness_2").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = create("44155", "awareness_2").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"],
        "Le parcours 2 est réservé aux communes de moins de 3 500 habitants : Saint-Colomban en compte 3 500."
    );
    // Savigneux, in the Loire's referential: 3 509.
    let (status, body) = create("42299", "awareness_2").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Savigneux en compte 3 509"),
        "{body}"
    );
    // Path 1 has no bound.
    let (status, body) = create("42299", "awareness_1").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A second path 1 while the first runs, an unknown offer or commune.
    let (status, body) = create("42299", "awareness_1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("a déjà une convention"),
        "{body}"
    );
    let (status, body) = create("42299", "bogus").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("crisis_kit"),
        "{body}"
    );
    let (status, body) = create("99999", "sensor").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("« 99999 »"),
        "{body}"
    );
    let (status, body) = post_json(
        &admin,
        &server,
        &csrf,
        "/api/v1/agreements",
        json!({ "commune": "42094", "offer": "sensor", "signed_on": "06/12/2026" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("signed_on"),
        "{body}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agreements")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2, "refusals store nothing");
}

#[tokio::test]
async fn the_sensor_agreement_starts_when_the_box_is_installed() {
    let server = loire().await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let signed = today() - Duration::days(20);
    let (status, created) = post_json(
        &admin,
        &server,
        &csrf,
        "/api/v1/agreements",
        json!({ "commune": "42218", "offer": "sensor", "signed_on": signed.to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/api/v1/agreements/{}", created["id"].as_str().unwrap());
    let (_, before) = get_json(&admin, &server, &path).await;
    assert_eq!(before["status"], "signed", "{before}");
    assert_eq!(before["starts_on"], Value::Null);

    // The box's first contact attests the installation: three years.
    enrolled_sensor(&server, "42218").await;
    let (_, after) = get_json(&admin, &server, &path).await;
    assert_eq!(after["status"], "active", "{after}");
    assert_eq!(after["starts_on"], today().to_string());
    let three_years = today()
        .checked_add_months(chrono::Months::new(36))
        .unwrap()
        .pred_opt()
        .unwrap();
    assert_eq!(after["ends_on"], three_years.to_string(), "{after}");
    let id = created["id"].as_str().unwrap();
    let words = pdf_words(
        &admin,
        &server,
        &format!("/conventions/{id}/document.pdf?type=installation_attestation"),
    )
    .await;
    if let Some(words) = words {
        assert!(
            words.contains("Attestation d'installation du boîtier"),
            "{words}"
        );
        assert!(words.contains("Saint-Étienne"), "{words}");
        assert!(words.contains("Premier envoi reçu"), "{words}");
    }
    // Not a document of this agreement.
    let response = admin
        .get(server.at(&format!(
            "/conventions/{id}/document.pdf?type=final_minutes"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_staff_prepare_and_sign_an_agreement_through_the_pages() {
    let server = loire().await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let form = admin
        .get(server.at("/conventions/nouvelle?commune=42094"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("Kit de crise cyber"));

    // Refused: given back with why, nothing stored.
    let refused = admin
        .post(server.at("/conventions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("commune", "42299"),
            ("offer", "awareness_2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = plain(&refused.text().await.unwrap());
    assert!(page.contains("La convention n'est pas créée."), "{page}");
    assert!(page.contains("Savigneux en compte 3 509"), "{page}");

    // A crisis kit agreement in preparation, then signed and notified.
    let created = admin
        .post(server.at("/conventions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("commune", "42094"),
            ("offer", "crisis_kit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let id = location.trim_start_matches("/conventions/").to_owned();
    let page = admin
        .get(server.at(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("État : en préparation."), "{page}");
    assert!(page.contains("Faites-la signer"), "{page}");
    let signed = today() - Duration::days(2);
    let status = upload_scan(&admin, &server, &csrf, &id, ("agreement", ""), signed, SCAN).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = admin
        .get(server.at(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Notifiez-la à la commune"), "{page}");
    let notified = admin
        .post(server.at(&format!("/conventions/{id}/evenements")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "started"),
            ("on", &(today() - Duration::days(1)).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(notified.status(), StatusCode::SEE_OTHER);
    let (_, agreement) = get_json(&admin, &server, &format!("/api/v1/agreements/{id}")).await;
    assert_eq!(agreement["status"], "active", "{agreement}");
    assert_eq!(agreement["signed_on"], signed.to_string());
    // To the end of the calendar year, renewed tacitly.
    let year_end = NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&(today() - Duration::days(1))),
        12,
        31,
    )
    .unwrap();
    assert_eq!(
        agreement["period"]["ends_on"],
        year_end.to_string(),
        "{agreement}"
    );

    // A decided end before the notification: refused, in French.
    let refused = admin
        .post(server.at(&format!("/conventions/{id}/evenements")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "decided"),
            ("on", &today().to_string()),
            ("ends_on", &(today() - Duration::days(30)).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Rien n'a été enregistré.")
    );

    // The history says what happened, in French.
    let page = admin
        .get(server.at(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "Convention pour le kit de crise créée en préparation.",
        "Document signé déposé : Convention (signé le",
        "Notifiée à la commune le",
    ] {
        assert!(page.contains(line), "« {line} » not in the history: {page}");
    } // Each loan's forms are on the crisis kit's pages.
    assert!(page.contains("le kit de crise de Feurs"), "{page}");

    let list = admin
        .get(server.at("/conventions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("Kit de crise cyber"), "{list}");
    let offers = admin
        .get(server.at("/offres"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let offers = plain(&offers);
    assert!(
        offers.contains(
            "Les communes de moins de 3 500 habitants et les EPCI de moins de 20 000 habitants."
        ),
        "{offers}"
    );
}
