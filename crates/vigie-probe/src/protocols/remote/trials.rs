//! Password trials for the family's login services (Telnet, FTP): which
//! candidates are tried, in which order, and the pacing. At most
//! `ctx.password_budget` attempts per account, one at a time, with
//! `ctx.trial_pause` between two attempts, stopping at the first success
//! or as soon as the service stops answering. Never run when
//! `ctx.try_passwords` is off. The password that worked is never returned.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use crate::target::Context;

/// A login service answers a wrong password only after a delay (Debian's
/// `login` and PAM `pam_faildelay`/`pam_unix` wait 2 to 3 s, randomised,
/// vsftpd adds `delay_failed_login`): the verdict gets this much more than
/// the run's timeout.
pub const FAIL_DELAY_GRACE: Duration = Duration::from_secs(5);

/// How one login attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Accepted,
    Refused,
    /// The service did not answer as expected (closed, timed out, refused
    /// the connection): trials stop, a struggling service is left alone.
    Failed,
}

/// The candidates to try, in dictionary order, with at most `budget`
/// passwords per account (the first ones the dictionary lists).
pub fn candidates(credentials: &[(String, String)], budget: usize) -> Vec<(&str, &str)> {
    let mut used: HashMap<&str, usize> = HashMap::new();
    let mut chosen = Vec::new();
    for (user, password) in credentials {
        let count = used.entry(user.as_str()).or_default();
        if *count < budget {
            *count += 1;
            chosen.push((user.as_str(), password.as_str()));
        }
    }
    chosen
}

/// Runs `attempt` over the candidates and returns the account whose
/// trivial password was accepted, if any.
pub async fn first_accepted<F, Fut>(ctx: &Context, mut attempt: F) -> Option<String>
where
    F: FnMut(String, String) -> Fut,
    Fut: Future<Output = Attempt>,
{
    if !ctx.try_passwords {
        return None;
    }
    for (index, (user, password)) in candidates(&ctx.credentials, ctx.password_budget)
        .into_iter()
        .enumerate()
    {
        if index > 0 {
            tokio::time::sleep(ctx.trial_pause).await;
        }
        match attempt(user.to_owned(), password.to_owned()).await {
            Attempt::Accepted => return Some(user.to_owned()),
            Attempt::Refused => {}
            Attempt::Failed => {
                tracing::debug!(
                    user,
                    "password trials stopped: the service stopped answering"
                );
                return None;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect()
    }

    #[test]
    fn at_most_budget_per_account_in_dictionary_order() {
        let list = pairs(&[
            ("admin", "admin"),
            ("root", "root"),
            ("admin", "1234"),
            ("admin", "password"),
            ("root", "toor"),
        ]);
        assert_eq!(
            candidates(&list, 2),
            vec![
                ("admin", "admin"),
                ("root", "root"),
                ("admin", "1234"),
                ("root", "toor")
            ]
        );
        assert!(candidates(&list, 0).is_empty());
    }

    #[tokio::test]
    async fn stops_at_first_success_and_when_off() {
        let mut ctx = Context {
            credentials: Arc::new(pairs(&[("a", "1"), ("b", "2"), ("c", "3")])),
            trial_pause: Duration::ZERO,
            ..Context::default()
        };
        let mut tried = Vec::new();
        let found = first_accepted(&ctx, |user, _| {
            tried.push(user.clone());
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
        assert_eq!(tried, ["a", "b"]);

        let mut calls = 0;
        let found = first_accepted(&ctx, |_, _| {
            calls += 1;
            async { Attempt::Failed }
        })
        .await;
        assert_eq!((found, calls), (None, 1));

        ctx.try_passwords = false;
        let found = first_accepted(&ctx, |_, _| async { Attempt::Accepted }).await;
        assert_eq!(found, None);
    }
}
