//! Password trials across the accounts of one service: each account's
//! passwords in dictionary order, `ctx.trial_pause` apart, at most
//! `ctx.password_budget` of them, one at a time. Lockouts count failures
//! per account, so the budget and the pause stay per account; the
//! service, not the account, is what the run's politeness bounds: at most
//! `ctx.attempts_at_once` attempts (connections) are under way on it at a
//! time, and an account waiting out its pause gives its turn to the next
//! account ready (the first `ctx.accounts_at_once` accounts not done are
//! in play, most likely first). An account that waits costs nothing, and
//! no account comes nearer its lockout. The first accepted password, or a
//! service that stops answering, ends the trials on every account.

use std::future::Future;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::{Instant, sleep_until};

use crate::target::Context;

/// How one login attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Accepted,
    /// The account opened without any password at all (SSH's `none`).
    AcceptedWithoutPassword,
    Refused,
    /// The service refused the account itself, before any password (FTP's
    /// `530` to `USER`): its other passwords would be refused the same
    /// way, so they are not tried.
    AccountRefused,
    /// The service did not answer as expected (closed, timed out, refused
    /// the connection): trials stop, a struggling service is left alone.
    Failed,
}

/// How the trials on one service ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrialsEnd {
    /// This account opened on its `attempts`-th try (0: without a
    /// password).
    Accepted { user: String, attempts: usize },
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

/// Runs `attempt(user, password)` over `credentials` (at most
/// `ctx.password_budget` passwords per account) at the pace of `ctx`, and
/// ends at the first accepted password or the first `Failed` (the
/// attempts still under way are abandoned: their connections close).
pub async fn run<F, Fut>(credentials: &[(String, String)], ctx: &Context, attempt: F) -> TrialsEnd
where
    F: Fn(String, String) -> Fut,
    Fut: Future<Output = Attempt>,
{
    let accounts = by_account(credentials, ctx.password_budget);
    let mut turns: Vec<Turn> = accounts.iter().map(|_| Turn::default()).collect();
    let pace = Pace {
        pause: ctx.trial_pause,
        accounts: ctx.accounts_at_once.max(1),
        attempts: ctx.attempts_at_once.max(1),
    };
    let mut running = FuturesUnordered::new();
    let mut answered = false;
    loop {
        let now = Instant::now();
        while running.len() < pace.attempts {
            let Some(at) = pace.next_ready(&turns, &accounts, now) else {
                break;
            };
            let (Some(turn), Some((user, passwords))) = (turns.get_mut(at), accounts.get(at))
            else {
                break;
            };
            let Some(password) = passwords.get(turn.tried) else {
                break;
            };
            turn.busy = true;
            let tried = attempt((*user).to_owned(), (*password).to_owned());
            running.push(async move { (at, tried.await) });
        }
        // A pause ending matters only to a free turn.
        let wake = if running.len() < pace.attempts {
            pace.next_wake(&turns, &accounts)
        } else {
            None
        };
        if running.is_empty() && wake.is_none() {
            break;
        }
        let done = tokio::select! {
            done = running.next(), if !running.is_empty() => done,
            () = sleep_until(wake.unwrap_or(now)), if wake.is_some() => None,
        };
        let Some((at, verdict)) = done else {
            continue;
        };
        let (Some(turn), Some((user, passwords))) = (turns.get_mut(at), accounts.get(at)) else {
            continue;
        };
        turn.busy = false;
        turn.tried += 1;
        turn.ready_at = Instant::now() + pace.pause;
        match verdict {
            Attempt::Accepted => {
                return TrialsEnd::Accepted {
                    user: (*user).to_owned(),
                    attempts: turn.tried,
                };
            }
            Attempt::AcceptedWithoutPassword => {
                return TrialsEnd::Accepted {
                    user: (*user).to_owned(),
                    attempts: 0,
                };
            }
            Attempt::Refused => answered = true,
            Attempt::AccountRefused => {
                answered = true;
                turn.tried = passwords.len();
            }
            Attempt::Failed => {
                tracing::debug!(
                    user,
                    "password trials stopped: the service stopped answering"
                );
                break;
            }
        }
    }
    if answered {
        TrialsEnd::Refused
    } else {
        TrialsEnd::NotTried
    }
}

/// Where one account stands.
#[derive(Debug)]
struct Turn {
    /// Passwords tried so far.
    tried: usize,
    /// An attempt of this account is under way.
    busy: bool,
    /// Its pause ends.
    ready_at: Instant,
}

impl Default for Turn {
    fn default() -> Turn {
        Turn {
            tried: 0,
            busy: false,
            ready_at: Instant::now(),
        }
    }
}

struct Pace {
    pause: Duration,
    /// Accounts in play: the first ones not done.
    accounts: usize,
    /// Attempts under way at most.
    attempts: usize,
}

impl Pace {
    /// The accounts in play, with their turns.
    fn in_play<'t>(
        &self,
        turns: &'t [Turn],
        accounts: &[(&str, Vec<&str>)],
    ) -> impl Iterator<Item = (usize, &'t Turn)> {
        turns
            .iter()
            .zip(accounts.iter().map(|(_, passwords)| passwords.len()))
            .enumerate()
            .filter(|(_, (turn, passwords))| turn.tried < *passwords)
            .map(|(at, (turn, _))| (at, turn))
            .take(self.accounts)
    }

    /// The most likely account in play that may try its next password now.
    fn next_ready(
        &self,
        turns: &[Turn],
        accounts: &[(&str, Vec<&str>)],
        now: Instant,
    ) -> Option<usize> {
        self.in_play(turns, accounts)
            .find(|(_, turn)| !turn.busy && turn.ready_at <= now)
            .map(|(at, _)| at)
    }

    /// When the next account in play waiting out its pause is ready.
    fn next_wake(&self, turns: &[Turn], accounts: &[(&str, Vec<&str>)]) -> Option<Instant> {
        self.in_play(turns, accounts)
            .filter(|(_, turn)| !turn.busy)
            .map(|(_, turn)| turn.ready_at)
            .min()
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

    fn pace(pause_ms: u64, accounts: usize, attempts: usize) -> Context {
        Context {
            trial_pause: Duration::from_millis(pause_ms),
            accounts_at_once: accounts,
            attempts_at_once: attempts,
            ..Context::default()
        }
    }

    /// Every attempt, in the order they started: (account, password,
    /// virtual time in ms since the trials began).
    type Log = Arc<Mutex<Vec<(String, String, u128)>>>;

    /// Runs the trials with attempts that take `takes_ms` and answer
    /// `verdict(user, password)`.
    async fn trials(
        list: &[(&str, &str)],
        ctx: &Context,
        takes_ms: u64,
        verdict: fn(&str, &str) -> Attempt,
    ) -> (TrialsEnd, Vec<(String, String, u128)>) {
        let log: Log = Arc::default();
        let started = Instant::now();
        let end = run(&pairs(list), ctx, |user, password| {
            let log = Arc::clone(&log);
            async move {
                let at = started.elapsed().as_millis();
                log.lock().unwrap_or_else(|e| e.into_inner()).push((
                    user.clone(),
                    password.clone(),
                    at,
                ));
                tokio::time::sleep(Duration::from_millis(takes_ms)).await;
                verdict(&user, &password)
            }
        })
        .await;
        let log = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (end, log)
    }

    fn order(log: &[(String, String, u128)]) -> Vec<String> {
        log.iter().map(|(u, p, _)| format!("{u}:{p}")).collect()
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

    /// An account waiting out its pause gives its turn to the next one:
    /// with one attempt at a time, `b` is tried while `a` waits; with one
    /// account at a time (the polite intensity), `b` waits for `a` to be
    /// done. Either way each account's passwords keep their order and
    /// their pause (virtual time: nothing here depends on the machine).
    #[tokio::test(start_paused = true)]
    async fn accounts_take_turns_within_each_others_pauses() {
        let list = [("a", "1"), ("a", "2"), ("b", "1"), ("b", "2"), ("a", "3")];
        let (end, log) = trials(&list, &pace(500, 8, 1), 100, |_, _| Attempt::Refused).await;
        assert_eq!(end, TrialsEnd::Refused);
        assert_eq!(order(&log), ["a:1", "b:1", "a:2", "b:2", "a:3"]);
        assert_pauses_kept(&log, 500);

        let (_, log) = trials(&list, &pace(500, 1, 4), 100, |_, _| Attempt::Refused).await;
        assert_eq!(order(&log), ["a:1", "a:2", "a:3", "b:1", "b:2"]);
        assert_pauses_kept(&log, 500);
    }

    /// No account's next try starts sooner than the pause after its last
    /// one ended (the attempts here take 100 ms).
    fn assert_pauses_kept(log: &[(String, String, u128)], pause_ms: u128) {
        for (at, (user, _, started)) in log.iter().enumerate() {
            let previous = log.iter().take(at).rfind(|(u, _, _)| u == user);
            if let Some((_, _, before)) = previous {
                assert!(started - before >= 100 + pause_ms, "{log:?}");
            }
        }
    }

    /// At most `attempts_at_once` attempts are under way at a time, however
    /// many accounts are in play, and each account gets at most its budget.
    #[tokio::test(start_paused = true)]
    async fn attempts_under_way_stay_within_the_limit() {
        let list: Vec<(String, String)> = (0..6)
            .flat_map(|a| (0..7).map(move |p| (format!("u{a}"), format!("p{p}"))))
            .collect();
        let list: Vec<(&str, &str)> = list.iter().map(|(u, p)| (u.as_str(), p.as_str())).collect();
        let ctx = Context {
            password_budget: 5,
            ..pace(500, 64, 3)
        };
        let (end, log) = trials(&list, &ctx, 100, |_, _| Attempt::Refused).await;
        assert_eq!(end, TrialsEnd::Refused);
        assert_eq!(log.len(), 6 * 5);
        for (_, _, started) in &log {
            let under_way = log
                .iter()
                .filter(|(_, _, s)| s <= started && started < &(s + 100))
                .count();
            assert!(under_way <= 3, "{log:?}");
        }
        for account in 0..6 {
            let theirs: Vec<&str> = log
                .iter()
                .filter(|(u, _, _)| *u == format!("u{account}"))
                .map(|(_, p, _)| p.as_str())
                .collect();
            assert_eq!(theirs, ["p0", "p1", "p2", "p3", "p4"]);
        }
        assert_pauses_kept(&log, 500);
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_acceptance_or_failure_ends_every_account() {
        let list = [("a", "1"), ("b", "1"), ("b", "2"), ("c", "1")];
        let (end, log) = trials(&list, &pace(500, 8, 1), 10, |user, password| {
            if (user, password) == ("b", "2") {
                Attempt::Accepted
            } else {
                Attempt::Refused
            }
        })
        .await;
        let found = TrialsEnd::Accepted {
            user: "b".to_owned(),
            attempts: 2,
        };
        assert_eq!(end, found);
        assert_eq!(order(&log), ["a:1", "b:1", "c:1", "b:2"]);

        let (end, _) = trials(&list, &pace(0, 8, 2), 10, |user, _| {
            if user == "c" {
                Attempt::AcceptedWithoutPassword
            } else {
                Attempt::Refused
            }
        })
        .await;
        let open = TrialsEnd::Accepted {
            user: "c".to_owned(),
            attempts: 0,
        };
        assert_eq!(end, open);

        let (end, log) = trials(&list, &pace(0, 8, 1), 10, |_, _| Attempt::Failed).await;
        assert_eq!((end, log.len()), (TrialsEnd::NotTried, 1));
        let (end, log) = trials(&[], &pace(0, 8, 4), 10, |_, _| Attempt::Refused).await;
        assert_eq!((end, log.len()), (TrialsEnd::NotTried, 0));
    }

    /// An account the service refuses before any password is not tried
    /// again; the others are.
    #[tokio::test(start_paused = true)]
    async fn a_refused_account_is_not_tried_again() {
        let list = [("ghost", "1"), ("ghost", "2"), ("real", "1"), ("real", "2")];
        let (end, log) = trials(&list, &pace(500, 8, 1), 10, |user, _| {
            if user == "ghost" {
                Attempt::AccountRefused
            } else {
                Attempt::Refused
            }
        })
        .await;
        assert_eq!(end, TrialsEnd::Refused);
        assert_eq!(order(&log), ["ghost:1", "real:1", "real:2"]);
    }
}
