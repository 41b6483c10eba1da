//! Accounts a host's own services reveal without any password (issue 16):
//! the Windows user table an SNMP community reads, the home directories an
//! anonymous FTP server lists. They are tried first on the same host's
//! login services (SSH, FTP, Telnet, HTTP basic), each with the passwords
//! most likely for it, still within its budget and with its pause.
//!
//! A host's examinations run side by side, so the revealing ones and the
//! login services meet on a [`Revealed`] board: each revealing port reports
//! what it read (or that it read nothing), and a login service waits for
//! the reports before its trials, never past the board's deadline (a
//! silent SNMP agent trying its communities one timeout at a time is not
//! waited for).
//!
//! What it must not do: keep more than [`MAX_REVEALED`] names per host, or
//! a name that is not a plain account name (it is sent in login commands);
//! the names go to the trials only: findings say how many, never which.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};
use vigie_core::probe::Transport;

use super::Words;
use super::likely::{self, LIKELY, Usual};
use crate::target::Target;

/// Names kept per host: more would push the usual accounts out of any
/// reasonable run time (each costs up to the budget in trials).
pub const MAX_REVEALED: usize = 16;
/// Linux accepts 32 characters (useradd), Windows 20 (SAM names).
pub const MAX_NAME_LEN: usize = 32;

/// Names that are no one's account to try: Windows' built-in accounts that
/// are disabled out of the box, anonymous FTP's, and the shared folders a
/// home directory listing also shows. Compared without case.
const NOT_ACCOUNTS: &[&str] = &[
    "guest",
    "invite",
    "defaultaccount",
    "wdagutilityaccount",
    "krbtgt",
    "nobody",
    "anonymous",
    "ftp",
    "public",
    "default",
    "shared",
    "partage",
];

/// A plain account name from what a service sent: ASCII letters, digits,
/// `.`, `-` and `_`, starting with a letter or digit, at most
/// [`MAX_NAME_LEN`]; `None` for anything else (machine accounts ending in
/// `$`, names with spaces, control characters, non-UTF-8 bytes) and for
/// the names of [`NOT_ACCOUNTS`].
pub fn account_name(raw: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(raw).ok()?.trim();
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let known = NOT_ACCOUNTS.iter().any(|n| n.eq_ignore_ascii_case(name));
    (plain && starts_well && name.len() <= MAX_NAME_LEN && !known).then(|| name.to_owned())
}

/// The candidates with the revealed accounts first, in the order
/// revealed: an account the candidates already have (any case) keeps its
/// own passwords, moved to the front; a new one gets the likely passwords
/// (its own name, 123456, azerty, the commune's name with the year...), a
/// `prenom.nom` one its first name's too. Everything else follows as it was.
pub fn first(
    names: &[String],
    credentials: &[(String, String)],
    words: &Words,
) -> Vec<(String, String)> {
    let mut front: Vec<(String, String)> = Vec::new();
    let mut moved: Vec<&str> = Vec::new();
    for name in names.iter().take(MAX_REVEALED) {
        let known = credentials
            .iter()
            .find(|(account, _)| account.eq_ignore_ascii_case(name))
            .map(|(account, _)| account.as_str());
        match known {
            Some(account) if moved.contains(&account) => {}
            Some(account) => {
                moved.push(account);
                front.extend(credentials.iter().filter(|(a, _)| a == account).cloned());
            }
            None if front.iter().any(|(a, _)| a.eq_ignore_ascii_case(name)) => {}
            None => {
                let usual = Usual {
                    account: name.clone(),
                    prenom: first_name(name),
                };
                let passwords = likely::passwords(LIKELY, &usual, words);
                front.extend(passwords.into_iter().map(|p| (name.clone(), p)));
            }
        }
    }
    let rest = credentials
        .iter()
        .filter(|(account, _)| !moved.contains(&account.as_str()));
    front.extend(rest.cloned());
    front
}

/// "jean.dupont" → "jean": the first name of a `prenom.nom` account.
fn first_name(account: &str) -> Option<String> {
    let (prenom, nom) = account.split_once('.')?;
    let word = |w: &str| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic());
    (word(prenom) && word(nom)).then(|| prenom.to_ascii_lowercase())
}

/// The board a host's examinations share. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Revealed(Arc<Board>);

#[derive(Debug)]
struct Board {
    state: watch::Sender<State>,
    deadline: Instant,
}

#[derive(Debug, Default)]
struct State {
    /// The revealing ports that have not reported yet.
    pending: Vec<(u16, Transport)>,
    names: Vec<String>,
}

impl Default for Revealed {
    /// A board expecting nothing: names reported on it are kept, nobody
    /// waits.
    fn default() -> Revealed {
        Revealed::expecting(&[], Duration::ZERO)
    }
}

impl Revealed {
    /// A host's board, expecting a report from each of `revealers`, waited
    /// for at most `wait` from now.
    pub fn expecting(revealers: &[Target], wait: Duration) -> Revealed {
        let state = State {
            pending: revealers.iter().map(|t| (t.port, t.transport)).collect(),
            names: Vec::new(),
        };
        Revealed(Arc::new(Board {
            state: watch::Sender::new(state),
            deadline: Instant::now() + wait,
        }))
    }

    /// What `target` revealed (names already checked by [`account_name`]);
    /// it has reported. New names are kept, up to [`MAX_REVEALED`].
    pub fn report(&self, target: &Target, names: &[String]) {
        self.0.state.send_modify(|state| {
            state
                .pending
                .retain(|pending| *pending != (target.port, target.transport));
            for name in names {
                let known = state.names.iter().any(|n| n.eq_ignore_ascii_case(name));
                if !known && state.names.len() < MAX_REVEALED {
                    state.names.push(name.clone());
                }
            }
        });
    }

    /// `target` is done, whatever it revealed (a no-op if it reported).
    pub fn settle(&self, target: &Target) {
        self.report(target, &[]);
    }

    /// The names revealed, once every revealing port has reported or the
    /// deadline has passed, whichever comes first.
    pub async fn names(&self) -> Vec<String> {
        let mut reports = self.0.state.subscribe();
        let settled = reports.wait_for(|state| state.pending.is_empty());
        let _ = timeout_at(self.0.deadline, settled).await;
        self.0.state.borrow().names.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect()
    }

    #[test]
    fn only_plain_account_names_are_kept() {
        let check = |raw: &[u8], expected: Option<&str>| {
            assert_eq!(account_name(raw).as_deref(), expected, "{raw:?}");
        };
        check(b"etatcivil", Some("etatcivil"));
        check(b" jean.dupont\r", Some("jean.dupont"));
        check(b"Administrateur", Some("Administrateur"));
        check(b"svc_sauvegarde-2", Some("svc_sauvegarde-2"));
        check(b"PC-ACCUEIL$", None);
        check(b"Jean Dupont", None);
        check("Invité".as_bytes(), None);
        check(b"Guest", None);
        check(b"DefaultAccount", None);
        check(b"Public", None);
        check(b"-rf", None);
        check(b".profile", None);
        check(b"", None);
        check(b"a\nUSER root", None);
        check(&[0xff, 0x61], None);
        check(&[b'a'; MAX_NAME_LEN + 1], None);
    }

    #[test]
    fn revealed_accounts_come_first_with_their_likely_passwords() {
        let credentials = pairs(&[
            ("admin", "admin"),
            ("administrateur", "administrateur"),
            ("administrateur", "123456"),
            ("secretariat", "secretariat"),
        ]);
        let words = Words::new(Some("Vue"), Some("44640"), 2026, &[]);
        let names = ["Administrateur", "etatcivil", "jean.dupont", "ETATCIVIL"].map(str::to_owned);
        let all = first(&names, &credentials, &words);
        let accounts = crate::trials::by_account(&all, 5);
        let order: Vec<&str> = accounts.iter().map(|(a, _)| *a).collect();
        assert_eq!(
            order,
            [
                "administrateur",
                "etatcivil",
                "jean.dupont",
                "admin",
                "secretariat"
            ]
        );
        assert_eq!(accounts[0].1, ["administrateur", "123456"]);
        assert_eq!(
            accounts[1].1,
            ["etatcivil", "123456", "azerty", "vue2026", "motdepasse"]
        );
        let theirs: Vec<&str> = all
            .iter()
            .filter(|(a, _)| a == "jean.dupont")
            .map(|(_, p)| p.as_str())
            .collect();
        assert!(theirs.contains(&"Jean2026"), "{theirs:?}");
        // Nothing revealed: the candidates as they were.
        assert_eq!(first(&[], &credentials, &words), credentials);
    }

    fn target(port: u16) -> Target {
        Target::tcp([10, 66, 0, 1].into(), port)
    }

    #[tokio::test]
    async fn the_board_waits_for_every_report_and_bounds_the_names() {
        let snmp = Target::udp([10, 66, 0, 1].into(), 161);
        let board = Revealed::expecting(&[target(21), snmp], Duration::from_secs(60));
        let waiting = tokio::spawn({
            let board = board.clone();
            async move { board.names().await }
        });
        board.report(&target(21), &["jdupont".to_owned()]);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        let many: Vec<String> = (0..40).map(|i| format!("agent{i}")).collect();
        board.report(&snmp, &many);
        let names = waiting.await.unwrap();
        assert_eq!(names.len(), MAX_REVEALED);
        assert_eq!(names[0], "jdupont");
        board.settle(&snmp);
        assert_eq!(board.names().await.len(), MAX_REVEALED);
    }

    #[tokio::test]
    async fn a_silent_revealer_is_not_waited_for_past_the_deadline() {
        let board = Revealed::expecting(&[target(21)], Duration::from_millis(200));
        let started = Instant::now();
        assert!(board.names().await.is_empty());
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(190), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        // A board expecting nothing answers at once.
        assert!(Revealed::default().names().await.is_empty());
    }
}
