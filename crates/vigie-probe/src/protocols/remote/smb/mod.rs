//! SMB (Windows file sharing, Samba): on one connection, SMB2 NEGOTIATE
//! offering 2.0.2 to 3.1.1 ([MS-SMB2] §2.2.3), then an anonymous
//! SESSION_SETUP whose NTLMSSP challenge tells the server's names and
//! Windows build ([MS-NLMP] §2.2.1.2); on a second, SMB1 NEGOTIATE
//! offering `NT LM 0.12` only ([MS-CIFS] §2.2.4.52), and if the server
//! chooses it, the same anonymous SESSION_SETUP_ANDX, whose answer also
//! names the product (Samba) and the OS. From these: SMBv1 accepted,
//! signing not required, MS17-010 exposure, end-of-life Windows. A
//! server on both 139 and 445 gets its findings on 445 only.
//!
//! It must not authenticate: each session setup stops at the server's
//! challenge, and the connection is closed. No tree connect, no file
//! access, no exploit: MS17-010 is an exposure inferred from SMB1 and
//! the release, never tested.

mod ntlm;
mod packet;
mod parse;
mod verdict;
mod windows;

pub use ntlm::{Challenge, NtlmVersion, parse_challenge, parse_challenge_in};
pub use packet::SMB2_DIALECTS;
pub use parse::{
    Smb1Negotiate, Smb1SessionSetup, Smb2Negotiate, Smb2SessionSetup, dialect_name,
    parse_smb1_negotiate, parse_smb1_session_setup, parse_smb2_negotiate, parse_smb2_session_setup,
};
pub use verdict::{Smb1Outcome, Smb2Outcome, assemble};
pub use windows::{Release, is_end_of_life, ms17_010_concerned, release, version_from_native_os};

use std::io;

use super::conn::Connection;
use super::wire::ParseError;
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[445, 139];

/// The NetBIOS session service port (RFC 1002): a session request comes
/// before any SMB message.
const NETBIOS_PORT: u16 = 139;

/// The SMB port of a server that also listens on 139.
const DIRECT_PORT: u16 = 445;

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut result = examine_port(target, ctx).await?;
    // One server answers on 139 and 445 with the same configuration: its
    // findings are reported once, on 445, when it listens there too.
    if target.port == NETBIOS_PORT && listens_on_direct_port(target, ctx).await {
        result.findings.clear();
    }
    Some(result)
}

async fn examine_port(target: &Target, ctx: &Context) -> Option<PortResult> {
    let smb2 = probe_smb2(target, ctx).await;
    if let Err(error) = &smb2 {
        tracing::debug!(%error, "SMB2 negotiation failed");
    }
    let smb1 = probe_smb1(target, ctx).await;
    if let Err(error) = &smb1 {
        tracing::debug!(%error, "SMB1 negotiation failed");
    }
    let today = chrono::Utc::now().date_naive();
    assemble(target, smb1.ok(), smb2.ok(), today)
}

/// Whether the same host accepts connections on 445 (the address is the
/// target's: nothing else is contacted).
async fn listens_on_direct_port(target: &Target, ctx: &Context) -> bool {
    let direct = Target {
        port: DIRECT_PORT,
        ..*target
    };
    Connection::open(&direct, ctx.timeout).await.is_ok()
}

/// SMB2 NEGOTIATE then the anonymous SESSION_SETUP up to the challenge.
async fn probe_smb2(target: &Target, ctx: &Context) -> io::Result<Smb2Outcome> {
    let mut conn = open(target, ctx).await?;
    let mut guid = [0u8; 16];
    let mut salt = [0u8; 32];
    // Random per connection as [MS-SMB2] §3.2.4.2.2.2 asks; zeros would
    // still be understood.
    let _ = getrandom::fill(&mut guid);
    let _ = getrandom::fill(&mut salt);
    conn.send(&packet::smb2_negotiate(guid, salt)).await?;
    let negotiate = parse_smb2_negotiate(&read_message(&mut conn).await?).map_err(invalid)?;
    conn.send(&packet::smb2_session_setup()).await?;
    let challenge = match read_message(&mut conn).await {
        Ok(message) => parse_smb2_session_setup(&message)
            .and_then(|setup| parse_challenge_in(&setup.security_blob))
            .map_err(|error| tracing::debug!(%error, "no SMB2 NTLMSSP challenge"))
            .ok(),
        Err(_) => None,
    };
    Ok(Smb2Outcome {
        negotiate,
        challenge,
    })
}

/// SMB1 NEGOTIATE with `NT LM 0.12`; if chosen, the anonymous
/// SESSION_SETUP_ANDX up to the challenge.
async fn probe_smb1(target: &Target, ctx: &Context) -> io::Result<Smb1Outcome> {
    let mut conn = open(target, ctx).await?;
    conn.send(&packet::smb1_negotiate()).await?;
    let negotiate = parse_smb1_negotiate(&read_message(&mut conn).await?).map_err(invalid)?;
    if negotiate.dialect_index != Some(0) {
        return Ok(Smb1Outcome {
            negotiate,
            setup: None,
        });
    }
    conn.send(&packet::smb1_session_setup()).await?;
    let setup = match read_message(&mut conn).await {
        Ok(message) => parse_smb1_session_setup(&message)
            .map_err(|error| tracing::debug!(%error, "no SMB1 session setup answer"))
            .ok(),
        Err(_) => None,
    };
    Ok(Smb1Outcome { negotiate, setup })
}

/// A connection ready for SMB messages: on port 139, after a positive
/// NetBIOS session response (RFC 1002 §4.3.3).
async fn open(target: &Target, ctx: &Context) -> io::Result<Connection> {
    let mut conn = Connection::open(target, ctx.timeout).await?;
    if target.port == NETBIOS_PORT {
        conn.send(&packet::netbios_session_request()).await?;
        let header = conn.read_exact(4).await?;
        let length = header
            .get(2..4)
            .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        conn.read_exact(length).await?;
        if header.first() != Some(&0x82) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "NetBIOS session refused",
            ));
        }
    }
    Ok(conn)
}

/// The next SMB message without its 4-byte header; keep-alives (0x85)
/// are skipped.
async fn read_message(conn: &mut Connection) -> io::Result<Vec<u8>> {
    loop {
        let header = conn.read_exact(4).await?;
        let length = header.get(1..4).map_or(0, |b| {
            usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2])
        });
        match header.first() {
            Some(0x00) => return conn.read_exact(length).await,
            Some(0x85) => continue,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "not an SMB session message",
                ));
            }
        }
    }
}

fn invalid(error: ParseError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}
