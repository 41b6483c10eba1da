//! E-mail addresses as people type and paste them: a syntactic check
//! strict enough to catch typos and copy-paste debris (RFC 5321 lengths,
//! RFC 5322 atoms, no quoted local parts, no IP literals), and the
//! splitting of a pasted list, `Prénom Nom <a@b.fr>` forms included.
//!
//! It must not try to say whether an address exists (only the relay
//! knows), nor keep anything of a pasted display name: the agreement
//! lists the address, nothing more.

/// The longest address, RFC 5321 §4.5.3.1.3 (a 256-octet path less its
/// angle brackets, RFC 3696 erratum 1690).
pub const MAX_EMAIL_BYTES: usize = 254;
/// RFC 5321 §4.5.3.1.1.
const MAX_LOCAL_BYTES: usize = 64;
/// RFC 1035 §2.3.4.
const MAX_LABEL_BYTES: usize = 63;
/// How much of a refused value an error message quotes.
const SHOWN_CHARS: usize = 60;

/// `text` as a target's address (the domain lower-cased), or why it is
/// not one, in French.
pub fn check(text: &str) -> Result<String, &'static str> {
    if text.len() > MAX_EMAIL_BYTES {
        return Err("elle dépasse 254 caractères");
    }
    if text.chars().any(|c| c.is_whitespace() || is_invisible(c)) {
        return Err("elle contient une espace ou un caractère invisible");
    }
    let (local, domain) = match text.split('@').collect::<Vec<_>>()[..] {
        [local, domain] => (local, domain),
        [_] => return Err("il manque le @"),
        _ => return Err("elle contient plusieurs @"),
    };
    if local.is_empty() {
        return Err("rien avant le @");
    }
    if domain.is_empty() {
        return Err("rien après le @");
    }
    if local.len() > MAX_LOCAL_BYTES {
        return Err("la partie avant le @ dépasse 64 caractères");
    }
    let dots_ok = !local.starts_with('.') && !local.ends_with('.') && !local.contains("..");
    if !dots_ok || !local.chars().all(is_atom_char) {
        return Err("caractère non permis avant le @ (lettres sans accent, chiffres, . - _ +)");
    }
    if !domain.contains('.') {
        return Err("le domaine après le @ n'a pas de point (mairie-exemple.fr, par exemple)");
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_BYTES
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c == '-' || c.is_alphanumeric())
    });
    let top = domain.rsplit('.').next().unwrap_or_default();
    if !labels_ok || top.chars().count() < 2 || top.chars().all(|c| c.is_ascii_digit()) {
        return Err("le domaine après le @ est mal formé");
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// A value quoted in an error message: at most [`SHOWN_CHARS`], control
/// and invisible characters made visible as `�`.
pub fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(SHOWN_CHARS)
        .map(|c| {
            if c.is_control() || is_invisible(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// One entry of a pasted list: the address text, or why the entry cannot
/// give one.
pub type Pasted<'a> = Result<&'a str, (&'a str, &'static str)>;

/// The entries of one pasted line: addresses separated by commas,
/// semicolons or spaces, or written `Name <address>` (the name, possibly
/// quoted and holding commas, is dropped).
pub fn split_pasted(line: &str) -> Vec<Pasted<'_>> {
    let mut entries = Vec::new();
    for chunk in chunks(line) {
        let chunk = chunk.trim();
        if chunk.is_empty() {
            continue;
        }
        let Some((_, bracketed)) = chunk.rsplit_once('<') else {
            entries.extend(chunk.split_whitespace().map(|word| Ok(bare(word))));
            continue;
        };
        match bracketed.split_once('>') {
            Some((address, "")) => entries.push(Ok(bare(address.trim()))),
            Some(_) => entries.push(Err((chunk, "texte après le « > »"))),
            None => entries.push(Err((chunk, "il manque le « > » qui ferme l'adresse"))),
        }
    }
    entries
}

/// `line` cut at commas and semicolons outside double quotes and angle
/// brackets (`"Dupont, Jean" <jean.dupont@x.fr>` is one chunk).
fn chunks(line: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let (mut start, mut quoted, mut bracketed) = (0, false, false);
    for (index, c) in line.char_indices() {
        match c {
            '"' if !bracketed => quoted = !quoted,
            '<' if !quoted => bracketed = true,
            '>' if !quoted => bracketed = false,
            ',' | ';' if !quoted && !bracketed => {
                chunks.push(line.get(start..index).unwrap_or_default());
                start = index + 1;
            }
            _ => {}
        }
    }
    chunks.push(line.get(start..).unwrap_or_default());
    chunks
}

/// An address without what copying often leaves around it: quotes, a
/// `mailto:`.
fn bare(word: &str) -> &str {
    let word = word.trim_matches('"');
    match word.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mailto:") => word.get(7..).unwrap_or(word),
        _ => word,
    }
}

/// RFC 5322 `atext`, plus the dot between atoms.
fn is_atom_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

/// Characters that print as nothing but break an address: what copying
/// from a web page or a word processor brings along (soft hyphen,
/// zero-width spaces and joiners, direction marks, byte-order mark).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let check_ok =
            |text: &str, expected: &str| assert_eq!(check(text).as_deref(), Ok(expected));
        check_ok(
            "jean.dupont@mairie-exemple.fr",
            "jean.dupont@mairie-exemple.fr",
        );
        check_ok(
            "Jean.Dupont@Mairie-Exemple.FR",
            "Jean.Dupont@mairie-exemple.fr",
        );
        check_ok(
            "secretariat+dgs@cc.exemple.fr",
            "secretariat+dgs@cc.exemple.fr",
        );
        check_ok("o'brien@exemple.fr", "o'brien@exemple.fr");
        check_ok("accueil@mairie-évry.fr", "accueil@mairie-évry.fr");
        let refused = |text: &str| assert!(check(text).is_err(), "{text:?}");
        for text in [
            "",
            "jean.dupont@",
            "@mairie.fr",
            "jean.dupont",
            "jean@@mairie.fr",
            "jean@dupont@mairie.fr",
            "jean dupont@mairie.fr",
            "jean\u{200b}@mairie.fr",
            "jean\u{0}@mairie.fr",
            "jean@mairie",
            "jean@mairie.",
            "jean@.mairie.fr",
            "jean@mairie..fr",
            "jean@-mairie.fr",
            "jean@mairie.f",
            "jean@192.168.1.1",
            "jean@[192.168.1.1]",
            ".jean@mairie.fr",
            "jean.@mairie.fr",
            "je..an@mairie.fr",
            "jéan@mairie.fr",
            "\"jean\"@mairie.fr",
            "jean@mai_rie.fr",
        ] {
            refused(text);
        }
        let long_local = format!("{}@mairie.fr", "a".repeat(65));
        refused(&long_local);
        let long = format!("jean@{}.fr", vec!["a".repeat(60); 5].join("."));
        assert_eq!(check(&long), Err("elle dépasse 254 caractères"));
        assert_eq!(check("jean.dupont@"), Err("rien après le @"));
    }

    #[test]
    fn pasted_lines() {
        let check = |line: &str, expected: &[Pasted<'_>]| assert_eq!(split_pasted(line), expected);
        check(
            "a@x.fr, b@x.fr;c@x.fr d@x.fr",
            &[Ok("a@x.fr"), Ok("b@x.fr"), Ok("c@x.fr"), Ok("d@x.fr")],
        );
        check(
            "Jean Dupont <jean@x.fr>; \"Martin, Anne\" <anne@x.fr>",
            &[Ok("jean@x.fr"), Ok("anne@x.fr")],
        );
        check("  ,, ;  ", &[]);
        check(
            "mailto:jean@x.fr \"anne@x.fr\"",
            &[Ok("jean@x.fr"), Ok("anne@x.fr")],
        );
        check(
            "Jean <jean@x.fr",
            &[Err((
                "Jean <jean@x.fr",
                "il manque le « > » qui ferme l'adresse",
            ))],
        );
        check(
            "Jean <jean@x.fr> x",
            &[Err(("Jean <jean@x.fr> x", "texte après le « > »"))],
        );
        // Any text, unmatched quotes and brackets included, splits
        // without panicking.
        for line in ["\"", "<", ">", "\"<,>\"", "é,\"é<é;>", "<<>>,<>"] {
            let _ = split_pasted(line);
        }
    }

    #[test]
    fn refused_values_are_quoted_short_and_visible() {
        assert_eq!(shown("jean\u{200b}@x.fr"), "jean\u{fffd}@x.fr");
        assert_eq!(shown(&"é".repeat(100)), format!("{}…", "é".repeat(60)));
    }
}
