//! The document engine as a territory uses it: its own templates beside
//! Vigie's, its branding and logo on the page, an edited template applied
//! at the next render, errors that name the file and the line, and nothing
//! read outside the templates directory. PDFs are read back with
//! `pdftotext` (poppler-utils; required when `VIGIE_TEST_PDF_REQUIRED` is
//! set, as in CI).

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::path::Path;

use chrono::{DateTime, Utc};
use vigie_docs::read_back::pdf_text;
use vigie_docs::{Branding, DocError, Engine, Logo};

fn at() -> DateTime<Utc> {
    "2026-03-02T09:30:00Z".parse().unwrap()
}

/// A 4×2 PNG in the territory's colour.
fn png_logo() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, 4, 2);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&[0x1f, 0x4e, 0x79].repeat(8))
        .unwrap();
    writer.finish().unwrap();
    bytes
}

fn territory(dir: &Path) -> Engine {
    Engine::new(
        Branding {
            territory_name: "Département de la Loire".to_owned(),
            signatory_name: "Claire Martin".to_owned(),
            signatory_title: "Directrice du numérique".to_owned(),
            primary_color: "#00594f".to_owned(),
            accent_color: "#e2001a".to_owned(),
            logo: Some(Logo::from_bytes(png_logo()).unwrap()),
        },
        Some(dir.to_path_buf()),
    )
    .unwrap()
}

const ATTESTATION: &str = r#"#import "vigie.typ": *
#let data = json("data.json")
#show: layout.with(title: "Attestation d'installation")
= Attestation d'installation
La commune de #data.commune a reçu son capteur n° #str(data.sensor).
#signature(place: "Saint-Étienne", date: data.date)
#image(branding.logo, width: 1cm)
"#;

#[test]
fn a_territory_template_gets_its_data_and_branding() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("attestation.typ"), ATTESTATION).unwrap();
    let engine = territory(dir.path());
    let data =
        serde_json::json!({ "commune": "Boën-sur-Lignon", "sensor": 17, "date": "2 mars 2026" });
    let bytes = engine.pdf("attestation.typ", &data, at()).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    // The same input gives the same bytes: an archived document can be
    // produced again and compared.
    assert_eq!(engine.pdf("attestation.typ", &data, at()).unwrap(), bytes);
    let Some(text) = pdf_text(&bytes) else { return };
    for words in [
        "Département de la Loire",
        "La commune de Boën-sur-Lignon a reçu son capteur n° 17.",
        "Fait à Saint-Étienne, le 2 mars 2026.",
        "Claire Martin",
        "Directrice du numérique",
        "page 1 sur 1",
    ] {
        assert!(text.contains(words), "{words:?} missing from {text}");
    }
}

#[test]
fn an_edited_template_applies_at_the_next_render() {
    let dir = tempfile::tempdir().unwrap();
    let engine = territory(dir.path());
    let data =
        serde_json::json!({ "commune": "Sail-sous-Couzan", "sensor": 3, "date": "2 mars 2026" });
    // Not there yet: a clear error, in French.
    let error = engine.pdf("attestation.typ", &data, at()).unwrap_err();
    assert!(matches!(error, DocError::UnknownTemplate(_)), "{error}");
    assert!(
        error
            .to_string()
            .contains("« attestation.typ » introuvable"),
        "{error}"
    );
    std::fs::write(dir.path().join("attestation.typ"), ATTESTATION).unwrap();
    let first = engine.pdf("attestation.typ", &data, at()).unwrap();
    // The territory replaces Vigie's shared layout: every document follows.
    let layout = Engine::built_in_templates()
        .find(|(name, _)| *name == "vigie.typ")
        .unwrap()
        .1
        .replace(
            "branding.territory_name,\n",
            "[Conseil départemental -- en-tête adapté],\n",
        );
    assert!(layout.contains("en-tête adapté"));
    std::fs::write(dir.path().join("vigie.typ"), layout).unwrap();
    let second = engine.pdf("attestation.typ", &data, at()).unwrap();
    assert_ne!(first, second);
    if let Some(text) = pdf_text(&second) {
        assert!(
            text.contains("Conseil départemental – en-tête adapté"),
            "{text}"
        );
    }
}

#[test]
fn a_broken_template_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("proces-verbal.typ"),
        "#import \"vigie.typ\": *\n#show: layout.with(title: \"PV\")\n= Procès-verbal\n#donnees.inconnues\n",
    )
    .unwrap();
    let error = territory(dir.path())
        .pdf("proces-verbal.typ", &serde_json::json!({}), at())
        .unwrap_err();
    match &error {
        DocError::Template { file, line, .. } => {
            assert_eq!(file, "proces-verbal.typ");
            assert_eq!(*line, 4);
        }
        other => panic!("{other}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("modèle de document « proces-verbal.typ », ligne 4 : "),
        "{error}"
    );
}

#[test]
fn templates_read_nothing_outside_their_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("modeles");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(root.path().join("secret.txt"), "mot de passe").unwrap();
    let engine = territory(&dir);
    for (name, body) in [
        ("lecture.typ", "#read(\"../secret.txt\")"),
        ("absolu.typ", "#read(\"/etc/passwd\")"),
        ("paquet.typ", "#import \"@preview/cetz:0.3.0\": *"),
    ] {
        std::fs::write(dir.join(name), body).unwrap();
        let error = engine
            .pdf(name, &serde_json::json!({}), at())
            .unwrap_err()
            .to_string();
        assert!(error.contains(&format!("« {name} », ligne 1")), "{error}");
        assert!(
            !error.contains("mot de passe") && !error.contains("root:"),
            "{error}"
        );
    }
    // Nor is a template asked for by a path.
    for name in [
        "../secret.txt",
        "/etc/passwd",
        "modeles/../x.typ",
        ".cache.typ",
    ] {
        let error = engine.pdf(name, &serde_json::json!({}), at()).unwrap_err();
        assert!(
            matches!(error, DocError::UnknownTemplate(_)),
            "{name}: {error}"
        );
    }
}

/// The crisis kit's three documents with a territory's signatory, and one
/// of them replaced by the territory's own by name (issue 12).
#[test]
fn the_crisis_kit_documents_sign_for_the_territory() {
    let dir = tempfile::tempdir().unwrap();
    let engine = territory(dir.path());
    let commune = serde_json::json!({ "name": "Saint-Étienne", "code": "42218" });
    let item = ["PC-01", "ordinateur portable", "n° de série PF3X9"];
    let loan = serde_json::json!({
        "title": "Fiche de prêt du kit de crise — Saint-Étienne", "commune": commune,
        "crisis": "rançongiciel", "booking": null, "holder": "Jeanne Martin",
        "holder_role": "secrétaire de mairie", "lent": "02/03/2026 à 10:30",
        "due": "16 mars 2026", "reference": "PR-1A2B3C4D", "items": [item],
        "signatory": null
    });
    let back = serde_json::json!({
        "title": "Fiche de restitution du kit de crise — Saint-Étienne", "commune": commune,
        "reference": "PR-1A2B3C4D", "item": item, "holder": "Jeanne Martin",
        "lent": "02/03/2026", "due": "16/03/2026", "returned": null, "returned_by": "",
        "condition": "", "outcome": null
    });
    let wipe = serde_json::json!({
        "title": "Attestation d'effacement — PC-01", "commune": commune,
        "reference": "PR-1A2B3C4D", "item": item, "lent": "02/03/2026",
        "returned": "10/03/2026", "day": "11 mars 2026", "wiped_by": "Luc Bernard",
        "method": "Réinitialisation", "outcome": "Les données ont été détruites.",
        "date": "11 mars 2026"
    });
    for (template, data, words) in [
        (
            "fiche-de-pret.typ",
            &loan,
            "Pour Département de la Loire Claire Martin, Directrice du numérique",
        ),
        (
            "fiche-de-restitution.typ",
            &back,
            "Détruites par l’effacement",
        ),
        (
            "attestation-effacement.typ",
            &wipe,
            "Fait le 11 mars 2026. Claire Martin Directrice du numérique",
        ),
    ] {
        let pdf = engine.pdf(template, data, at()).unwrap();
        if let Some(text) = pdf_text(&pdf) {
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(text.contains(words), "{template}: {words} not in {text}");
        }
    }
    let own = Engine::built_in_templates()
        .find(|(name, _)| *name == "fiche-de-pret.typ")
        .unwrap()
        .1
        .replace(
            "== Conditions du prêt",
            "== Conditions du prêt (délibération du 4 juin 2021)",
        );
    std::fs::write(dir.path().join("fiche-de-pret.typ"), own).unwrap();
    if let Some(text) = pdf_text(&engine.pdf("fiche-de-pret.typ", &loan, at()).unwrap()) {
        assert!(text.contains("délibération du 4 juin 2021"), "{text}");
    }
}
