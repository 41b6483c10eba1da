//! Password trials shared by the family's login checks: which accounts and
//! passwords to try, within the budget, with the pause, stopping at the
//! first success. It never tries more than `ctx.password_budget`
//! passwords on one account of one service, and never runs when
//! `ctx.try_passwords` is off.

use crate::target::Context;

/// At most this many accounts per service: the dictionary may name many
/// users; trying each would multiply the time spent on one port.
pub const MAX_ACCOUNTS: usize = 6;

/// The passwords to try on one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    pub passwords: Vec<String>,
}

/// What one trial established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Refused,
    /// The service stopped answering or refuses this kind of login (a
    /// method we do not speak, a host ban): no more trials on it.
    GiveUp,
}

/// The accounts to try on a service whose main account is `primary`: the
/// primary account gets the dictionary's passwords for it first, then every
/// other candidate password (the commune's words); each other user of the
/// dictionary gets its own passwords. Empty passwords are left out.
/// `already` passwords were tried on the primary account before (MySQL's
/// empty root password): they count in its budget.
pub fn plan(ctx: &Context, primary: &str, already: usize) -> Vec<Account> {
    if !ctx.try_passwords {
        return Vec::new();
    }
    let mut primary_passwords: Vec<String> = Vec::new();
    // No service here takes an empty password as a trial: MySQL's empty
    // root is its own check, Redis and SNMP have no empty secret, and
    // PostgreSQL refuses empty passwords outright.
    let push = |list: &mut Vec<String>, password: &str| {
        if !password.is_empty() && !list.iter().any(|p| p == password) {
            list.push(password.to_owned());
        }
    };
    for (user, password) in ctx.credentials.iter() {
        if user == primary {
            push(&mut primary_passwords, password);
        }
    }
    for (_, password) in ctx.credentials.iter() {
        push(&mut primary_passwords, password);
    }
    primary_passwords.truncate(ctx.password_budget.saturating_sub(already));
    let mut accounts = vec![Account {
        user: primary.to_owned(),
        passwords: primary_passwords,
    }];
    for (user, password) in ctx.credentials.iter() {
        if user.is_empty() || user == primary {
            continue;
        }
        let index = match accounts.iter().position(|a| &a.user == user) {
            Some(index) => index,
            None if accounts.len() < MAX_ACCOUNTS => {
                accounts.push(Account {
                    user: user.clone(),
                    passwords: Vec::new(),
                });
                accounts.len() - 1
            }
            None => continue,
        };
        if let Some(account) = accounts.get_mut(index)
            && account.passwords.len() < ctx.password_budget
        {
            push(&mut account.passwords, password);
        }
    }
    accounts.retain(|a| !a.passwords.is_empty());
    accounts
}

/// The passwords alone, for services without accounts (Redis'
/// `requirepass`): distinct, within the budget.
pub fn passwords(ctx: &Context) -> Vec<String> {
    plan(ctx, "", 0)
        .into_iter()
        .next()
        .map(|account| account.passwords)
        .unwrap_or_default()
}

/// Hands out the plan's (user, password) pairs one at a time, pausing
/// `ctx.trial_pause` before every pair but the first. A pull loop rather
/// than a callback keeps the callers' futures `Send` (async closures are
/// not yet, rust-lang/rust#110338).
#[derive(Debug)]
pub struct Trials<'a> {
    ctx: &'a Context,
    accounts: &'a [Account],
    account: usize,
    password: usize,
    started: bool,
}

impl<'a> Trials<'a> {
    pub fn new(ctx: &'a Context, accounts: &'a [Account]) -> Trials<'a> {
        Trials {
            ctx,
            accounts,
            account: 0,
            password: 0,
            started: false,
        }
    }

    /// The next pair to try, after the pause; `None` when the plan is done.
    pub async fn next(&mut self) -> Option<(String, String)> {
        loop {
            let account = self.accounts.get(self.account)?;
            let Some(password) = account.passwords.get(self.password) else {
                self.account += 1;
                self.password = 0;
                continue;
            };
            self.password += 1;
            if self.started {
                tokio::time::sleep(self.ctx.trial_pause).await;
            }
            self.started = true;
            return Some((account.user.clone(), password.clone()));
        }
    }
}

/// The evidence of a weak password: the account, never the password.
pub fn evidence(service: &str, user: &str) -> String {
    if user.is_empty() {
        format!("{service} : mot de passe trivial accepté (issu du dictionnaire)")
    } else {
        format!("{service} : compte « {user} » accepté avec un mot de passe trivial")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn ctx(budget: usize, pairs: &[(&str, &str)]) -> Context {
        Context {
            password_budget: budget,
            trial_pause: Duration::ZERO,
            credentials: Arc::new(
                pairs
                    .iter()
                    .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
                    .collect(),
            ),
            ..Context::default()
        }
    }

    #[test]
    fn the_primary_account_gets_its_passwords_first_within_budget() {
        let ctx = ctx(
            3,
            &[
                ("admin", "admin"),
                ("root", "toor"),
                ("root", ""),
                ("root", "root"),
                ("", "plouzane"),
                ("admin", "1234"),
            ],
        );
        let plan = plan(&ctx, "root", 1);
        assert_eq!(plan[0].user, "root");
        assert_eq!(plan[0].passwords, ["toor", "root"]);
        assert_eq!(plan[1].user, "admin");
        assert_eq!(plan[1].passwords, ["admin", "1234"]);
        assert_eq!(plan.len(), 2);
    }

    #[test]
    fn no_plan_without_passwords_allowed() {
        let mut ctx = ctx(5, &[("root", "root")]);
        ctx.try_passwords = false;
        assert!(plan(&ctx, "root", 0).is_empty());
        assert!(passwords(&ctx).is_empty());
    }

    #[tokio::test]
    async fn trials_follow_the_plan_in_order() {
        let ctx = ctx(2, &[("", "a"), ("", "b"), ("", "c"), ("x", "d")]);
        let accounts = plan(&ctx, "default", 0);
        let mut trials = Trials::new(&ctx, &accounts);
        let mut tried = Vec::new();
        while let Some(pair) = trials.next().await {
            tried.push(pair);
        }
        let pair = |u: &str, p: &str| (u.to_owned(), p.to_owned());
        assert_eq!(
            tried,
            [pair("default", "a"), pair("default", "b"), pair("x", "d")]
        );
    }

    #[test]
    fn evidence_never_holds_the_password() {
        assert!(!evidence("Redis", "").contains("secret"));
        assert!(evidence("MySQL", "root").contains("root"));
    }
}
