//! Trusting exactly one observatory certificate: a pin is the SHA-256 of
//! the leaf certificate's DER form, as `openssl x509 -fingerprint -sha256`
//! prints it. The sensor box and the probe both offer it beside the public
//! authorities and a CA file, for an observatory with a self-signed
//! certificate. It must never accept another certificate, nor a peer that
//! does not hold the pinned certificate's key.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

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

/// Lower-case hex without separators, the form configuration files keep.
pub fn pin_hex(pin: &[u8; 32]) -> String {
    pin.iter().map(|b| format!("{b:02x}")).collect()
}

/// The pin of a certificate: SHA-256 of its DER encoding.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// A rustls client configuration that accepts only the leaf certificate
/// whose SHA-256 is `pin`.
pub fn pinned_config(pin: [u8; 32]) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedLeaf {
            pin,
            algorithms: provider.signature_verification_algorithms,
        }))
        .with_no_client_auth();
    Ok(config)
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
    fn a_pinned_configuration_builds() {
        assert!(pinned_config(fingerprint(b"a certificate")).is_ok());
    }
}
