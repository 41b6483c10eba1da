//! Where a URL list may be fetched from (issue 14, "list URLs reach the
//! server's own network"): http or https, and never an address of this
//! machine or of an internal network, whether written in the URL, given by
//! the DNS when connecting, or reached through a redirect. A host the
//! administrator allows by name (`ServerSettings::list_fetch_allowed_hosts`,
//! a territory's internal mirror) goes through whatever it resolves to.
//!
//! What it must never do: decide on a name without checking the addresses
//! actually connected to (DNS rebinding). The fetch's client resolves with
//! [`CheckedResolver`], so the addresses checked are the ones connected to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::{Attempt, Policy};

/// Redirects followed before giving up.
pub(super) const MAX_REDIRECTS: usize = 5;

/// Why an address is not a list source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Loopback,
    Private,
    /// 100.64.0.0/10, the carrier-grade NAT space (RFC 6598).
    Shared,
    LinkLocal,
    /// A cloud provider's metadata service (169.254.169.254, fd00:ec2::254).
    Metadata,
    Unspecified,
    Multicast,
    Broadcast,
    Documentation,
    Benchmark,
    /// Reserved by the IANA, or a transition form hiding another address.
    Reserved,
}

impl Kind {
    fn label_fr(self) -> &'static str {
        match self {
            Kind::Loopback => "une adresse de bouclage de ce serveur",
            Kind::Private => "une adresse privée (réseau interne)",
            Kind::Shared => "une adresse partagée d'opérateur (réseau interne)",
            Kind::LinkLocal => "une adresse lien-local (réseau interne)",
            Kind::Metadata => "l'adresse des métadonnées de l'hébergeur",
            Kind::Unspecified => "une adresse non spécifiée",
            Kind::Multicast => "une adresse de multidiffusion",
            Kind::Broadcast => "l'adresse de diffusion",
            Kind::Documentation => "une adresse réservée à la documentation",
            Kind::Benchmark => "une adresse réservée aux tests de performance",
            Kind::Reserved => "une adresse réservée",
        }
    }
}

/// A destination refused: the host as written and the address it is or
/// resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub host: String,
    pub ip: IpAddr,
    pub kind: Kind,
}

impl fmt::Display for Refused {
    /// `127.0.0.1 est une adresse de bouclage de ce serveur`, or for a
    /// name `intranet (10.1.2.3) est une adresse privée (réseau interne)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let literal = self.host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        if literal.is_some() {
            write!(f, "{} est {}", self.ip, self.kind.label_fr())
        } else {
            write!(
                f,
                "{} ({}) est {}",
                self.host,
                self.ip,
                self.kind.label_fr()
            )
        }
    }
}

impl std::error::Error for Refused {}

/// A scheme other than http and https, met in a redirect.
#[derive(Clone, Debug, thiserror::Error)]
#[error("redirection vers une adresse {0}:// (seules http:// et https:// sont acceptées)")]
pub(super) struct SchemeRefused(pub String);

/// The hosts the administrator lets through, by exact name.
#[derive(Clone, Debug, Default)]
pub(super) struct Allowed(Arc<Vec<String>>);

impl Allowed {
    pub fn new(hosts: &[String]) -> Allowed {
        Allowed(Arc::new(hosts.iter().map(|h| normalise(h)).collect()))
    }

    fn contains(&self, host: &str) -> bool {
        let host = normalise(host);
        self.0.contains(&host)
    }

    /// Refuses `ip`, reached as `host`, unless `host` is allowed.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        match classify(ip) {
            Some(kind) if !self.contains(host) => Err(Refused {
                host: host.to_owned(),
                ip,
                kind,
            }),
            _ => Ok(()),
        }
    }

    /// Checks what can be checked without the DNS: an address written
    /// in the URL (names are checked when resolved).
    pub fn check_literal(&self, url: &Url) -> Result<(), Refused> {
        match url_ip(url) {
            Some(ip) => self.check(url.host_str().unwrap_or_default(), ip),
            None => Ok(()),
        }
    }

    /// Resolves `host` and checks every address it gives: the addresses
    /// returned are the only ones the fetch may connect to.
    pub async fn resolve(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
        // One refused address refuses the name: a name pointing both
        // outside and inside is not a list source.
        for addr in &addrs {
            self.check(host, addr.ip())?;
        }
        Ok(addrs)
    }

    /// The redirect policy: at most [`MAX_REDIRECTS`] hops, each to http
    /// or https and not to a refused address (names are checked by the
    /// resolver when connecting).
    pub fn redirect_policy(&self) -> Policy {
        let allowed = self.clone();
        Policy::custom(move |attempt: Attempt<'_>| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(TooManyRedirects);
            }
            let url = attempt.url();
            if !matches!(url.scheme(), "http" | "https") {
                let scheme = url.scheme().to_owned();
                return attempt.error(SchemeRefused(scheme));
            }
            match allowed.check_literal(url) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        })
    }
}

/// More than [`MAX_REDIRECTS`] redirects.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("trop de redirections")]
pub(super) struct TooManyRedirects;

/// The fetch client's resolver: the system's, then [`Allowed::resolve`].
pub(super) struct CheckedResolver(pub Allowed);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.0.clone();
        Box::pin(async move {
            let addrs = allowed.resolve(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Why `ip` may not be a list source, if it may not.
pub(crate) fn classify(ip: IpAddr) -> Option<Kind> {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

/// IPv4 special-purpose ranges (RFC 6890 and the IANA registry).
fn classify_v4(ip: Ipv4Addr) -> Option<Kind> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => Kind::Metadata,
        _ if ip.is_broadcast() => Kind::Broadcast,
        (0, _, _) => Kind::Unspecified,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Kind::Private,
        (100, 64..=127, _) => Kind::Shared,
        (127, _, _) => Kind::Loopback,
        (169, 254, _) => Kind::LinkLocal,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Kind::Documentation,
        (198, 18..=19, _) => Kind::Benchmark,
        // IETF protocol assignments, the old 6to4 relay anycast.
        (192, 0, 0) | (192, 88, 99) => Kind::Reserved,
        (224..=239, _, _) => Kind::Multicast,
        (240..=255, _, _) => Kind::Reserved,
        _ => return None,
    })
}

/// IPv6 special-purpose ranges; forms embedding an IPv4 address are
/// judged by that address.
fn classify_v6(ip: Ipv6Addr) -> Option<Kind> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some(Kind::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Kind::Loopback);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    Some(match s {
        [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] => Kind::Metadata,
        // NAT64 (RFC 6052): the IPv4 address it reaches decides.
        [0x0064, 0xff9b, 0, 0, 0, 0, high, low] => return classify_v4(embedded(high, low)),
        // 6to4 (RFC 3056): the same.
        [0x2002, high, low, ..] => return classify_v4(embedded(high, low)),
        // The deprecated IPv4-compatible form, and local-use NAT64.
        [0, 0, 0, 0, 0, 0, _, _] | [0x0064, 0xff9b, 0x0001, ..] => Kind::Reserved,
        [0x0100, 0, 0, 0, ..] => Kind::Reserved,
        [0x2001, 0x0db8, ..] => Kind::Documentation,
        [0x3fff, second, ..] if second < 0x1000 => Kind::Documentation,
        [0x2001, 0x0002, 0, ..] => Kind::Benchmark,
        // Teredo hides an IPv4 address; ORCHID is not routable.
        [0x2001, 0x0000, ..] | [0x2001, 0x0010..=0x002f, ..] => Kind::Reserved,
        [first, ..] if first & 0xfe00 == 0xfc00 => Kind::Private,
        [first, ..] if first & 0xffc0 == 0xfe80 => Kind::LinkLocal,
        // Site-local (deprecated by RFC 3879): an internal network.
        [first, ..] if first & 0xffc0 == 0xfec0 => Kind::Private,
        [first, ..] if first & 0xff00 == 0xff00 => Kind::Multicast,
        _ => return None,
    })
}

/// The address written as the URL's host, if it is one. The URL parser
/// has already written short and hexadecimal IPv4 forms (`0x7f.1`) out in
/// full, and an IPv6 address in brackets.
pub(super) fn url_ip(url: &Url) -> Option<IpAddr> {
    url.host_str()?.trim_matches(['[', ']']).parse().ok()
}

/// Host names compare in lower case, without a final dot or IPv6 brackets.
fn normalise(host: &str) -> String {
    host.trim()
        .trim_end_matches('.')
        .trim_matches(['[', ']'])
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(address: &str, expected: Option<Kind>) {
        let ip: IpAddr = address.parse().unwrap();
        assert_eq!(classify(ip), expected, "{address}");
    }

    #[test]
    fn the_address_classifier() {
        use Kind::*;
        for (address, expected) in [
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("::", Some(Unspecified)),
            ("10.0.0.1", Some(Private)),
            ("10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.254", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::ffff:192.168.0.1", Some(Private)),
            ("fc00::1", Some(Private)),
            ("fd12:3456::1", Some(Private)),
            ("fec0::1", Some(Private)),
            ("100.64.0.1", Some(Shared)),
            ("100.127.255.255", Some(Shared)),
            ("169.254.169.254", Some(Metadata)),
            ("::ffff:169.254.169.254", Some(Metadata)),
            ("fd00:ec2::254", Some(Metadata)),
            ("169.254.1.1", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("192.0.2.10", Some(Documentation)),
            ("198.51.100.7", Some(Documentation)),
            ("203.0.113.5", Some(Documentation)),
            ("2001:db8::1", Some(Documentation)),
            ("3fff::1", Some(Documentation)),
            ("198.18.0.1", Some(Benchmark)),
            ("198.19.255.255", Some(Benchmark)),
            ("2001:2::1", Some(Benchmark)),
            ("192.0.0.8", Some(Reserved)),
            ("240.0.0.1", Some(Reserved)),
            ("::10.0.0.1", Some(Reserved)),
            ("100::1", Some(Reserved)),
            ("2001::1", Some(Reserved)),
            ("64:ff9b:1::1", Some(Reserved)),
            ("64:ff9b::10.0.0.1", Some(Private)),
            ("64:ff9b::7f00:1", Some(Loopback)),
            ("2002:a00:1::1", Some(Private)),
            ("2002:7f00:1::", Some(Loopback)),
            // Public: what a list source is.
            ("1.1.1.1", None),
            ("8.8.8.8", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("169.253.1.1", None),
            ("198.17.255.255", None),
            ("198.20.0.0", None),
            ("223.255.255.255", None),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::808:808", None),
            ("2002:808:808::1", None),
            ("2001:4860:4860::8888", None),
            ("2a01:e0a::1", None),
            ("4000::1", None),
        ] {
            check(address, expected);
        }
    }

    #[test]
    fn literals_in_urls_are_checked_and_allowed_names_pass() {
        let none = Allowed::default();
        let refused = |url: &str| none.check_literal(&Url::parse(url).unwrap()).unwrap_err();
        assert_eq!(
            refused("http://127.0.0.1:8080/x").to_string(),
            "127.0.0.1 est une adresse de bouclage de ce serveur"
        );
        // The URL parser reads the short and hexadecimal IPv4 forms.
        assert_eq!(refused("http://0x7f.1/x").ip, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(refused("http://2130706433/x").kind, Kind::Loopback);
        assert_eq!(
            refused("http://[::1]/x").to_string(),
            "::1 est une adresse de bouclage de ce serveur"
        );
        assert_eq!(refused("http://[::ffff:a01:203]/x").kind, Kind::Private);
        assert!(
            none.check_literal(&Url::parse("https://example.org/x").unwrap())
                .is_ok()
        );
        assert!(
            none.check_literal(&Url::parse("https://9.9.9.9/x").unwrap())
                .is_ok()
        );

        let mirror = Allowed::new(&["Miroir.Interne.".to_owned(), "10.1.2.3".to_owned()]);
        let private = IpAddr::from([10, 1, 2, 3]);
        assert!(mirror.check("miroir.interne", private).is_ok());
        assert!(
            mirror
                .check_literal(&Url::parse("http://10.1.2.3/x").unwrap())
                .is_ok()
        );
        let other = mirror.check("autre.interne", private).unwrap_err();
        assert_eq!(
            other.to_string(),
            "autre.interne (10.1.2.3) est une adresse privée (réseau interne)"
        );
        // Not a suffix match: the exact name only.
        assert!(mirror.check("x.miroir.interne", private).is_err());
    }
}
