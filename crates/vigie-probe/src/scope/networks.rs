//! The networks of a scope: parsing a CIDR or an address, their size, and
//! whether they are private, loopback or public.
//!
//! What it must not do: call a range private that has a public address in
//! it.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::OnceLock;

use ipnet::IpNet;

/// A CIDR or a single address (host bits of a CIDR are dropped).
pub fn parse_net(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = IpNet::from_str(text) {
        return Ok(net.trunc());
    }
    IpAddr::from_str(text)
        .map(|ip| IpNet::from(ip.to_canonical()))
        .map_err(|_| {
            format!("« {text} » n'est ni un réseau (par ex. 192.168.1.0/24) ni une adresse")
        })
}

pub fn public_refused(net: &IpNet) -> String {
    format!(
        "{net} contient des adresses publiques (hors 10/8, 172.16/12, 192.168/16, \
         100.64/10, 169.254/16, fc00::/7, fe80::/10) : la sonde les refuse sauf si le \
         périmètre dit explicitement allow_public = true"
    )
}

pub fn net_size(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

/// Where a network lies, for the public-range rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Loopback,
    /// RFC 1918, CGNAT (RFC 6598), link-local (RFC 3927, RFC 4291), ULA
    /// (RFC 4193).
    Private,
    Public,
}

const LOOPBACK: &[&str] = &["127.0.0.0/8", "::1/128"];
const PRIVATE: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

impl Class {
    pub fn of(net: &IpNet) -> Class {
        // Parsed once: the gate asks for every address of the scope.
        static RANGES: OnceLock<(Vec<IpNet>, Vec<IpNet>)> = OnceLock::new();
        let (loopback, private) = RANGES.get_or_init(|| (parse_all(LOOPBACK), parse_all(PRIVATE)));
        if loopback.iter().any(|range| range.contains(net)) {
            Class::Loopback
        } else if private.iter().any(|range| range.contains(net)) {
            Class::Private
        } else {
            Class::Public
        }
    }
}

fn parse_all(ranges: &[&str]) -> Vec<IpNet> {
    ranges
        .iter()
        .filter_map(|r| IpNet::from_str(r).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Class {
        Class::of(&parse_net(text).unwrap())
    }

    #[test]
    fn ranges_are_classed() {
        assert_eq!(parse_all(PRIVATE).len(), PRIVATE.len());
        assert_eq!(class("10.1.0.0/16"), Class::Private);
        assert_eq!(class("100.64.3.0/24"), Class::Private);
        assert_eq!(class("fd00::/64"), Class::Private);
        assert_eq!(class("10.0.0.0/7"), Class::Public);
        assert_eq!(class("172.32.0.0/24"), Class::Public);
        assert_eq!(class("8.8.8.8"), Class::Public);
        assert_eq!(class("127.0.0.0/29"), Class::Loopback);
        assert_eq!(class("::1"), Class::Loopback);
    }

    #[test]
    fn sizes_and_lines() {
        assert_eq!(net_size(&parse_net("10.0.0.0/16").unwrap()), 65_536);
        assert_eq!(net_size(&parse_net("fd00::/0").unwrap()), u128::MAX);
    }

    #[test]
    fn host_bits_are_dropped() {
        assert_eq!(
            parse_net("192.168.1.7/24").unwrap().to_string(),
            "192.168.1.0/24"
        );
        assert!(parse_net("192.168.1.0/33").is_err());
    }
}
