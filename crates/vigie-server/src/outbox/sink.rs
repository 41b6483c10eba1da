//! A loopback SMTP server that accepts every message and keeps none: the
//! relay of `vigie demo` (its campaigns' mails must leave through the
//! real outbox, and a demonstration has no relay) and of the tests that
//! need mails sent without checking their content.
//!
//! It speaks the little of RFC 5321 a client such as lettre uses (EHLO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) and counts the messages whose data
//! ended with the lone dot. What it must never do: listen anywhere but on
//! loopback, or keep a message's content.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::{Relay, RelayError};
use crate::config::{Smtp, SmtpSecurity};

/// The longest command or data line read (RFC 5321 §4.5.3.1.6 allows
/// 1000 octets with CRLF; some clients go beyond for data, none this far).
const MAX_LINE: u64 = 64 * 1024;

/// The server, running until dropped.
pub struct Sink {
    address: SocketAddr,
    received: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Sink {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Sink> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let received = Arc::new(AtomicUsize::new(0));
        let counter = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    if let Err(error) = session(stream, &counter).await {
                        tracing::debug!(%error, "SMTP sink: session ended");
                    }
                });
            }
        });
        Ok(Sink {
            address,
            received,
            task,
        })
    }

    /// Messages accepted so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::Relaxed)
    }

    /// A relay that sends here, from `from` (`Name <address>`).
    pub fn relay(&self, from: &str) -> Result<Relay, RelayError> {
        Relay::new(&Smtp {
            host: self.address.ip().to_string(),
            port: self.address.port(),
            security: SmtpSecurity::None,
            from: from.to_owned(),
            ..Smtp::default()
        })
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One client, from the greeting to QUIT (or its going away).
async fn session(stream: TcpStream, received: &AtomicUsize) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 vigie-sink ESMTP\r\n").await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if (&mut lines)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await?
            == 0
        {
            return Ok(());
        }
        let verb = line
            .get(..4)
            .map(|v| v.to_ascii_uppercase())
            .unwrap_or_default();
        let answer: &[u8] = match verb.as_slice() {
            b"EHLO" => b"250-vigie-sink\r\n250 8BITMIME\r\n",
            b"HELO" | b"MAIL" | b"RCPT" | b"RSET" | b"NOOP" => b"250 OK\r\n",
            b"DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                skip_data(&mut lines).await?;
                received.fetch_add(1, Ordering::Relaxed);
                b"250 OK\r\n"
            }
            b"QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}

/// Reads a message's data up to its lone dot, and forgets it.
async fn skip_data<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut R) -> std::io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.take(MAX_LINE).read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_is_accepted_and_counted() {
        let sink = Sink::start().await.unwrap();
        let stream = TcpStream::connect(sink.address).await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let session = "EHLO client\r\nMAIL FROM:<a@example.fr>\r\nRCPT TO:<b@example.fr>\r\n\
                       DATA\r\nSubject: essai\r\n\r\n..un point doublé\r\n.\r\nQUIT\r\n";
        write.write_all(session.as_bytes()).await.unwrap();
        let mut answers = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            answers.push(line);
        }
        assert_eq!(
            answers.first().map(String::as_str),
            Some("220 vigie-sink ESMTP")
        );
        assert_eq!(answers.last().map(String::as_str), Some("221 Bye"));
        assert_eq!(answers.iter().filter(|a| a.starts_with("250 ")).count(), 4);
        assert_eq!(sink.received(), 1);
    }
}
