//! The documentation kit over HTTP (issue 11): the staff upload the
//! territory's documents (kinds known by their bytes, never their name),
//! a commune's secretary downloads them byte for byte, a wrong kind is
//! refused with a French message naming it, files and links are removed
//! only with the confirmation box, and only the staff change the kit.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::io::Write;

use crate::common;

use common::{TestServer, sign_in_as};
use reqwest::StatusCode;
use vigie_server::accounts::Role;

const OWN: &str = "42218"; // Saint-Étienne

async fn server() -> TestServer {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    server
}

/// A zip archive of `entries`, stored as a zip tool stores them.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Posts the upload form as a browser does.
async fn upload(
    server: &TestServer,
    browser: &reqwest::Client,
    csrf: &str,
    title: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("section", "procedure")
        .text("title", title.to_owned())
        .text("description", "À afficher près de chaque poste.")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    browser
        .post(server.at("/kit/fichiers"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn page(browser: &reqwest::Client, url: String) -> (StatusCode, String) {
    let response = browser.get(url).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap().replace("&#39;", "'");
    (status, text)
}

/// The id in the first `/kit/fichiers/ID` link after `title` on `page`.
fn file_id(page: &str, title: &str) -> String {
    let at = page.find(title).unwrap();
    let start = page[..at].rfind("/kit/fichiers/").unwrap() + "/kit/fichiers/".len();
    page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

#[tokio::test]
async fn staff_fill_the_kit_and_a_commune_downloads_it() {
    let server = server().await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (secretary, secretary_csrf) = sign_in_as(
        &server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await;

    // A PDF of 300 kB: more than a form, far less than the limit.
    let mut pdf = b"%PDF-1.7\n% fiche reflexe\n".to_vec();
    pdf.extend((0..300_000u32).map(|i| (i % 251) as u8));
    let stored = upload(
        &server,
        &admin,
        &csrf,
        "Fiche réflexe : rançongiciel",
        "Fiche réflexe.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored.headers()["location"], "/kit#documents");
    // A presentation named without an extension: recognised, and named so.
    let pptx = zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("ppt/presentation.xml", b"<p:presentation/>"),
    ]);
    let stored = upload(
        &server,
        &admin,
        &csrf,
        "Présentation au conseil municipal",
        "diaporama",
        pptx.clone(),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);

    // The kit is provided to the communes that signed an awareness path
    // (seed 004): before, the secretary sees how to get it, not the files.
    let (status, kit) = page(&secretary, server.at("/kit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kit.contains("Votre commune n"), "{kit}");
    assert!(!kit.contains("Fiche réflexe : rançongiciel"), "{kit}");
    let signed = admin
        .post(server.at("/api/v1/agreements"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({
            "commune": OWN,
            "offer": "awareness_1",
            "signed_on": vigie_server::agreements::today().to_string(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::CREATED);

    // The secretary sees both, and downloads the PDF byte for byte.
    let (status, kit) = page(&secretary, server.at("/kit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kit.contains("Fiche réflexe : rançongiciel"), "{kit}");
    assert!(kit.contains("PDF, 300,0 ko"), "{kit}");
    assert!(kit.contains("présentation (PPTX)"), "{kit}");
    assert!(
        !kit.contains("Ajouter un document"),
        "no staff form for a commune"
    );
    assert!(kit.contains("/communes/42218/formation"), "{kit}");
    let id = file_id(&kit, "Fiche réflexe : rançongiciel");
    let download = secretary
        .get(server.at(&format!("/kit/fichiers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"Fiche r_flexe.pdf\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''Fiche%20r%C3%A9flexe.pdf"),
        "{disposition}"
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), pdf);
    let slides = file_id(&kit, "Présentation au conseil municipal");
    let download = secretary
        .get(server.at(&format!("/kit/fichiers/{slides}")))
        .send()
        .await
        .unwrap();
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("diaporama.pptx")
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), pptx);

    // Another commune's user, without the path, gets no file.
    let (firminy, _) = sign_in_as(&server, "mairie@firminy.fr", Role::Commune, Some("42095")).await;
    let (status, _) = page(&firminy, server.at(&format!("/kit/fichiers/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Only the staff change the kit; strangers see nothing.
    let refused = upload(
        &server,
        &secretary,
        &secretary_csrf,
        "Mon document",
        "a.pdf",
        b"%PDF-1.4".to_vec(),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let stranger = server.browser();
    let (status, _) = page(&stranger, server.at("/kit")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = page(&stranger, server.at(&format!("/kit/fichiers/{id}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Removing a file asks for the box to be ticked.
    let remove = server.at(&format!("/kit/fichiers/{id}/supprimer"));
    let unconfirmed = admin
        .post(remove.clone())
        .form(&[("csrf", csrf.as_str())])
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
    let removed = admin
        .post(remove)
        .form(&[("csrf", csrf.as_str()), ("confirm", "oui")])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let (status, _) = page(&secretary, server.at(&format!("/kit/fichiers/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, kit) = page(&secretary, server.at("/kit")).await;
    assert!(!kit.contains("Fiche réflexe : rançongiciel"), "{kit}");
}

#[tokio::test]
async fn a_wrong_kind_of_file_is_refused_by_its_bytes() {
    let server = server().await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    for (name, bytes, what) in [
        (
            "affiche.pdf",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "est une image PNG",
        ),
        (
            "installateur.docx",
            vec![0x4d, 0x5a, 0x90, 0x00, 0x03],
            "est un programme Windows",
        ),
        (
            "budget.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0".to_vec(),
            "est un document Office de l'ancien format",
        ),
        (
            "procedure.docx",
            zip(&[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/document.xml", b"<w:document/>"),
                ("word/vbaProject.bin", b"\0\x01"),
            ]),
            "est un document qui contient des macros",
        ),
    ] {
        let refused = upload(&server, &admin, &csrf, "Document", name, bytes).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{name}");
        let text = refused.text().await.unwrap().replace("&#39;", "'");
        assert!(
            text.contains(&format!("« {name} » {what}")),
            "{name}: {text}"
        );
        assert!(
            text.contains("le kit accepte les PDF, les présentations (ODP, PPTX)"),
            "{text}"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kit_files")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    // A document with its title missing: said, and nothing kept.
    let untitled = upload(&server, &admin, &csrf, " ", "a.pdf", b"%PDF-1.4".to_vec()).await;
    assert_eq!(untitled.status(), StatusCode::BAD_REQUEST);
    assert!(
        untitled
            .text()
            .await
            .unwrap()
            .contains("« Titre » : à remplir.")
    );
}

#[tokio::test]
async fn staff_add_and_remove_links_to_the_national_guides() {
    let server = server().await;
    let (admin, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (secretary, secretary_csrf) = sign_in_as(
        &server,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
    )
    .await;
    // The national guides every territory starts with.
    let (_, kit) = page(&secretary, server.at("/kit")).await;
    for guide in [
        "https://www.cybermalveillance.gouv.fr/",
        "https://www.17cyber.gouv.fr/",
        "guide_hygiene_informatique_anssi.pdf",
    ] {
        assert!(kit.contains(guide), "{guide}");
    }

    let add = |client: &reqwest::Client, token: &str, url: &str| {
        client
            .post(server.at("/kit/liens"))
            .form(&[
                ("csrf", token),
                ("title", "Guide de la Région"),
                (
                    "description",
                    "Les aides régionales à la cybersécurité des communes.",
                ),
                ("url", url),
            ])
            .send()
    };
    let added = add(&admin, &csrf, "https://cyber.region.example/guide")
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let refused = add(&secretary, &secretary_csrf, "https://autre.example/")
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let script = add(&admin, &csrf, "javascript:alert(1)").await.unwrap();
    assert_eq!(script.status(), StatusCode::BAD_REQUEST);
    let text = script.text().await.unwrap();
    assert!(
        text.contains("« Adresse » : elle doit commencer par https://"),
        "{text}"
    );
    assert!(
        text.contains("Les aides régionales"),
        "the form keeps what was typed"
    );

    let (_, kit) = page(&secretary, server.at("/kit")).await;
    assert!(kit.contains("https://cyber.region.example/guide"), "{kit}");
    assert!(!kit.contains("javascript:"), "{kit}");
    let (_, staff_kit) = page(&admin, server.at("/kit")).await;
    let at = staff_kit.find("Guide de la Région").unwrap();
    let start = staff_kit[at..].find("/kit/liens/").unwrap() + at + "/kit/liens/".len();
    let id: String = staff_kit[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let remove = server.at(&format!("/kit/liens/{id}/supprimer"));
    let unconfirmed = admin
        .post(remove.clone())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    let removed = admin
        .post(remove)
        .form(&[("csrf", csrf.as_str()), ("confirm", "oui")])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let (_, kit) = page(&secretary, server.at("/kit")).await;
    assert!(!kit.contains("Guide de la Région"), "{kit}");
    assert!(
        kit.contains("https://www.17cyber.gouv.fr/"),
        "the others stay"
    );
}
