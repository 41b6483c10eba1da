//! Password trials across the accounts of one service: each account's
//! passwords in dictionary order, `ctx.trial_pause` apart, at most
//! `ctx.password_budget` of them, and up to `ctx.accounts_at_once`
//! accounts at the same time. Lockouts count failures per account, so the
//! budget and the pause stay per account; trying a few accounts at once
//! divides the time a login service's failure delay costs (PAM waits 2 to
//! 3 s after each wrong password) without bringing any account nearer its
//! lockout. The first accepted password, or a service that stops
//! answering, ends the trials on every account.

use std::future::Future;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

/// How one login attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Accepted,
    Refused,
    /// The service did not answer as expected (closed, timed out, refused
    /// the connection): trials stop, a struggling service is left alone.
    Failed,
}

/// How the trials of one account ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountEnd<T> {
    /// A password was accepted; `T` says what the caller needs of it.
    Accepted(T),
    /// Every password was refused.
    Refused,
    /// No more trials on this service, on any account: it stopped
    /// answering, or it takes no password at all.
    Stop,
}

/// How the trials on one service ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrialsEnd<T> {
    Accepted(T),
    /// At least one password was refused and none accepted.
    Refused,
    /// No password got an answer: trials were off, there was nothing to
    /// try, or the service stopped before the first verdict.
    NotTried,
}

/// The candidates grouped by account, in dictionary order, at most
/// `budget` passwords each.
pub fn by_account(credentials: &[(String, String)], budget: usize) -> Vec<(&str, Vec<&str>)> {
    let mut accounts: Vec<(&str, Vec<&str>)> = Vec::new();
    for (user, password) in credentials {
        let at = match accounts.iter().position(|(u, _)| u == user) {
            Some(at) => at,
            None => {
                accounts.push((user, Vec::new()));
                accounts.len() - 1
            }
        };
        if let Some((_, passwords)) = accounts.get_mut(at)
            && passwords.len() < budget
        {
            passwords.push(password);
        }
    }
    accounts.retain(|(_, passwords)| !passwords.is_empty());
    accounts
}

/// Runs `try_account(user, passwords)` on every account, `at_once` at a
/// time, and ends at the first accepted password or the first `Stop`
/// (the accounts still running are abandoned: their connections close).
/// `try_account` also says whether any of its passwords got a verdict.
pub async fn across_accounts<'a, T, F, Fut>(
    accounts: Vec<(&'a str, Vec<&'a str>)>,
    at_once: usize,
    try_account: F,
) -> TrialsEnd<T>
where
    F: Fn(&'a str, Vec<&'a str>) -> Fut,
    Fut: Future<Output = (AccountEnd<T>, bool)>,
{
    let mut waiting = accounts.into_iter();
    let mut running = FuturesUnordered::new();
    for (user, passwords) in waiting.by_ref().take(at_once.max(1)) {
        running.push(try_account(user, passwords));
    }
    let mut answered = false;
    while let Some((end, account_answered)) = running.next().await {
        answered |= account_answered;
        match end {
            AccountEnd::Accepted(found) => return TrialsEnd::Accepted(found),
            AccountEnd::Stop => break,
            AccountEnd::Refused => {
                if let Some((user, passwords)) = waiting.next() {
                    running.push(try_account(user, passwords));
                }
            }
        }
    }
    if answered {
        TrialsEnd::Refused
    } else {
        TrialsEnd::NotTried
    }
}

/// One account's passwords, one `attempt` each, `pause` apart; the end
/// carries how many attempts the accepted password took.
pub async fn each_password<F, Fut>(
    passwords: &[&str],
    pause: Duration,
    attempt: F,
) -> (AccountEnd<usize>, bool)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Attempt>,
{
    let mut answered = false;
    for (index, password) in passwords.iter().enumerate() {
        if index > 0 {
            tokio::time::sleep(pause).await;
        }
        match attempt((*password).to_owned()).await {
            Attempt::Accepted => return (AccountEnd::Accepted(index + 1), true),
            Attempt::Refused => answered = true,
            Attempt::Failed => return (AccountEnd::Stop, answered),
        }
    }
    (AccountEnd::Refused, answered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect()
    }

    #[test]
    fn candidates_are_grouped_and_bounded_per_account() {
        let list = pairs(&[
            ("admin", "admin"),
            ("root", "root"),
            ("admin", "1234"),
            ("admin", "password"),
            ("root", "toor"),
        ]);
        assert_eq!(
            by_account(&list, 2),
            vec![
                ("admin", vec!["admin", "1234"]),
                ("root", vec!["root", "toor"])
            ]
        );
        assert!(by_account(&list, 0).is_empty());
    }

    /// The accounts run `at_once` at a time: with two at once, the third
    /// account starts only when one of the first two is done.
    #[tokio::test]
    async fn accounts_run_at_once_up_to_the_limit() {
        let list = pairs(&[("a", "1"), ("b", "1"), ("c", "1"), ("d", "1")]);
        let running = Mutex::new((0usize, 0usize)); // (now, most)
        let end = across_accounts(by_account(&list, 5), 2, |_, _| async {
            {
                let mut running = running.lock().unwrap_or_else(|e| e.into_inner());
                running.0 += 1;
                running.1 = running.1.max(running.0);
            }
            // Yield so that the other started account runs meanwhile.
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            running.lock().unwrap_or_else(|e| e.into_inner()).0 -= 1;
            (AccountEnd::<()>::Refused, true)
        })
        .await;
        assert_eq!(end, TrialsEnd::Refused);
        assert_eq!(running.lock().unwrap_or_else(|e| e.into_inner()).1, 2);
    }

    #[tokio::test]
    async fn the_first_acceptance_or_stop_ends_every_account() {
        let list = pairs(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let started = Mutex::new(Vec::new());
        let end = across_accounts(by_account(&list, 5), 1, |user, _| {
            started.lock().unwrap_or_else(|e| e.into_inner()).push(user);
            async move {
                if user == "b" {
                    (AccountEnd::Accepted(user), true)
                } else {
                    (AccountEnd::Refused, true)
                }
            }
        })
        .await;
        assert_eq!(end, TrialsEnd::Accepted("b"));
        assert_eq!(
            *started.lock().unwrap_or_else(|e| e.into_inner()),
            ["a", "b"]
        );

        let end = across_accounts(by_account(&list, 5), 1, |_, _| async {
            (AccountEnd::<()>::Stop, false)
        })
        .await;
        assert_eq!(end, TrialsEnd::NotTried);
        let end = across_accounts(Vec::new(), 3, |_, _| async {
            (AccountEnd::<()>::Refused, true)
        })
        .await;
        assert_eq!(end, TrialsEnd::NotTried);
    }

    #[tokio::test]
    async fn one_account_stops_at_its_first_success_or_failure() {
        let tried = Mutex::new(Vec::new());
        let end = each_password(&["x", "y", "z"], Duration::ZERO, |password| {
            tried
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(password.clone());
            async move {
                if password == "y" {
                    Attempt::Accepted
                } else {
                    Attempt::Refused
                }
            }
        })
        .await;
        assert_eq!(end, (AccountEnd::Accepted(2), true));
        assert_eq!(*tried.lock().unwrap_or_else(|e| e.into_inner()), ["x", "y"]);

        let end = each_password(&["x", "y"], Duration::ZERO, |_| async { Attempt::Failed }).await;
        assert_eq!(end, (AccountEnd::Stop, false));
        let end = each_password(&["x", "y"], Duration::ZERO, |_| async { Attempt::Refused }).await;
        assert_eq!(end, (AccountEnd::Refused, true));
    }
}
