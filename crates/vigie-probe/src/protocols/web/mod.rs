//! The web family: HTTP(S) (server, title, administration pages in clear,
//! basic-auth passwords, remote-access portals), TLS (certificate,
//! deprecated versions), SSH (banner, passwords), and outdated products
//! against the curated CVE table (`data/vulns.toml`).
//!
//! It connects only to the target it is given, one connection at a time,
//! with the run's timeouts; it reads, handshakes and logs in, and never
//! changes anything: `GET`s only, no SSH channel, no exploit path.

pub mod conn;
pub mod http;
pub mod ssh;
pub mod tls;
pub mod version;
pub mod vulns;

use tracing::Instrument;
use vigie_core::probe::{Service, Transport};

use self::http::client::{HttpError, Scheme};
use self::tls::TlsReport;
use crate::target::{Context, PortResult, Target};

/// Whether the family examines this port by default.
pub fn claims(port: u16, transport: Transport) -> bool {
    transport == Transport::Tcp
        && [ssh::PORTS, http::PORTS, tls::PORTS]
            .iter()
            .any(|ports| ports.contains(&port))
}

/// Whether a server that spoke first is the family's: SSH's `SSH-`.
pub fn claims_banner(first_bytes: &[u8]) -> bool {
    ssh::matches_banner(first_bytes)
}

/// Examines `target`: SSH on its ports, plain HTTP first on HTTP ports
/// (TLS if the answer asks for it), TLS then plain HTTP elsewhere (the
/// scanner's client-speaks-first services on unknown ports); an `SSH-`
/// answer on any port goes to SSH. `None` if it is none of those.
pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    if target.transport != Transport::Tcp {
        return None;
    }
    let span = tracing::debug_span!("web", addr = %target.addr, port = target.port);
    route(target, ctx).instrument(span).await
}

async fn route(target: &Target, ctx: &Context) -> Option<PortResult> {
    if ssh::PORTS.contains(&target.port) {
        return ssh::examine(target, ctx).await;
    }
    if http::PORTS.contains(&target.port) {
        return match plain(target, ctx).await {
            Plain::Tls => tls_first(target, ctx, false).await,
            Plain::Done(result) => result,
        };
    }
    tls_first(target, ctx, true).await
}

enum Plain {
    Done(Option<PortResult>),
    /// The port answered that it wants TLS, or with a TLS record.
    Tls,
}

async fn plain(target: &Target, ctx: &Context) -> Plain {
    match http::root(target, ctx, &Scheme::Plain).await {
        Ok(root) if http::wants_tls(&root.1) => Plain::Tls,
        Ok(root) => {
            let survey = http::survey(target, ctx, &Scheme::Plain, root).await;
            Plain::Done(Some(PortResult {
                service: survey.service,
                findings: survey.findings,
                os: survey.os,
                names: Vec::new(),
            }))
        }
        Err(HttpError::NotHttp { raw, .. }) if ssh::matches_banner(&raw) => {
            Plain::Done(ssh::examine(target, ctx).await)
        }
        // A TLS alert record (RFC 5246 §6.2.1: type 21, version 3.x).
        Err(HttpError::NotHttp { raw, .. }) if raw.starts_with(&[21, 3]) => Plain::Tls,
        Err(error) => {
            tracing::debug!(%error, "no HTTP answer");
            Plain::Done(None)
        }
    }
}

/// TLS, then HTTP over it; if the port does not speak TLS and
/// `then_plain`, plain HTTP.
async fn tls_first(target: &Target, ctx: &Context, then_plain: bool) -> Option<PortResult> {
    let Some(report) = tls::examine(target, ctx).await else {
        if !then_plain {
            return None;
        }
        return match plain(target, ctx).await {
            Plain::Done(result) => result,
            Plain::Tls => None,
        };
    };
    let survey = match &report.session {
        Some(session) => {
            let scheme = Scheme::Tls(session.config.clone());
            match http::root(target, ctx, &scheme).await {
                Ok(root) => Some(http::survey(target, ctx, &scheme, root).await),
                Err(error) => {
                    tracing::debug!(%error, "no HTTP over TLS");
                    None
                }
            }
        }
        None => None,
    };
    Some(tls_result(target, report, survey))
}

fn tls_result(target: &Target, report: TlsReport, survey: Option<http::Survey>) -> PortResult {
    let names = report.names();
    let (service, mut findings, os) = match survey {
        Some(survey) => (survey.service, survey.findings, survey.os),
        None => {
            // Nothing spoke over the session: named after the port.
            let name = if tls::PORTS.contains(&target.port) {
                "https"
            } else {
                "tls"
            };
            let service = Service {
                port: target.port,
                transport: target.transport,
                name: name.to_owned(),
                product: None,
                version: None,
                tls: true,
                banner: Some(report.summary()),
            };
            (service, Vec::new(), None)
        }
    };
    findings.extend(report.findings);
    PortResult {
        service,
        findings,
        os,
        names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_claims_its_ports_and_banners() {
        for port in [22, 80, 443, 8080, 8443, 8000, 8008, 8888, 4443, 10443] {
            assert!(claims(port, Transport::Tcp), "{port}");
        }
        assert!(!claims(443, Transport::Udp));
        assert!(!claims(445, Transport::Tcp));
        assert!(claims_banner(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"));
        assert!(!claims_banner(b"220 ftp ready\r\n"));
    }
}
