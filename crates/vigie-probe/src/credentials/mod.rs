//! The candidate passwords: the built-in dictionary (`data/passwords.txt`,
//! pairs typical of small networks and devices) plus words of the commune
//! (its name, postcode, the year), which people often pick.
//!
//! What it must not do: hand a module more than the list; the budget per
//! account and the pause between trials are the modules' (`Context`). It
//! never writes a password anywhere.

/// The built-in dictionary, one `account password` pair per line.
pub const BUILTIN: &str = include_str!("../data/passwords.txt");

/// The accounts that are also tried with the commune's words.
const COMMUNE_ACCOUNTS: &[&str] = &["admin", "administrateur", "mairie", "secretariat"];

/// How many dictionary passwords of an account come before the commune's
/// words: the modules stop at their budget (5 by default), so the most
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

/// Passwords made of the commune's words, most likely first: its name
/// (accents, spaces and hyphens removed; lowercase and capitalised),
/// `mairie<postcode>`, the name with this year or last year.
pub fn commune_passwords(name: Option<&str>, postcode: Option<&str>, year: i32) -> Vec<String> {
    let mut words = Vec::new();
    let compact = name.map(compact).filter(|n| !n.is_empty());
    let capital = compact.as_deref().map(capitalise);
    if let (Some(lower), Some(capital)) = (&compact, &capital) {
        words.push(lower.clone());
        words.push(capital.clone());
    }
    if let Some(code) = postcode.map(str::trim).filter(|c| !c.is_empty()) {
        words.push(format!("mairie{code}"));
        words.push(format!("Mairie{code}"));
    }
    for year in [year, year - 1] {
        if let (Some(lower), Some(capital)) = (&compact, &capital) {
            words.push(format!("{capital}{year}!"));
            words.push(format!("{lower}{year}"));
            words.push(format!("{capital}{year}"));
        }
    }
    if let Some(code) = postcode.map(str::trim).filter(|c| !c.is_empty()) {
        words.push(code.to_owned());
        if let Some(lower) = &compact {
            words.push(format!("{lower}{code}"));
        }
    }
    dedup(words)
}

/// The candidates given to the modules (`Context::credentials`): each
/// account's pairs together, the commune's words after the first
/// [`DICTIONARY_FIRST`] dictionary passwords of the usual accounts and of
/// an account named after the commune.
pub fn candidates(
    dictionary: &[(String, String)],
    name: Option<&str>,
    postcode: Option<&str>,
    year: i32,
) -> Vec<(String, String)> {
    let mut accounts: Vec<(String, Vec<String>)> = Vec::new();
    for (account, password) in dictionary {
        match accounts.iter_mut().find(|(a, _)| a == account) {
            Some((_, passwords)) => passwords.push(password.clone()),
            None => accounts.push((account.clone(), vec![password.clone()])),
        }
    }
    let commune = commune_passwords(name, postcode, year);
    if !commune.is_empty() {
        let mut targets: Vec<String> = COMMUNE_ACCOUNTS.iter().map(|a| (*a).to_owned()).collect();
        targets.extend(name.map(compact).filter(|n| !n.is_empty()));
        for account in targets {
            if !accounts.iter().any(|(a, _)| *a == account) {
                accounts.push((account.clone(), Vec::new()));
            }
            if let Some((_, passwords)) = accounts.iter_mut().find(|(a, _)| *a == account) {
                let at = passwords.len().min(DICTIONARY_FIRST);
                let rest = passwords.split_off(at);
                passwords.extend(commune.iter().cloned());
                passwords.extend(rest);
                *passwords = dedup(std::mem::take(passwords));
            }
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
    fn commune_words() {
        assert_eq!(compact("Saint-Étienne-de-Tinée"), "saintetiennedetinee");
        assert_eq!(compact("L'Haÿ-les-Roses"), "lhaylesroses");
        let words = commune_passwords(Some("Écouflant"), Some("49000"), 2026);
        for expected in [
            "ecouflant",
            "Ecouflant",
            "mairie49000",
            "Ecouflant2026!",
            "ecouflant2025",
            "Ecouflant2025",
        ] {
            assert!(
                words.contains(&expected.to_owned()),
                "{expected} in {words:?}"
            );
        }
        assert!(commune_passwords(None, None, 2026).is_empty());
    }

    #[test]
    fn commune_words_come_early_for_the_usual_accounts() {
        let dictionary =
            parse_dictionary("d", "admin admin\nadmin password\nadmin 1234\nroot root\n").unwrap();
        let all = candidates(&dictionary, Some("Vue"), Some("44640"), 2026);
        let admin: Vec<&str> = all
            .iter()
            .filter(|(a, _)| a == "admin")
            .map(|(_, p)| p.as_str())
            .collect();
        assert_eq!(&admin[..4], ["admin", "password", "vue", "Vue"]);
        assert_eq!(admin.last(), Some(&"1234"));
        assert!(all.contains(&("vue".to_owned(), "mairie44640".to_owned())));
        assert!(all.contains(&("secretariat".to_owned(), "Vue2026!".to_owned())));
        assert_eq!(all.iter().filter(|(a, _)| a == "root").count(), 1);
    }
}
