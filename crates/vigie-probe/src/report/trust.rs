//! Which observatory certificate the probe trusts when it uploads: the
//! public authorities built into vigie, one authority's certificate from a
//! file, or exactly one pinned leaf certificate (the same three choices as
//! a sensor box). It must never accept a certificate outside that trust.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// How the probe authenticates the observatory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Trust {
    /// The public certificate authorities built into vigie (Mozilla's
    /// list): an observatory with a Let's Encrypt or other public
    /// certificate.
    #[default]
    PublicRoots,
    /// Only the authority whose PEM certificate(s) this file holds.
    CaFile(PathBuf),
    /// Only the leaf certificate whose DER form has this SHA-256; its name
    /// and dates are not checked, the handshake signature is.
    PinnedSha256([u8; 32]),
}

impl Trust {
    /// Parses a pin as `openssl x509 -fingerprint -sha256` or `sha256sum`
    /// print it: 64 hex digits, colons and spaces ignored, any case.
    pub fn pin(text: &str) -> Result<Trust, String> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(|b| *b != b':' && !b.is_ascii_whitespace())
            .collect();
        if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(format!(
                "empreinte « {text} » invalide : 64 chiffres hexadécimaux attendus (SHA-256 du certificat)"
            ));
        }
        let mut pin = [0u8; 32];
        for (byte, pair) in pin.iter_mut().zip(digits.chunks(2)) {
            let pair = std::str::from_utf8(pair).unwrap_or("00");
            *byte = u8::from_str_radix(pair, 16).unwrap_or(0);
        }
        Ok(Trust::PinnedSha256(pin))
    }
}

/// The rustls configuration of a pinned leaf (the other two choices are
/// reqwest's own settings).
pub(super) fn pinned_config(pin: [u8; 32]) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedLeaf {
            pin,
            algorithms: provider.signature_verification_algorithms,
        }))
        .with_no_client_auth();
    Ok(config)
}

/// Accepts exactly the leaf certificate whose SHA-256 is `pin`; the
/// handshake signature is still checked against its key, so only the
/// holder of that key passes.
#[derive(Debug)]
struct PinnedLeaf {
    pin: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

/// Names the fingerprint seen, so the person sees at once whether the pin
/// was mistyped or the observatory changed its certificate.
#[derive(thiserror::Error)]
#[error("le certificat de l'observatoire a pour empreinte SHA-256 {seen}, pas celle attendue")]
struct PinMismatch {
    seen: String,
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
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if seen == self.pin {
            return Ok(ServerCertVerified::assertion());
        }
        let seen = seen.iter().map(|b| format!("{b:02x}")).collect();
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Other(rustls::OtherError(Arc::new(PinMismatch { seen }))),
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
        let colons = "AB:".repeat(31) + "CD";
        let Ok(Trust::PinnedSha256(pin)) = Trust::pin(&colons) else {
            panic!("colon notation refused");
        };
        assert_eq!((pin[0], pin[31]), (0xab, 0xcd));
        assert!(Trust::pin(&"ab".repeat(32)).is_ok());
        assert!(Trust::pin("abcd").is_err());
        assert!(Trust::pin(&"zz".repeat(32)).is_err());
    }
}
