//! HTTPS for `vigie serve --tls-cert CERT.pem --tls-key KEY.pem`: loads a
//! certificate chain and its private key from PEM files into a rustls
//! configuration, which [`crate::serve`] serves the application over. The
//! sensors talk HTTPS to their observatory; without certificate the
//! observatory serves plain HTTP behind a reverse proxy that holds it.
//!
//! What it must never do: show or log the private key, or start serving
//! with a certificate its key does not match (every client would fail with
//! an obscure handshake error instead of one clear message at start).
//! The crypto provider (ring) is carried by the configuration itself, not
//! installed process-wide, so nothing else in the process depends on it.

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The configuration [`load_tls_config`] builds, for callers that do not
/// depend on rustls themselves.
pub use rustls::ServerConfig;

/// Why the certificate or its key cannot be used. The messages are read by
/// the person starting the observatory.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificat {path} illisible : {source}")]
    ReadCertificate { path: PathBuf, source: io::Error },
    #[error("clé privée {path} illisible : {source}")]
    ReadKey { path: PathBuf, source: io::Error },
    #[error("{path} : aucun certificat PEM (« -----BEGIN CERTIFICATE----- ») dans ce fichier")]
    NoCertificate { path: PathBuf },
    #[error("{path} : certificat PEM mal formé ({reason})")]
    BadCertificate { path: PathBuf, reason: String },
    #[error(
        "{path} : aucune clé privée PEM (« -----BEGIN PRIVATE KEY----- », RSA ou EC) dans ce fichier"
    )]
    NoKey { path: PathBuf },
    #[error("{path} : clé privée mal formée ou d'un type non pris en charge ({reason})")]
    BadKey { path: PathBuf, reason: String },
    #[error("la clé privée {key} ne correspond pas au certificat {certificate}")]
    KeyMismatch { certificate: PathBuf, key: PathBuf },
    #[error("certificat {path} refusé : {reason}")]
    Refused { path: PathBuf, reason: String },
}

/// Reads `cert` (the server's certificate first, then its intermediates)
/// and `key` (PKCS#8, PKCS#1 or SEC1), checks that they belong together,
/// and builds the server configuration (TLS 1.2 and 1.3, HTTP/2 and 1.1).
pub fn load_tls_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_chain(cert)?;
    let private_key = read_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Refused {
            path: cert.to_owned(),
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| config_error(e, cert, key))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::ReadCertificate {
        path: path.to_owned(),
        source,
    })?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            path: path.to_owned(),
            reason: pem_reason(&e),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::ReadKey {
        path: path.to_owned(),
        source,
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.to_owned(),
        },
        other => TlsError::BadKey {
            path: path.to_owned(),
            reason: pem_reason(&other),
        },
    })
}

/// What went wrong in a PEM file, without quoting its content (it may hold
/// a key).
fn pem_reason(error: &pem::Error) -> String {
    match error {
        pem::Error::MissingSectionEnd { .. } => {
            "section sans ligne de fin « -----END ».".to_owned()
        }
        pem::Error::IllegalSectionStart { .. } => "ligne de début de section invalide".to_owned(),
        pem::Error::Base64Decode(_) => "contenu base64 invalide".to_owned(),
        pem::Error::SectionTooLarge => "section trop grande".to_owned(),
        other => other.to_string(),
    }
}

/// Names the file at fault in rustls's refusal of the pair.
fn config_error(error: rustls::Error, cert: &Path, key: &Path) -> TlsError {
    match error {
        rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
            certificate: cert.to_owned(),
            key: key.to_owned(),
        },
        rustls::Error::InvalidCertificate(reason) => TlsError::BadCertificate {
            path: cert.to_owned(),
            reason: format!("{reason:?}"),
        },
        // The provider could not load the key: not a key it knows.
        rustls::Error::General(reason) => TlsError::BadKey {
            path: key.to_owned(),
            reason,
        },
        other => TlsError::Refused {
            path: cert.to_owned(),
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn pair() -> (String, String) {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (generated.cert.pem(), generated.signing_key.serialize_pem())
    }

    #[test]
    fn a_matching_pair_loads_with_http2_and_http1() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair();
        let config = load_tls_config(
            &write(dir.path(), "cert.pem", &cert),
            &write(dir.path(), "key.pem", &key),
        )
        .unwrap();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn each_bad_file_gets_its_own_message() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair();
        let (_, other_key) = pair();
        let cert_path = write(dir.path(), "cert.pem", &cert);
        let key_path = write(dir.path(), "key.pem", &key);
        let check = |cert: &Path, key: &Path, expected: &str| {
            let error = load_tls_config(cert, key).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        };
        check(
            &dir.path().join("absent.pem"),
            &key_path,
            "absent.pem illisible",
        );
        check(&cert_path, &dir.path().join("absent.pem"), "clé privée");
        check(&key_path, &key_path, "aucun certificat PEM");
        check(&cert_path, &cert_path, "aucune clé privée PEM");
        check(
            &cert_path,
            &write(dir.path(), "other.pem", &other_key),
            "ne correspond pas au certificat",
        );
        let truncated = &cert[..cert.len() / 2];
        check(
            &write(dir.path(), "cut.pem", truncated),
            &key_path,
            "mal formé",
        );
    }
}
