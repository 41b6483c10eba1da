//! Version strings compared the way products number their releases:
//! `9.2p1` against `8.5p1` (OpenSSH), `2.4.49` (Apache httpd), `15.1.2176.9`
//! (Exchange), `13.1-49.15` (Citrix), `9.1R14.4` (Ivanti), `2+deb12u3` (a
//! Debian package release). Pure: it never looks anything up.
//!
//! A version is a sequence of numbers and words; separators (`.`, `-`,
//! `_`, `+`, `~`, `:`, space) only split them. Numbers compare as numbers,
//! words alphabetically (case-insensitive), a word sorts before a number
//! at the same place (`1.0rc1` < `1.0.1`), and a version that stops early
//! sorts first (`9.2` < `9.2p1`). When a version is a strict prefix of a
//! bound (`15.1.2176` against `15.1.2176.9`) the answer is not known:
//! [`Version::is_below`] says no rather than guess, so a truncated version
//! never raises a false alarm.

use std::cmp::Ordering;
use std::fmt;

/// Longer strings are not versions (the longest the table uses has ~20
/// characters; banners cap theirs at 255, RFC 4253 §4.2).
pub const MAX_VERSION_LEN: usize = 64;

/// Numbers beyond this are not release numbers.
const MAX_NUMBER_DIGITS: usize = 18;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("empty version")]
    Empty,
    #[error("version longer than {MAX_VERSION_LEN} bytes")]
    TooLong,
    #[error("unexpected character {0:?} in version")]
    Character(char),
    #[error("number with more than {MAX_NUMBER_DIGITS} digits in version")]
    NumberTooLong,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Part {
    Number(u64),
    Word(String),
}

/// A parsed version; `Ord` follows the rules of the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    text: String,
    parts: Vec<Part>,
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        parse(text)
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this version is certainly before `bound`: a version that is
    /// a strict prefix of the bound could be either side, so it is not.
    pub fn is_below(&self, bound: &Version) -> bool {
        self < bound && !self.is_strict_prefix_of(bound)
    }

    fn is_strict_prefix_of(&self, other: &Version) -> bool {
        self.parts.len() < other.parts.len() && other.parts.starts_with(&self.parts)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        for (mine, theirs) in self.parts.iter().zip(&other.parts) {
            let order = match (mine, theirs) {
                (Part::Number(a), Part::Number(b)) => a.cmp(b),
                (Part::Word(a), Part::Word(b)) => a.cmp(b),
                (Part::Word(_), Part::Number(_)) => Ordering::Less,
                (Part::Number(_), Part::Word(_)) => Ordering::Greater,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        self.parts.len().cmp(&other.parts.len())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Parses a version string (the fuzzed entry point).
pub fn parse(text: &str) -> Result<Version, VersionError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(VersionError::Empty);
    }
    if text.len() > MAX_VERSION_LEN {
        return Err(VersionError::TooLong);
    }
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut digits = String::new();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            // Leading zeros carry no meaning ("07" is 7).
            let significant = digits.trim_start_matches('0');
            if significant.len() > MAX_NUMBER_DIGITS {
                return Err(VersionError::NumberTooLong);
            }
            let number = significant.parse::<u64>().unwrap_or(0);
            parts.push(Part::Number(number));
        } else if c.is_ascii_alphabetic() {
            let mut word = String::new();
            while let Some(l) = chars.next_if(char::is_ascii_alphabetic) {
                word.push(l.to_ascii_lowercase());
            }
            parts.push(Part::Word(word));
        } else if matches!(c, '.' | '-' | '_' | '+' | '~' | ':' | ' ') {
            chars.next();
        } else {
            return Err(VersionError::Character(c));
        }
    }
    if parts.is_empty() {
        return Err(VersionError::Empty);
    }
    Ok(Version {
        text: text.to_owned(),
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(a: &str, expected: Ordering, b: &str) {
        let (va, vb) = (parse(a).unwrap(), parse(b).unwrap());
        assert_eq!(va.cmp(&vb), expected, "{a} vs {b}");
        assert_eq!(vb.cmp(&va), expected.reverse(), "{b} vs {a}");
    }

    #[test]
    fn releases_compare_as_their_vendors_number_them() {
        check("9.2p1", Ordering::Greater, "8.5p1");
        check("9.7p1", Ordering::Less, "9.8p1");
        check("9.8p1", Ordering::Equal, "9.8P1");
        check("4.3p2", Ordering::Less, "4.4p1");
        check("9.2", Ordering::Less, "9.2p1");
        check("8.7", Ordering::Greater, "8.5p1");
        check("2.4.49", Ordering::Less, "2.4.51");
        check("2.4.9", Ordering::Less, "2.4.49");
        check("1.22.1", Ordering::Greater, "1.14");
        check("15.1.2176.9", Ordering::Greater, "15.1.2106.13");
        check("13.1-49.15", Ordering::Greater, "13.1-37.164");
        check("9.1R14.4", Ordering::Less, "9.1R18.3");
        check("1.0rc1", Ordering::Less, "1.0.1");
        check("2+deb12u10", Ordering::Greater, "2+deb12u3");
        check("3ubuntu0.10", Ordering::Greater, "3ubuntu0.9");
        check("007", Ordering::Equal, "7");
    }

    #[test]
    fn a_truncated_version_is_never_certainly_below() {
        let bound = parse("15.1.2176.9").unwrap();
        assert!(!parse("15.1.2176").unwrap().is_below(&bound));
        assert!(parse("15.1.2106").unwrap().is_below(&bound));
        assert!(parse("15.1.2176.2").unwrap().is_below(&bound));
        assert!(!parse("15.1.2176.9").unwrap().is_below(&bound));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(parse(""), Err(VersionError::Empty));
        assert_eq!(parse(" ..-"), Err(VersionError::Empty));
        assert_eq!(parse("1.0/2"), Err(VersionError::Character('/')));
        assert_eq!(parse(&"1".repeat(65)), Err(VersionError::TooLong));
        assert_eq!(parse(&"9".repeat(19)), Err(VersionError::NumberTooLong));
        assert_eq!(parse("é"), Err(VersionError::Character('é')));
    }
}
