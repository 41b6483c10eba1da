//! Sign-in attempts, counted in the database so that every replica sharing
//! it counts the same, and counted *before* the password is checked, in one
//! atomic step: checking first and recording the failure afterwards let 20
//! wrong passwords sent at once all be tried (issue 14).
//!
//! An attempt is counted under three keys, and refused (429) when any of
//! them has had enough:
//! - the account from this client: `login_max_failures` in the window;
//! - the client, whatever the account: `login_max_per_client`;
//! - the account, whatever the client: after `login_account_free`
//!   attempts, one more every 1, 2, 4… seconds up to
//!   `login_max_backoff_secs`. A stranger can slow an account down but not
//!   lock its owner out: from their own address, the owner waits at most
//!   that long.
//!
//! A successful sign-in gives back what it took from its client and clears
//! the account's counters. Keys are stored hashed (no e-mail address or
//! client address in this table), and rows whose window and backoff have
//! passed are pruned whenever a new key is counted, so the table holds
//! only the current window's attempts.

use crate::ServerSettings;
use crate::db::{Db, now_ms, token_hash};
use crate::web::ClientAddr;

/// A counter changed under our feet this many times in a row is given up
/// (the attempt is then refused as if limited: something is hammering it).
const MAX_RACES: usize = 16;

/// The keys an attempt was counted under, to give back on success.
#[derive(Debug)]
pub struct Reservation {
    pair: String,
    client: String,
    account: String,
}

/// The answer to "may this attempt be tried?".
#[derive(Debug)]
pub enum Verdict {
    Allowed(Reservation),
    /// Refused; the client may try again after this many seconds.
    Refused {
        retry_after_secs: i64,
    },
}

/// How one key is limited.
#[derive(Clone, Copy, Debug)]
struct Rule {
    /// Attempts allowed in the window.
    max: i64,
    /// Attempts in the window before each further one must wait.
    free: i64,
    max_backoff_ms: i64,
}

/// A counter's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counter {
    count: i64,
    window_start: i64,
    next_at: i64,
}

/// Counts a sign-in attempt for `email` from `client`, or says how long to
/// wait. Called before the password is looked at.
pub async fn reserve(
    db: &Db,
    settings: &ServerSettings,
    email: &str,
    client: &ClientAddr,
) -> Result<Verdict, sqlx::Error> {
    let client_key = client.key();
    let reservation = Reservation {
        pair: token_hash(&format!("pair\n{email}\n{client_key}")),
        client: token_hash(&format!("client\n{client_key}")),
        account: token_hash(&format!("account\n{email}")),
    };
    let window_ms = settings.login_window_secs.max(1) * 1000;
    let rules = [
        (&reservation.pair, Rule::plain(settings.login_max_failures)),
        (
            &reservation.client,
            Rule::plain(settings.login_max_per_client),
        ),
        (
            &reservation.account,
            Rule {
                max: i64::MAX,
                free: settings.login_account_free,
                max_backoff_ms: settings.login_max_backoff_secs.max(1) * 1000,
            },
        ),
    ];
    for (key, rule) in rules {
        if let Err(wait_ms) = take(db, key, rule, window_ms).await? {
            let retry_after_secs = (wait_ms + 999) / 1000;
            return Ok(Verdict::Refused {
                retry_after_secs: retry_after_secs.max(1),
            });
        }
    }
    Ok(Verdict::Allowed(reservation))
}

/// After a successful sign-in: the attempt is given back to the client and
/// the account's counters are cleared.
pub async fn succeeded(db: &Db, reservation: &Reservation) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_limits WHERE key = $1 OR key = $2")
        .bind(&reservation.pair)
        .bind(&reservation.account)
        .execute(&db.pool)
        .await?;
    sqlx::query("UPDATE login_limits SET count = count - 1 WHERE key = $1 AND count > 0")
        .bind(&reservation.client)
        .execute(&db.pool)
        .await?;
    Ok(())
}

impl Rule {
    fn plain(max: i64) -> Rule {
        Rule {
            max,
            free: i64::MAX,
            max_backoff_ms: 0,
        }
    }

    /// When the attempt after the `count`-th may come; 0, at once, before
    /// the backoff starts. (Never "now": attempts sent together read the
    /// clock in any order, and a later one must not be held back by one
    /// that read it a millisecond after it.)
    fn next_at(&self, count: i64, now: i64) -> i64 {
        if count < self.free {
            return 0;
        }
        let doublings = u32::try_from((count - self.free).min(30)).unwrap_or(30);
        now + (1000_i64 << doublings).min(self.max_backoff_ms)
    }
}

impl Rule {
    /// [`Rule::next_at`] as SQL, for the count `count` (an expression) at
    /// the time `now` (a parameter): the doubling steps spelled out, since
    /// SQLite has no power function. Only integers of ours go into it.
    fn next_at_sql(&self, count: &str, now: &str) -> String {
        if self.free == i64::MAX {
            return "0".to_owned();
        }
        let mut sql = format!("CASE WHEN {count} < {} THEN 0", self.free);
        for doublings in 0..31u32 {
            let wait = 1000_i64 << doublings;
            if wait >= self.max_backoff_ms {
                break;
            }
            let at = self.free.saturating_add(i64::from(doublings));
            sql.push_str(&format!(" WHEN {count} = {at} THEN {now} + {wait}"));
        }
        sql.push_str(&format!(" ELSE {now} + {} END", self.max_backoff_ms));
        sql
    }
}

impl Counter {
    /// The counter after one more attempt at `now`, or how many
    /// milliseconds to wait.
    fn after_attempt(&self, rule: Rule, window_ms: i64, now: i64) -> Result<Counter, i64> {
        let fresh = self.window_start + window_ms <= now;
        let (count, window_start) = if fresh {
            (0, now)
        } else {
            (self.count, self.window_start)
        };
        if count >= rule.max {
            return Err(window_start + window_ms - now);
        }
        if !fresh && now < self.next_at {
            return Err(self.next_at - now);
        }
        let count = count + 1;
        Ok(Counter {
            count,
            window_start,
            next_at: rule.next_at(count, now),
        })
    }
}

/// Counts one attempt under `key`. `Err(ms)` when refused.
///
/// The usual case is one statement: the row's count goes up only if it is
/// in its window, under the maximum and past its backoff, and the answer
/// says whether it did. Both SQLite and PostgreSQL evaluate an `UPDATE`'s
/// `WHERE` on the row's latest version, so attempts sent together are
/// counted one after the other and no more than the maximum get through,
/// however many arrive at once. Only a new key or a window that has ended
/// is written by compare-and-swap, and retried if another attempt did it
/// first.
async fn take(
    db: &Db,
    key: &str,
    rule: Rule,
    window_ms: i64,
) -> Result<Result<(), i64>, sqlx::Error> {
    for _ in 0..MAX_RACES {
        let now = now_ms();
        let counted = sqlx::query(&format!(
            "UPDATE login_limits SET count = count + 1, next_at = {} \
             WHERE key = $1 AND window_start > $2 AND count < $3 AND next_at <= $4",
            rule.next_at_sql("count + 1", "$4")
        ))
        .bind(key)
        .bind(now - window_ms)
        .bind(rule.max)
        .bind(now)
        .execute(&db.pool)
        .await?;
        if counted.rows_affected() == 1 {
            return Ok(Ok(()));
        }
        let row: Option<(i64, i64, i64)> =
            sqlx::query_as("SELECT count, window_start, next_at FROM login_limits WHERE key = $1")
                .bind(key)
                .fetch_optional(&db.pool)
                .await?;
        let first = Counter {
            count: 1,
            window_start: now,
            next_at: rule.next_at(1, now),
        };
        let written = match row {
            None => {
                prune(db, window_ms, now).await?;
                sqlx::query(
                    "INSERT INTO login_limits (key, count, window_start, next_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(first.count)
                .bind(first.window_start)
                .bind(first.next_at)
                .execute(&db.pool)
                .await?
            }
            Some((count, window_start, next_at)) => {
                let old = Counter {
                    count,
                    window_start,
                    next_at,
                };
                if let Err(wait_ms) = old.after_attempt(rule, window_ms, now) {
                    return Ok(Err(wait_ms));
                }
                if window_start + window_ms > now {
                    // Still in its window and now allowed: the backoff or
                    // the window ended between the two statements. Again.
                    continue;
                }
                // The window has ended: start a new one, once.
                sqlx::query(
                    "UPDATE login_limits SET count = $1, window_start = $2, next_at = $3 \
                     WHERE key = $4 AND window_start = $5",
                )
                .bind(first.count)
                .bind(first.window_start)
                .bind(first.next_at)
                .bind(key)
                .bind(window_start)
                .execute(&db.pool)
                .await?
            }
        };
        if written.rows_affected() == 1 {
            return Ok(Ok(()));
        }
    }
    tracing::warn!("sign-in counter contended {MAX_RACES} times in a row: attempt refused");
    Ok(Err(1000))
}

/// Removes the counters whose window and backoff have both passed.
async fn prune(db: &Db, window_ms: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_limits WHERE window_start <= $1 AND next_at <= $2")
        .bind(now - window_ms)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: i64 = 900_000;

    fn counter(count: i64, window_start: i64, next_at: i64) -> Counter {
        Counter {
            count,
            window_start,
            next_at,
        }
    }

    #[test]
    fn a_plain_rule_stops_at_its_maximum_until_the_window_ends() {
        let rule = Rule::plain(5);
        let full = counter(5, 1_000, 1_000);
        assert_eq!(full.after_attempt(rule, WINDOW, 2_000), Err(WINDOW - 1_000));
        let next = full.after_attempt(rule, WINDOW, 1_000 + WINDOW).unwrap();
        assert_eq!(next, counter(1, 1_000 + WINDOW, 0));
        let four = counter(4, 1_000, 1_000);
        assert_eq!(four.after_attempt(rule, WINDOW, 5_000).unwrap().count, 5);
    }

    #[test]
    fn the_backoff_in_sql_is_the_backoff_in_rust() {
        let rule = Rule {
            max: i64::MAX,
            free: 10,
            max_backoff_ms: 60_000,
        };
        assert_eq!(
            rule.next_at_sql("c", "$4"),
            "CASE WHEN c < 10 THEN 0 WHEN c = 10 THEN $4 + 1000 WHEN c = 11 THEN $4 + 2000 \
             WHEN c = 12 THEN $4 + 4000 WHEN c = 13 THEN $4 + 8000 WHEN c = 14 THEN $4 + 16000 \
             WHEN c = 15 THEN $4 + 32000 ELSE $4 + 60000 END"
        );
        for count in [9, 10, 12, 15, 16, 40] {
            let step = rule.next_at(count, 0);
            let sql = rule.next_at_sql("c", "$4");
            assert!(
                step == 0 || sql.contains(&format!("$4 + {step}")),
                "{count}: {step}"
            );
        }
        assert_eq!(Rule::plain(5).next_at_sql("c", "$4"), "0");
    }

    #[test]
    fn an_account_backs_off_instead_of_locking() {
        let rule = Rule {
            max: i64::MAX,
            free: 10,
            max_backoff_ms: 60_000,
        };
        assert_eq!(rule.next_at(9, 0), 0);
        assert_eq!(rule.next_at(10, 0), 1_000);
        assert_eq!(rule.next_at(11, 0), 2_000);
        assert_eq!(rule.next_at(15, 0), 32_000);
        assert_eq!(rule.next_at(16, 0), 60_000);
        assert_eq!(rule.next_at(i64::MAX, 0), 60_000);
        // Waiting is enough: never more than the longest backoff.
        let slowed = counter(40, 0, 60_000);
        assert_eq!(slowed.after_attempt(rule, WINDOW, 30_000), Err(30_000));
        let later = slowed.after_attempt(rule, WINDOW, 60_000).unwrap();
        assert_eq!(later, counter(41, 0, 120_000));
    }
}
