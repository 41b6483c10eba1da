//! nmap beside the probe: `nmap -sT -sV` on the same hosts and ports, its
//! XML read with a small scan of the tags it writes (enough for
//! `<port protocol="tcp" portid="22"><state state="open"/><service
//! name="ssh" product="OpenSSH" version="9.2p1"/>`), then compared with
//! the probe's document: every port nmap found open the probe must list,
//! and where both name the product they must agree.

use std::net::IpAddr;
use std::path::Path;

use vigie_core::probe::{ProbeReport, Transport};

/// One `<port>` of nmap's XML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NmapPort {
    pub host: IpAddr,
    pub port: u16,
    pub protocol: String,
    pub state: String,
    pub service: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
}

/// The ports of an nmap XML report (`-oX`), every state.
pub fn parse_xml(xml: &str) -> Vec<NmapPort> {
    let mut ports = Vec::new();
    // `<host` then a space or `>`: nmap also writes `<hosthint>` and, in
    // each host, `<hostnames>` elements.
    let starts = xml
        .match_indices("<host")
        .map(|(at, _)| at)
        .filter(|&at| matches!(xml.as_bytes().get(at + 5), Some(b' ' | b'>')));
    for start in starts {
        let host = &xml[start..];
        let host = host.split("</host>").next().unwrap_or("");
        let address = host
            .split("<address ")
            .skip(1)
            .find(|a| attribute(a, "addrtype").as_deref() == Some("ipv4"))
            .and_then(|a| attribute(a, "addr"))
            .and_then(|a| a.parse().ok());
        let Some(address) = address else { continue };
        for port in host.split("<port ").skip(1) {
            let port = port.split("</port>").next().unwrap_or("");
            let tag = |name: &str| {
                port.split(&format!("<{name} "))
                    .nth(1)
                    .map(|rest| rest.split('>').next().unwrap_or(""))
            };
            let Some(number) = attribute(port, "portid").and_then(|p| p.parse().ok()) else {
                continue;
            };
            let service = tag("service");
            ports.push(NmapPort {
                host: address,
                port: number,
                protocol: attribute(port, "protocol").unwrap_or_default(),
                state: tag("state")
                    .and_then(|s| attribute(s, "state"))
                    .unwrap_or_default(),
                service: service.and_then(|s| attribute(s, "name")),
                product: service.and_then(|s| attribute(s, "product")),
                version: service.and_then(|s| attribute(s, "version")),
            });
        }
    }
    ports
}

/// The value of `name="..."` in the text of a tag (what follows `<tag `),
/// unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = if tag.starts_with(&format!("{name}=\"")) {
        name.len() + 2
    } else {
        tag.find(&format!(" {name}=\""))? + name.len() + 3
    };
    let rest = tag.get(start..)?;
    let value = &rest[..rest.find('"')?];
    Some(
        value
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// nmap's product names (from nmap-service-probes) and the probe's (from
/// the banners and handshakes themselves) for the same software, as one
/// name. nmap adds what it is ("Samba smbd", "Redis key-value store"),
/// the probe names the product as it announces itself.
const SAME_PRODUCT: &[(&str, &str)] = &[
    ("openssh", "openssh"),
    ("vsftpd", "vsftpd"),
    ("samba smbd", "samba"),
    ("redis key-value store", "redis"),
    ("nginx", "nginx"),
    ("apache httpd", "apache"),
    ("microsoft iis httpd", "iis"),
    ("net-snmp", "net-snmp"),
];

/// A product name in lowercase, nmap's wording mapped to the probe's.
pub fn canonical(product: &str) -> String {
    let lower = product.trim().to_lowercase();
    SAME_PRODUCT
        .iter()
        .find(|(nmap, _)| *nmap == lower)
        .map_or(lower, |(_, same)| (*same).to_owned())
}

/// Whether nmap's and the probe's product names agree: the same name once
/// mapped, or one the start of the other ("samba" and "samba 4.17").
pub fn same_product(nmap: &str, probe: &str) -> bool {
    let (a, b) = (canonical(nmap), canonical(probe));
    a == b || a.starts_with(&format!("{b} ")) || b.starts_with(&format!("{a} "))
}

/// nmap must see what the lab runs, or comparing with it proves nothing.
pub fn sees_the_lab(lab: &crate::lab::Lab, nmap: &[NmapPort], problems: &mut Vec<String>) {
    let targets = lab
        .hosts
        .iter()
        .filter(|h| !["excluded", "outside", "probe"].contains(&h.role.as_str()));
    for host in targets {
        for &port in &host.tcp {
            let open = nmap
                .iter()
                .any(|p| p.host == host.address && p.port == port && p.state == "open");
            if !open {
                problems.push(format!(
                    "nmap does not see {}:{port} ({}) open: the lab or the reading of nmap's XML is broken",
                    host.address, host.role
                ));
            }
        }
    }
}

/// Compares the probe's document with nmap's open TCP ports: problems for
/// ports the probe missed and products that disagree, notes for the rest.
pub fn compare(
    report: &ProbeReport,
    nmap: &[NmapPort],
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    for port in nmap
        .iter()
        .filter(|p| p.state == "open" && p.protocol == "tcp")
    {
        let service = report
            .hosts
            .iter()
            .find(|h| h.address == port.host)
            .and_then(|h| {
                h.services
                    .iter()
                    .find(|s| s.port == port.port && s.transport == Transport::Tcp)
            });
        let at = format!("{}:{}", port.host, port.port);
        let Some(service) = service else {
            problems.push(format!(
                "open port missed: nmap finds {at} open ({}), the probe does not list it",
                port.service.as_deref().unwrap_or("?")
            ));
            continue;
        };
        let nmap_says = describe(port.product.as_deref(), port.version.as_deref());
        let probe_says = describe(service.product.as_deref(), service.version.as_deref());
        match (&port.product, &service.product) {
            (Some(n), Some(p)) if !same_product(n, p) => problems.push(format!(
                "product mismatch on {at}: nmap {nmap_says}, probe {probe_says}"
            )),
            (Some(_), None) => problems.push(format!(
                "product missing on {at}: nmap {nmap_says}, probe names none (service {})",
                service.name
            )),
            _ => notes.push(format!(
                "{at}: nmap {} {nmap_says}, probe {} {probe_says}",
                port.service.as_deref().unwrap_or("?"),
                service.name
            )),
        }
    }
}

fn describe(product: Option<&str>, version: Option<&str>) -> String {
    match (product, version) {
        (Some(p), Some(v)) => format!("« {p} » {v}"),
        (Some(p), None) => format!("« {p} »"),
        _ => "(no product)".to_owned(),
    }
}

/// The TCP ports the probe connect-scans by default
/// (crates/vigie-probe/data/ports.toml), for nmap's `-p`.
pub fn probe_tcp_ports() -> Vec<u16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigie-probe/data/ports.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let table: toml::Table = toml::from_str(&text).expect("ports.toml is TOML");
    table["tcp"]
        .as_array()
        .expect("ports.toml has a tcp list")
        .iter()
        .map(|p| {
            p.as_integer()
                .and_then(|p| u16::try_from(p).ok())
                .expect("a port")
        })
        .collect()
}

#[test]
fn nmap_xml_is_read() {
    let xml = r#"<?xml version="1.0"?><nmaprun><hosthint><status state="up"/>
<address addr="10.66.80.9" addrtype="ipv4"/></hosthint>
<host starttime="1"><status state="up" reason="user-set"/>
<address addr="10.66.80.10" addrtype="ipv4"/><address addr="AA:2E:65:8C:BE:37" addrtype="mac"/>
<hostnames>
</hostnames>
<ports><port protocol="tcp" portid="21"><state state="closed" reason="conn-refused"/><service name="ftp" method="table" conf="3"/></port>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="9.2p1 Debian 2+deb12u10" extrainfo="protocol 2.0" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe></service></port>
<port protocol="tcp" portid="443"><state state="open"/><service name="http" product="nginx" tunnel="ssl" servicefp="a name=&quot;x&quot;"/></port>
</ports></host>
<host><address addr="10.66.80.13" addrtype="ipv4"/><ports><port protocol="tcp" portid="445"><state state="open"/><service name="netbios-ssn" product="Samba smbd" version="3.X - 4.X" extrainfo="workgroup: MAIRIE"/></port></ports></host></nmaprun>"#;
    let ports = parse_xml(xml);
    assert_eq!(ports.len(), 4, "{ports:?}");
    assert_eq!(ports[0].state, "closed");
    let ssh = &ports[1];
    assert_eq!(ssh.host.to_string(), "10.66.80.10");
    assert_eq!((ssh.port, ssh.state.as_str()), (22, "open"));
    assert_eq!(ssh.product.as_deref(), Some("OpenSSH"));
    assert_eq!(ssh.version.as_deref(), Some("9.2p1 Debian 2+deb12u10"));
    assert_eq!(ports[2].service.as_deref(), Some("http"));
    assert_eq!(ports[2].product.as_deref(), Some("nginx"));
    assert_eq!(ports[3].host.to_string(), "10.66.80.13");
    assert_eq!(ports[3].product.as_deref(), Some("Samba smbd"));
}

#[test]
fn product_names_are_compared_once_mapped() {
    for (nmap, probe, same) in [
        ("OpenSSH", "OpenSSH", true),
        ("Samba smbd", "Samba", true),
        ("Redis key-value store", "Redis", true),
        ("nginx", "nginx", true),
        ("vsftpd", "vsFTPd", true),
        ("Samba smbd", "Samba 4.17.12-Debian", true),
        ("OpenSSH", "Dropbear", false),
        ("nginx", "nginxx", false),
    ] {
        assert_eq!(same_product(nmap, probe), same, "{nmap} / {probe}");
    }
}
