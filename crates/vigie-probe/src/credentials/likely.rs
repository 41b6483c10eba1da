//! The accounts a town hall usually has and the passwords most likely for
//! each (issue 16), from two data files with placeholders:
//! `data/accounts.txt` and `data/likely-passwords.txt`.
//!
//! What it must not do: invent a password outside the files (the words are
//! the commune's and its agents' names, nothing else), or let a line with
//! a placeholder that has no value through half-filled ("2026!" for a
//! commune without a name).

use super::{DictionaryError, capitalise, compact};

/// The usual accounts, with placeholders.
pub const ACCOUNTS: &str = include_str!("../../data/accounts.txt");
/// The most likely passwords, most likely first, with placeholders.
pub const LIKELY: &str = include_str!("../../data/likely-passwords.txt");

const ACCOUNT_PLACEHOLDERS: [&str; 4] = ["commune", "prenom", "nom", "p"];
const PASSWORD_PLACEHOLDERS: [&str; 8] = [
    "account",
    "commune",
    "Commune",
    "postcode",
    "year",
    "last_year",
    "prenom",
    "Prenom",
];

/// What the placeholders are filled with.
#[derive(Clone, Debug, Default)]
pub struct Words {
    /// The commune's name, compact ("saintetiennedetinee").
    pub commune: Option<String>,
    pub postcode: Option<String>,
    pub year: i32,
    /// The agents of the identity sheet, (first name, last name), compact.
    pub agents: Vec<(String, String)>,
}

impl Words {
    pub fn new(name: Option<&str>, postcode: Option<&str>, year: i32, agents: &[String]) -> Words {
        Words {
            commune: name.map(compact).filter(|n| !n.is_empty()),
            postcode: postcode
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            year,
            agents: agents.iter().filter_map(|a| agent(a)).collect(),
        }
    }
}

/// An account to try with the likely passwords, and the agent it belongs
/// to (for `{prenom}` in passwords).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usual {
    pub account: String,
    pub prenom: Option<String>,
}

/// The usual accounts of `text` for `words`, in the file's order, each
/// once.
pub fn accounts(text: &str, words: &Words) -> Vec<Usual> {
    let mut found: Vec<Usual> = Vec::new();
    let mut push = |usual: Usual| {
        if !usual.account.is_empty() && !found.iter().any(|u| u.account == usual.account) {
            found.push(usual);
        }
    };
    for line in lines(text) {
        let personal = ["prenom", "nom", "p"]
            .iter()
            .any(|key| line.contains(&format!("{{{key}}}")));
        if personal {
            for (prenom, nom) in &words.agents {
                let initial: String = prenom.chars().take(1).collect();
                let value = |key: &str| match key {
                    "prenom" => Some(prenom.clone()),
                    "nom" => Some(nom.clone()),
                    "p" => Some(initial.clone()),
                    "commune" => words.commune.clone(),
                    _ => None,
                };
                if let Some(account) = expand(line, &value) {
                    push(Usual {
                        account,
                        prenom: Some(prenom.clone()),
                    });
                }
            }
        } else if let Some(account) = expand(line, &|key| match key {
            "commune" => words.commune.clone(),
            _ => None,
        }) {
            push(Usual {
                account,
                prenom: None,
            });
        }
    }
    found
}

/// The likely passwords of `text` for `usual`, most likely first, each once.
pub fn passwords(text: &str, usual: &Usual, words: &Words) -> Vec<String> {
    let value = |key: &str| match key {
        "account" => Some(usual.account.clone()),
        "commune" => words.commune.clone(),
        "Commune" => words.commune.as_deref().map(capitalise),
        "postcode" => words.postcode.clone(),
        "year" => Some(words.year.to_string()),
        "last_year" => Some((words.year - 1).to_string()),
        "prenom" => usual.prenom.clone(),
        "Prenom" => usual.prenom.as_deref().map(capitalise),
        _ => None,
    };
    let mut found: Vec<String> = Vec::new();
    for line in lines(text) {
        if let Some(password) = expand(line, &value)
            && !found.contains(&password)
        {
            found.push(password);
        }
    }
    found
}

/// Checks a file's placeholders: an unknown one is a mistake (a typo would
/// silently skip its line forever).
pub fn check(file: &str, text: &str, passwords: bool) -> Result<(), DictionaryError> {
    let known: &[&str] = if passwords {
        &PASSWORD_PLACEHOLDERS
    } else {
        &ACCOUNT_PLACEHOLDERS
    };
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut rest = line;
        while let Some(open) = rest.find('{') {
            let after = rest.get(open + 1..).unwrap_or_default();
            let Some(close) = after.find('}') else {
                return Err(problem(
                    file,
                    index,
                    format!("« {line} » : « {{ » sans « }} »"),
                ));
            };
            let key = after.get(..close).unwrap_or_default();
            if !known.contains(&key) {
                return Err(problem(
                    file,
                    index,
                    format!(
                        "« {line} » : {{{key}}} inconnu (connus : {})",
                        known.join(", ")
                    ),
                ));
            }
            rest = after.get(close + 1..).unwrap_or_default();
        }
    }
    Ok(())
}

fn problem(file: &str, index: usize, problem: String) -> DictionaryError {
    DictionaryError {
        file: file.to_owned(),
        line: index + 1,
        problem,
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// `line` with each `{key}` replaced; `None` when a key has no value.
fn expand(line: &str, value: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open)?);
        let after = rest.get(open + 1..)?;
        let close = after.find('}')?;
        out.push_str(&value(after.get(..close)?)?);
        rest = after.get(close + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// "Marie-Hélène Le Gall" → ("mariehelene", "legall").
fn agent(name: &str) -> Option<(String, String)> {
    let (first, last) = name.trim().split_once(char::is_whitespace)?;
    let (first, last) = (compact(first), compact(last));
    (!first.is_empty() && !last.is_empty()).then_some((first, last))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test: a panic is the failure report

    use super::*;

    #[test]
    fn the_data_files_are_well_formed() {
        check("accounts.txt", ACCOUNTS, false).unwrap();
        check("likely-passwords.txt", LIKELY, true).unwrap();
        let bad = check("x.txt", "# c\nazerty\n{comune}2026\n", true).unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.problem.contains("{comune} inconnu"), "{}", bad.problem);
    }

    #[test]
    fn usual_accounts_with_the_commune_and_its_agents() {
        let agents = ["Marie-Hélène Le Gall".to_owned(), "Paul".to_owned()];
        let words = Words::new(Some("Saint-Ouen"), None, 2026, &agents);
        let names: Vec<String> = accounts(ACCOUNTS, &words)
            .into_iter()
            .map(|u| u.account)
            .collect();
        for expected in [
            "mairie",
            "secretaire",
            "compta",
            "saintouen",
            "mariehelene.legall",
            "mlegall",
        ] {
            assert!(
                names.contains(&expected.to_owned()),
                "{expected} in {names:?}"
            );
        }
        // Without a name or agents, their lines are skipped, never half-filled.
        let bare = accounts(ACCOUNTS, &Words::new(None, None, 2026, &[]));
        assert!(
            bare.iter()
                .all(|u| !u.account.contains('{') && !u.account.contains('.'))
        );
        assert!(bare.iter().any(|u| u.account == "accueil"));
    }

    #[test]
    fn the_most_likely_passwords_first() {
        let words = Words::new(Some("Écouflant"), Some("49000"), 2026, &[]);
        let usual = Usual {
            account: "accueil".to_owned(),
            prenom: None,
        };
        let all = passwords(LIKELY, &usual, &words);
        assert_eq!(
            &all[..5],
            ["accueil", "123456", "azerty", "ecouflant2026", "motdepasse"]
        );
        for expected in [
            "Ecouflant2026!",
            "soleil",
            "bonjour",
            "mairie49000",
            "ecouflant2025",
        ] {
            assert!(all.contains(&expected.to_owned()), "{expected} in {all:?}");
        }
        assert!(all.iter().all(|p| !p.contains('{')));
        let agent = Usual {
            account: "marie.dupont".to_owned(),
            prenom: Some("marie".to_owned()),
        };
        let theirs = passwords(LIKELY, &agent, &Words::new(None, None, 2026, &[]));
        assert_eq!(
            &theirs[..5],
            [
                "marie.dupont",
                "123456",
                "azerty",
                "motdepasse",
                "Marie2026"
            ]
        );
    }
}
