//! TLS on any port: the certificate the server presents (expired, not yet
//! valid, self-signed, weak key, SHA-1/MD5 signature, the names it covers)
//! and whether it still accepts SSLv3, TLS 1.0 or TLS 1.1.
//!
//! It only handshakes: rustls for TLS 1.2/1.3, and for the old versions a
//! hand-built ClientHello whose answer is read before closing, without any
//! key exchange. One connection at a time.

pub mod cert;
pub mod legacy;
pub mod session;

use tokio::io::AsyncWriteExt;
use tracing::debug;
use vigie_core::probe::Finding;

use self::cert::{CertFacts, parse_certificate};
use self::legacy::{LegacyVersion, ServerFlight, client_hello, parse_server_flight};
use self::session::Session;
use super::conn;
use crate::catalog;
use crate::target::{Context, Target};

/// Ports where TLS comes first: HTTPS and its usual alternates (4443,
/// 10443 FortiGate, 5001 Synology DSM, 9443 and 8443 appliances).
pub const PORTS: &[u16] = &[443, 4443, 5001, 8443, 9443, 10443];

/// What the TLS examination of one port established.
#[derive(Clone, Debug)]
pub struct TlsReport {
    /// Negotiated by rustls (`TLSv1_3`), when it could.
    pub version: Option<String>,
    /// The leaf certificate.
    pub certificate: Option<CertFacts>,
    /// The deprecated versions the server accepted.
    pub legacy: Vec<LegacyVersion>,
    pub findings: Vec<Finding>,
    /// A session that completed a handshake, for HTTP over it; `None`
    /// when only the hand-built handshake got an answer.
    pub session: Option<Session>,
}

impl TlsReport {
    /// Names the certificate covers that look like host names.
    pub fn names(&self) -> Vec<String> {
        self.certificate
            .iter()
            .flat_map(|c| &c.names)
            .filter(|n| !n.contains('*') && n.contains('.') && !n.contains(' '))
            .cloned()
            .collect()
    }

    /// A short description for the service's banner.
    pub fn summary(&self) -> String {
        match &self.certificate {
            Some(cert) => format!("certificat {}", cert.subject),
            None => "TLS".to_owned(),
        }
    }
}

/// Examines TLS on `target`: `None` if it does not speak TLS.
pub async fn examine(target: &Target, ctx: &Context) -> Option<TlsReport> {
    let session = Session::new()?;
    let mut report = TlsReport {
        version: None,
        certificate: None,
        legacy: Vec::new(),
        findings: Vec::new(),
        session: None,
    };
    let mut chain = match conn::tls(target, session.config.clone(), ctx.timeout).await {
        Ok(mut stream) => {
            report.version = stream
                .get_ref()
                .1
                .protocol_version()
                .map(|v| format!("{v:?}"));
            let _ = tokio::time::timeout(ctx.timeout, stream.shutdown()).await;
            let chain = session.chain();
            report.session = Some(session);
            chain
        }
        Err(error) => {
            debug!(%target.addr, target.port, %error, "rustls handshake failed");
            // Old suites only (RSA key exchange, CBC): the hand-built hello
            // still gets the certificate.
            let flight = hand_shake(target, ctx, LegacyVersion::Tls12).await?;
            if flight.hello.is_none() && flight.alert.is_none() {
                return None;
            }
            flight.certificates
        }
    };
    for version in LegacyVersion::DEPRECATED {
        if let Some(flight) = hand_shake(target, ctx, version).await {
            if flight.accepts(version) {
                report.legacy.push(version);
            }
            if chain.is_empty() {
                chain = flight.certificates;
            }
        }
    }
    if report.session.is_none() && report.legacy.is_empty() && chain.is_empty() {
        return None;
    }
    report.certificate = chain.first().and_then(|der| parse_certificate(der).ok());
    if let Some(cert) = &report.certificate {
        let now = chrono::Utc::now().timestamp();
        report.findings = certificate_findings(cert, target, now);
    }
    if !report.legacy.is_empty() {
        let names: Vec<&str> = report.legacy.iter().map(|v| v.name()).collect();
        let evidence = format!("versions acceptées : {}", names.join(", "));
        report
            .findings
            .push(catalog::finding("tls.legacy_versions", target, evidence));
    }
    Some(report)
}

/// The certificate's findings at time `now` (seconds since the epoch).
pub fn certificate_findings(cert: &CertFacts, target: &Target, now: i64) -> Vec<Finding> {
    let mut findings = Vec::new();
    let subject = &cert.subject;
    if cert.not_after < now {
        let evidence = format!(
            "certificat « {subject} » expiré depuis le {}",
            day(cert.not_after)
        );
        findings.push(catalog::finding("tls.expired", target, evidence));
    }
    if cert.not_before > now {
        let evidence = format!(
            "certificat « {subject} » valide seulement à partir du {}",
            day(cert.not_before)
        );
        findings.push(catalog::finding("tls.not_yet_valid", target, evidence));
    }
    if cert.self_signed {
        let evidence = format!("certificat auto-signé (émetteur = sujet « {subject} »)");
        findings.push(catalog::finding("tls.self_signed", target, evidence));
    }
    if cert.weak_key() {
        let evidence = format!("certificat « {subject} » : {}", cert.key_text());
        findings.push(catalog::finding("tls.weak_key", target, evidence));
    }
    if cert.weak_signature {
        let evidence = format!("certificat « {subject} » signé en {}", cert.signature);
        findings.push(catalog::finding("tls.weak_signature", target, evidence));
    }
    findings
}

/// Sends the hand-built ClientHello for `version` and reads the server's
/// flight; `None` if the port did not answer at all.
async fn hand_shake(
    target: &Target,
    ctx: &Context,
    version: LegacyVersion,
) -> Option<ServerFlight> {
    let mut random = [0u8; 32];
    // The random only has to look like one; a failure leaves zeros.
    let _ = getrandom::fill(&mut random);
    let mut stream = conn::tcp(target, ctx.timeout).await.ok()?;
    conn::send(&mut stream, &client_hello(version, random), ctx.timeout)
        .await
        .ok()?;
    let complete = |bytes: &[u8]| parse_server_flight(bytes).map_or(true, |f| f.done);
    let answer = conn::receive(&mut stream, ctx.timeout, ctx.timeout * 2, complete)
        .await
        .ok()?;
    let _ = tokio::time::timeout(ctx.timeout, stream.shutdown()).await;
    match parse_server_flight(&answer) {
        Ok(flight) => Some(flight),
        Err(error) => {
            debug!(%target.addr, target.port, %error, version = version.name(), "not a TLS answer");
            Some(ServerFlight::default())
        }
    }
}

fn day(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| timestamp.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::web::tls::cert::KeyKind;

    fn facts() -> CertFacts {
        CertFacts {
            subject: "CN=nas.mairie.example".to_owned(),
            issuer: "CN=nas.mairie.example".to_owned(),
            not_before: 1_600_000_000,
            not_after: 1_700_000_000,
            self_signed: true,
            key: KeyKind::Rsa { bits: 1024 },
            signature: "sha1WithRSAEncryption".to_owned(),
            weak_signature: true,
            names: vec!["nas.mairie.example".to_owned()],
        }
    }

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn each_weakness_of_a_certificate_is_a_finding() {
        let target = Target::tcp("10.66.0.9".parse().unwrap(), 443);
        let all = certificate_findings(&facts(), &target, 1_800_000_000);
        assert_eq!(
            ids(&all),
            [
                "tls.expired",
                "tls.self_signed",
                "tls.weak_key",
                "tls.weak_signature"
            ]
        );
        assert!(
            all[0].evidence.contains("14/11/2023"),
            "{}",
            all[0].evidence
        );
        let early = certificate_findings(&facts(), &target, 1_500_000_000);
        assert_eq!(ids(&early)[0], "tls.not_yet_valid");
        let good = CertFacts {
            self_signed: false,
            key: KeyKind::Ec { bits: 256 },
            weak_signature: false,
            ..facts()
        };
        assert!(certificate_findings(&good, &target, 1_650_000_000).is_empty());
    }
}
