//! Which observatory certificate the probe trusts when it uploads: the
//! public authorities built into vigie, one authority's certificate from a
//! file, or exactly one pinned leaf certificate (the same three choices as
//! a sensor box). It must never accept a certificate outside that trust.

use std::path::PathBuf;

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
        vigie_tls::parse_pin(text).map(Trust::PinnedSha256).map_err(|_| {
            format!(
                "empreinte « {text} » invalide : 64 chiffres hexadécimaux attendus (SHA-256 du certificat)"
            )
        })
    }
}

/// The rustls configuration of a pinned leaf (the other two choices are
/// reqwest's own settings).
pub(super) fn pinned_config(pin: [u8; 32]) -> Result<rustls::ClientConfig, String> {
    vigie_tls::pinned_config(pin).map_err(|e| e.to_string())
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
