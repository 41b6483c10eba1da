//! The SMTP session a round of the outbox sends through: one connection
//! for all the messages of the round, opened at its first message and
//! closed (QUIT) at its end, reopened after any failure (lettre closes a
//! connection on any refusal).
//!
//! The socket is opened here, with Nagle's algorithm off (`TCP_NODELAY`),
//! and handed to lettre. lettre writes a message's content and its final
//! `.` line in two writes; with Nagle on, the second waits until the relay
//! acknowledges the first, and a relay waiting for the rest of the message
//! delays that acknowledgement (40 ms on Linux). That cost every message
//! 40 ms, whatever the relay's speed: 22 messages a second at most, with a
//! connection per message as with one kept open (`vigie bench campaigns`
//! measures it). Plain and STARTTLS relays get such a socket. With TLS
//! from the first byte (`security = "tls"`, port 465), lettre opens the
//! socket itself (it does the TLS, and offers no way to hand it one) and
//! the delay stays: a relay on this machine, or STARTTLS on port 587, is
//! much faster for large campaigns.
//!
//! What it must not do: wait on a relay forever (every step is bounded by
//! [`SMTP_TIMEOUT`]), or keep a connection between rounds.

use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use super::RelayError;
use crate::config::{Smtp, SmtpSecurity};

/// The longest any step with the relay may take (connecting and greeting,
/// TLS, authentication, one message); the outbox's lease is longer.
pub(super) const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Where and how to reach the relay.
#[derive(Clone)]
pub(super) struct Endpoint {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
}

#[derive(Clone)]
enum Security {
    None,
    Starttls(TlsParameters),
    Tls(TlsParameters),
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub(super) enum SendError {
    #[error("connexion au relais impossible : {0}")]
    Connect(std::io::Error),
    #[error("le relais n'a pas répondu dans les {} s", SMTP_TIMEOUT.as_secs())]
    Timeout,
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl SendError {
    /// Whether trying again cannot help (the relay refused for good).
    pub(super) fn is_permanent(&self) -> bool {
        matches!(self, SendError::Smtp(error) if error.is_permanent())
    }
}

impl Endpoint {
    /// The relay of `[smtp]`; reads the password file now.
    pub(super) fn new(smtp: &Smtp) -> Result<Endpoint, RelayError> {
        let tls = || {
            TlsParameters::new(smtp.host.clone())
                .map_err(|e| RelayError::Transport(smtp.host.clone(), e))
        };
        let security = match smtp.security {
            SmtpSecurity::None => Security::None,
            SmtpSecurity::Starttls => Security::Starttls(tls()?),
            SmtpSecurity::Tls => Security::Tls(tls()?),
        };
        let credentials = if smtp.username.is_empty() {
            None
        } else {
            let path = &smtp.password_file;
            let password = std::fs::read_to_string(path)
                .map_err(|e| RelayError::Password(path.display().to_string(), e))?;
            let password = password.lines().next().unwrap_or_default().to_owned();
            Some(Credentials::new(smtp.username.clone(), password))
        };
        Ok(Endpoint {
            host: smtp.host.clone(),
            port: smtp.port,
            security,
            credentials,
        })
    }

    /// Connects, greets, secures and authenticates as configured.
    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let hello = ClientId::default();
        let mut connection = match &self.security {
            Security::Tls(parameters) => {
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(SMTP_TIMEOUT),
                    &hello,
                    Some(parameters.clone()),
                    None,
                )
                .await?
            }
            Security::None | Security::Starttls(_) => {
                let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(SendError::Connect)?;
                stream.set_nodelay(true).map_err(SendError::Connect)?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello).await?
            }
        };
        if let Security::Starttls(parameters) = &self.security {
            // Required: a relay that does not offer it is an error (RFC 3207).
            connection.starttls(parameters.clone(), &hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(connection)
    }
}

/// The connection of one round, opened at its first message.
pub(super) struct Session<'a> {
    endpoint: &'a Endpoint,
    connection: Option<AsyncSmtpConnection>,
}

impl<'a> Session<'a> {
    pub(super) fn new(endpoint: &'a Endpoint) -> Session<'a> {
        Session {
            endpoint,
            connection: None,
        }
    }

    /// Sends `message`, on the open connection or a new one.
    pub(super) async fn send(&mut self, message: &Message) -> Result<(), SendError> {
        let sent = tokio::time::timeout(SMTP_TIMEOUT, self.send_untimed(message)).await;
        let sent = sent.unwrap_or(Err(SendError::Timeout));
        if sent.is_err() {
            // Whatever state it is in, the next message starts afresh.
            self.connection = None;
        }
        sent
    }

    async fn send_untimed(&mut self, message: &Message) -> Result<(), SendError> {
        let connection = match self.connection.take() {
            Some(open) if !open.has_broken() => self.connection.insert(open),
            _ => self.connection.insert(self.endpoint.open().await?),
        };
        connection
            .send(message.envelope(), &message.formatted())
            .await?;
        Ok(())
    }

    /// Says goodbye (RFC 5321 §4.1.1.10); the round is over.
    pub(super) async fn close(mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = tokio::time::timeout(SMTP_TIMEOUT, connection.quit()).await;
        }
    }
}
