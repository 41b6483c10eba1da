//! ICMP echo (RFC 792) for discovery, over Linux's unprivileged "ping"
//! datagram socket: the kernel fills in the identifier and checksum and
//! hands back only the replies to this socket's requests. It works when
//! `net.ipv4.ping_group_range` includes the probe's group (systemd sets it
//! for every group since v243); otherwise [`Pinger::open`] says so and
//! discovery goes on with TCP and ARP alone. No raw socket, no privilege,
//! no unsafe code (socket2). IPv4 only.
//!
//! What it must not do: send to an address the scope did not admit (it
//! only takes [`Allowed`] ones), send more than one request per address,
//! or go faster than the [`Pacer`].

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::Mutex;

use super::pacing::Pacer;
use crate::scope::Allowed;

/// ICMP type of an echo request and of its reply (RFC 792).
const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;
/// What the requests carry, so a capture shows who sent them.
const PAYLOAD: &[u8] = b"vigie probe";

pub struct Pinger {
    socket: Arc<UdpSocket>,
}

impl Pinger {
    /// The ping socket, or `None` (logged) if the system does not allow it.
    pub fn open() -> Option<Pinger> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4))
            .and_then(|socket| socket.set_nonblocking(true).map(|()| socket))
            .and_then(|socket| UdpSocket::from_std(std::net::UdpSocket::from(socket)));
        match socket {
            Ok(socket) => Some(Pinger {
                socket: Arc::new(socket),
            }),
            Err(error) => {
                tracing::info!(%error, "no unprivileged ICMP socket (net.ipv4.ping_group_range): discovery by TCP and ARP only");
                None
            }
        }
    }

    /// The IPv4 addresses among `addresses` that answered one echo request
    /// within `wait` after the last request.
    pub async fn sweep(
        &self,
        addresses: &[Allowed],
        pacer: &Pacer,
        wait: Duration,
    ) -> BTreeSet<IpAddr> {
        let answered = Arc::new(Mutex::new(BTreeSet::new()));
        let listener = tokio::spawn(listen(Arc::clone(&self.socket), Arc::clone(&answered)));
        for (sequence, addr) in addresses.iter().filter(|a| a.addr().is_ipv4()).enumerate() {
            let Some(_slot) = pacer.slot().await else {
                break;
            };
            let request = echo_request(sequence as u16);
            let to = SocketAddr::new(addr.addr(), 0);
            if let Err(error) = self.socket.send_to(&request, to).await {
                tracing::debug!(%error, %to, "echo request not sent");
            }
        }
        tokio::time::sleep(wait).await;
        listener.abort();
        let answered = answered.lock().await;
        answered.clone()
    }
}

async fn listen(socket: Arc<UdpSocket>, answered: Arc<Mutex<BTreeSet<IpAddr>>>) {
    let mut buffer = [0u8; 1500];
    while let Ok((length, from)) = socket.recv_from(&mut buffer).await {
        if buffer.get(..length).is_some_and(is_echo_reply) {
            answered.lock().await.insert(from.ip());
        }
    }
}

/// An echo request; identifier and checksum are the kernel's.
pub fn echo_request(sequence: u16) -> Vec<u8> {
    let mut packet = vec![ECHO_REQUEST, 0, 0, 0, 0, 0];
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(PAYLOAD);
    packet
}

/// Whether `bytes` (an ICMP message, without IP header on a ping socket)
/// is an echo reply.
pub fn is_echo_reply(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.first() == Some(&ECHO_REPLY) && bytes.get(1) == Some(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies() {
        let request = echo_request(0x0102);
        assert_eq!(&request[..8], [8, 0, 0, 0, 0, 0, 1, 2]);
        assert!(!is_echo_reply(&request));
        assert!(is_echo_reply(&[0, 0, 0x12, 0x34, 0, 7, 1, 2]));
        assert!(!is_echo_reply(&[0, 0, 0]));
        assert!(
            !is_echo_reply(&[3, 1, 0, 0, 0, 0, 0, 0]),
            "destination unreachable"
        );
        assert!(!is_echo_reply(&[]));
    }

    /// Runs where the system allows ping sockets, e.g. in a namespace:
    /// `unshare -n sh -c 'ip link set lo up; sysctl -qw
    /// net.ipv4.ping_group_range="0 0"; cargo test -p vigie-probe icmp'`.
    #[tokio::test]
    async fn loopback_answers_echo() {
        let Some(pinger) = Pinger::open() else {
            eprintln!("skipped: no ping socket allowed (net.ipv4.ping_group_range)");
            return;
        };
        let text = "networks = [\"127.0.0.1\", \"127.0.0.2\"]\n[period]\nstart = 2020-01-01\nend = 2099-12-31\n";
        let scope = crate::scope::Scope::parse("t", text).unwrap().for_lab();
        let pacer = Pacer::new(4, 1000);
        let answered = pinger
            .sweep(&scope.addresses(), &pacer, Duration::from_millis(500))
            .await;
        let expected: BTreeSet<IpAddr> = ["127.0.0.1", "127.0.0.2"]
            .map(|a| a.parse().unwrap())
            .into();
        assert_eq!(answered, expected);
    }
}
