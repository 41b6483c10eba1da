//! Password trials over SSH (RFC 4252 §8) with the russh client: key
//! exchange, `none` to learn whether the server takes passwords, then at
//! most `ctx.password_budget` passwords per account, `ctx.trial_pause`
//! apart, stopping at the first success. It never opens a channel, so
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
use super::super::trials::by_account;
use crate::target::{Context, Target};

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
    let mut first = true;
    let mut tried_any = false;
    for (user, passwords) in by_account(&ctx.credentials, ctx.password_budget) {
        let mut session: Option<(Handle<Observer>, usize)> = None;
        for (index, password) in passwords.iter().enumerate() {
            if !first {
                tokio::time::sleep(ctx.trial_pause).await;
            }
            first = false;
            if session
                .as_ref()
                .is_none_or(|(_, used)| *used >= ATTEMPTS_PER_CONNECTION)
            {
                if let Some((old, _)) = session.take() {
                    close(&old).await;
                }
                match open(target, ctx, user).await {
                    Opened::Ready(handle) => session = Some((handle, 0)),
                    Opened::NoPassword => return not_tried(tried_any),
                    Opened::NoneAccepted(handle) => {
                        close(&handle).await;
                        return accepted(user, 0);
                    }
                    Opened::Failed => return not_tried(tried_any),
                }
            }
            let Some((handle, used)) = session.as_mut() else {
                return not_tried(tried_any);
            };
            *used += 1;
            tried_any = true;
            let limit = ctx.timeout * 2 + PAM_FAIL_DELAY;
            match timeout(limit, handle.authenticate_password(user, *password)).await {
                Ok(Ok(AuthResult::Success)) => {
                    close(handle).await;
                    return accepted(user, index + 1);
                }
                Ok(Ok(AuthResult::Failure { .. })) => {}
                Ok(Err(error)) => {
                    debug!(%target.addr, target.port, %error, "SSH trials stopped");
                    return not_tried(tried_any);
                }
                Err(_) => {
                    debug!(%target.addr, target.port, "SSH trials stopped: no answer");
                    return not_tried(tried_any);
                }
            }
        }
        if let Some((handle, _)) = session {
            close(&handle).await;
        }
    }
    if tried_any {
        Outcome::Refused
    } else {
        Outcome::NotTried
    }
}

fn accepted(user: &str, attempts: usize) -> Outcome {
    Outcome::Accepted {
        user: user.to_owned(),
        attempts,
    }
}

/// A service that stops answering mid-way is left alone; what was refused
/// before still counts as refused.
fn not_tried(tried_any: bool) -> Outcome {
    if tried_any {
        Outcome::Refused
    } else {
        Outcome::NotTried
    }
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
