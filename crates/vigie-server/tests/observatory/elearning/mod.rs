//! E-learning over HTTP, as a town hall uses it (issue 11): the secretary
//! creates the commune's link; an agent opens it in a browser with no
//! account, reads a module, answers the quiz and gets the corrections; the
//! commune sees the completion and its average, another commune sees
//! nothing. `links`: ended and unknown links, the daily cap, the number of
//! links. `privacy`: the database keeps nothing about the person.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

mod links;
mod privacy;

use crate::common;

use common::{TestServer, sign_in_as};
use reqwest::StatusCode;
use serde_json::Value;
use vigie_server::accounts::Role;
use vigie_server::elearning;

const OWN: &str = "42218"; // Saint-Étienne, the secretary's
const OTHER: &str = "42095"; // Firminy

/// What the agent's browser says it is: it must be stored nowhere.
const USER_AGENT: &str = "NavigateurDeTest/7.3 (poste de l'accueil)";

async fn server() -> TestServer {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

/// A browser with no account, as an agent opens the link.
fn agent() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The secretary of `OWN` signs in and creates the link on the page: her
/// browser, her CSRF token, and the link's path (`/formation/vgf_…`).
async fn secretary_creates_a_link(server: &TestServer) -> (reqwest::Client, String, String) {
    let (browser, csrf) = sign_in_as(
        server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await;
    let response = browser
        .post(server.at(&format!("/communes/{OWN}/formation/lien")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Partagez ce lien à vos agents et élus"),
        "{page}"
    );
    assert!(page.contains("Il ne s'affichera plus"), "{page}");
    let start = page.find("/formation/vgf_").unwrap();
    let path = page[start..].split('"').next().unwrap().to_owned();
    (browser, csrf, path)
}

/// `module`'s right answers as the form sends them, with question
/// `wrong` (from 1) answered wrongly when given.
fn answers(module: &str, wrong: Option<usize>) -> Vec<(String, String)> {
    let module = elearning::catalogue().unwrap().get(module).unwrap();
    module
        .quiz
        .iter()
        .enumerate()
        .map(|(index, question)| {
            let choice = if wrong == Some(index + 1) {
                (question.answer + 1) % question.choices.len()
            } else {
                question.answer
            };
            (format!("q{}", index + 1), (choice + 1).to_string())
        })
        .collect()
}

async fn post_answers(
    server: &TestServer,
    path: &str,
    module: &str,
    form: &[(String, String)],
) -> (StatusCode, String) {
    let response = agent()
        .post(server.at(&format!("{path}/{module}")))
        .form(form)
        .send()
        .await
        .unwrap();
    assert!(
        !response.headers().contains_key("set-cookie"),
        "no cookie for an agent"
    );
    (response.status(), decoded(response.text().await.unwrap()))
}

async fn get_page(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), decoded(response.text().await.unwrap()))
}

/// A page's text with the template's escapes undone, to compare with
/// the modules' own words.
fn decoded(html: String) -> String {
    html.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn an_agent_takes_a_module_and_the_commune_sees_the_aggregate() {
    let server = server().await;
    let (secretary, _, path) = secretary_creates_a_link(&server).await;

    // The agent opens the link: six modules, nothing done yet.
    let (status, list) = get_page(&agent(), server.at(&path)).await;
    assert_eq!(status, StatusCode::OK);
    for title in [
        "Des mots de passe solides",
        "Reconnaître l'hameçonnage",
        "Faire les mises à jour",
        "Sauvegarder les données de la mairie",
        "Téléphones, portables et déplacements",
        "Que faire en cas d'incident",
    ] {
        assert!(list.contains(title), "{title}");
    }
    assert!(list.contains("Pas encore suivi dans la commune"), "{list}");
    assert!(list.contains("Aucun compte, aucun nom"), "{list}");

    // Reads a module: the content, then the quiz.
    let (status, module) = get_page(&agent(), server.at(&format!("{path}/hameconnage"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        module.contains("La fraude au changement de RIB"),
        "{module}"
    );
    assert!(module.contains("name=\"q6\""), "{module}");
    assert!(module.contains("Voir mon résultat"), "{module}");

    // Answers, one wrong: 5 out of 6, with the corrections.
    let (status, score) = post_answers(
        &server,
        &path,
        "hameconnage",
        &answers("hameconnage", Some(2)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{score}");
    assert!(
        score.contains("5 bonnes réponses sur 6 (83\u{202f}%)"),
        "{score}"
    );
    assert!(
        score.contains("Votre résultat est compté pour la commune"),
        "{score}"
    );
    let quiz = &elearning::catalogue()
        .unwrap()
        .get("hameconnage")
        .unwrap()
        .quiz;
    let second = &quiz[1];
    assert!(score.contains("La bonne réponse :"), "{score}");
    assert!(score.contains(&second.choices[second.answer]), "{score}");
    assert_eq!(score.matches("✓ juste").count(), 5);
    assert_eq!(score.matches("✗ pas tout à fait").count(), 1);
    assert!(
        score.contains("Module suivant : Faire les mises à jour"),
        "{score}"
    );

    // The commune's results: one completion, 83 %.
    let (status, results) =
        get_page(&secretary, server.at(&format!("/communes/{OWN}/formation"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(results.contains("1 parcours terminé"), "{results}");
    assert!(results.contains("83\u{202f}%"), "{results}");
    assert!(results.contains("Partagez ce lien"), "{results}");

    // A perfect second completion: the average of 83.3 % and 100 %.
    let (status, _) =
        post_answers(&server, &path, "hameconnage", &answers("hameconnage", None)).await;
    assert_eq!(status, StatusCode::OK);
    let api: Vec<Value> = secretary
        .get(server.at(&format!("/api/v1/communes/{OWN}/elearning")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api.len(), 6);
    let phishing = api.iter().find(|m| m["module"] == "hameconnage").unwrap();
    assert_eq!(phishing["title"], "Reconnaître l'hameçonnage");
    assert_eq!(phishing["completions"], 2);
    assert_eq!(phishing["average_score"], 91.6);
    let untouched = api.iter().find(|m| m["module"] == "sauvegardes").unwrap();
    assert_eq!(untouched["completions"], 0);
    assert!(untouched["average_score"].is_null());
    let (_, list) = get_page(&agent(), server.at(&path)).await;
    assert!(list.contains("Suivi 2 fois dans la commune"), "{list}");

    // Another commune's user: the 404 of a commune that does not exist.
    let (other, _) = sign_in_as(&server, "mairie@firminy.fr", Role::Commune, Some(OTHER)).await;
    let (status, _) = get_page(&other, server.at(&format!("/communes/{OWN}/formation"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let hidden = other
        .get(server.at(&format!("/api/v1/communes/{OWN}/elearning")))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    assert!(
        hidden.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let (status, _) = get_page(&other, server.at("/formation")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The staff's overview: counts per commune.
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (status, overview) = get_page(&admin, server.at("/formation")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("Saint-Étienne"), "{overview}");
    assert!(
        overview.contains(&format!("/communes/{OWN}/formation")),
        "{overview}"
    );
    assert!(
        !overview.contains("Firminy"),
        "no link, no completion: not listed"
    );
}

#[tokio::test]
async fn every_answer_is_needed_and_the_body_is_small() {
    let server = server().await;
    let (_, _, path) = secretary_creates_a_link(&server).await;
    let mut form = answers("mobilite", None);
    form.retain(|(name, _)| name != "q3");
    let (status, page) = post_answers(&server, &path, "mobilite", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("il manque la réponse à la question 3"),
        "{page}"
    );
    assert!(
        page.contains(" checked>"),
        "the answers given stay ticked: {page}"
    );
    let big = vec![("q1".to_owned(), "1".repeat(8 * 1024))];
    let (status, _) = post_answers(&server, &path, "mobilite", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM elearning_completions")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
