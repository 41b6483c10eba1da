//! FTP (RFC 959): identifies the server from its `220` greeting, asks
//! `FEAT` whether it offers `AUTH TLS` (RFC 4217), tries the anonymous
//! login and, when it is accepted, reads the names of the home
//! directories it shows ([`listing`]); then trials trivial passwords
//! within the budget, the accounts the host revealed first.
//!
//! It must not do more than log in and, anonymously, list names: no
//! `RETR`, `STOR` or any other command; after a trial login, `QUIT`
//! right away.

pub mod listing;
mod reply;

pub use reply::{MAX_REPLY_LEN, Reply, parse_reply, product};

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use vigie_core::probe::Service;

use super::conn::Connection;
use super::trials::{self, Attempt, FAIL_DELAY_GRACE};
use super::wire::printable;
use crate::catalog;
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[21];

/// The password given with `USER anonymous`: by custom an e-mail address
/// (RFC 1635); a reserved domain, so it names no one.
const ANONYMOUS_PASSWORD: &str = "sonde@vigie.invalid";

/// Accounts that mean anonymous access: covered by `ftp.anonymous`, not
/// by password trials.
const ANONYMOUS_ACCOUNTS: &[&str] = &["anonymous", "ftp"];

/// A `220` greeting that names FTP and is not SMTP's (SMTP greets with
/// `220` too).
pub fn matches_banner(first_bytes: &[u8]) -> bool {
    // The first bytes may hold only part of a multi-line greeting.
    match parse_reply(first_bytes) {
        Ok(Some((reply, _))) => reply.code == 220 && mentions_ftp(reply.text().as_bytes()),
        _ => first_bytes.starts_with(b"220") && mentions_ftp(first_bytes),
    }
}

fn mentions_ftp(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    let has = |word: &[u8]| lower.windows(word.len()).any(|w| w == word);
    (has(b"ftp") || has(b"filezilla")) && !has(b"smtp")
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Connection::open(target, ctx.timeout).await.ok()?;
    let greeting = read_reply(&mut conn).await.ok()?;
    let (product, version) = product(&greeting.text()).unzip();
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "ftp".to_owned(),
        product,
        version: version.flatten(),
        tls: false,
        banner: Some(printable(
            format!("{} {}", greeting.code, greeting.text()).as_bytes(),
            120,
        )),
    });
    if greeting.code != 220 {
        // Busy or refusing this client (421): identified, nothing more.
        return Some(result);
    }
    let features = command(&mut conn, "FEAT").await.ok();
    if !offers_tls(features.as_ref()) {
        let evidence = match &features {
            Some(reply) if reply.code == 211 => "FEAT ne propose pas AUTH TLS",
            _ => "FEAT refusé : pas de chiffrement annoncé",
        };
        result
            .findings
            .push(catalog::finding("ftp.cleartext", target, evidence));
    }
    let mut homes = Vec::new();
    if anonymous_accepted(&mut conn).await {
        result.findings.push(catalog::finding(
            "ftp.anonymous",
            target,
            "connexion anonyme acceptée (USER anonymous, code 230)",
        ));
        homes = listing::home_directories(&mut conn, target).await;
    }
    let _ = command(&mut conn, "QUIT").await;
    drop(conn);
    if !homes.is_empty() {
        let count = match homes.len() {
            1 => "1 dossier".to_owned(),
            n => format!("{n} dossiers"),
        };
        result.findings.push(catalog::finding(
            "ftp.home_directories",
            target,
            format!("la connexion anonyme liste les dossiers personnels : {count}"),
        ));
    }
    // Reported before this port's own trials, which wait for the host's
    // other revealing ports.
    ctx.revealed.report(target, &listing::accounts(&homes));

    let trial_ctx = without_anonymous(ctx);
    let found = trials::first_accepted(&trial_ctx, |user, password| async move {
        login(target, ctx, &user, &password).await
    })
    .await;
    if let Some(user) = found {
        result.findings.push(catalog::finding(
            "password.ftp",
            target,
            format!("compte « {user} » : mot de passe trivial accepté"),
        ));
    }
    Some(result)
}

/// The run's context without the anonymous accounts, which any password
/// opens on a server that allows anonymous access.
fn without_anonymous(ctx: &Context) -> Context {
    let credentials = ctx
        .credentials
        .iter()
        .filter(|(user, _)| !ANONYMOUS_ACCOUNTS.contains(&user.to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    Context {
        credentials: Arc::new(credentials),
        ..ctx.clone()
    }
}

/// A `FEAT` reply listing `AUTH TLS` (or its old name `AUTH SSL`).
fn offers_tls(features: Option<&Reply>) -> bool {
    features.is_some_and(|reply| {
        reply.code == 211
            && reply.lines.iter().any(|line| {
                let words: Vec<String> = line
                    .split_whitespace()
                    .map(str::to_ascii_uppercase)
                    .collect();
                words.first().is_some_and(|w| w == "AUTH")
                    && words.iter().any(|w| w.contains("TLS") || w.contains("SSL"))
            })
    })
}

/// `USER anonymous` then a fake e-mail address; `230` means accepted.
async fn anonymous_accepted(conn: &mut Connection) -> bool {
    let Ok(user) = command(conn, "USER anonymous").await else {
        return false;
    };
    match user.code {
        230 => true,
        331 => command(conn, &format!("PASS {ANONYMOUS_PASSWORD}"))
            .await
            .is_ok_and(|reply| reply.code == 230),
        _ => false,
    }
}

/// One login attempt on a fresh connection, ended by `QUIT`.
async fn login(target: &Target, ctx: &Context, user: &str, password: &str) -> Attempt {
    let attempt = async {
        let mut conn = Connection::open(target, ctx.timeout).await?;
        let greeting = read_reply(&mut conn).await?;
        if greeting.code != 220 {
            return Ok(Attempt::Failed);
        }
        let verdict = match command(&mut conn, &format!("USER {user}")).await?.code {
            230 => Attempt::Accepted,
            331 | 332 => {
                // A wrong password is answered only after the server's
                // failure delay.
                let limit = ctx.timeout + FAIL_DELAY_GRACE;
                let reply = command_within(&mut conn, &format!("PASS {password}"), limit).await?;
                pass_verdict(&reply)
            }
            // The account refused before any password (vsftpd's "This FTP
            // server is anonymous only", a user list's denial): its other
            // passwords would meet the same answer.
            530 => Attempt::AccountRefused,
            _ => Attempt::Failed,
        };
        let _ = command(&mut conn, "QUIT").await;
        io::Result::Ok(verdict)
    };
    attempt.await.unwrap_or(Attempt::Failed)
}

/// What the reply to `PASS` says of the password.
fn pass_verdict(reply: &Reply) -> Attempt {
    match reply.code {
        230 | 202 => Attempt::Accepted,
        530 | 430 => Attempt::Refused,
        // vsftpd changes to the home directory only once the password is
        // accepted; an account without one gets this instead of 230.
        500 if reply.text().contains("cannot change directory") => Attempt::Accepted,
        _ => Attempt::Failed,
    }
}

async fn command(conn: &mut Connection, line: &str) -> io::Result<Reply> {
    let limit = conn.timeout();
    command_within(conn, line, limit).await
}

/// Sends a command and reads its reply within `limit`.
async fn command_within(conn: &mut Connection, line: &str, limit: Duration) -> io::Result<Reply> {
    if line.contains(['\r', '\n']) {
        // A dictionary word must not smuggle a second command.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "CR or LF in an FTP command",
        ));
    }
    conn.send(format!("{line}\r\n").as_bytes()).await?;
    read_reply_within(conn, limit).await
}

/// The next complete reply within the run's timeout.
async fn read_reply(conn: &mut Connection) -> io::Result<Reply> {
    let limit = conn.timeout();
    read_reply_within(conn, limit).await
}

/// The next complete reply within `limit`; preliminary `1xx` replies are
/// skipped.
async fn read_reply_within(conn: &mut Connection, limit: Duration) -> io::Result<Reply> {
    let deadline = Instant::now() + limit;
    loop {
        match parse_reply(conn.buffered()) {
            Ok(Some((reply, used))) => {
                conn.consume(used);
                if reply.code >= 200 {
                    return Ok(reply);
                }
            }
            Ok(None) => {
                let left = deadline.saturating_duration_since(Instant::now());
                conn.fill_within(left).await?;
            }
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_offer_read_from_feat() {
        let feat = |lines: &[&str]| Reply {
            code: 211,
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
        };
        assert!(offers_tls(Some(&feat(&[
            "Features:",
            " AUTH TLS",
            " PBSZ",
            "End"
        ]))));
        assert!(offers_tls(Some(&feat(&[
            "Features:",
            " AUTH SSL;TLS",
            "End"
        ]))));
        assert!(!offers_tls(Some(&feat(&["Features:", " EPSV", "End"]))));
        assert!(!offers_tls(None));
        let refused = Reply {
            code: 502,
            lines: vec!["AUTH TLS not understood".to_owned()],
        };
        assert!(!offers_tls(Some(&refused)));
    }

    #[test]
    fn password_verdicts() {
        let reply = |code, text: &str| Reply {
            code,
            lines: vec![text.to_owned()],
        };
        assert_eq!(
            pass_verdict(&reply(230, "Login successful.")),
            Attempt::Accepted
        );
        assert_eq!(
            pass_verdict(&reply(530, "Login incorrect.")),
            Attempt::Refused
        );
        // Recorded from vsftpd 3.0.3 for an account without a home.
        let oops = reply(500, "OOPS: cannot change directory:/home/vigiex");
        assert_eq!(pass_verdict(&oops), Attempt::Accepted);
        assert_eq!(pass_verdict(&reply(421, "Timeout.")), Attempt::Failed);
    }

    #[test]
    fn banners_that_are_ftp_and_not_smtp() {
        assert!(matches_banner(b"220 (vsFTPd 3.0.3)\r\n"));
        assert!(matches_banner(b"220-FileZilla Server 0.9.60 beta\r\n"));
        assert!(matches_banner(b"220 ProFTPD Server"));
        assert!(!matches_banner(b"220 mail.mairie.fr ESMTP Postfix\r\n"));
        assert!(!matches_banner(b"SSH-2.0-OpenSSH_9.2p1\r\n"));
        assert!(!matches_banner(b"220 welcome\r\n"));
    }
}
