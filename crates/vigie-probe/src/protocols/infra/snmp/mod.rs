//! SNMP v1/v2c: a GetRequest for sysDescr, sysObjectID and sysName with
//! the community `public` (`snmp.default_community` when it answers), then
//! other dictionary communities within the budget (`snmp.weak_community`;
//! none when the host answers that no agent listens).
//! The answer names the product (from the sysObjectID enterprise number)
//! and the host; with the community that answered, the Windows user table
//! is read ([`users`]: its names go to the host's password trials, their
//! count to `snmp.windows_users`). Only GetRequests and, in that one
//! table, bounded GetNextRequests: never a SetRequest, never a walk of the
//! MIB.

pub mod ber;
pub mod users;

use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};
use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::printable;
use crate::protocols::infra::trials;
use crate::protocols::infra::wire::{MAX_REPLY, random};
use crate::target::{Context, PortResult, Target};

use ber::{Response, Value};

pub const PORTS: &[u16] = &[161];

/// The community list shipped with the probe.
pub const COMMUNITIES: &str = include_str!("../../../../data/snmp_communities.txt");
const DEFAULT_COMMUNITY: &str = "public";
/// RFC 3411's SnmpAdminString is at most 255 octets; longer is no community.
const MAX_COMMUNITY_LEN: usize = 255;

/// SNMPv2-MIB system group (RFC 3418).
pub const SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
pub const SYS_OBJECT_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 2, 0];
pub const SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];
/// iso.org.dod.internet.private.enterprises (RFC 1155).
const ENTERPRISES: &[u32] = &[1, 3, 6, 1, 4, 1];

/// The communities to try after `public`: the shipped list, then the
/// dictionary's passwords (the commune's words), within the budget
/// (`public` counts as one trial).
pub fn communities(ctx: &Context) -> Vec<String> {
    if !ctx.try_passwords {
        return Vec::new();
    }
    let mut list: Vec<String> = Vec::new();
    let shipped = COMMUNITIES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let words = ctx.credentials.iter().map(|(_, p)| p.as_str());
    for community in shipped.chain(words) {
        let fits = !community.is_empty() && community.len() <= MAX_COMMUNITY_LEN;
        if fits && community != DEFAULT_COMMUNITY && !list.iter().any(|c| c == community) {
            list.push(community.to_owned());
        }
    }
    list.truncate(ctx.password_budget.saturating_sub(1));
    list
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let examined = examine_agent(target, ctx).await;
    // The host's login services wait for this port's report: settled even
    // when nothing answered (users::read reports what it read).
    ctx.revealed.settle(target);
    examined
}

async fn examine_agent(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut community = DEFAULT_COMMUNITY.to_owned();
    let mut answer = match ask(target, ctx, &community).await {
        Ok(response) => Some(response),
        // No agent listens: no community to try (and the host's login
        // services need not wait for this port).
        Err(NoAnswer::Closed) => return None,
        Err(NoAnswer::Silent) => None,
    };
    let mut finding = answer.as_ref().map(|response| {
        let evidence = format!(
            "la communauté « public » répond (sysDescr : {})",
            descr(response).unwrap_or_default()
        );
        catalog::finding("snmp.default_community", target, evidence)
    });
    if answer.is_none() {
        let candidates = vec![trials::Account {
            user: String::new(),
            passwords: communities(ctx),
        }];
        let mut trials = trials::Trials::new(ctx, &candidates);
        while let Some((_, tried)) = trials.next().await {
            match ask(target, ctx, &tried).await {
                Ok(response) => {
                    answer = Some(response);
                    community = tried;
                    break;
                }
                Err(NoAnswer::Closed) => break,
                Err(NoAnswer::Silent) => {}
            }
        }
        finding = answer.as_ref().map(|_| {
            let evidence = "une communauté SNMP triviale (issue du dictionnaire) répond en lecture";
            catalog::finding("snmp.weak_community", target, evidence)
        });
    }
    let response = answer?;
    let object_id = match response.value(SYS_OBJECT_ID) {
        Some(Value::Oid(arcs)) => Some(arcs.as_slice()),
        _ => None,
    };
    let description = descr(&response);
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "snmp".to_owned(),
        product: product(description.as_deref().unwrap_or_default(), object_id),
        version: Some(if response.version == 0 { "v1" } else { "v2c" }.to_owned()),
        tls: false,
        banner: description.clone(),
    });
    result.os = description.as_deref().and_then(os);
    if let Some(Value::Text(name)) = response.value(SYS_NAME) {
        let name = printable(name, 64);
        if !name.is_empty() {
            result.names.push(name);
        }
    }
    result.findings.extend(finding);
    result
        .findings
        .extend(users::read(target, ctx, &community, response.version).await);
    Some(result)
}

fn descr(response: &Response) -> Option<String> {
    match response.value(SYS_DESCR) {
        Some(Value::Text(text)) => Some(printable(text, 160)),
        _ => None,
    }
}

/// Why an exchange got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoAnswer {
    /// Nothing in time: a wrong community, a filtered port, a lost datagram.
    Silent,
    /// The host said no agent listens (ICMP port unreachable, seen by the
    /// connected socket as a refusal).
    Closed,
}

impl From<std::io::Error> for NoAnswer {
    fn from(error: std::io::Error) -> NoAnswer {
        match error.kind() {
            std::io::ErrorKind::ConnectionRefused => NoAnswer::Closed,
            _ => NoAnswer::Silent,
        }
    }
}

/// Sends the GetRequest as v2c and v1 at once (old printers speak only
/// v1) and waits for the first matching answer; a wrong community is
/// usually answered with silence.
async fn ask(target: &Target, ctx: &Context, community: &str) -> Result<Response, NoAnswer> {
    let socket = socket(target).await.ok_or(NoAnswer::Silent)?;
    let id = request_id();
    let oids = [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME];
    let requests = [(1, id), (0, id + 1)].map(|(version, request_id)| {
        ber::get_request(version, community.as_bytes(), request_id, &oids)
    });
    exchange(&socket, &requests, &[id, id + 1], community, ctx.timeout).await
}

/// A UDP socket connected to the target (and only to it).
async fn socket(target: &Target) -> Option<UdpSocket> {
    let local = if target.addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(local).await.ok()?;
    socket.connect(target.socket()).await.ok()?;
    Some(socket)
}

/// A fresh request id: positive, well inside SNMP's 32-bit integer.
fn request_id() -> i64 {
    i64::from(u32::from_be_bytes(random::<4>()) >> 2)
}

/// Sends `requests` and waits up to `wait` for a GetResponse to one of
/// `ids` in `community`; anything else received meanwhile is ignored.
async fn exchange(
    socket: &UdpSocket,
    requests: &[Vec<u8>],
    ids: &[i64],
    community: &str,
    wait: Duration,
) -> Result<Response, NoAnswer> {
    for request in requests {
        socket.send(request).await?;
    }
    let deadline = Instant::now() + wait.max(Duration::from_millis(1));
    let mut buffer = vec![0u8; MAX_REPLY];
    loop {
        let length = timeout_at(deadline, socket.recv(&mut buffer))
            .await
            .map_err(|_| NoAnswer::Silent)??;
        let Ok(response) = ber::parse(buffer.get(..length).unwrap_or_default()) else {
            continue;
        };
        let ours = ids.contains(&response.request_id);
        if ours && response.pdu == ber::GET_RESPONSE && response.community == community.as_bytes() {
            return Ok(response);
        }
    }
}

/// The product, from the agent's enterprise number (IANA Private
/// Enterprise Numbers) or else from its description.
pub fn product(descr: &str, object_id: Option<&[u32]>) -> Option<String> {
    let enterprise = object_id
        .and_then(|arcs| arcs.strip_prefix(ENTERPRISES))
        .and_then(|rest| rest.first().copied());
    let name = match enterprise {
        Some(8072) => "Net-SNMP",
        Some(311) => "Microsoft Windows SNMP",
        Some(9) => "Cisco",
        Some(11) | Some(232) => "HP",
        Some(2636) => "Juniper",
        Some(367) => "Ricoh",
        Some(1602) => "Canon",
        Some(1347) => "Kyocera",
        Some(253) => "Xerox",
        Some(641) => "Lexmark",
        Some(2435) => "Brother",
        Some(1248) => "Epson",
        Some(18334) => "Konica Minolta",
        Some(4526) => "Netgear",
        Some(171) => "D-Link",
        Some(11863) => "TP-Link",
        Some(41112) => "Ubiquiti",
        Some(14988) => "MikroTik",
        Some(12356) => "Fortinet",
        Some(6574) => "Synology",
        Some(24681) => "QNAP",
        Some(6876) => "VMware",
        Some(674) => "Dell",
        Some(2011) => "Huawei",
        Some(25506) => "H3C",
        _ => {
            return [
                "Cisco",
                "Windows",
                "Linux",
                "JetDirect",
                "RouterOS",
                "FortiGate",
            ]
            .iter()
            .find(|word| descr.contains(*word))
            .map(|word| (*word).to_owned());
        }
    };
    Some(name.to_owned())
}

/// The operating system, when sysDescr tells it: Net-SNMP on Linux
/// writes `uname -a`, Windows "Hardware: ... Software: Windows ...".
pub fn os(descr: &str) -> Option<String> {
    if let Some(rest) = descr.strip_prefix("Linux ") {
        let kernel = rest.split_whitespace().nth(1).unwrap_or_default();
        return Some(format!("Linux {kernel}").trim().to_owned());
    }
    descr
        .split_once("Software: ")
        .map(|(_, software)| printable(software.as_bytes(), 80))
        .filter(|software| software.starts_with("Windows"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn communities_follow_the_file_then_the_commune_within_budget() {
        let ctx = Context {
            password_budget: 4,
            credentials: Arc::new(vec![("admin".into(), "plougastel".into())]),
            ..Context::default()
        };
        assert_eq!(communities(&ctx), ["private", "community", "snmp"]);
        let wide = Context {
            password_budget: 100,
            ..ctx
        };
        let list = communities(&wide);
        assert_eq!(list.last().map(String::as_str), Some("plougastel"));
        assert!(!list.iter().any(|c| c == "public"));
    }

    #[test]
    fn names_products_and_systems() {
        let net_snmp = [1, 3, 6, 1, 4, 1, 8072, 3, 2, 10];
        let descr = "Linux vigie 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64";
        assert_eq!(product(descr, Some(&net_snmp)).as_deref(), Some("Net-SNMP"));
        assert_eq!(os(descr).as_deref(), Some("Linux 6.1.0-18-amd64"));
        let windows = "Hardware: Intel64 Family 6 Model 85 - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)";
        assert_eq!(
            os(windows).as_deref(),
            Some("Windows Version 6.3 (Build 17763 Multiprocessor Free)")
        );
        assert_eq!(
            product(
                "HP ETHERNET MULTI-ENVIRONMENT",
                Some(&[1, 3, 6, 1, 4, 1, 11, 2, 3])
            )
            .as_deref(),
            Some("HP")
        );
        assert_eq!(
            product("Cisco IOS Software", None).as_deref(),
            Some("Cisco")
        );
        assert_eq!(product("something", Some(&[1, 3])), None);
    }
}
