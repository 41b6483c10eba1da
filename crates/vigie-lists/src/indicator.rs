//! One indicator of compromise as written in a list: an IPv4/IPv6 address,
//! a CIDR block, a `start-end` range, an `ip:port`, a URL (its host is what
//! we keep) or a domain name, parsed into what lookups can use.
//!
//! It only parses one token; splitting lines and fields is the caller's job.
//! It never panics and never allocates.

use std::net::{IpAddr, SocketAddr};

/// Longest domain name in presentation form, without the trailing dot
/// (RFC 1035 §2.3.4: 255 octets on the wire).
pub(crate) const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// An address block, inclusive at both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Net {
    V4(u32, u32),
    V6(u128, u128),
}

/// What one list token turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Indicator<'a> {
    /// A single address (from a bare address, an `ip:port` or a URL host).
    Ip(Net),
    /// A CIDR block or a `start-end` range.
    Block(Net),
    /// A syntactically valid domain name, trailing dot and a leading `*.`
    /// removed; not yet lowercased.
    Domain(&'a str),
    /// An MD5/SHA-1/SHA-256 hash: valid in abuse.ch feeds (payloads,
    /// certificates, JA3) but nothing an address or name lookup can use.
    Hash,
}

/// Parses one token; the error is a short reason for the load warning.
pub(crate) fn parse(token: &str) -> Result<Indicator<'_>, &'static str> {
    let token = token.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if token.is_empty() {
        return Err("empty indicator");
    }
    if let Some((_, rest)) = token.split_once("://") {
        return parse_host(url_host(rest)).ok_or("URL without a valid host");
    }
    if let Some((addr, prefix)) = token.split_once('/') {
        return parse_cidr(addr, prefix).map(|net| Indicator::Block(mapped(net)));
    }
    if let Ok(ip) = token.parse::<IpAddr>() {
        return Ok(Indicator::Ip(mapped(single(ip))));
    }
    if let Ok(socket) = token.parse::<SocketAddr>() {
        return Ok(Indicator::Ip(mapped(single(socket.ip()))));
    }
    if let Some(net) = parse_range(token) {
        return net.map(|net| Indicator::Block(mapped(net)));
    }
    if is_hash(token) {
        return Ok(Indicator::Hash);
    }
    domain(token)
        .map(Indicator::Domain)
        .ok_or("not an IP address, CIDR, URL or domain name")
}

/// Checks a domain name's syntax: letters, digits, `-` and `_` (seen in
/// real malware domains), labels of 1 to 63 bytes, at least two labels, and
/// a last label that is not all digits (that would be a mistyped address).
pub(crate) fn domain(name: &str) -> Option<&str> {
    let name = name.strip_prefix("*.").unwrap_or(name);
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.len() > MAX_NAME_LEN || !name.contains('.') {
        return None;
    }
    let labels_ok = name.split('.').all(|label| {
        (1..=MAX_LABEL_LEN).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let last = name.rsplit('.').next().unwrap_or(name);
    let numeric_tld = last.bytes().all(|b| b.is_ascii_digit());
    (labels_ok && !numeric_tld).then_some(name)
}

/// The host part of what follows `scheme://`: userinfo, port, path, query
/// and fragment removed; IPv6 brackets kept for [`parse_host`].
fn url_host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if host_port.starts_with('[') {
        return host_port.split(']').next().unwrap_or(host_port);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

fn parse_host(host: &str) -> Option<Indicator<'_>> {
    if let Some(v6) = host.strip_prefix('[') {
        let ip = v6.parse::<IpAddr>().ok()?;
        return Some(Indicator::Ip(mapped(single(ip))));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(Indicator::Ip(mapped(single(ip))));
    }
    domain(host).map(Indicator::Domain)
}

fn single(ip: IpAddr) -> Net {
    match ip {
        IpAddr::V4(v4) => Net::V4(v4.into(), v4.into()),
        IpAddr::V6(v6) => Net::V6(v6.into(), v6.into()),
    }
}

fn parse_cidr(addr: &str, prefix: &str) -> Result<Net, &'static str> {
    let addr = addr
        .trim()
        .parse::<IpAddr>()
        .map_err(|_| "invalid address in CIDR")?;
    let prefix = prefix
        .trim()
        .parse::<u32>()
        .map_err(|_| "invalid CIDR prefix length")?;
    match addr {
        IpAddr::V4(v4) if prefix <= 32 => {
            // Host bits set in the listed address are ignored, as routers do.
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            let start = u32::from(v4) & mask;
            Ok(Net::V4(start, start | !mask))
        }
        IpAddr::V6(v6) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            let start = u128::from(v6) & mask;
            Ok(Net::V6(start, start | !mask))
        }
        _ => Err("CIDR prefix length too long for the address family"),
    }
}

/// `start-end` ranges, as some blocklists write them. `None` when the token
/// is not shaped like one (domains contain `-` too).
fn parse_range(token: &str) -> Option<Result<Net, &'static str>> {
    let (start, end) = token.split_once('-')?;
    let start = start.trim().parse::<IpAddr>().ok()?;
    let Ok(end) = end.trim().parse::<IpAddr>() else {
        return Some(Err("invalid end address in range"));
    };
    Some(match (single(start), single(end)) {
        (Net::V4(s, _), Net::V4(e, _)) if s <= e => Ok(Net::V4(s, e)),
        (Net::V6(s, _), Net::V6(e, _)) if s <= e => Ok(Net::V6(s, e)),
        _ => Err("range ends before it starts or mixes IPv4 and IPv6"),
    })
}

/// IPv4-mapped IPv6 blocks (::ffff:0:0/96, RFC 4291 §2.5.5.2) become IPv4
/// blocks, so that a listed `::ffff:1.2.3.4` matches 1.2.3.4 and back.
fn mapped(net: Net) -> Net {
    const MAPPED_PREFIX: u128 = 0xffff;
    match net {
        Net::V6(start, end) if start >> 32 == MAPPED_PREFIX && end >> 32 == MAPPED_PREFIX => {
            Net::V4(low_u32(start), low_u32(end))
        }
        other => other,
    }
}

fn low_u32(value: u128) -> u32 {
    u32::try_from(value & u128::from(u32::MAX)).unwrap_or(u32::MAX)
}

fn is_hash(token: &str) -> bool {
    matches!(token.len(), 32 | 40 | 64) && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> u32 {
        u32::from_be_bytes(a)
    }

    fn check(token: &str, expected: Result<Indicator<'_>, &str>) {
        assert_eq!(parse(token), expected, "token {token:?}");
    }

    #[test]
    fn addresses_blocks_and_ranges() {
        let one = v4([45, 61, 136, 130]);
        check("45.61.136.130", Ok(Indicator::Ip(Net::V4(one, one))));
        check("\"45.61.136.130\"", Ok(Indicator::Ip(Net::V4(one, one))));
        check("45.61.136.130:443", Ok(Indicator::Ip(Net::V4(one, one))));
        check(
            "1.10.16.0/20",
            Ok(Indicator::Block(Net::V4(
                v4([1, 10, 16, 0]),
                v4([1, 10, 31, 255]),
            ))),
        );
        check(
            "1.10.17.9/20",
            Ok(Indicator::Block(Net::V4(
                v4([1, 10, 16, 0]),
                v4([1, 10, 31, 255]),
            ))),
        );
        check("0.0.0.0/0", Ok(Indicator::Block(Net::V4(0, u32::MAX))));
        check(
            "5.6.7.8-5.6.7.20",
            Ok(Indicator::Block(Net::V4(
                v4([5, 6, 7, 8]),
                v4([5, 6, 7, 20]),
            ))),
        );
        check(
            "2a0e:1c80::/29",
            Ok(Indicator::Block(Net::V6(
                0x2a0e_1c80 << 96,
                (0x2a0e_1c87 << 96) | (u128::MAX >> 32),
            ))),
        );
        check(
            "[2001:db8::1]:8080",
            Ok(Indicator::Ip(Net::V6(
                0x2001_0db8 << 96 | 1,
                0x2001_0db8 << 96 | 1,
            ))),
        );
    }

    #[test]
    fn mapped_addresses_become_ipv4() {
        let one = v4([192, 0, 2, 1]);
        check("::ffff:192.0.2.1", Ok(Indicator::Ip(Net::V4(one, one))));
        check(
            "::ffff:192.0.2.0/120",
            Ok(Indicator::Block(Net::V4(
                v4([192, 0, 2, 0]),
                v4([192, 0, 2, 255]),
            ))),
        );
    }

    #[test]
    fn urls_keep_their_host() {
        let ip = v4([115, 55, 237, 117]);
        check(
            "http://115.55.237.117:50947/Mozi.m",
            Ok(Indicator::Ip(Net::V4(ip, ip))),
        );
        check(
            "https://user:pw@Malware.Example.com:8443/a/b?c=d#e",
            Ok(Indicator::Domain("Malware.Example.com")),
        );
        check(
            "http://[2001:db8::2]/x",
            Ok(Indicator::Ip(Net::V6(
                0x2001_0db8 << 96 | 2,
                0x2001_0db8 << 96 | 2,
            ))),
        );
        check("http:///nothing", Err("URL without a valid host"));
    }

    #[test]
    fn domains_and_hashes() {
        check("evil.com.", Ok(Indicator::Domain("evil.com")));
        check("*.evil.com", Ok(Indicator::Domain("evil.com")));
        check(
            "c2_node-1.bad-domain.ru",
            Ok(Indicator::Domain("c2_node-1.bad-domain.ru")),
        );
        check("d41d8cd98f00b204e9800998ecf8427e", Ok(Indicator::Hash));
    }

    #[test]
    fn malformed_tokens() {
        check("", Err("empty indicator"));
        check(
            "1.2.3.999",
            Err("not an IP address, CIDR, URL or domain name"),
        );
        check(
            "localhost",
            Err("not an IP address, CIDR, URL or domain name"),
        );
        check(
            "evil..com",
            Err("not an IP address, CIDR, URL or domain name"),
        );
        check(
            "bad domain.com",
            Err("not an IP address, CIDR, URL or domain name"),
        );
        check(
            "1.2.3.0/33",
            Err("CIDR prefix length too long for the address family"),
        );
        check("1.2.3.0/x", Err("invalid CIDR prefix length"));
        check("1.2.3/24", Err("invalid address in CIDR"));
        check(
            "1.2.3.9-1.2.3.1",
            Err("range ends before it starts or mixes IPv4 and IPv6"),
        );
        check("1.2.3.9-zz", Err("invalid end address in range"));
        let long = format!("{}.com", "a".repeat(250));
        check(&long, Err("not an IP address, CIDR, URL or domain name"));
    }
}
