//! Who is on the other end of a request: [`ClientAddr`], the address rate
//! limits and sign-in counters are kept for.
//!
//! The peer address comes from the connection (`ConnectInfo`, set by the
//! server loop). Behind a reverse proxy every request comes from the proxy,
//! so when the peer is one of `ServerSettings::trusted_proxies` the address
//! is the last one the proxy appended to `X-Forwarded-For`; a header from
//! anyone else is ignored (a client would only have to send one to pass for
//! someone else). IPv6 clients are grouped by /64: one subscriber holds a
//! whole /64 and could otherwise change address at every request.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::AppState;

/// The client a request is counted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key limits are kept under: the address, or its /64 for IPv6.
    pub fn key(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let segments = v6.segments();
                    let prefix = Ipv6Addr::new(
                        segments[0],
                        segments[1],
                        segments[2],
                        segments[3],
                        0,
                        0,
                        0,
                        0,
                    );
                    format!("{prefix}/64")
                }
            },
        }
    }

    /// The client of a request, from the connection's peer and, through a
    /// trusted proxy, the header it sets. Requests served without a
    /// connection (in-process calls) have the unspecified address.
    pub fn of(parts: &Parts, trusted_proxies: &[IpAddr]) -> ClientAddr {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        ClientAddr(client_ip(peer, &parts.headers, trusted_proxies))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(ClientAddr::of(parts, &state.settings.trusted_proxies))
    }
}

/// The client's address: the peer, or the rightmost `X-Forwarded-For`
/// entry when the peer is a trusted proxy (the entries before it were
/// written by the client and prove nothing).
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted_proxies
        .iter()
        .any(|proxy| canonical(*proxy) == peer)
    {
        return peer;
    }
    // Only the proxy's own entry counts: an unreadable one is not replaced
    // by an earlier entry, which the client wrote.
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|entry| entry.trim().parse::<IpAddr>().ok())
        .map_or(peer, canonical)
}

/// An IPv4 client seen through an IPv6 socket is the IPv4 client.
pub(super) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check(peer: &str, forwarded: Option<&str>, trusted: &[&str], expected: &str) {
        let mut headers = HeaderMap::new();
        if let Some(value) = forwarded {
            headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        let got = client_ip(peer.parse().unwrap(), &headers, &trusted);
        assert_eq!(got.to_string(), expected, "{peer} {forwarded:?}");
    }

    #[test]
    fn forwarded_for_only_from_a_trusted_proxy() {
        check("203.0.113.5", None, &[], "203.0.113.5");
        check("203.0.113.5", Some("198.51.100.1"), &[], "203.0.113.5");
        check(
            "127.0.0.1",
            Some("198.51.100.1"),
            &["127.0.0.1"],
            "198.51.100.1",
        );
        // The client wrote the first entry; the proxy appended the second.
        check(
            "127.0.0.1",
            Some("10.0.0.1, 198.51.100.1"),
            &["127.0.0.1"],
            "198.51.100.1",
        );
        check("127.0.0.1", Some("garbage"), &["127.0.0.1"], "127.0.0.1");
        check(
            "127.0.0.1",
            Some("198.51.100.1, garbage"),
            &["127.0.0.1"],
            "127.0.0.1",
        );
        check(
            "::ffff:127.0.0.1",
            Some("198.51.100.1"),
            &["127.0.0.1"],
            "198.51.100.1",
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a = ClientAddr("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientAddr("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a.key(), "2001:db8:1:2::/64");
        assert_eq!(a.key(), b.key());
        assert_eq!(ClientAddr("192.0.2.7".parse().unwrap()).key(), "192.0.2.7");
        assert_eq!(
            ClientAddr("::ffff:192.0.2.7".parse().unwrap()).key(),
            "192.0.2.7"
        );
    }
}
