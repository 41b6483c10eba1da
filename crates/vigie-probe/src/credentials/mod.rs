//! The candidate passwords: the built-in dictionary (`data/passwords.txt`,
//! pairs typical of small networks and devices), then for every account a
//! town hall usually has (`data/accounts.txt`, with the commune's and its
//! agents' names) the passwords most likely for it
//! (`data/likely-passwords.txt`: the account's name, azerty, 123456, the
//! commune's name with the year...), most likely first ([`likely`]); on
//! each host, the accounts its own services reveal come first
//! ([`revealed`]).
//!
//! What it must not do: hand a module more than the list; the budget per
//! account and the pause between trials are the modules' (`Context`). It
//! never writes a password anywhere.

pub mod likely;
pub mod revealed;

pub use likely::Words;
pub use revealed::Revealed;

/// The built-in dictionary, one `account password` pair per line.
pub const BUILTIN: &str = include_str!("../../data/passwords.txt");

/// How many dictionary passwords of a usual account come before its likely
/// passwords: the modules stop at their budget (5 by default), so the most
/// likely candidates of both kinds must come first.
const DICTIONARY_FIRST: usize = 2;

#[derive(Debug, thiserror::Error)]
#[error("{file}, ligne {line} : {problem}")]
pub struct DictionaryError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

/// Parses a dictionary: `account password` per line, `""` for an empty
/// password, `#` comments.
pub fn parse_dictionary(file: &str, text: &str) -> Result<Vec<(String, String)>, DictionaryError> {
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((account, password)) = line.split_once(char::is_whitespace) else {
            return Err(DictionaryError {
                file: file.to_owned(),
                line: index + 1,
                problem: format!(
                    "« {line} » : compte et mot de passe attendus (\"\" pour un mot de passe vide)"
                ),
            });
        };
        let password = match password.trim() {
            "\"\"" => "",
            other => other,
        };
        pairs.push((account.to_owned(), password.to_owned()));
    }
    Ok(pairs)
}

/// The built-in dictionary (checked by a test, so never empty in a release).
pub fn dictionary() -> Vec<(String, String)> {
    parse_dictionary("passwords.txt", BUILTIN).unwrap_or_else(|error| {
        tracing::error!(%error, "built-in password dictionary");
        Vec::new()
    })
}

/// The candidates given to the modules (`Context::credentials`), each
/// account's pairs together: the dictionary's accounts with their pairs,
/// and every usual account of a town hall (`data/accounts.txt`: the
/// commune's, its agents') with, after its first [`DICTIONARY_FIRST`]
/// dictionary passwords, the passwords most likely for it
/// (`data/likely-passwords.txt`), so that within the budget each account
/// gets the likeliest ones first (issue 16).
pub fn candidates(dictionary: &[(String, String)], words: &Words) -> Vec<(String, String)> {
    let mut accounts: Vec<(String, Vec<String>)> = Vec::new();
    for (account, password) in dictionary {
        match accounts.iter_mut().find(|(a, _)| a == account) {
            Some((_, passwords)) => passwords.push(password.clone()),
            None => accounts.push((account.clone(), vec![password.clone()])),
        }
    }
    for usual in likely::accounts(likely::ACCOUNTS, words) {
        if !accounts.iter().any(|(a, _)| *a == usual.account) {
            accounts.push((usual.account.clone(), Vec::new()));
        }
        if let Some((_, passwords)) = accounts.iter_mut().find(|(a, _)| *a == usual.account) {
            let at = passwords.len().min(DICTIONARY_FIRST);
            let rest = passwords.split_off(at);
            passwords.extend(likely::passwords(likely::LIKELY, &usual, words));
            passwords.extend(rest);
            *passwords = dedup(std::mem::take(passwords));
        }
    }
    accounts
        .into_iter()
        .flat_map(|(account, passwords)| passwords.into_iter().map(move |p| (account.clone(), p)))
        .collect()
}

/// `Saint-Étienne-de-Tinée` → `saintetiennedetinee`.
pub fn compact(name: &str) -> String {
    strip_accents(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Replaces the accented letters of French (and a few neighbours) with
/// their base letter; ligatures become two letters.
pub fn strip_accents(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let base = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => "a",
            'À' | 'Â' | 'Ä' | 'Á' | 'Ã' | 'Å' => "A",
            'ç' => "c",
            'Ç' => "C",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'É' | 'È' | 'Ê' | 'Ë' => "E",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'Î' | 'Ï' | 'Í' | 'Ì' => "I",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'Ô' | 'Ö' | 'Ó' | 'Ò' | 'Õ' => "O",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'Ù' | 'Û' | 'Ü' | 'Ú' => "U",
            'ÿ' => "y",
            'Ÿ' => "Y",
            'ñ' => "n",
            'Ñ' => "N",
            'œ' => "oe",
            'Œ' => "OE",
            'æ' => "ae",
            'Æ' => "AE",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(base);
    }
    out
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn dedup(words: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    words
        .into_iter()
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_dictionary_loads() {
        let pairs = parse_dictionary("passwords.txt", BUILTIN).unwrap();
        assert!(pairs.len() > 30);
        assert!(pairs.contains(&("admin".to_owned(), "admin".to_owned())));
        assert!(pairs.contains(&("root".to_owned(), String::new())));
        let bad = parse_dictionary("mine.txt", "admin admin\nlonely\n").unwrap_err();
        assert_eq!((bad.file.as_str(), bad.line), ("mine.txt", 2));
    }

    #[test]
    fn names_are_compacted() {
        assert_eq!(compact("Saint-Étienne-de-Tinée"), "saintetiennedetinee");
        assert_eq!(compact("L'Haÿ-les-Roses"), "lhaylesroses");
    }

    #[test]
    fn likely_passwords_come_early_for_the_usual_accounts() {
        let dictionary =
            parse_dictionary("d", "admin admin\nadmin password\nadmin 1234\nroot root\n").unwrap();
        let words = Words::new(Some("Vue"), Some("44640"), 2026, &[]);
        let all = candidates(&dictionary, &words);
        let of = |account: &str| -> Vec<&str> {
            all.iter()
                .filter(|(a, _)| a == account)
                .map(|(_, p)| p.as_str())
                .collect()
        };
        let admin = of("admin");
        assert_eq!(
            &admin[..5],
            ["admin", "password", "123456", "azerty", "vue2026"]
        );
        assert_eq!(admin.last(), Some(&"1234"));
        assert_eq!(&of("vue")[..3], ["vue", "123456", "azerty"]);
        assert!(of("secretariat").contains(&"Vue2026!"));
        assert_eq!(of("root"), ["root"]);
    }

    /// Issue 16: an account of the dictionary whose password is a common
    /// French one, paired with it nowhere, is tried with it within its
    /// budget of 5.
    #[test]
    fn issue16_a_common_french_password_is_tried_on_the_usual_accounts() {
        let all = candidates(
            &dictionary(),
            &Words::new(Some("Vigie-Lab"), None, 2026, &[]),
        );
        assert!(!BUILTIN.contains("secretariat azerty"));
        let first_five: Vec<&str> = crate::trials::by_account(&all, 5)
            .into_iter()
            .find(|(account, _)| *account == "secretariat")
            .map(|(_, passwords)| passwords)
            .unwrap();
        assert!(first_five.contains(&"azerty"), "{first_five:?}");
        assert!(first_five.contains(&"123456"), "{first_five:?}");
    }
}
