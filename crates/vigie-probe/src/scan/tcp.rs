//! TCP connect scan and banner grab: a full handshake, then the connection
//! is closed (connect scan needs no privilege and looks like any client).
//!
//! What it must not do: send a byte in the scan (the connection is opened
//! and closed), read more than [`BANNER_MAX`] bytes, or wait past its
//! timeouts. Addresses are [`Allowed`]: the scope admitted them.

use std::io::ErrorKind;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::scope::Allowed;

/// The most bytes of a banner kept: enough for any greeting line.
pub const BANNER_MAX: usize = 512;

/// What a connection attempt said about a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortState {
    /// The handshake completed.
    Open,
    /// Refused (RST): the port is closed but the host is alive.
    Closed,
    /// No answer in time, or an ICMP error: nothing known.
    Silent,
    /// The host (or its link) is unreachable: no answer to ARP.
    Unreachable,
}

impl PortState {
    /// A host that opens or refuses a connection is alive.
    pub fn alive(self) -> bool {
        matches!(self, PortState::Open | PortState::Closed)
    }
}

/// Tries a connection to `addr:port` and closes it at once.
pub async fn connect(addr: Allowed, port: u16, wait: Duration) -> PortState {
    let target = addr.tcp(port).socket();
    match timeout(wait, TcpStream::connect(target)).await {
        Err(_elapsed) => PortState::Silent,
        Ok(Ok(_stream)) => PortState::Open,
        Ok(Err(error)) => match error.kind() {
            ErrorKind::ConnectionRefused => PortState::Closed,
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => PortState::Unreachable,
            _ => PortState::Silent,
        },
    }
}

/// Connects and reads what the service says first, for at most `wait`.
/// `None`: no connection; `Some(empty)`: connected, the service waits for
/// the client to speak (HTTP, TLS...).
pub async fn banner(
    addr: Allowed,
    port: u16,
    connect_wait: Duration,
    wait: Duration,
) -> Option<Vec<u8>> {
    let target = addr.tcp(port).socket();
    let mut stream = timeout(connect_wait, TcpStream::connect(target))
        .await
        .ok()?
        .ok()?;
    let mut buffer = vec![0; BANNER_MAX];
    let read = match timeout(wait, stream.read(&mut buffer)).await {
        Ok(Ok(read)) => read,
        Ok(Err(_)) | Err(_) => 0,
    };
    buffer.truncate(read.min(BANNER_MAX));
    Some(buffer)
}

/// A short printable extract of a banner: its first line, other bytes
/// escaped as `\xNN`, at most [`PRINTABLE_MAX`] characters.
pub fn printable(bytes: &[u8]) -> Option<String> {
    let line = bytes
        .split(|&b| b == b'\n' || b == b'\r')
        .find(|l| !l.is_empty())?;
    let mut text = String::new();
    for &byte in line {
        if text.len() >= PRINTABLE_MAX {
            text.push('…');
            break;
        }
        if byte.is_ascii_graphic() || byte == b' ' {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    Some(text)
}

/// Length of a banner extract in the report.
pub const PRINTABLE_MAX: usize = 120;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_banners() {
        assert_eq!(
            printable(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n").as_deref(),
            Some("SSH-2.0-OpenSSH_9.2p1 Debian")
        );
        assert_eq!(printable(b"\r\n220 ftp\r\n").as_deref(), Some("220 ftp"));
        assert_eq!(printable(b"\x00\xffok").as_deref(), Some("\\x00\\xffok"));
        assert_eq!(printable(b""), None);
        let long = printable(&[b'a'; 1000]).unwrap();
        assert!(long.chars().count() <= PRINTABLE_MAX + 1);
    }
}
