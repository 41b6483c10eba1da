//! HTTP and HTTPS: the server's product and version (`Server` field), the
//! page title, administration pages served in clear, trivial passwords on
//! basic-auth pages, the remote-access portals (Exchange, FortiGate,
//! Citrix, Ivanti) and the CVE table for what they announce.
//!
//! Only `GET`s of `/`, a few well-known administration and portal login
//! pages, and nothing but their answers is read: no form is posted, no
//! exploit path is ever requested. One connection at a time.

pub mod basic;
pub mod client;
pub mod parse;
pub mod portals;

use vigie_core::probe::{Finding, Service};

use self::client::{HttpError, Scheme};
use self::parse::Response;
use self::portals::Portal;
use super::vulns::{Observed, VulnTable};
use crate::catalog;
use crate::target::{Context, Target};

/// Ports where plain HTTP comes first: 80 and the usual alternates (5000
/// Synology DSM, 10000 Webmin, 8080 Tomcat, 8000/8008/8081/8888 devices).
pub const PORTS: &[u16] = &[80, 5000, 8000, 8008, 8080, 8081, 8888, 10000];

/// Where administration interfaces usually answer besides `/`: a generic
/// one, Tomcat's manager, phpMyAdmin, a generic login page.
pub const ADMIN_PATHS: &[&str] = &["/admin/", "/manager/html", "/phpmyadmin/", "/login"];

/// What the survey of one HTTP(S) port established.
#[derive(Clone, Debug)]
pub struct Survey {
    pub service: Service,
    pub findings: Vec<Finding>,
    pub os: Option<String>,
}

/// The answer to `/` (after same-target redirects): the caller looks at
/// it first to tell HTTP from TLS or SSH. An error when it is not HTTP
/// (the raw bytes are in [`HttpError::NotHttp`]).
pub async fn root(
    target: &Target,
    ctx: &Context,
    scheme: &Scheme,
) -> Result<(String, Response), HttpError> {
    client::get_following(target, ctx, scheme, "/").await
}

/// Whether a plain-HTTP answer says the port wants TLS (nginx, Apache,
/// Go and Webmin's wording).
pub fn wants_tls(root: &Response) -> bool {
    let body = String::from_utf8_lossy(&root.body).to_ascii_lowercase();
    [
        "plain http request was sent to https port",
        "speaking plain http to an ssl-enabled server",
        "client sent an http request to an https server",
        "running in ssl mode",
    ]
    .iter()
    .any(|needle| body.contains(needle))
}

/// Surveys HTTP on `target` over `scheme`, from the answer to `/`.
pub async fn survey(
    target: &Target,
    ctx: &Context,
    scheme: &Scheme,
    (root_path, root): (String, Response),
) -> Survey {
    let server = root.head.header("server").map(str::to_owned);
    let title = root.title();
    let mut pages = vec![(root_path, root)];
    for path in ADMIN_PATHS {
        if let Ok(page) = client::get_following(target, ctx, scheme, path).await {
            pages.push(page);
        }
    }
    let portal = match scheme {
        Scheme::Tls(_) => find_portal(target, ctx, scheme).await,
        Scheme::Plain => None,
    };
    let (server_product, server_version) = match &server {
        Some(server) => {
            let (product, version) = parse::server_product(server);
            (Some(product), version)
        }
        None => (None, None),
    };

    let mut findings = login_findings(target, ctx, scheme, &pages).await;
    if let (Some(product), Some(version)) = (&server_product, &server_version) {
        let observed = Observed {
            product,
            version,
            build: None,
            source: "l'en-tête Server",
        };
        for finding in VulnTable::builtin().findings(&observed, target) {
            push_merged(&mut findings, finding);
        }
    }
    for finding in portal
        .iter()
        .flat_map(|portal| portal_findings(portal, target))
    {
        push_merged(&mut findings, finding);
    }

    // A portal says more about the service than the web server under it.
    let (product, version) = match &portal {
        Some(portal) => (
            Some(portal.kind.product().to_owned()),
            portal.version.clone(),
        ),
        None => (server_product, server_version),
    };
    let mut service = describe(target, scheme, server.as_deref(), title);
    service.product = product;
    service.version = version;
    Survey {
        service,
        findings,
        os: server.as_deref().and_then(parse::server_os),
    }
}

/// The service, its banner made of the `Server` field and the title.
fn describe(
    target: &Target,
    scheme: &Scheme,
    server: Option<&str>,
    title: Option<String>,
) -> Service {
    let banner = [
        server.map(str::to_owned),
        title.map(|t| format!("titre : {t}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ; ");
    Service {
        port: target.port,
        transport: target.transport,
        name: if scheme.is_tls() { "https" } else { "http" }.to_owned(),
        product: None,
        version: None,
        tls: scheme.is_tls(),
        banner: (!banner.is_empty()).then_some(banner),
    }
}

/// A login page served in clear, and trivial passwords on the first
/// basic-auth page.
async fn login_findings(
    target: &Target,
    ctx: &Context,
    scheme: &Scheme,
    pages: &[(String, Response)],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let cleartext = pages
        .iter()
        .find_map(|(path, page)| cleartext_login(path, page))
        .filter(|_| !scheme.is_tls());
    if let Some(evidence) = cleartext {
        findings.push(catalog::finding("http.admin_cleartext", target, evidence));
    }
    let basic_page = pages.iter().find_map(|(path, page)| {
        let challenge = page.challenge().filter(|c| c.scheme == "basic")?;
        Some((path.clone(), challenge.realm))
    });
    let Some((path, realm)) = basic_page else {
        return findings;
    };
    if let Some((user, attempts)) = basic::try_passwords(target, ctx, scheme, &path).await {
        let realm = realm.map(|r| format!(" « {r} »")).unwrap_or_default();
        let evidence = format!(
            "compte « {user} » : mot de passe trivial accepté sur {path}{realm} (authentification HTTP Basic, essai {attempts} sur {})",
            ctx.password_budget
        );
        findings.push(catalog::finding("password.http_basic", target, evidence));
    }
    findings
}

/// A login served in clear: a basic-auth challenge or a password field.
/// (Digest and NTLM never send the password itself.)
fn cleartext_login(path: &str, page: &Response) -> Option<String> {
    if let Some(challenge) = page.challenge().filter(|c| c.scheme == "basic") {
        let realm = challenge
            .realm
            .map(|r| format!(" « {r} »"))
            .unwrap_or_default();
        return Some(format!(
            "GET {path} → 401 : authentification HTTP Basic{realm} demandée sans chiffrement"
        ));
    }
    if page.head.status < 400 && page.has_password_input() {
        let title = page
            .title()
            .map(|t| format!(" (titre « {t} »)"))
            .unwrap_or_default();
        return Some(format!(
            "GET {path} : formulaire de connexion avec mot de passe servi sans chiffrement{title}"
        ));
    }
    None
}

/// Asks for each portal's login page until one answers as that portal.
async fn find_portal(target: &Target, ctx: &Context, scheme: &Scheme) -> Option<Portal> {
    for (path, kind) in portals::PROBES {
        let Ok((path, page)) = client::get_following(target, ctx, scheme, path).await else {
            continue;
        };
        if let Some(mut portal) = portals::identify(*kind, &path, &page) {
            if *kind == portals::Kind::Ivanti {
                let file =
                    client::get(target, ctx, scheme, portals::IVANTI_VERSION_PATH, None).await;
                portal.version = file
                    .ok()
                    .filter(|r| r.head.status == 200)
                    .and_then(|r| portals::ivanti_version(&r.body));
            }
            return Some(portal);
        }
    }
    None
}

/// The CVE table for a portal whose version leaked, else the reminder to
/// check its patch level.
fn portal_findings(portal: &Portal, target: &Target) -> Vec<Finding> {
    let source = format!("la page {}", portal.path);
    if let Some(version) = &portal.version {
        let observed = Observed {
            product: portal.kind.product(),
            version,
            build: None,
            source: &source,
        };
        return VulnTable::builtin().findings(&observed, target);
    }
    let evidence = format!(
        "{} reconnu sur {} ; sa version n'est pas lisible",
        portal.kind.label(),
        portal.path
    );
    vec![catalog::finding("web.remote_portal", target, evidence)]
}

/// Adds `finding`, or merges its evidence into the same check's finding
/// on this port (IIS and Exchange both out of support: one finding).
fn push_merged(findings: &mut Vec<Finding>, finding: Finding) {
    match findings.iter_mut().find(|f| f.id == finding.id) {
        Some(existing) => {
            existing.evidence = format!("{} ; {}", existing.evidence, finding.evidence);
        }
        None => findings.push(finding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::web::http::parse::parse_response;

    #[test]
    fn logins_in_clear_are_described() {
        let basic = parse_response(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"NAS\"\r\n\r\n",
        )
        .unwrap();
        let text = cleartext_login("/admin/", &basic).unwrap();
        assert!(
            text.contains("/admin/") && text.contains("« NAS »"),
            "{text}"
        );
        let form = parse_response(
            b"HTTP/1.1 200 OK\r\n\r\n<title>Routeur</title><input type=\"password\" name=\"p\">",
        )
        .unwrap();
        assert!(cleartext_login("/", &form).unwrap().contains("« Routeur »"));
        let digest = parse_response(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"x\"\r\n\r\n",
        )
        .unwrap();
        assert_eq!(cleartext_login("/", &digest), None);
        let missing =
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n<input type=password>").unwrap();
        assert_eq!(cleartext_login("/", &missing), None);
    }

    #[test]
    fn portals_without_versions_are_a_reminder_and_with_versions_use_the_table() {
        let target = Target::tcp("10.66.0.7".parse().unwrap(), 443);
        let mut portal = Portal {
            kind: portals::Kind::Fortinet,
            path: "/remote/login".to_owned(),
            version: None,
        };
        let reminder = portal_findings(&portal, &target);
        assert_eq!(reminder.len(), 1);
        assert_eq!(reminder[0].id, "web.remote_portal");
        portal.version = Some("7.2.2".to_owned());
        let ids: Vec<String> = portal_findings(&portal, &target)
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert!(
            ids.contains(&"cve.fortios_sslvpn_heap".to_owned()),
            "{ids:?}"
        );
        assert!(ids.contains(&"cve.fortios_sslvpn_oob_write".to_owned()));
    }

    #[test]
    fn one_check_per_port() {
        let target = Target::tcp("10.66.0.7".parse().unwrap(), 443);
        let mut findings = vec![catalog::finding("web.eol_server", &target, "IIS 8.5")];
        push_merged(
            &mut findings,
            catalog::finding("web.eol_server", &target, "Exchange 2013"),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].evidence, "IIS 8.5 ; Exchange 2013");
    }
}
