//! Which observatory certificate the box trusts: the public authorities
//! built into vigie, one authority's certificate from a file, or exactly one
//! pinned leaf certificate. Builds the rustls client configuration; it must
//! never accept a certificate outside the chosen trust.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

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

pub use vigie_tls::{fingerprint, parse_pin, pin_hex};

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
        Trust::PinnedSha256(pin) => {
            vigie_tls::pinned_config(*pin).map_err(|e| UplinkError::Tls(e.to_string()))?
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
