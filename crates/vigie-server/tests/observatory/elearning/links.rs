//! A training link's life: unknown, revoked and expired links get a
//! French page; the daily cap refuses politely; a commune's links are
//! bounded (issue 11).

use super::{OTHER, OWN, agent, answers, get_page, post_answers, secretary_creates_a_link, server};
use crate::common::sign_in_as;
use reqwest::StatusCode;
use vigie_server::accounts::Role;
use vigie_server::elearning::{self, MAX_COMPLETIONS_PER_LINK_PER_DAY};
use vigie_server::territory::CommuneCode;

#[tokio::test]
async fn ended_and_unknown_links_get_a_french_page() {
    let server = server().await;
    let (secretary, csrf, path) = secretary_creates_a_link(&server).await;

    // A link that never existed: the site's 404 page.
    let (status, page) = get_page(
        &agent(),
        server.at("/formation/vgf_00000000000000000000000000000000"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page introuvable"), "{page}");
    let (status, _) = post_answers(
        &server,
        "/formation/vgf_inconnu",
        "incident",
        &answers("incident", None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An unknown module behind a good link.
    let (status, _) = get_page(&agent(), server.at(&format!("{path}/module-inconnu"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Closing a link needs the confirmation box, and only its commune may.
    let results = server.at(&format!("/communes/{OWN}/formation"));
    let (_, page) = get_page(&secretary, results.clone()).await;
    let start = page.find("name=\"link\" value=\"").unwrap() + "name=\"link\" value=\"".len();
    let id: String = page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let revoke = server.at(&format!("/communes/{OWN}/formation/lien/revoquer"));
    let unconfirmed = secretary
        .post(revoke.clone())
        .form(&[("csrf", csrf.as_str()), ("link", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    assert!(
        unconfirmed
            .text()
            .await
            .unwrap()
            .contains("Cochez la case de confirmation")
    );
    let (other, other_csrf) =
        sign_in_as(&server, "mairie@firminy.fr", Role::Commune, Some(OTHER)).await;
    let foreign = other
        .post(revoke.clone())
        .form(&[
            ("csrf", other_csrf.as_str()),
            ("link", id.as_str()),
            ("confirm", "oui"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let (status, _) = get_page(&agent(), server.at(&path)).await;
    assert_eq!(status, StatusCode::OK, "still open");
    let closed = secretary
        .post(revoke)
        .form(&[
            ("csrf", csrf.as_str()),
            ("link", id.as_str()),
            ("confirm", "oui"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);

    // A closed link: 410, in French, saying what to do; nothing recorded.
    let (status, page) = get_page(&agent(), server.at(&path)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(
        page.contains("Ce lien de formation n'est plus valable"),
        "{page}"
    );
    assert!(page.contains("fermé le"), "{page}");
    assert!(
        page.contains("Demandez le nouveau lien à votre mairie"),
        "{page}"
    );
    let (status, _) = post_answers(&server, &path, "incident", &answers("incident", None)).await;
    assert_eq!(status, StatusCode::GONE);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM elearning_completions")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // An expired link: created a year and a day ago.
    let code = CommuneCode::parse(OWN).unwrap();
    let long_ago = chrono::Utc::now().timestamp_millis() - 366 * 86_400_000;
    let (_, old) = elearning::create_link(&server.db, &code, None, long_ago)
        .await
        .unwrap();
    let (status, page) = get_page(&agent(), server.at(&format!("/formation/{old}/incident"))).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expiré le"), "{page}");
}

#[tokio::test]
async fn the_daily_cap_refuses_politely() {
    let server = server().await;
    let (_, _, path) = secretary_creates_a_link(&server).await;
    let (status, _) =
        post_answers(&server, &path, "sauvegardes", &answers("sauvegardes", None)).await;
    assert_eq!(status, StatusCode::OK);
    let counted: i64 = sqlx::query_scalar("SELECT counted FROM elearning_links")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(counted, 1, "each completion counts on its link");
    // The link has brought all but one of today's completions.
    sqlx::query("UPDATE elearning_links SET counted = $1")
        .bind(MAX_COMPLETIONS_PER_LINK_PER_DAY - 1)
        .execute(&server.db.pool)
        .await
        .unwrap();
    let (status, _) =
        post_answers(&server, &path, "sauvegardes", &answers("sauvegardes", None)).await;
    assert_eq!(status, StatusCode::OK, "the last one of the day");
    let (status, page) = post_answers(
        &server,
        &path,
        "sauvegardes",
        &answers("sauvegardes", Some(1)),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.contains("Votre résultat n'a pas pu être compté"),
        "{page}"
    );
    assert!(page.contains("200 parcours aujourd"), "{page}");
    assert!(
        page.contains("4 bonnes réponses sur 5"),
        "still marked: {page}"
    );
    assert!(
        page.contains("La bonne réponse :"),
        "still corrected: {page}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM elearning_completions")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2);
    // The next day, the link counts again.
    sqlx::query("UPDATE elearning_links SET counted_day = '2000-01-01'")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let (status, _) =
        post_answers(&server, &path, "sauvegardes", &answers("sauvegardes", None)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_commune_has_a_bounded_number_of_links() {
    let server = server().await;
    let code = CommuneCode::parse(OWN).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    for _ in 0..elearning::MAX_ACTIVE_LINKS {
        elearning::create_link(&server.db, &code, None, now)
            .await
            .unwrap();
    }
    let (secretary, csrf) = sign_in_as(
        &server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await;
    let refused = secretary
        .post(server.at(&format!("/communes/{OWN}/formation/lien")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("fermez-en un"));
}
