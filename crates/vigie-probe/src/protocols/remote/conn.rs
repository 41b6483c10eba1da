//! One TCP connection to the target being examined, with the run's timeout
//! on the connect and on every read and write, and a bounded receive
//! buffer. It connects only to the target it is given: the family never
//! opens a socket any other way.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::target::Target;

/// A peer that keeps sending is cut off here: no handshake or reply of
/// this family needs more.
pub const MAX_BUFFERED: usize = 64 * 1024;

pub struct Connection {
    stream: TcpStream,
    timeout: Duration,
    /// Received and not yet consumed.
    buffer: Vec<u8>,
}

impl Connection {
    /// Connects to `target` (and nowhere else) within `limit`.
    pub async fn open(target: &Target, limit: Duration) -> io::Result<Connection> {
        let stream = timeout(limit, TcpStream::connect(target.socket()))
            .await
            .map_err(|_| timed_out("connect"))??;
        // Small request/response exchanges: do not wait to coalesce.
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            timeout: limit,
            buffer: Vec::new(),
        })
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        timeout(self.timeout, self.stream.write_all(bytes))
            .await
            .map_err(|_| timed_out("write"))?
    }

    /// Reads once more into the buffer within `limit`; an error at end of
    /// stream or when the buffer is full.
    pub async fn fill_within(&mut self, limit: Duration) -> io::Result<usize> {
        if self.buffer.len() >= MAX_BUFFERED {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "peer sent more than the family ever needs",
            ));
        }
        let mut chunk = [0u8; 4096];
        let room = MAX_BUFFERED - self.buffer.len();
        let wanted = chunk.len().min(room);
        let read = timeout(limit, self.stream.read(&mut chunk[..wanted]))
            .await
            .map_err(|_| timed_out("read"))??;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed the connection",
            ));
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(read)
    }

    /// Reads once more within the run's timeout.
    pub async fn fill(&mut self) -> io::Result<usize> {
        self.fill_within(self.timeout).await
    }

    /// Exactly `count` bytes, taken out of the buffer.
    pub async fn read_exact(&mut self, count: usize) -> io::Result<Vec<u8>> {
        if count > MAX_BUFFERED {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "announced length larger than the family ever needs",
            ));
        }
        while self.buffer.len() < count {
            self.fill().await?;
        }
        Ok(self.buffer.drain(..count).collect())
    }

    /// The run's timeout this connection was opened with.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What was received and not consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buffer
    }

    /// Drops the first `count` buffered bytes.
    pub fn consume(&mut self, count: usize) {
        let count = count.min(self.buffer.len());
        self.buffer.drain(..count);
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}
