//! The bench's local SMTP server: a minimal one on loopback that answers
//! what a relay answers (RFC 5321: 220, 250, 354, 221), keeps of each
//! message only its Message-ID and the tracking token of its link, and
//! counts repeats. Written here so that the measure needs no external
//! program, and costs the same to the outbox and to its reference; not
//! `outbox::sink`, the demo's, which keeps nothing of a message by design
//! while the bench checks every Message-ID and reads the links' tokens.
//!
//! What it must not do: trust what it reads (a line or a message beyond
//! its limits ends the connection), or keep a body.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Longest command line (RFC 5321 §4.5.3.1.4: 512 octets) and text line
/// (§4.5.3.1.6: 1000 octets), with room to spare.
const MAX_LINE_BYTES: usize = 4096;
/// Largest message accepted: far above an exercise mail (some 10 KB).
const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// A tracking token: 32 hex digits (`track::Tracker::lookup`).
const TOKEN_CHARS: usize = 32;

/// What the sink received since it was last emptied.
#[derive(Default)]
pub struct Received {
    /// Messages received, by Message-ID.
    pub ids: HashMap<String, u32>,
    /// Messages that had no Message-ID.
    pub without_id: u64,
    /// The token of each message's link (`/c/TOKEN`), when it had one.
    pub tokens: Vec<String>,
    /// SMTP connections opened.
    pub connections: u64,
}

impl Received {
    pub fn messages(&self) -> u64 {
        self.ids.values().map(|&n| u64::from(n)).sum::<u64>() + self.without_id
    }

    /// Messages received more than once (each repeat counted).
    pub fn repeats(&self) -> u64 {
        self.ids.values().map(|&n| u64::from(n) - 1).sum()
    }
}

/// The running sink.
pub struct Sink {
    pub port: u16,
    received: Arc<Mutex<Received>>,
    task: JoinHandle<()>,
}

impl Sink {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Sink> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Received::default()));
        let shared = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                lock(&shared).connections += 1;
                tokio::spawn(session(stream, shared.clone()));
            }
        });
        Ok(Sink {
            port,
            received,
            task,
        })
    }

    pub fn address(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// What was received so far; the sink starts counting again.
    pub fn take(&self) -> Received {
        std::mem::take(&mut *lock(&self.received))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(received: &Mutex<Received>) -> std::sync::MutexGuard<'_, Received> {
    received.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One SMTP session, until QUIT, an error, or a limit passed.
async fn session(stream: TcpStream, received: Arc<Mutex<Received>>) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    if writer
        .write_all(b"220 vigie-bench ESMTP\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut line = Vec::with_capacity(256);
    loop {
        if read_line(&mut reader, &mut line).await.is_none() {
            return;
        }
        let verb = line
            .get(..4)
            .map(|v| v.to_ascii_uppercase())
            .unwrap_or_default();
        let answer: &[u8] = match verb.as_slice() {
            b"EHLO" => b"250-vigie-bench\r\n250-8BITMIME\r\n250 SIZE 1048576\r\n",
            b"HELO" | b"MAIL" | b"RCPT" | b"RSET" | b"NOOP" => b"250 2.0.0 OK\r\n",
            b"QUIT" => {
                let _ = writer.write_all(b"221 2.0.0 Bye\r\n").await;
                return;
            }
            b"DATA" => {
                if writer
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let Some(message) = read_message(&mut reader, &mut line).await else {
                    return;
                };
                record(&received, &message);
                b"250 2.0.0 Queued\r\n"
            }
            _ => b"500 5.5.2 Unknown command\r\n",
        };
        if writer.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// The next line, CRLF included, into `line`; `None` at the end of the
/// stream or beyond [`MAX_LINE_BYTES`].
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> Option<()> {
    line.clear();
    let read = reader.read_until(b'\n', line).await.ok()?;
    (read > 0 && line.len() <= MAX_LINE_BYTES).then_some(())
}

/// The message after DATA, up to the lone dot, dots unstuffed (RFC 5321
/// §4.5.2).
async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> Option<Vec<u8>> {
    let mut message = Vec::with_capacity(16 * 1024);
    loop {
        read_line(reader, line).await?;
        if line.as_slice() == b".\r\n" || line.as_slice() == b".\n" {
            return Some(message);
        }
        let text = line.strip_prefix(b".").unwrap_or(line);
        message.extend_from_slice(text);
        if message.len() > MAX_MESSAGE_BYTES {
            return None;
        }
    }
}

fn record(received: &Mutex<Received>, message: &[u8]) {
    let id = message_id(message);
    let token = token(message);
    let mut received = lock(received);
    match id {
        Some(id) => *received.ids.entry(id).or_default() += 1,
        None => received.without_id += 1,
    }
    if let Some(token) = token {
        received.tokens.push(token);
    }
}

/// The Message-ID header's value, from the header section.
fn message_id(message: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    text.split("\r\n")
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_owned())
        })
}

/// The token of the first tracking link (`/c/TOKEN`). The bodies are
/// quoted-printable (lettre's choice for French text): its soft line
/// breaks (`=` CRLF, RFC 2045 §6.7) are removed first; a hex token has
/// nothing else that encoding would change.
fn token(message: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(message).replace("=\r\n", "");
    text.match_indices("/c/").find_map(|(at, _)| {
        let candidate = text.get(at + 3..at + 3 + TOKEN_CHARS)?;
        candidate
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| candidate.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_id_and_a_token_split_by_a_soft_break() {
        let message = b"Subject: x\r\nMessage-ID: <abc.1@example.fr>\r\n\r\n\
            Lien : https://obs.example.fr/c/0123456789abcdef=\r\n0123456789abcdef merci\r\n";
        assert_eq!(message_id(message).as_deref(), Some("<abc.1@example.fr>"));
        assert_eq!(
            token(message).as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(token(b"Subject: x\r\n\r\n/c/xyz\r\n"), None);
        assert_eq!(message_id(b"Subject: x\r\n\r\nMessage-ID: <no>\r\n"), None);
    }
}
