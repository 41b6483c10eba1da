//! Password trials over SSH (RFC 4252 §8) with the russh client: key
//! exchange, `none` to learn whether the server takes passwords, then one
//! password, on a connection of its own; at most `ctx.password_budget`
//! passwords per account, `ctx.trial_pause` apart, `ctx.attempts_at_once`
//! connections at a time (an account waiting out its pause leaves its turn
//! to another, see [`crate::trials`]), the accounts the host revealed
//! first (`Context::login_candidates`), stopping at the first success. It
//! never opens a channel, so nothing ever runs on the server; on success
//! it disconnects at once.
//!
//! OpenSSH refuses a change of user name on one connection and cuts it at
//! `MaxAuthTries` (6 by default, logged from 3). One password per
//! connection keeps far from both, and a connection is never held open
//! through an account's pause: the service's connections are the ones
//! actually trying.

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
use crate::trials::{self, Attempt, TrialsEnd};

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
    let end = trials::run(&credentials, ctx, |user, password| async move {
        attempt(target, ctx, &user, &password).await
    })
    .await;
    match end {
        TrialsEnd::Accepted { user, attempts } => Outcome::Accepted { user, attempts },
        TrialsEnd::Refused => Outcome::Refused,
        TrialsEnd::NotTried => Outcome::NotTried,
    }
}

/// One password on a connection of its own. A service that stops
/// answering or takes no password stops every account.
async fn attempt(target: &Target, ctx: &Context, user: &str, password: &str) -> Attempt {
    let mut handle = match open(target, ctx, user).await {
        Opened::Ready(handle) => handle,
        Opened::NoneAccepted(handle) => {
            close(&handle).await;
            return Attempt::AcceptedWithoutPassword;
        }
        Opened::NoPassword | Opened::Failed => return Attempt::Failed,
    };
    let limit = ctx.timeout * 2 + PAM_FAIL_DELAY;
    let verdict = match timeout(limit, handle.authenticate_password(user, password)).await {
        Ok(Ok(AuthResult::Success)) => Attempt::Accepted,
        Ok(Ok(AuthResult::Failure { .. })) => Attempt::Refused,
        Ok(Err(error)) => {
            debug!(%target.addr, target.port, %error, "SSH trials stopped");
            Attempt::Failed
        }
        Err(_) => {
            debug!(%target.addr, target.port, "SSH trials stopped: no answer");
            Attempt::Failed
        }
    };
    close(&handle).await;
    verdict
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
