//! The départements (and overseas collectivities) a territory can be made
//! of: their codes, names and the name a territory made of one of them
//! takes. The list lives in `data/territory/departements.csv`, parsed on
//! first use and checked by a test.

use std::collections::HashMap;
use std::sync::OnceLock;

const DEPARTEMENTS_CSV: &str = include_str!("../../data/territory/departements.csv");

/// One département of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departement {
    pub code: String,
    /// Its name ("Loire").
    pub name: String,
    /// The name of a territory made of it ("Département de la Loire").
    pub territory_name: String,
}

/// Looks up a département by its code ("42", "2A", "974").
pub fn find(code: &str) -> Option<&'static Departement> {
    all().get(code)
}

/// The département an INSEE commune code belongs to: its first two
/// characters ("2A004" → "2A"), or three for the overseas ones whose codes
/// start with 97 or 98 ("97411" → "974").
pub fn of_commune(code: &str) -> Option<&str> {
    let len = if code.starts_with("97") || code.starts_with("98") {
        3
    } else {
        2
    };
    code.get(..len)
}

fn all() -> &'static HashMap<String, Departement> {
    static ALL: OnceLock<HashMap<String, Departement>> = OnceLock::new();
    ALL.get_or_init(|| parse(DEPARTEMENTS_CSV))
}

/// Parses the embedded list; a malformed line is skipped (and fails the
/// unit test that checks the file).
fn parse(text: &str) -> HashMap<String, Departement> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|record| {
            let field = |i: usize| record.get(i).map(str::to_owned).filter(|f| !f.is_empty());
            Some(Departement {
                code: field(0)?,
                name: field(1)?,
                territory_name: field(2)?,
            })
        })
        .map(|d| (d.code.clone(), d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_is_complete_and_well_formed() {
        let lines = DEPARTEMENTS_CSV.lines().count() - 1;
        assert_eq!(all().len(), lines, "every line parses, no duplicate code");
        // 96 metropolitan (with 2A/2B, without 20), 5 overseas départements,
        // 8 other overseas collectivities with INSEE commune codes.
        assert_eq!(lines, 109);
        assert_eq!(
            find("42").map(|d| d.territory_name.as_str()),
            Some("Département de la Loire")
        );
        assert_eq!(find("57").map(|d| d.name.as_str()), Some("Moselle"));
        assert!(find("20").is_none());
        for d in all().values() {
            assert!(d.territory_name.contains(d.name.as_str()), "{d:?}");
        }
    }

    fn check(code: &str, expected: Option<&str>) {
        assert_eq!(of_commune(code), expected, "{code}");
    }

    #[test]
    fn departement_of_a_commune() {
        check("42059", Some("42"));
        check("2A004", Some("2A"));
        check("2B033", Some("2B"));
        check("97411", Some("974"));
        check("97101", Some("971"));
        check("98735", Some("987"));
        check("01001", Some("01"));
        check("9", None);
    }
}
