//! Telnet (RFC 854): identifies a telnet server from its option
//! negotiation or login prompt, reports it as cleartext, and trials
//! trivial passwords at its login prompt within the budget. Every option
//! is refused (`WONT`/`DONT`), so the server falls back to a plain
//! terminal.
//!
//! It must not type anything after a successful login: the connection is
//! closed at the first sign of a shell.

mod options;

pub use options::{
    MAX_SUBNEGOTIATION, Negotiation, Stripped, escape, refusals, starts_with_negotiation,
    strip_options,
};

use std::collections::HashSet;
use std::io;
use std::time::Duration;

use tokio::time::Instant;
use vigie_core::probe::Service;

use super::conn::Connection;
use super::trials::{self, Attempt, FAIL_DELAY_GRACE};
use super::wire::printable;
use crate::catalog;
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[23];

/// Text a telnet server shows before anyone types is short: a banner and
/// a prompt. Beyond this, stop waiting for a prompt.
const MAX_TEXT: usize = 8 * 1024;

pub fn matches_banner(first_bytes: &[u8]) -> bool {
    starts_with_negotiation(first_bytes)
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut session = Session::open(target, ctx.timeout).await.ok()?;
    // Whatever the server sends first within the timeout: negotiation,
    // a banner, a prompt.
    let _ = session.wait_for(ctx.timeout, is_login_prompt).await;
    if session.answered.is_empty() && session.text.is_empty() {
        return None;
    }
    let banner = printable(&session.text, 120);
    drop(session);
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "telnet".to_owned(),
        product: None,
        version: None,
        tls: false,
        banner: (!banner.is_empty()).then_some(banner),
    });
    result.findings.push(catalog::finding(
        "telnet.cleartext",
        target,
        "service Telnet ouvert : identifiants et session circulent en clair",
    ));
    let found = trials::first_accepted(ctx, |user, password| async move {
        login(target, ctx, &user, &password).await
    })
    .await;
    if let Some(user) = found {
        result.findings.push(catalog::finding(
            "password.telnet",
            target,
            format!("compte « {user} » : mot de passe trivial accepté"),
        ));
    }
    Some(result)
}

/// One attempt on a fresh connection: wait for the login prompt, give the
/// account, wait for the password prompt, give the password, read the
/// verdict, close.
async fn login(target: &Target, ctx: &Context, user: &str, password: &str) -> Attempt {
    let attempt = async {
        let mut session = Session::open(target, ctx.timeout).await?;
        if !session.wait_for(ctx.timeout, is_login_prompt).await? {
            return Ok(Attempt::Failed);
        }
        session.send_line(user).await?;
        if !session.wait_for(ctx.timeout, is_password_prompt).await? {
            return Ok(Attempt::Failed);
        }
        session.send_line(password).await?;
        let verdict_by = ctx.timeout + FAIL_DELAY_GRACE;
        // The verdict is whatever arrives; a closed connection after a
        // refusal message still leaves the message to judge.
        let _ = session
            .wait_for(verdict_by, |text| verdict(text).is_some())
            .await;
        io::Result::Ok(verdict(&session.text).unwrap_or(Attempt::Failed))
    };
    attempt.await.unwrap_or(Attempt::Failed)
}

/// What the text after the password says: a refusal, a shell, or not yet.
pub fn verdict(text: &[u8]) -> Option<Attempt> {
    let lower = String::from_utf8_lossy(text).to_lowercase();
    const REFUSALS: &[&str] = &[
        "incorrect",
        "failed",
        "failure",
        "invalid",
        "denied",
        "refusé",
        "échec",
    ];
    if REFUSALS.iter().any(|word| lower.contains(word)) || is_login_prompt(text) {
        return Some(Attempt::Refused);
    }
    let last = lower.trim_end();
    let shell = last.ends_with(['$', '#', '>', '%']) || lower.contains("last login");
    shell.then_some(Attempt::Accepted)
}

/// The last line asks for an account name.
pub fn is_login_prompt(text: &[u8]) -> bool {
    let last = last_line(text);
    ["login:", "username:", "user name:", "user:"]
        .iter()
        .any(|prompt| last.ends_with(prompt))
}

/// The last line asks for a password.
pub fn is_password_prompt(text: &[u8]) -> bool {
    let last = last_line(text);
    last.ends_with(':') && (last.contains("password") || last.contains("mot de passe"))
}

fn last_line(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text).to_lowercase();
    let trimmed = text.trim_end();
    let line = trimmed.rsplit(['\n', '\r']).next().unwrap_or_default();
    line.to_owned()
}

/// A telnet connection that refuses every option and collects the text.
struct Session {
    conn: Connection,
    /// Text received since the last line sent.
    text: Vec<u8>,
    /// The server's requests so far; each is refused once (RFC 1143 §7).
    answered: HashSet<Negotiation>,
}

impl Session {
    async fn open(target: &Target, timeout: Duration) -> io::Result<Session> {
        Ok(Session {
            conn: Connection::open(target, timeout).await?,
            text: Vec::new(),
            answered: HashSet::new(),
        })
    }

    /// Reads until `done(text)` holds (true), or the time is up or the
    /// text grows too long (false); errors when the connection ends.
    async fn wait_for(
        &mut self,
        limit: Duration,
        done: impl Fn(&[u8]) -> bool,
    ) -> io::Result<bool> {
        let deadline = Instant::now() + limit;
        while !done(&self.text) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.text.len() > MAX_TEXT {
                return Ok(false);
            }
            match self.conn.fill_within(left).await {
                Ok(_) => self.absorb().await?,
                Err(error) if error.kind() == io::ErrorKind::TimedOut => return Ok(false),
                Err(error) => return Err(error),
            }
        }
        Ok(true)
    }

    /// Moves received text into `text` and refuses new requests.
    async fn absorb(&mut self) -> io::Result<()> {
        let stripped = strip_options(self.conn.buffered())
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        self.conn.consume(stripped.consumed);
        self.text.extend_from_slice(&stripped.data);
        let fresh: Vec<Negotiation> = stripped
            .negotiations
            .into_iter()
            .filter(|n| self.answered.insert(*n))
            .collect();
        let answer = refusals(&fresh);
        if !answer.is_empty() {
            self.conn.send(&answer).await?;
        }
        Ok(())
    }

    /// Sends one line (CR LF, RFC 854) and forgets the text so far.
    async fn send_line(&mut self, line: &str) -> io::Result<()> {
        if line.contains(['\r', '\n']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "CR or LF in a login line",
            ));
        }
        self.text.clear();
        let mut bytes = escape(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.conn.send(&bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts() {
        assert!(is_login_prompt(b"Debian GNU/Linux 12\r\nmairie login: "));
        assert!(is_login_prompt(
            b"User Access Verification\r\n\r\nUsername: "
        ));
        assert!(!is_login_prompt(b"Debian GNU/Linux 12\r\n"));
        assert!(is_password_prompt(b"admin\r\nPassword: "));
        assert!(is_password_prompt(b"Mot de passe : "));
        assert!(!is_password_prompt(b"Password change required\r\n"));
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(b"\r\n"), None);
        assert_eq!(
            verdict(b"\r\nLogin incorrect\r\nmairie login: "),
            Some(Attempt::Refused)
        );
        assert_eq!(verdict(b"\r\nmairie login: "), Some(Attempt::Refused));
        assert_eq!(
            verdict(b"\r\nLinux mairie 6.1.0\r\n\r\nvigie@mairie:~$ "),
            Some(Attempt::Accepted)
        );
        assert_eq!(verdict(b"Last login: Sun Nov 22"), Some(Attempt::Accepted));
        assert_eq!(verdict(b"\r\n~ # "), Some(Attempt::Accepted));
    }
}
