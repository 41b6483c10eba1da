//! Recognises the remote-access and webmail portals small networks expose
//! and attackers target first (Exchange Outlook Web Access, FortiGate
//! SSL-VPN, Citrix Gateway, Ivanti Connect Secure) from their login pages,
//! and reads their version where the portal leaks it. Pure: the survey
//! fetches the pages; only each product's public login page (and Ivanti's
//! public client version file) is ever asked for.

use super::parse::Response;

/// Login pages to ask for, in order, with the portal each one reveals.
pub const PROBES: &[(&str, Kind)] = &[
    ("/owa/", Kind::Exchange),
    ("/remote/login", Kind::Fortinet),
    ("/vpn/index.html", Kind::Citrix),
    ("/logon/LogonPoint/index.html", Kind::Citrix),
    ("/dana-na/auth/url_default/welcome.cgi", Kind::Ivanti),
];

/// Ivanti publishes the client's version, equal to the appliance's
/// release, without authentication.
pub const IVANTI_VERSION_PATH: &str = "/dana-na/nc/nc_gina_ver.txt";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Exchange,
    Fortinet,
    Citrix,
    Ivanti,
}

impl Kind {
    /// The product, as the CVE table names it.
    pub fn product(self) -> &'static str {
        match self {
            Kind::Exchange => "Microsoft Exchange",
            Kind::Fortinet => "FortiOS",
            Kind::Citrix => "Citrix Gateway",
            Kind::Ivanti => "Ivanti Connect Secure",
        }
    }

    /// What the portal is, in French, for the evidence.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Exchange => "messagerie web Outlook (Exchange)",
            Kind::Fortinet => "portail VPN SSL FortiGate",
            Kind::Citrix => "passerelle Citrix",
            Kind::Ivanti => "portail VPN Ivanti Connect Secure",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Portal {
    pub kind: Kind,
    /// The path that showed it.
    pub path: String,
    pub version: Option<String>,
}

/// Whether `response` (to a request for `path`, after redirects) is the
/// login page of `kind`.
pub fn identify(kind: Kind, path: &str, response: &Response) -> Option<Portal> {
    let body = String::from_utf8_lossy(&response.body).to_ascii_lowercase();
    let header = |name: &str| response.head.header(name).unwrap_or_default();
    let cookies: String = response
        .head
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.to_ascii_lowercase())
        .collect();
    let found = match kind {
        Kind::Exchange => {
            !header("x-owa-version").is_empty()
                || path.to_ascii_lowercase().starts_with("/owa/auth/")
                || body.contains("/owa/auth/")
        }
        // FortiOS masks its Server field with this constant string.
        Kind::Fortinet => {
            header("server") == "xxxxxxxx-xxxxx"
                || cookies.contains("svpncookie")
                || body.contains("fgt_lang")
                || body.contains("ftnt-fortinet")
        }
        Kind::Citrix => {
            cookies.contains("nsc_")
                || body.contains("netscaler")
                || body.contains("citrix gateway")
                || body.contains("citrix access gateway")
                || body.contains("/vpn/resources/")
        }
        Kind::Ivanti => {
            cookies.contains("dsbrowserid")
                || cookies.contains("dssigninurl")
                || body.contains("pulse secure")
                || body.contains("ivanti")
                || body.contains("/dana-na/")
        }
    };
    if !found || response.head.status >= 500 {
        return None;
    }
    let version = match kind {
        Kind::Exchange => exchange_version(response),
        _ => None,
    };
    Some(Portal {
        kind,
        path: path.to_owned(),
        version,
    })
}

/// Exchange's build: the `X-OWA-Version` field (`15.1.2375.7`), else the
/// build in the login page's resource paths (`/owa/auth/15.1.2375/…`,
/// without the revision: the table then only places it if it is clearly
/// before a fix).
pub fn exchange_version(response: &Response) -> Option<String> {
    if let Some(version) = response.head.header("x-owa-version") {
        return dotted(version, 2);
    }
    let body = String::from_utf8_lossy(&response.body);
    body.match_indices("/owa/auth/").find_map(|(at, needle)| {
        let rest = body.get(at + needle.len()..)?;
        let candidate = rest.split('/').next()?;
        dotted(candidate, 3)
    })
}

/// Ivanti's `nc_gina_ver.txt`: `<PARAM NAME="ProductVersion"
/// VALUE="9.1.14.13525">`, major.minor.release.build, written as the
/// product numbers it: `9.1R14` (the build is not the `.4` of `9.1R14.4`,
/// so it is dropped and the table only places clear cases).
pub fn ivanti_version(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let at = text.find("ProductVersion")?;
    let rest = text.get(at..)?;
    let value_at = rest.to_ascii_lowercase().find("value=\"")? + "value=\"".len();
    let value = rest.get(value_at..)?.split('"').next()?;
    let dotted = dotted(value, 3)?;
    let mut parts = dotted.split('.');
    let (major, minor, release) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!("{major}.{minor}R{release}"))
}

/// `text` if it is at least `min_parts` dot-separated numbers.
fn dotted(text: &str, min_parts: usize) -> Option<String> {
    let text = text.trim();
    let parts: Vec<&str> = text.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()));
    (numeric && parts.len() >= min_parts && parts.len() <= 6).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::web::http::parse::parse_response;

    fn response(raw: &str) -> Response {
        parse_response(raw.as_bytes()).unwrap()
    }

    #[test]
    fn exchange_shows_its_build() {
        let page = response(
            "HTTP/1.1 200 OK\r\nX-OWA-Version: 15.1.2375.7\r\n\r\n<link href=\"/owa/auth/15.1.2375/themes/resources/favicon.ico\">",
        );
        let portal = identify(Kind::Exchange, "/owa/auth/logon.aspx", &page).unwrap();
        assert_eq!(portal.version.as_deref(), Some("15.1.2375.7"));
        let page = response(
            "HTTP/1.1 200 OK\r\n\r\n<img src=\"/owa/auth/15.2.1118/themes/resources/x.png\">",
        );
        assert_eq!(exchange_version(&page).as_deref(), Some("15.2.1118"));
        let plain = response("HTTP/1.1 404 Not Found\r\n\r\nnothing here");
        assert_eq!(identify(Kind::Exchange, "/owa/", &plain), None);
    }

    #[test]
    fn vpn_portals_are_recognised_without_versions() {
        let forti = response("HTTP/1.1 200 OK\r\nServer: xxxxxxxx-xxxxx\r\n\r\n<html>");
        assert_eq!(
            identify(Kind::Fortinet, "/remote/login", &forti).map(|p| p.kind),
            Some(Kind::Fortinet)
        );
        let citrix = response("HTTP/1.1 200 OK\r\nSet-Cookie: NSC_TMAS=x\r\n\r\n");
        assert!(identify(Kind::Citrix, "/vpn/index.html", &citrix).is_some());
        let nginx = response("HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n<title>404</title>");
        for (path, kind) in PROBES {
            assert_eq!(identify(*kind, path, &nginx), None, "{path}");
        }
    }

    #[test]
    fn ivanti_versions_are_written_as_releases() {
        let body = br#"<PARAM NAME="ProductName" VALUE="Network Connect"><PARAM NAME="ProductVersion" VALUE="9.1.14.13525">"#;
        assert_eq!(ivanti_version(body).as_deref(), Some("9.1R14"));
        assert_eq!(ivanti_version(b"ProductVersion VALUE=\"x\""), None);
        assert_eq!(ivanti_version(b"<html>"), None);
    }
}
