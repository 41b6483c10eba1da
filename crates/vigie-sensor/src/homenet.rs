//! The commune's own addresses ("home net"): what tells inbound from
//! outbound, and which addresses must never leave the box.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 network in CIDR notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: u128,
    mask: u128,
    prefix: u8,
    v4: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid network {input:?}: {problem} (expected a CIDR such as 192.168.1.0/24 or 2001:db8::/32)"
)]
pub struct CidrError {
    input: String,
    problem: &'static str,
}

impl Cidr {
    /// The network containing just `ip`.
    pub fn host(ip: IpAddr) -> Cidr {
        let (bits, v4, width) = split(ip);
        Cidr {
            network: bits,
            mask: mask(width, width),
            prefix: width,
            v4,
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (bits, v4, _) = split(ip);
        v4 == self.v4 && bits & self.mask == self.network
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(input: &str) -> Result<Cidr, CidrError> {
        let err = |problem| CidrError {
            input: input.to_owned(),
            problem,
        };
        let (addr, prefix) = match input.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (input.trim(), None),
        };
        let ip: IpAddr = addr.parse().map_err(|_| err("not an IP address"))?;
        let (bits, v4, width) = split(ip);
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .map_err(|_| err("the prefix length is not a number"))?,
            None => width,
        };
        if prefix > width {
            return Err(err("the prefix length is too long for this address family"));
        }
        let mask = mask(prefix, width);
        if bits & mask != bits {
            return Err(err("host bits are set after the prefix"));
        }
        Ok(Cidr {
            network: bits,
            mask,
            prefix,
            v4,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip: IpAddr = if self.v4 {
            IpAddr::from((self.network as u32).to_be_bytes())
        } else {
            IpAddr::from(self.network.to_be_bytes())
        };
        write!(f, "{ip}/{}", self.prefix)
    }
}

/// IPv4 addresses are kept in the low 32 bits; `width` is 32 or 128.
fn split(ip: IpAddr) -> (u128, bool, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), true, 32),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (u128::from(u32::from(v4)), true, 32),
            None => (u128::from(v6), false, 128),
        },
    }
}

fn mask(prefix: u8, width: u8) -> u128 {
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    if prefix == 0 {
        0
    } else {
        all & !(all >> prefix)
    }
}

/// The ranges used when no `--home-net` is given: the private ones, where a
/// town hall's LAN almost always lives (RFC 1918, RFC 4193, RFC 4291 link-local).
pub const DEFAULT_HOME_NETS: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

/// Where an address stands relative to the commune.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Home,
    External,
    /// Multicast, broadcast, loopback, unspecified: never a party to an attack.
    Special,
}

/// The commune's networks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomeNet {
    nets: Vec<Cidr>,
}

impl HomeNet {
    pub fn new(nets: Vec<Cidr>) -> HomeNet {
        HomeNet { nets }
    }

    /// The private ranges of [`DEFAULT_HOME_NETS`].
    pub fn private_ranges() -> HomeNet {
        HomeNet {
            nets: DEFAULT_HOME_NETS
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
        }
    }

    pub fn nets(&self) -> &[Cidr] {
        &self.nets
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|net| net.contains(ip))
    }

    pub fn side(&self, ip: IpAddr) -> Side {
        let special = match ip {
            IpAddr::V4(v4) => {
                v4.is_multicast() || v4.is_broadcast() || v4.is_loopback() || v4.is_unspecified()
            }
            IpAddr::V6(v6) => v6.is_multicast() || v6.is_loopback() || v6.is_unspecified(),
        };
        if special {
            Side::Special
        } else if self.contains(ip) {
            Side::Home
        } else {
            Side::External
        }
    }
}

impl Default for HomeNet {
    fn default() -> Self {
        HomeNet::private_ranges()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_matches() {
        let net: Cidr = "10.66.2.0/24".parse().unwrap();
        assert!(net.contains(ip("10.66.2.10")));
        assert!(!net.contains(ip("10.66.1.2")));
        assert!(net.contains(ip("::ffff:10.66.2.1")));
        assert_eq!(net.to_string(), "10.66.2.0/24");
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let host: Cidr = "192.0.2.7".parse().unwrap();
        assert!(host.contains(ip("192.0.2.7")) && !host.contains(ip("192.0.2.8")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.1")) && !all.contains(ip("::1")));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let check = |input: &str, problem: &str| {
            let err = input.parse::<Cidr>().unwrap_err().to_string();
            assert!(err.contains(problem), "{input}: {err}");
            assert!(err.contains(input), "{err}");
        };
        check("10.0.0.1/8", "host bits");
        check("10.0.0.0/33", "too long");
        check("10.0.0/8", "not an IP");
        check("10.0.0.0/x", "not a number");
    }

    #[test]
    fn default_sides() {
        let home = HomeNet::default();
        assert_eq!(home.side(ip("192.168.1.20")), Side::Home);
        assert_eq!(home.side(ip("203.0.113.5")), Side::External);
        assert_eq!(home.side(ip("224.0.0.251")), Side::Special);
        assert_eq!(home.side(ip("255.255.255.255")), Side::Special);
        assert_eq!(home.side(ip("fe80::1")), Side::Home);
    }
}
