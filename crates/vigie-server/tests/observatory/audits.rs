//! The pre-audit over HTTP, as the territory's staff and a town hall use
//! it: a round started by a script, the identity sheet filled in through
//! the pages' form (ruling questions out), answers saved by the API (a
//! wrong one refused whole), scores, « je ne sais pas » as a shortcoming,
//! the top five reordered by what the probe saw on the commune's network,
//! a follow-up round that shows what improved, the access rules, and the
//! dossier's text with the top five in order.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use common::{TestServer, post_as_machine, sign_in_as};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_server::accounts::{self, Role};

const OWN: &str = "42218"; // Saint-Étienne, the commune user's
const OTHER: &str = "42095"; // Firminy

async fn server() -> TestServer {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

async fn staff_token(server: &TestServer) -> String {
    accounts::add_user(
        &server.db,
        "equipe@loire.fr",
        Role::Operator,
        None,
        common::PASSWORD,
    )
    .await
    .unwrap();
    accounts::create_token(&server.db, "equipe@loire.fr")
        .await
        .unwrap()
}

async fn get_json(client: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Saves `answers` as the page's script does (session, CSRF header).
async fn put_answers(
    server: &TestServer,
    browser: &reqwest::Client,
    csrf: &str,
    audit: &str,
    answers: Value,
) -> (StatusCode, Value) {
    let response = browser
        .put(server.at(&format!("/api/v1/audits/{audit}/answers")))
        .header("x-csrf-token", csrf)
        .json(&answers)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn order(audit: &Value) -> Vec<String> {
    audit["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["question"].as_str().unwrap().to_owned())
        .collect()
}

/// A probe scan of `commune` that found remote desktop open to the
/// Internet, stored as an upload would.
async fn probe_saw_remote_desktop(server: &TestServer, commune: &str) {
    let report: vigie_core::probe::ProbeReport = serde_json::from_value(json!({
        "schema": "vigie.probe/1", "commune": commune,
        "started_at": "2026-11-30T08:00:00Z", "finished_at": "2026-11-30T09:00:00Z",
        "lab": false, "interrupted": false,
        "scope": { "networks": ["192.168.1.0/24"], "excluded": [], "intensity": "polite" },
        "hosts": [],
        "findings": [{
            "id": "rdp.exposed", "host": "192.168.1.10", "port": 3389, "transport": "tcp",
            "cvss": 8.1, "vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "severity": "high", "cves": [],
            "title": "Bureau à distance ouvert sur Internet",
            "impact": "Un attaquant peut essayer des mots de passe.",
            "recommendation": "Fermer le port 3389 sur la box.",
            "evidence": "RDP répond sur 3389."
        }],
        "top": []
    }))
    .unwrap();
    vigie_server::probes::store(&server.db, &report, None, vigie_server::db::now_ms())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_town_hall_fills_its_pre_audit_and_gets_its_top_five() {
    let server = server().await;
    let token = staff_token(&server).await;

    // The questionnaires, as scripts read them.
    let (status, questionnaires) =
        get_json(&api_with(&token), server.at("/api/v1/questionnaires")).await;
    assert_eq!(status, StatusCode::OK);
    let scored = questionnaires
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "securite-services")
        .unwrap();
    let first = &scored["questions"][0];
    let answers: Vec<&str> = first["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(answers.last(), Some(&"na"));
    assert!(answers.contains(&"unknown"));
    let identity = questionnaires
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "identite-commune")
        .unwrap();
    assert!(identity["questions"][0].get("answers").is_none());

    // The staff starts a round by script; a commune user may not.
    let (status, created) = post_as_machine(
        &server,
        &format!("/api/v1/communes/{OWN}/audits"),
        &token,
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let audit = created["id"].as_str().unwrap().to_owned();
    let (browser, csrf) = secretary_signs_in(&server).await;
    let refused = browser
        .post(server.at(&format!("/api/v1/communes/{OWN}/audits")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // The identity sheet through the page's form (its second page, the
    // equipment): no server at the town hall, so the server questions
    // answer themselves « non applicable ».
    let page = browser
        .get(server.at(&format!("/audits/{audit}/questions?page=1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"a.parc.serveurs\""), "{page}");
    let saved = browser
        .post(server.at(&format!("/audits/{audit}/questions")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("page", "1"),
            ("a.parc.serveurs", "0"),
            ("c.parc.serveurs", "Tout est chez l'éditeur."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert!(
        saved.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/questions?page=2")
    );

    // A batch with one wrong answer is refused whole, naming it.
    let (status, refusal) = put_answers(
        &server,
        &browser,
        &csrf,
        &audit,
        json!({ "comptes.mots_de_passe": "no", "postes.antivirus": "peut-être" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = refusal["error"].as_str().unwrap();
    assert!(
        message.contains("postes.antivirus") && message.contains("peut-être"),
        "{message}"
    );
    let (_, state) = get_json(
        &api_with(&token),
        server.at(&format!("/api/v1/audits/{audit}")),
    )
    .await;
    assert_eq!(state["score"], Value::Null, "nothing stored: {state}");

    // Four weight-3 « non » and one « je ne sais pas ».
    let (status, answer) = put_answers(
        &server,
        &browser,
        &csrf,
        &audit,
        json!({
            "comptes.mots_de_passe": "no",
            "comptes.acces_distance": "no",
            "postes.antivirus": "no",
            "sauvegardes.hors_ligne": "no",
            "sauvegardes.restauration": "unknown",
            "serveurs.systeme_maintenu": "yes",
            "sauvegardes.frequence": { "answer": "chaque_jour", "comment": "Chaque soir, par le prestataire." },
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, state) = get_json(
        &api_with(&token),
        server.at(&format!("/api/v1/audits/{audit}")),
    )
    .await;
    // The server question was ruled out by the identity sheet: not counted.
    // Counted: backups frequency yes (3), the rest 0 → 3 / 18 = 17.
    assert_eq!(state["score"], 17, "{state}");
    assert_eq!(state["themes"]["comptes"], 0);
    assert!(state["themes"].get("serveurs").is_none(), "{state}");
    assert_eq!(state["previous"], Value::Null);
    // Without anything seen on the network: weight first, then a known
    // « non » before « je ne sais pas », then ANSSI's order (10, 13, 14, 37).
    let quiet = order(&state);
    assert_eq!(
        quiet,
        [
            "comptes.mots_de_passe",
            "comptes.acces_distance",
            "postes.antivirus",
            "sauvegardes.hors_ligne",
            "sauvegardes.restauration",
        ]
    );
    let unknown = &state["top"][4];
    assert_eq!(unknown["answer"], "Je ne sais pas");
    assert!(unknown["action"].as_str().unwrap().len() > 10);
    assert!(state["top"][0]["measures"][0] == 10);
    assert_eq!(state["top"][0]["who"], "commune");

    // The probe found remote desktop open to the Internet: the remote
    // access shortcoming comes first, and says why.
    probe_saw_remote_desktop(&server, OWN).await;
    let (_, state) = get_json(
        &api_with(&token),
        server.at(&format!("/api/v1/audits/{audit}")),
    )
    .await;
    let exposed = order(&state);
    assert_eq!(exposed[0], "comptes.acces_distance", "{state}");
    assert_eq!(exposed[1], "comptes.mots_de_passe");
    let because = state["top"][0]["because"].as_str().unwrap();
    assert!(
        because.contains("sonde réseau")
            && because.contains("bureau à distance ouvert sur Internet"),
        "{because}"
    );

    // The dossier: the top five in order, the minutes' signature block.
    let pdf = browser
        .get(server.at(&format!("/audits/{audit}/dossier.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    let again = browser
        .get(server.at(&format!("/audits/{audit}/dossier.pdf")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(pdf, again, "the same round gives the same document");
    if let Some(text) = vigie_docs::read_back::pdf_text(&pdf) {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for words in [
            "Dossier de diagnostic de cybersécurité — Saint-Étienne",
            "Les 5 manques les plus critiques",
            "Sur le réseau de la mairie :",
            "Plan d’action", // Typst sets apostrophes the French way
            "1 000 €",
            "Tout est chez l'éditeur.",
            "Procès-verbal d’achèvement de phase",
        ] {
            assert!(text.contains(words), "{words:?} missing from {text}");
        }
        let titles = texts_of(&server, &exposed).await;
        let positions: Vec<usize> = titles
            .iter()
            .map(|t| {
                let head: String = t.chars().take(40).collect();
                text.find(&head)
                    .unwrap_or_else(|| panic!("{head:?} missing from {text}"))
            })
            .collect();
        assert!(positions.windows(2).all(|p| p[0] < p[1]), "{positions:?}");
    }

    // The same dossier as a page.
    let page = browser
        .get(server.at(&format!("/audits/{audit}/dossier")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for words in [
        "Les 5 manques les plus critiques",
        "Sur le réseau de la mairie :",
        "Plan d'action",
        "Toutes les réponses",
        "Tout est chez l&#39;éditeur.",
    ] {
        assert!(page.contains(words), "{words:?} missing from the page");
    }
    let first_of_top = page.find("<ol class=\"top-five\">").unwrap();
    let remote = page[first_of_top..].find("accéder à distance").unwrap();
    let passwords = page[first_of_top..]
        .find("mots de passe sont-ils longs")
        .unwrap();
    assert!(remote < passwords);

    // Another commune's user sees nothing of it; a stranger is sent to sign in.
    let (other, _) = sign_in_as(&server, "mairie@firminy.fr", Role::Commune, Some(OTHER)).await;
    for path in [
        format!("/audits/{audit}"),
        format!("/audits/{audit}/dossier"),
        format!("/audits/{audit}/dossier.pdf"),
        format!("/api/v1/audits/{audit}"),
    ] {
        let status = other.get(server.at(&path)).send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }

    // The follow-up round starts from these answers; what improved shows.
    let (status, follow) = post_as_machine(
        &server,
        &format!("/api/v1/audits/{audit}/follow-up"),
        &token,
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{follow}");
    let next = follow["id"].as_str().unwrap().to_owned();
    let (_, carried) = get_json(
        &api_with(&token),
        server.at(&format!("/api/v1/audits/{next}")),
    )
    .await;
    assert_eq!(carried["previous"], audit.as_str());
    assert_eq!(carried["score"], 17);
    let (status, _) = put_answers(
        &server,
        &browser,
        &csrf,
        &next,
        json!({ "comptes.mots_de_passe": "yes", "postes.antivirus": "partly" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let overview = browser
        .get(server.at(&format!("/audits/{next}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(overview.contains("Depuis l'étape précédente"), "{overview}");
    assert!(overview.contains("2 réponses améliorées"), "{overview}");
    assert!(
        overview.contains("Mesures ANSSI désormais respectées : n° 10"),
        "{overview}"
    );
    let history = browser
        .get(server.at(&format!("/communes/{OWN}/audits")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("Suivi n° 1") && history.contains("Diagnostic"),
        "{history}"
    );
}

/// A client that sends the staff token.
fn api_with(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// The questions' texts, from the questionnaires' API.
async fn texts_of(server: &TestServer, ids: &[String]) -> Vec<String> {
    let token = accounts::create_token(&server.db, "equipe@loire.fr")
        .await
        .unwrap();
    let (_, all) = get_json(&api_with(&token), server.at("/api/v1/questionnaires")).await;
    ids.iter()
        .map(|id| {
            all.as_array()
                .unwrap()
                .iter()
                .flat_map(|q| q["questions"].as_array().unwrap())
                .find(|q| q["id"] == id.as_str())
                .unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The town hall's secretary, a user of `OWN`: their browser and CSRF token.
async fn secretary_signs_in(server: &TestServer) -> (reqwest::Client, String) {
    sign_in_as(
        server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await
}

/// The administrator, signed in, starts a round for `OWN` from the
/// commune's page: their browser, CSRF token and the round's id.
async fn admin_starts_a_round(server: &TestServer) -> (reqwest::Client, String, String) {
    let (admin, csrf) = sign_in_as(server, "admin@loire.fr", Role::Admin, None).await;
    let started = admin
        .post(server.at(&format!("/communes/{OWN}/audits")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let location = started.headers()["location"].to_str().unwrap();
    let audit = location.strip_prefix("/audits/").unwrap().to_owned();
    (admin, csrf, audit)
}

#[tokio::test]
async fn a_staff_member_starts_a_round_from_the_commune_page() {
    let server = server().await;
    let (admin, _, audit) = admin_starts_a_round(&server).await;
    let location = format!("/audits/{audit}");
    let page = admin
        .get(server.at(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Pré-audit — Saint-Étienne : Diagnostic"),
        "{page}"
    );
    assert!(page.contains("Répondre aux questions"));
    // Every page of questions opens, with a « next » button naming the
    // following theme, and the last one leads back to the overview.
    let mut index = 0;
    loop {
        let response = admin
            .get(server.at(&format!("{location}/questions?page={index}")))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::NOT_FOUND {
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        assert!(text.contains("Enregistrer et"), "{text}");
        index += 1;
    }
    assert!(index >= 10, "{index} pages");
}

/// The IT provider answers through its own link: no account, only its
/// questionnaire, its answers seen by the commune; the link ends with the
/// round, and unknown links are not tried in bulk.
#[tokio::test]
async fn a_provider_answers_through_its_link() {
    let server = server().await;
    let (admin, admin_csrf, audit) = admin_starts_a_round(&server).await;
    let (browser, csrf) = secretary_signs_in(&server).await;
    let page = browser
        .post(server.at(&format!("/audits/{audit}/prestataires")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Infogérance 42"),
            ("email", "support@infogerance42.fr"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Le lien part par courriel à"), "{page}");
    let start = page.find("/prestataire/vgp_").unwrap();
    let path = page[start..].split('"').next().unwrap().to_owned();
    // The e-mail is in the outbox, with the link.
    let (recipient, body): (String, String) =
        sqlx::query_as("SELECT recipient, body_text FROM outbox WHERE kind = 'provider_invite'")
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(recipient, "support@infogerance42.fr");
    assert!(body.contains(&path), "{body}");
    assert!(body.contains("Bonjour Infogérance 42"), "{body}");

    // A stranger's browser with the link: the provider questionnaire only.
    let provider = server.browser();
    let first = provider.get(server.at(&path)).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.text().await.unwrap();
    assert!(first.contains("Bonjour Infogérance 42"), "{first}");
    assert!(first.contains("name=\"a.exploitation.sauvegardes\""));
    assert!(!first.contains("a.comptes.mots_de_passe"));
    assert!(!first.contains("data-audit"), "no session, no autosave");
    // Its answers are kept; a commune question slipped in is not.
    let saved = provider
        .post(server.at(&path))
        .form(&[
            ("page", "0"),
            ("a.exploitation.sauvegardes", "partly"),
            (
                "c.exploitation.sauvegardes",
                "Sauvegarde chaque nuit sur le NAS.",
            ),
            ("a.comptes.mots_de_passe", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let answers: Vec<(String, String)> =
        sqlx::query_as("SELECT question, answered_by FROM audit_answers WHERE audit_id = $1")
            .bind(&audit)
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].0, "exploitation.sauvegardes");
    assert!(answers[0].1.starts_with("provider:"));
    // The commune sees who answered.
    let overview = browser
        .get(server.at(&format!("/audits/{audit}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        overview.contains("Infogérance 42") && overview.contains("valable jusqu"),
        "{overview}"
    );
    let (_, state) = get_json(&browser, server.at(&format!("/api/v1/audits/{audit}"))).await;
    assert_eq!(state["progress"]["answered"], 1, "{state}");

    // A link that does not exist: a French 404 page.
    let unknown = provider
        .get(server.at("/prestataire/vgp_0000"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.text().await.unwrap().contains("<html lang=\"fr\">"));

    // The next round closes the link: 410 and what to do.
    let next = admin
        .post(server.at(&format!("/audits/{audit}/suivi")))
        .form(&[("csrf", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::SEE_OTHER);
    let closed = provider.get(server.at(&path)).send().await.unwrap();
    assert_eq!(closed.status(), StatusCode::GONE);
    let closed = closed.text().await.unwrap();
    assert!(
        closed.contains("Ce lien n'est plus valable")
            || closed.contains("Ce lien n&#39;est plus valable"),
        "{closed}"
    );

    // Trying links in bulk runs out of guesses: 429.
    let mut limited = false;
    for n in 0..40 {
        let status = provider
            .get(server.at(&format!("/prestataire/vgp_essai{n}")))
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "40 unknown links tried without a 429");
}

/// A signed procès-verbal and a supporting document kept with the round,
/// downloaded back by the commune, refused when too big or executable; the
/// end-of-mission minutes prefilled with the rounds.
#[tokio::test]
async fn files_and_minutes_are_kept_with_the_round() {
    let server = server().await;
    let (admin, admin_csrf, audit) = admin_starts_a_round(&server).await;
    let (browser, csrf) = secretary_signs_in(&server).await;
    let send = |kind: &str, question: &str, name: &str, bytes: Vec<u8>, token: &str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", token.to_owned())
            .text("kind", kind.to_owned())
            .text("question", question.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        browser
            .post(server.at(&format!("/audits/{audit}/fichiers")))
            .multipart(form)
            .send()
    };
    // A real scan weighs megabytes: 3 MiB go through.
    let scan = [
        b"%PDF-1.4 scan du proces-verbal signe".to_vec(),
        vec![b'x'; 3 * 1024 * 1024],
    ]
    .concat();
    let kept = send("signed_minutes", "", "PV signé.pdf", scan.clone(), &csrf)
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::SEE_OTHER);
    let kept = send(
        "attachment",
        "sauvegardes.restauration",
        "C:\\Mairie\\essai-restauration.txt",
        "Restauration essayée le 3 mars : 12 fichiers récupérés."
            .as_bytes()
            .to_vec(),
        &csrf,
    )
    .await
    .unwrap();
    assert_eq!(kept.status(), StatusCode::SEE_OTHER);
    // Without the session's token, too big, or a program: refused.
    let refused = send("attachment", "", "a.pdf", scan.clone(), "")
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let big = send(
        "attachment",
        "",
        "gros.pdf",
        [b"%PDF-".to_vec(), vec![b'x'; 11 * 1024 * 1024]].concat(),
        &csrf,
    )
    .await
    .unwrap();
    assert!(
        big.status() == StatusCode::PAYLOAD_TOO_LARGE || big.status() == StatusCode::BAD_REQUEST,
        "{}",
        big.status()
    );
    let program = send(
        "attachment",
        "",
        "setup.exe",
        vec![0x4d, 0x5a, 0x90, 0x00, 0x03],
        &csrf,
    )
    .await
    .unwrap();
    assert_eq!(program.status(), StatusCode::BAD_REQUEST);
    assert!(program.text().await.unwrap().contains("seuls les PDF"));

    let overview = browser
        .get(server.at(&format!("/audits/{audit}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        overview.contains("PV signé.pdf") && overview.contains("procès-verbal signé"),
        "{overview}"
    );
    assert!(overview.contains("essai-restauration.txt"), "{overview}");
    let start = overview.find("fichiers?id=").unwrap() + "fichiers?id=".len();
    let first: String = overview[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let download = browser
        .get(server.at(&format!("/audits/{audit}/fichiers?id={first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), scan);
    // Another commune's user gets the 404 of a file that does not exist.
    let (other, _) = sign_in_as(&server, "mairie@firminy.fr", Role::Commune, Some(OTHER)).await;
    let hidden = other
        .get(server.at(&format!("/audits/{audit}/fichiers?id={first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // The end-of-mission minutes, after a follow-up round.
    let next = admin
        .post(server.at(&format!("/audits/{audit}/suivi")))
        .form(&[("csrf", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    let next = next.headers()["location"].to_str().unwrap().to_owned();
    let pdf = browser
        .get(server.at(&format!("{next}/pv-fin-de-mission.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    if let Some(text) = vigie_docs::read_back::pdf_text(&pdf.bytes().await.unwrap()) {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for words in [
            "Procès-verbal de fin de mission — Saint-Étienne",
            "Diagnostic",
            "Suivi n° 1",
            "Constat de fin de mission",
            "Pour la commune de Saint-Étienne",
        ] {
            assert!(text.contains(words), "{words:?} missing from {text}");
        }
    }
}

/// The security requirements annex for the commune's next procurement,
/// as a PDF and as an editable DOCX, from the provider questionnaire.
#[tokio::test]
async fn the_procurement_annex_lists_the_providers_requirements() {
    let server = server().await;
    let (admin, _, audit) = admin_starts_a_round(&server).await;
    let pdf = admin
        .get(server.at(&format!("/audits/{audit}/annexe-securite.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    if let Some(text) = vigie_docs::read_back::pdf_text(&pdf.bytes().await.unwrap()) {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("Exigences de sécurité informatique — commune de Saint-Étienne"),
            "{text}"
        );
        assert!(
            text.contains("1. Le titulaire sauvegarde automatiquement"),
            "{text}"
        );
        assert!(
            text.contains("restitue à la collectivité toutes ses données"),
            "{text}"
        );
    }
    let docx = admin
        .get(server.at(&format!("/audits/{audit}/annexe-securite.docx")))
        .send()
        .await
        .unwrap();
    assert_eq!(docx.status(), StatusCode::OK);
    assert!(
        docx.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".docx")
    );
    let bytes = docx.bytes().await.unwrap().to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut document = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("word/document.xml").unwrap(),
        &mut document,
    )
    .unwrap();
    assert!(
        document.contains("Le titulaire sauvegarde automatiquement"),
        "{document}"
    );
    assert!(document.contains("<w:pStyle w:val=\"Heading1\"/>"));
    // Every requirement of the provider questionnaire, numbered across
    // the annex.
    assert!(document.contains(">24. </w:t>") && !document.contains(">25. </w:t>"));
}
