//! The facts of an X.509 certificate (RFC 5280) a TLS server presented:
//! validity dates, whether it signed itself, its key and signature
//! algorithms, the names it covers. A thin, pure wrapper around
//! x509-parser; it judges nothing about trust and never panics.

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

/// Characters of a subject or issuer kept.
const MAX_NAME_CHARS: usize = 256;
/// Names (CN and DNS subject alternative names) kept from one certificate.
const MAX_NAMES: usize = 32;

/// Signature algorithms whose hash is broken by collisions: MD2, MD5
/// (RFC 6151) and SHA-1 (RFC 9155, SHAttered), by OID.
const WEAK_SIGNATURES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.3.14.3.2.29", "sha1WithRSAEncryption"),
    ("1.2.840.10040.4.3", "dsa-with-sha1"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("certificate is not valid DER X.509: {0}")]
    Der(String),
}

/// The kind of public key and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: usize },
    Ec { bits: usize },
    Dsa { bits: usize },
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// Issuer and subject are the same name: nothing vouches for it.
    pub self_signed: bool,
    pub key: KeyKind,
    /// The signature algorithm's name (`sha256WithRSAEncryption`) or OID.
    pub signature: String,
    /// Signed with MD2, MD5 or SHA-1.
    pub weak_signature: bool,
    /// The subject's common name and DNS alternative names, deduplicated.
    pub names: Vec<String>,
}

impl CertFacts {
    /// RSA below 2048 bits (NIST SP 800-131A), DSA (withdrawn by FIPS
    /// 186-5), EC below 224 bits.
    pub fn weak_key(&self) -> bool {
        match self.key {
            KeyKind::Rsa { bits } => bits < 2048,
            KeyKind::Dsa { .. } => true,
            KeyKind::Ec { bits } => bits < 224,
            KeyKind::Other => false,
        }
    }

    /// The key in words for the evidence: `RSA 1024 bits`.
    pub fn key_text(&self) -> String {
        match self.key {
            KeyKind::Rsa { bits } => format!("RSA {bits} bits"),
            KeyKind::Ec { bits } => format!("EC {bits} bits"),
            KeyKind::Dsa { bits } => format!("DSA {bits} bits"),
            KeyKind::Other => "clé d'un type inconnu".to_owned(),
        }
    }
}

/// Parses one DER certificate (the fuzzed entry point).
pub fn parse_certificate(der: &[u8]) -> Result<CertFacts, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError::Der(e.to_string()))?;
    let validity = cert.validity();
    let key = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyKind::Rsa {
            bits: rsa.key_size(),
        },
        Ok(PublicKey::EC(ec)) => KeyKind::Ec {
            bits: ec.key_size(),
        },
        Ok(key @ PublicKey::DSA(_)) => KeyKind::Dsa {
            bits: key.key_size(),
        },
        _ => KeyKind::Other,
    };
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let weak = WEAK_SIGNATURES.iter().find(|(weak, _)| *weak == oid);
    let signature = match weak {
        Some((_, name)) => (*name).to_owned(),
        None => x509_parser::objects::oid2sn(
            &cert.signature_algorithm.algorithm,
            x509_parser::objects::oid_registry(),
        )
        .map(str::to_owned)
        .unwrap_or(oid),
    };
    Ok(CertFacts {
        subject: bounded(cert.subject().to_string()),
        issuer: bounded(cert.issuer().to_string()),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        key,
        signature,
        weak_signature: weak.is_some(),
        names: names(&cert),
    })
}

fn names(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .map(str::to_owned)
        .collect();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                names.push((*dns).to_owned());
            }
        }
    }
    let mut kept: Vec<String> = Vec::new();
    for name in names {
        let name = bounded(name.trim().to_ascii_lowercase());
        if !name.is_empty() && !kept.contains(&name) && kept.len() < MAX_NAMES {
            kept.push(name);
        }
    }
    kept
}

fn bounded(text: String) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    fn self_signed(not_after_year: i32) -> Vec<u8> {
        let mut params = CertificateParams::new(vec!["mairie.example".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "Mairie de Test");
        params.subject_alt_names.push(SanType::DnsName(
            "intranet.mairie.example".try_into().unwrap(),
        ));
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn an_rcgen_certificate_gives_its_facts() {
        let facts = parse_certificate(&self_signed(2021)).unwrap();
        assert!(facts.self_signed);
        assert_eq!(facts.key, KeyKind::Ec { bits: 256 });
        assert!(!facts.weak_key());
        assert!(!facts.weak_signature);
        assert_eq!(facts.not_after, 1_609_459_200);
        assert_eq!(
            facts.names,
            [
                "mairie de test",
                "mairie.example",
                "intranet.mairie.example"
            ]
        );
        assert!(facts.subject.contains("Mairie de Test"));
    }

    /// A 1024-bit RSA certificate signed with SHA-1, made once with
    /// `openssl req -x509 -newkey rsa:1024 -sha1 -days 1 -nodes -subj
    /// /CN=old.example` (base64 of its DER).
    const OLD_RSA_SHA1: &str = include_str!("testdata/rsa1024_sha1.b64");

    #[test]
    fn a_weak_openssl_certificate_is_seen_as_weak() {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(OLD_RSA_SHA1.trim())
            .unwrap();
        let facts = parse_certificate(&der).unwrap();
        assert_eq!(facts.key, KeyKind::Rsa { bits: 1024 });
        assert!(facts.weak_key());
        assert!(facts.weak_signature);
        assert_eq!(facts.signature, "sha1WithRSAEncryption");
        assert_eq!(facts.names, ["old.example"]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_certificate(b"").is_err());
        assert!(parse_certificate(&[0x30, 0x82, 0xff, 0xff, 0x30]).is_err());
        let mut der = self_signed(2030);
        der.truncate(der.len() / 2);
        assert!(parse_certificate(&der).is_err());
    }
}
