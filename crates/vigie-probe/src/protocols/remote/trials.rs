//! Password trials for the family's login services (Telnet, FTP): at most
//! `ctx.password_budget` attempts per account, `ctx.trial_pause` apart,
//! `ctx.attempts_at_once` attempts under way at a time (see
//! [`crate::trials`]), the accounts the host revealed first
//! (`Context::login_candidates`), stopping at the first success or as soon
//! as the service stops answering. Never run when `ctx.try_passwords` is
//! off. The password that worked is never returned.

use std::future::Future;
use std::time::Duration;

pub use crate::trials::Attempt;
use crate::trials::{self as pacing, TrialsEnd};

use crate::target::Context;

/// A login service answers a wrong password only after a delay (Debian's
/// `login` and PAM `pam_faildelay`/`pam_unix` wait 2 to 3 s, randomised,
/// vsftpd adds `delay_failed_login`): the verdict gets this much more than
/// the run's timeout.
pub const FAIL_DELAY_GRACE: Duration = Duration::from_secs(5);

/// Runs `attempt(user, password)` over the candidates and returns the
/// account whose trivial password was accepted, if any.
pub async fn first_accepted<F, Fut>(ctx: &Context, attempt: F) -> Option<String>
where
    F: Fn(String, String) -> Fut,
    Fut: Future<Output = Attempt>,
{
    if !ctx.try_passwords {
        return None;
    }
    let credentials = ctx.login_candidates().await;
    match pacing::run(&credentials, ctx, attempt).await {
        TrialsEnd::Accepted { user, .. } => Some(user),
        TrialsEnd::Refused | TrialsEnd::NotTried => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn stops_at_first_success_and_when_off() {
        let mut ctx = Context {
            credentials: Arc::new(pairs(&[("a", "1"), ("b", "2"), ("c", "3")])),
            trial_pause: Duration::ZERO,
            ..Context::default()
        };
        let tried = Mutex::new(Vec::new());
        let found = first_accepted(&ctx, |user, _| {
            tried
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(user.clone());
            async move {
                if user == "b" {
                    Attempt::Accepted
                } else {
                    Attempt::Refused
                }
            }
        })
        .await;
        assert_eq!(found.as_deref(), Some("b"));
        assert_eq!(*tried.lock().unwrap_or_else(|e| e.into_inner()), ["a", "b"]);

        let calls = Mutex::new(0);
        let found = first_accepted(&ctx, |_, _| {
            *calls.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            async { Attempt::Failed }
        })
        .await;
        assert_eq!(
            (found, *calls.lock().unwrap_or_else(|e| e.into_inner())),
            (None, 1)
        );

        ctx.try_passwords = false;
        let found = first_accepted(&ctx, |_, _| async { Attempt::Accepted }).await;
        assert_eq!(found, None);
    }

    /// With several accounts in play, each account still gets at most the
    /// budget, in dictionary order.
    #[tokio::test]
    async fn accounts_at_once_keep_each_budget() {
        let ctx = Context {
            credentials: Arc::new(pairs(&[
                ("a", "1"),
                ("b", "1"),
                ("a", "2"),
                ("a", "3"),
                ("b", "2"),
                ("c", "1"),
            ])),
            trial_pause: Duration::ZERO,
            password_budget: 2,
            accounts_at_once: 3,
            attempts_at_once: 2,
            ..Context::default()
        };
        let tried = Mutex::new(Vec::new());
        let found = first_accepted(&ctx, |user, password| {
            tried
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((user, password));
            async { Attempt::Refused }
        })
        .await;
        assert_eq!(found, None);
        let mut tried = tried.into_inner().unwrap_or_else(|e| e.into_inner());
        tried.sort();
        let expected: Vec<(String, String)> =
            pairs(&[("a", "1"), ("a", "2"), ("b", "1"), ("b", "2"), ("c", "1")]);
        assert_eq!(tried, expected);
    }
}
