//! Password trials over SSH (RFC 4252 §8) with the russh client: key
//! exchange, `none` to learn whether the server takes passwords, then at
//! most `ctx.password_budget` passwords per account, `ctx.trial_pause`
//! apart, `ctx.accounts_at_once` accounts at a time, the accounts the
//! host revealed first (`Context::login_candidates`), stopping at the
//! first success. It never opens a channel, so
//! nothing ever runs on the server; on success it disconnects at once.
//!
//! OpenSSH refuses a change of user name on one connection and cuts it at
//! `MaxAuthTries` (6 by default, logged from 3): each account gets its own
//! connections, with at most [`ATTEMPTS_PER_CONNECTION`] tries on each.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, AuthResult, Handle};
use russh::keys::PublicKeyOrCertificate;
use russh::{Disconnect, MethodKind, SshId};
use tokio::time::timeout;
use tracing::debug;

use super::super::conn;
use crate::target::{Context, Target};
use crate::trials::{AccountEnd, TrialsEnd, across_accounts, by_account};

/// Under half of OpenSSH's default `MaxAuthTries` (6), so no connection is
/// cut for too many failures and sshd logs no "too many failures".
pub const ATTEMPTS_PER_CONNECTION: usize = 2;

/// PAM delays a failed password (pam_unix: 2 s, pam_faildelay: 3 s on
/// Debian): the answer to a trial may take that long beyond the network.
const PAM_FAIL_DELAY: Duration = Duration::from_secs(3);

/// How the trials ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This account accepted a candidate password after `attempts` tries.
    Accepted { user: String, attempts: usize },
    /// Every candidate was refused.
    Refused,
    /// No trial ran: passwords are not accepted, trials are off, or the
    /// service stopped answering.
    NotTried,
}

/// Runs the trials on `target`.
pub async fn try_passwords(target: &Target, ctx: &Context) -> Outcome {
    if !ctx.try_passwords {
        return Outcome::NotTried;
    }
    let credentials = ctx.login_candidates().await;
    let accounts = by_account(&credentials, ctx.password_budget);
    let end = across_accounts(accounts, ctx.accounts_at_once, |user, passwords| {
        try_account(target, ctx, user, passwords)
    })
    .await;
    match end {
        TrialsEnd::Accepted((user, attempts)) => Outcome::Accepted { user, attempts },
        TrialsEnd::Refused => Outcome::Refused,
        TrialsEnd::NotTried => Outcome::NotTried,
    }
}

/// One account's passwords, on connections of their own with at most
/// [`ATTEMPTS_PER_CONNECTION`] tries each. A service that stops answering
/// or takes no password stops every account.
async fn try_account(
    target: &Target,
    ctx: &Context,
    user: &str,
    passwords: Vec<&str>,
) -> (AccountEnd<(String, usize)>, bool) {
    let mut session: Option<(Handle<Observer>, usize)> = None;
    let mut answered = false;
    for (index, password) in passwords.iter().enumerate() {
        if index > 0 {
            tokio::time::sleep(ctx.trial_pause).await;
        }
        if session
            .as_ref()
            .is_none_or(|(_, used)| *used >= ATTEMPTS_PER_CONNECTION)
        {
            if let Some((old, _)) = session.take() {
                close(&old).await;
            }
            match open(target, ctx, user).await {
                Opened::Ready(handle) => session = Some((handle, 0)),
                Opened::NoneAccepted(handle) => {
                    close(&handle).await;
                    return (AccountEnd::Accepted((user.to_owned(), 0)), true);
                }
                Opened::NoPassword | Opened::Failed => return (AccountEnd::Stop, answered),
            }
        }
        let Some((handle, used)) = session.as_mut() else {
            return (AccountEnd::Stop, answered);
        };
        *used += 1;
        let limit = ctx.timeout * 2 + PAM_FAIL_DELAY;
        match timeout(limit, handle.authenticate_password(user, *password)).await {
            Ok(Ok(AuthResult::Success)) => {
                close(handle).await;
                return (AccountEnd::Accepted((user.to_owned(), index + 1)), true);
            }
            Ok(Ok(AuthResult::Failure { .. })) => answered = true,
            Ok(Err(error)) => {
                debug!(%target.addr, target.port, %error, "SSH trials stopped");
                return (AccountEnd::Stop, answered);
            }
            Err(_) => {
                debug!(%target.addr, target.port, "SSH trials stopped: no answer");
                return (AccountEnd::Stop, answered);
            }
        }
    }
    if let Some((handle, _)) = session {
        close(&handle).await;
    }
    (AccountEnd::Refused, answered)
}

enum Opened {
    Ready(Handle<Observer>),
    /// `none` succeeded: the account needs no password at all.
    NoneAccepted(Handle<Observer>),
    /// The server does not offer password authentication.
    NoPassword,
    Failed,
}

/// Connects, exchanges keys and asks `none` for `user` (RFC 4252 §5.2),
/// which tells the methods the server accepts and is no password trial.
async fn open(target: &Target, ctx: &Context, user: &str) -> Opened {
    let Ok(stream) = conn::tcp(target, ctx.timeout).await else {
        return Opened::Failed;
    };
    let config = Arc::new(client::Config {
        client_id: SshId::Standard(Cow::Borrowed("SSH-2.0-vigie_probe")),
        inactivity_timeout: Some(ctx.timeout * 4 + PAM_FAIL_DELAY),
        nodelay: true,
        ..Default::default()
    });
    let limit = ctx.timeout * 2;
    let mut handle = match timeout(limit, client::connect_stream(config, stream, Observer)).await {
        Ok(Ok(handle)) => handle,
        Ok(Err(error)) => {
            debug!(%target.addr, target.port, %error, "SSH handshake failed");
            return Opened::Failed;
        }
        Err(_) => return Opened::Failed,
    };
    match timeout(limit, handle.authenticate_none(user)).await {
        Ok(Ok(AuthResult::Success)) => Opened::NoneAccepted(handle),
        Ok(Ok(AuthResult::Failure {
            remaining_methods, ..
        })) if remaining_methods.contains(&MethodKind::Password) => Opened::Ready(handle),
        Ok(Ok(AuthResult::Failure { .. })) => {
            close(&handle).await;
            Opened::NoPassword
        }
        _ => Opened::Failed,
    }
}

async fn close(handle: &Handle<Observer>) {
    let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
}

/// Accepts any host key: the probe authenticates nobody and sends nothing
/// secret but the candidate passwords, which are public dictionary words.
pub struct Observer;

impl client::Handler for Observer {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}
