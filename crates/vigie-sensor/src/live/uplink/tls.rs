//! Which observatory certificate the box trusts: the public authorities
//! built into vigie, one authority's certificate from a file, or exactly one
//! pinned leaf certificate. Builds the rustls client configuration; it must
//! never accept a certificate outside the chosen trust.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use super::UplinkError;

/// How the box authenticates its observatory.
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// The public certificate authorities built into vigie (Mozilla's list,
    /// as shipped by the `webpki-roots` crate): an observatory with a
    /// certificate from Let's Encrypt or any public authority.
    SystemRoots,
    /// Only the authority whose PEM certificate(s) this file holds, e.g.
    /// the Département's own authority.
    CaFile(PathBuf),
    /// Only the leaf certificate whose DER encoding has this SHA-256; the
    /// name in the certificate and its dates are not checked, the
    /// handshake signatures are.
    PinnedSha256([u8; 32]),
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::SystemRoots => f.write_str("SystemRoots"),
            Trust::CaFile(path) => f.debug_tuple("CaFile").field(path).finish(),
            Trust::PinnedSha256(pin) => write!(f, "PinnedSha256({})", pin_hex(pin)),
        }
    }
}

/// Parses a pin as printed by `openssl x509 -fingerprint -sha256` or
/// `sha256sum`: 64 hex digits, colons and spaces ignored, any case.
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b':' && !b.is_ascii_whitespace())
        .collect();
    if digits.len() != 64 {
        return Err(format!(
            "{} hex digits, expected 64 (the SHA-256 of the certificate's DER form)",
            digits.len()
        ));
    }
    let mut pin = [0u8; 32];
    for (byte, pair) in pin.iter_mut().zip(digits.chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| "not hexadecimal".to_owned())?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| format!("{pair:?} is not hexadecimal"))?;
    }
    Ok(pin)
}

/// Lower-case hex without separators, the form the config file keeps.
pub fn pin_hex(pin: &[u8; 32]) -> String {
    pin.iter().map(|b| format!("{b:02x}")).collect()
}

/// The pin of a certificate: SHA-256 of its DER encoding.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// The rustls configuration for `trust`, or `None` for the built-in roots
/// (reqwest's own rustls configuration already uses them).
pub(super) fn client_config(trust: &Trust) -> Result<Option<ClientConfig>, UplinkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| UplinkError::Tls(e.to_string()))?;
    let config = match trust {
        Trust::SystemRoots => return Ok(None),
        Trust::CaFile(path) => builder
            .with_root_certificates(read_roots(path)?)
            .with_no_client_auth(),
        Trust::PinnedSha256(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedLeaf {
                pin: *pin,
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
    };
    Ok(Some(config))
}

fn read_roots(path: &Path) -> Result<RootCertStore, UplinkError> {
    let invalid = |problem: String| UplinkError::CaFile {
        path: path.to_path_buf(),
        problem,
    };
    let pem = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| invalid(format!("unreadable PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| invalid(format!("not a usable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(invalid(
            "no certificate found (expected a PEM file with BEGIN CERTIFICATE)".to_owned(),
        ));
    }
    Ok(roots)
}

/// Accepts exactly the leaf certificate whose SHA-256 is `pin`. The pin
/// replaces the chain and name checks; the handshake signature is still
/// verified against the leaf's key, so only the holder of that key passes.
#[derive(Debug)]
struct PinnedLeaf {
    pin: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

/// Names both fingerprints, so the installer sees at once whether the pin
/// was mistyped or the observatory changed its certificate.
#[derive(thiserror::Error)]
#[error(
    "the certificate's SHA-256 is {}, not the pinned {}",
    pin_hex(seen),
    pin_hex(pinned)
)]
struct PinMismatch {
    seen: [u8; 32],
    pinned: [u8; 32],
}

// rustls shows the cause of a refused certificate with `{:?}`.
impl fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl ServerCertVerifier for PinnedLeaf {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = fingerprint(end_entity);
        if seen == self.pin {
            return Ok(ServerCertVerified::assertion());
        }
        let mismatch = PinMismatch {
            seen,
            pinned: self.pin,
        };
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Other(rustls::OtherError(Arc::new(mismatch))),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_in_the_usual_notations() {
        let hex = "AB:".repeat(31) + "CD";
        let pin = parse_pin(&hex).unwrap();
        assert_eq!(pin[0], 0xab);
        assert_eq!(pin[31], 0xcd);
        assert_eq!(parse_pin(&pin_hex(&pin)).unwrap(), pin);
        assert!(parse_pin("abcd").unwrap_err().contains("4 hex digits"));
        let bad = "zz".repeat(32);
        assert!(parse_pin(&bad).unwrap_err().contains("not hexadecimal"));
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "nothing here\n").unwrap();
        let err = client_config(&Trust::CaFile(path.clone())).unwrap_err();
        assert!(err.to_string().contains("no certificate found"), "{err}");
        assert!(err.to_string().contains("ca.pem"), "{err}");
        let missing = client_config(&Trust::CaFile(dir.path().join("absent.pem"))).unwrap_err();
        assert!(missing.to_string().contains("absent.pem"), "{missing}");
    }
}
