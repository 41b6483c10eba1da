//! HTTPS for the observatory: the real application served with
//! `vigie_server::serve` on 127.0.0.1:0 with a self-signed certificate made for
//! the test. A client trusting that certificate gets the sign-in page; a
//! client that does not, or that speaks plain HTTP, gets nothing. Bad
//! certificate or key files give their own clear message.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use vigie_server::tls::{self, TlsError};
use vigie_server::{AppState, Db, ServerSettings};

/// A self-signed certificate for `localhost`, and its key, as PEM files.
struct Files {
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    cert_pem: String,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = generated.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    Files {
        dir,
        cert,
        key,
        cert_pem,
    }
}

/// Serves the application over TLS; the port it listens on.
async fn serve(files: &Files) -> u16 {
    let config = tls::load_tls_config(&files.cert, &files.key).unwrap();
    let url = format!("sqlite://{}", files.dir.path().join("vigie.db").display());
    let db = Db::connect(&url).await.unwrap();
    let settings = ServerSettings {
        secure_cookies: true,
        ..ServerSettings::default()
    };
    let state = AppState::new(db, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        vigie_server::serve(state, listener, Some(config))
            .await
            .unwrap();
    });
    port
}

/// A client that reaches `localhost` on the test's loopback address.
fn client(trusting: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .resolve("localhost", ([127, 0, 0, 1], 0).into())
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = trusting {
        builder = builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn the_observatory_speaks_https_to_those_who_trust_it() {
    let files = files();
    let port = serve(&files).await;
    let url = format!("https://localhost:{port}/connexion");
    let response = client(Some(&files.cert_pem))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    // Vigie holds the certificate itself: browsers are told to stay on
    // HTTPS (issue 14).
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<h1>Connexion</h1>")
    );

    let error = client(None).get(&url).send().await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");

    // Plain HTTP on the TLS port gets no page.
    let plain = client(None)
        .get(format!("http://localhost:{port}/connexion"))
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "plain HTTP answered"
    );
}

fn error_of(cert: &Path, key: &Path) -> String {
    let error: TlsError = tls::load_tls_config(cert, key).unwrap_err();
    error.to_string()
}

#[test]
fn bad_certificate_or_key_files_say_what_is_wrong() {
    let files = files();
    let other = self::files();
    let absent = files.dir.path().join("absent.pem");
    let check = |message: String, expected: &[&str]| {
        for text in expected {
            assert!(message.contains(text), "{text:?} not in {message}");
        }
    };
    check(
        error_of(&absent, &files.key),
        &["certificat", "absent.pem", "illisible"],
    );
    check(
        error_of(&files.cert, &absent),
        &["clé privée", "absent.pem", "illisible"],
    );
    check(
        error_of(&files.key, &files.key),
        &["aucun certificat PEM", "key.pem"],
    );
    check(
        error_of(&files.cert, &files.cert),
        &["aucune clé privée PEM", "cert.pem"],
    );
    check(
        error_of(&files.cert, &other.key),
        &["ne correspond pas au certificat", "key.pem", "cert.pem"],
    );
    let garbage = files.dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    check(
        error_of(&files.cert, &garbage),
        &["garbage.pem", "clé privée mal formée"],
    );
    // Never the key's content in a message.
    let message = error_of(&files.cert, &garbage);
    assert!(!message.contains("bm90IGEga2V5"), "{message}");
}

/// The probe's upload over HTTPS: a pinned certificate (self-signed, as a
/// Département may run) is reached, and the observatory answers (here that
/// the token is unknown); any other pin is refused before a byte of the
/// report leaves, naming the fingerprint seen.
#[tokio::test]
async fn the_probe_uploads_only_to_the_pinned_certificate() {
    use vigie_probe::upload::{Trust, UploadError, upload};
    let files = files();
    let port = serve(&files).await;
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(files.cert_pem.as_bytes())
        .map(|cert: rustls::pki_types::CertificateDer<'static>| cert.to_vec())
        .unwrap();
    let pin = vigie_tls::fingerprint(&der);
    let url = format!("https://127.0.0.1:{port}");
    let report = crate::probes::scan("42218", "2025-03-01T08:00:00Z", 1);
    let attempt = |pin: [u8; 32]| {
        let (url, report) = (url.clone(), report.clone());
        tokio::task::spawn_blocking(move || {
            upload(&url, "vgt_unknown", &report, &Trust::PinnedSha256(pin))
        })
    };
    let answer = attempt(pin).await.unwrap().unwrap_err();
    assert!(matches!(answer, UploadError::Unauthorized), "{answer}");

    let mut wrong = pin;
    wrong[0] ^= 1;
    let refused = attempt(wrong).await.unwrap().unwrap_err();
    assert!(
        matches!(refused, UploadError::Unreachable { .. }),
        "{refused}"
    );
    assert!(
        refused.to_string().contains(&vigie_tls::pin_hex(&pin)),
        "{refused}"
    );
}
