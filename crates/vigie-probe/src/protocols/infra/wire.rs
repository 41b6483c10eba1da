//! The family's sockets: a TCP connection and a UDP exchange with the one
//! target given, every connect, read and write bounded by `ctx.timeout`,
//! every reply bounded in size. Nothing here picks an address: it only
//! talks to `target.socket()`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

use crate::target::{Context, Target};

/// The largest reply any of the family's exchanges reads; a server that
/// sends more is cut there (a parser then sees truncated bytes).
pub const MAX_REPLY: usize = 64 * 1024;

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}

/// One TCP connection to the target.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    ctx_timeout: std::time::Duration,
    /// Bytes received but not yet handed out.
    pending: Vec<u8>,
}

impl Conn {
    pub async fn open(target: &Target, ctx: &Context) -> io::Result<Conn> {
        let stream = timeout(ctx.timeout, TcpStream::connect(target.socket()))
            .await
            .map_err(|_| timed_out("connect"))??;
        Ok(Conn {
            stream,
            ctx_timeout: ctx.timeout,
            pending: Vec::new(),
        })
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        timeout(self.ctx_timeout, self.stream.write_all(bytes))
            .await
            .map_err(|_| timed_out("write"))?
    }

    /// Reads until `complete` says how many bytes form a whole message,
    /// the peer closes, [`MAX_REPLY`] is reached or the timeout expires
    /// (the whole exchange, so a server dripping bytes cannot hold us).
    /// `complete` returns the length of the first whole message, if any;
    /// the bytes after it are kept for the next call.
    pub async fn receive(
        &mut self,
        complete: impl Fn(&[u8]) -> Option<usize>,
    ) -> io::Result<Vec<u8>> {
        let deadline = self.ctx_timeout;
        let result = timeout(deadline, async {
            loop {
                if let Some(length) = complete(&self.pending) {
                    let length = length.min(self.pending.len());
                    let rest = self.pending.split_off(length);
                    return Ok(std::mem::replace(&mut self.pending, rest));
                }
                if self.pending.len() >= MAX_REPLY {
                    return Ok(std::mem::take(&mut self.pending));
                }
                let mut chunk = [0u8; 4096];
                let read = self.stream.read(&mut chunk).await?;
                if read == 0 {
                    return Ok(std::mem::take(&mut self.pending));
                }
                self.pending
                    .extend_from_slice(chunk.get(..read).unwrap_or_default());
            }
        })
        .await;
        match result {
            Ok(outcome) => outcome,
            // What arrived before the deadline is still worth parsing.
            Err(_) if !self.pending.is_empty() => Ok(std::mem::take(&mut self.pending)),
            Err(_) => Err(timed_out("read")),
        }
    }

    /// Reads up to and including the next `\r\n` line ending.
    pub async fn receive_line(&mut self) -> io::Result<Vec<u8>> {
        self.receive(|bytes| bytes.windows(2).position(|w| w == b"\r\n").map(|at| at + 2))
            .await
    }

    pub async fn close(mut self) {
        let _ = timeout(self.ctx_timeout, self.stream.shutdown()).await;
    }
}

/// Sends one datagram to the target and waits for its answer, sending it
/// once more if the first gets none (UDP loses packets); a connected
/// socket only accepts datagrams from the target.
pub async fn udp_exchange(target: &Target, ctx: &Context, request: &[u8]) -> io::Result<Vec<u8>> {
    udp_exchange_tries(target, ctx, request, 2).await
}

/// [`udp_exchange`] sent only once: for requests whose silence is a normal
/// answer (a wrong SNMP community).
pub async fn udp_exchange_once(
    target: &Target,
    ctx: &Context,
    request: &[u8],
) -> io::Result<Vec<u8>> {
    udp_exchange_tries(target, ctx, request, 1).await
}

async fn udp_exchange_tries(
    target: &Target,
    ctx: &Context,
    request: &[u8],
    tries: usize,
) -> io::Result<Vec<u8>> {
    let local: SocketAddr = match target.addr {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(target.socket()).await?;
    let mut buffer = vec![0u8; MAX_REPLY];
    for _ in 0..tries {
        timeout(ctx.timeout, socket.send(request))
            .await
            .map_err(|_| timed_out("send"))??;
        match timeout(ctx.timeout, socket.recv(&mut buffer)).await {
            Ok(Ok(length)) => {
                buffer.truncate(length);
                return Ok(buffer);
            }
            // An ICMP port unreachable surfaces as a refused receive.
            Ok(Err(error)) => return Err(error),
            Err(_) => continue,
        }
    }
    Err(timed_out("udp answer"))
}

/// Random bytes for nonces and query ids; a fixed value if the system
/// source fails, which only makes ids predictable, never unsafe here.
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0x5au8; N];
    let _ = getrandom::fill(&mut bytes);
    bytes
}
