//! Remote access and Windows sharing: SMB, RDP, VNC, Telnet, FTP. Each
//! protocol module identifies its service from a handshake or banner and
//! runs its checks; this module routes an open port to the right one, by
//! port first, then by the first bytes the server sends.
//!
//! What the family must not do: connect anywhere but the target it is
//! given (every socket goes through [`conn::Connection`]), authenticate
//! beyond a password trial within the budget, or send anything that
//! changes or locks a target (no file access, no command after a login,
//! no exploit payload).

pub mod ftp;
pub mod rdp;
pub mod smb;
pub mod telnet;
pub mod vnc;

mod conn;
mod trials;
mod wire;

pub use trials::Attempt;
pub use wire::ParseError;

use tracing::Instrument;
use vigie_core::probe::Transport;

use crate::target::{Context, PortResult, Target};

/// How long to wait for a server that speaks first on a port the family
/// does not claim; the run's timeout caps it.
const BANNER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Which protocol of the family a port or banner belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Smb,
    Rdp,
    Vnc,
    Telnet,
    Ftp,
}

impl Protocol {
    /// The protocol a port is known for.
    pub fn by_port(port: u16) -> Option<Protocol> {
        [
            (smb::PORTS, Protocol::Smb),
            (rdp::PORTS, Protocol::Rdp),
            (vnc::PORTS, Protocol::Vnc),
            (telnet::PORTS, Protocol::Telnet),
            (ftp::PORTS, Protocol::Ftp),
        ]
        .into_iter()
        .find_map(|(ports, protocol)| ports.contains(&port).then_some(protocol))
    }

    /// The protocol a server's first bytes belong to. SMB and RDP wait for
    /// the client, so they have no banner.
    pub fn by_banner(first_bytes: &[u8]) -> Option<Protocol> {
        if vnc::matches_banner(first_bytes) {
            Some(Protocol::Vnc)
        } else if telnet::matches_banner(first_bytes) {
            Some(Protocol::Telnet)
        } else if ftp::matches_banner(first_bytes) {
            Some(Protocol::Ftp)
        } else {
            None
        }
    }

    async fn examine(self, target: &Target, ctx: &Context) -> Option<PortResult> {
        let span = tracing::debug_span!("remote", protocol = ?self, port = target.port);
        async {
            match self {
                Protocol::Smb => smb::examine(target, ctx).await,
                Protocol::Rdp => rdp::examine(target, ctx).await,
                Protocol::Vnc => vnc::examine(target, ctx).await,
                Protocol::Telnet => telnet::examine(target, ctx).await,
                Protocol::Ftp => ftp::examine(target, ctx).await,
            }
        }
        .instrument(span)
        .await
    }
}

/// The TCP ports the family claims by default.
pub fn ports() -> impl Iterator<Item = u16> {
    [
        smb::PORTS,
        rdp::PORTS,
        vnc::PORTS,
        telnet::PORTS,
        ftp::PORTS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

pub fn claims(port: u16, transport: Transport) -> bool {
    transport == Transport::Tcp && Protocol::by_port(port).is_some()
}

/// FTP `220 ` naming FTP, Telnet `IAC` negotiation, RFB `RFB 003.`.
pub fn claims_banner(first_bytes: &[u8]) -> bool {
    Protocol::by_banner(first_bytes).is_some()
}

/// Examines an open TCP port: the protocol of its number if it answers
/// as such, else the one its banner shows.
pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    if target.transport != Transport::Tcp {
        return None;
    }
    let by_port = Protocol::by_port(target.port);
    if let Some(protocol) = by_port
        && let Some(result) = protocol.examine(target, ctx).await
    {
        return Some(result);
    }
    let first_bytes = first_bytes(target, ctx).await?;
    let protocol = Protocol::by_banner(&first_bytes).filter(|p| Some(*p) != by_port)?;
    protocol.examine(target, ctx).await
}

/// What a server says before the client speaks, if anything.
/// A service that said nothing first, on a port not known for SMB or RDP
/// (a NAS's SMB moved to 4445, a Windows RDP on 3390): both wait for the
/// client, so each is asked in its own protocol, SMB first; a service
/// that is neither answers neither, and `None` says so.
pub async fn examine_silent(target: &Target, ctx: &Context) -> Option<PortResult> {
    if target.transport != Transport::Tcp {
        return None;
    }
    for protocol in [Protocol::Smb, Protocol::Rdp] {
        if Protocol::by_port(target.port) != Some(protocol)
            && let Some(result) = protocol.examine(target, ctx).await
        {
            return Some(result);
        }
    }
    None
}

async fn first_bytes(target: &Target, ctx: &Context) -> Option<Vec<u8>> {
    let mut conn = conn::Connection::open(target, ctx.timeout).await.ok()?;
    conn.fill_within(BANNER_WAIT.min(ctx.timeout)).await.ok()?;
    Some(conn.buffered().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner spawns examinations on a multi-threaded runtime: each
    /// protocol's future must be `Send` (checked when compiling).
    #[allow(dead_code)]
    fn futures_are_send(target: Target, ctx: Context) {
        fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
        let (t, c) = (target, ctx.clone());
        spawnable(async move { ftp::examine(&t, &c).await });
        let (t, c) = (target, ctx.clone());
        spawnable(async move { telnet::examine(&t, &c).await });
        let (t, c) = (target, ctx.clone());
        spawnable(async move { vnc::examine(&t, &c).await });
        let (t, c) = (target, ctx.clone());
        spawnable(async move { rdp::examine(&t, &c).await });
        let (t, c) = (target, ctx.clone());
        spawnable(async move { smb::examine(&t, &c).await });
    }

    #[test]
    fn ports_and_banners() {
        assert!(claims(445, Transport::Tcp));
        assert!(claims(139, Transport::Tcp));
        assert!(claims(5901, Transport::Tcp));
        assert!(!claims(445, Transport::Udp));
        assert!(!claims(22, Transport::Tcp));
        assert_eq!(ports().count(), 8);
        assert_eq!(Protocol::by_banner(b"RFB 003.008\n"), Some(Protocol::Vnc));
        assert_eq!(Protocol::by_banner(&[255, 253, 24]), Some(Protocol::Telnet));
        assert_eq!(
            Protocol::by_banner(b"220 (vsFTPd 3.0.3)\r\n"),
            Some(Protocol::Ftp)
        );
        assert!(!claims_banner(b"220 mx.mairie.fr ESMTP\r\n"));
        assert!(!claims_banner(b"SSH-2.0-OpenSSH_9.2p1\r\n"));
        assert!(!claims_banner(b""));
    }
}
