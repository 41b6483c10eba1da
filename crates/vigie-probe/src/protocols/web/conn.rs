//! The family's connections: TCP to the target being examined (and only
//! to it), optionally wrapped in TLS, with the run's timeout on the
//! connect and on every read and write, and bounded reads. No other code
//! of the family opens a socket, except the SSH client of the password
//! trials, which is handed a stream opened here.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::target::Target;

/// No answer this family reads needs more: an HTTP page head and the
/// start of its body, a TLS server flight with its certificates.
pub const MAX_ANSWER: usize = 256 * 1024;

/// Connects to `target` within `limit`.
pub async fn tcp(target: &Target, limit: Duration) -> io::Result<TcpStream> {
    let stream = timeout(limit, TcpStream::connect(target.socket()))
        .await
        .map_err(|_| timed_out("connect"))??;
    // Request/response exchanges: do not wait to coalesce.
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Connects to `target` and completes a TLS handshake with `config`
/// within `limit` each. The target is scanned by address, so the server
/// name is the address: rustls then sends no SNI (RFC 6066 §3).
pub async fn tls(
    target: &Target,
    config: Arc<rustls::ClientConfig>,
    limit: Duration,
) -> io::Result<TlsStream<TcpStream>> {
    let stream = tcp(target, limit).await?;
    let name = ServerName::IpAddress(target.addr.into());
    timeout(limit, TlsConnector::from(config).connect(name, stream))
        .await
        .map_err(|_| timed_out("TLS handshake"))?
}

/// Writes `bytes` within `limit`.
pub async fn send<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
    limit: Duration,
) -> io::Result<()> {
    timeout(limit, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    .map_err(|_| timed_out("write"))?
}

/// Reads until `complete` says the answer is whole, the peer closes,
/// [`MAX_ANSWER`] bytes arrived, or `total` elapsed (`limit` for each
/// read). What arrived is returned even when the peer stalls or resets;
/// an error only when nothing did.
pub async fn receive<S, F>(
    stream: &mut S,
    limit: Duration,
    total: Duration,
    complete: F,
) -> io::Result<Vec<u8>>
where
    S: AsyncRead + Unpin,
    F: Fn(&[u8]) -> bool,
{
    let deadline = Instant::now() + total;
    let mut answer = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let error = loop {
        let room = MAX_ANSWER.saturating_sub(answer.len()).min(chunk.len());
        if room == 0 {
            break None;
        }
        let read = timeout_at(
            deadline.min(Instant::now() + limit),
            stream.read(&mut chunk[..room]),
        );
        match read.await {
            Ok(Ok(0)) => break None,
            Ok(Ok(count)) => {
                answer.extend_from_slice(chunk.get(..count).unwrap_or_default());
                if complete(&answer) {
                    break None;
                }
            }
            Ok(Err(error)) => break Some(error),
            Err(_) => break Some(timed_out("read")),
        }
    };
    match error {
        Some(error) if answer.is_empty() => Err(error),
        _ => Ok(answer),
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}
