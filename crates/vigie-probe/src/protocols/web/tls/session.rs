//! TLS 1.2/1.3 sessions with rustls whose certificate verifier accepts any
//! server but records the chain it presented: the probe observes
//! certificates, it does not trust them. Nothing sent over these sessions
//! is secret, so skipping verification exposes nothing.
//!
//! Handshake signatures are not checked either: ring refuses RSA keys
//! under 2048 bits, and those servers are precisely the ones to report.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// A client configuration and the chain its last handshake saw.
#[derive(Clone, Debug)]
pub struct Session {
    pub config: Arc<ClientConfig>,
    recorder: Arc<Recorder>,
}

impl Session {
    /// TLS 1.3 and 1.2 with ring's suites, ALPN `http/1.1` (the HTTP module
    /// speaks HTTP/1.1 only). `None` only if rustls refuses its own
    /// provider, which would be a build problem (logged).
    pub fn new() -> Option<Session> {
        let recorder = Arc::new(Recorder::default());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = match ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
        {
            Ok(builder) => builder,
            Err(error) => {
                tracing::error!(%error, "TLS client configuration");
                return None;
            }
        };
        let mut config = builder
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some(Session {
            config: Arc::new(config),
            recorder,
        })
    }

    /// The DER chain of the last handshake, leaf first.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        match self.recorder.chain.lock() {
            Ok(chain) => chain.clone(),
            Err(_) => Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
struct Recorder {
    chain: Mutex<Vec<Vec<u8>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|cert| cert.as_ref().to_vec())
            .collect();
        if let Ok(mut slot) = self.chain.lock() {
            *slot = chain;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    /// Everything, SHA-1 included, so old servers still answer.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::ECDSA_NISTP521_SHA512,
            SignatureScheme::ED25519,
            SignatureScheme::ED448,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::RSA_PKCS1_SHA1,
            SignatureScheme::ECDSA_SHA1_Legacy,
        ]
    }
}
