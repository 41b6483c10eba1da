//! Reading the communes referential (`communes.csv`: code, nom,
//! departement, region, population, epci, siren, mairie_email,
//! mairie_telephone, mairie_site), keeping the rows of one département.
//! Every kept row is validated; the first fault is reported with its line.
//! Pure: bytes in, records out.

use std::collections::HashMap;

use super::geojson::{check_code, check_population};
use super::{CommuneCode, TerritoryError, departements};

/// Longer fields are a broken file, not a town hall's contact.
const MAX_FIELD_CHARS: usize = 500;

/// The columns read, by name (others, such as region and siren, are
/// ignored).
const COLUMNS: [&str; 8] = [
    "code",
    "nom",
    "departement",
    "population",
    "epci",
    "mairie_email",
    "mairie_telephone",
    "mairie_site",
];

/// One validated row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvRecord {
    pub code: CommuneCode,
    pub name: String,
    pub population: Option<i64>,
    pub epci: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
}

impl CsvRecord {
    pub fn has_contact(&self) -> bool {
        self.email.is_some() || self.phone.is_some() || self.website.is_some()
    }
}

/// Parses the rows of `departement` (rows of other départements are
/// skipped). `label` names the file in errors.
pub fn parse(
    label: &str,
    bytes: &[u8],
    departement: &str,
) -> Result<Vec<CsvRecord>, TerritoryError> {
    // Lines are counted from the record's byte offset: the csv crate's own
    // count is one short on files with CRLF line ends (the referential's),
    // see `line_at`.
    let line_error = |offset: u64, code: Option<&str>, reason: String| TerritoryError::Line {
        path: label.to_owned(),
        line: line_at(bytes, offset),
        code: code.map(str::to_owned),
        reason,
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| line_error(0, None, format!("unreadable header: {e}")))?
        .clone();
    let mut index = [0usize; COLUMNS.len()];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == column)
            .ok_or_else(|| {
                line_error(
                    0,
                    None,
                    format!("missing column {column:?} (expected {})", COLUMNS.join(",")),
                )
            })?;
    }
    let mut records = Vec::new();
    let mut seen: HashMap<CommuneCode, u64> = HashMap::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            line_error(
                e.position().map_or(0, csv::Position::byte),
                None,
                e.to_string(),
            )
        })?;
        let offset = row.position().map_or(0, csv::Position::byte);
        let field = |i: usize| row.get(index[i]).map(str::trim).unwrap_or_default();
        let code = field(0);
        let row_departement = match field(2) {
            "" => departements::of_commune(code).unwrap_or_default(),
            d => d,
        };
        if row_departement != departement {
            continue;
        }
        let fields: [&str; 8] = std::array::from_fn(field);
        let record = record(fields, departement)
            .map_err(|reason| line_error(offset, Some(code).filter(|c| !c.is_empty()), reason))?;
        if let Some(first) = seen.insert(record.code, offset) {
            let first = line_at(bytes, first);
            return Err(line_error(
                offset,
                Some(code),
                format!("duplicate code, already on line {first}"),
            ));
        }
        records.push(record);
    }
    Ok(records)
}

/// The line (from 1) of the record starting at byte `offset`. With CRLF
/// line ends the csv crate places a record at the "\n" ending the line
/// before it: line ends at `offset` are skipped.
fn line_at(bytes: &[u8], offset: u64) -> u64 {
    let mut end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    while bytes.get(end).is_some_and(|b| *b == b'\r' || *b == b'\n') {
        end += 1;
    }
    let newlines = bytes
        .get(..end)
        .unwrap_or_default()
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    u64::try_from(newlines)
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// Validates one row's fields, in the order of [`COLUMNS`].
fn record(fields: [&str; 8], departement: &str) -> Result<CsvRecord, String> {
    let [code, name, _, population, epci, email, phone, website] = fields;
    if code.is_empty() {
        return Err("missing code".to_owned());
    }
    let code = check_code(code, departement)?;
    if name.is_empty() {
        return Err("missing nom (the commune's name)".to_owned());
    }
    if let Some((column, _)) = COLUMNS
        .iter()
        .zip(fields)
        .find(|(_, f)| f.chars().count() > MAX_FIELD_CHARS)
    {
        return Err(format!(
            "{column} is longer than {MAX_FIELD_CHARS} characters"
        ));
    }
    let population = match population {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .map_err(|_| format!("population {text:?} is not a whole number"))?,
        ),
    };
    if let Some(population) = population {
        check_population(population)?;
    }
    let optional = |f: &str| Some(f.to_owned()).filter(|f| !f.is_empty());
    Ok(CsvRecord {
        code,
        name: name.to_owned(),
        population,
        epci: optional(epci),
        email: optional(email).filter(|e| e.contains('@') && !e.contains(char::is_whitespace)),
        phone: optional(phone),
        website: optional(website).and_then(|w| web_address(&w)),
    })
}

/// A town hall's site as a link users can follow: an http(s) address as
/// is, a bare domain ("www.bajus.fr", a few rows of the referential) made
/// into one; anything else (an e-mail address in the wrong column, another
/// scheme such as `javascript:`) is left out rather than shown as a link.
pub fn web_address(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && !text.contains(char::is_whitespace)
    {
        return Some(text.to_owned());
    }
    let domain = text.split('/').next().unwrap_or_default();
    let is_domain = domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    (is_domain && !text.contains(char::is_whitespace)).then(|| format!("http://{text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "code,nom,departement,region,population,epci,siren,mairie_email,mairie_telephone,mairie_site\n";

    fn parse_rows(rows: &str) -> Result<Vec<CsvRecord>, String> {
        parse("c.csv", format!("{HEADER}{rows}").as_bytes(), "42").map_err(|e| e.to_string())
    }

    #[test]
    fn keeps_the_departement_and_reads_quoted_fields() {
        let records = parse_rows(
            "42001,Aboën,42,84,481,244200770,214200016,mairie@aboen.fr,04 77 50 35 12,\n\
             57001,Aboncourt,57,44,380,,,,,\n\
             42002,\"Ailleux, le bourg\",42,84,,,,pas-une-adresse,,www.ailleux.fr\n",
        )
        .unwrap_or_default();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].email.as_deref(), Some("mairie@aboen.fr"));
        assert_eq!(records[0].epci.as_deref(), Some("244200770"));
        assert_eq!(records[1].name, "Ailleux, le bourg");
        assert_eq!(records[1].population, None);
        assert_eq!(records[1].email, None);
        assert_eq!(records[1].website.as_deref(), Some("http://www.ailleux.fr"));
        assert!(!records[1].has_contact() || records[1].website.is_some());
    }

    fn check_error(rows: &str, expected: &str) {
        let error = parse_rows(rows).err().unwrap_or_default();
        assert!(
            error.contains(expected),
            "{error:?} should contain {expected:?}"
        );
    }

    #[test]
    fn each_fault_names_its_line() {
        check_error(
            "42001,Aboën,42,84,-3,,,,,\n",
            "c.csv: line 2 (code 42001): population -3 is negative",
        );
        check_error("42001,,42,84,3,,,,,\n", "line 2 (code 42001): missing nom");
        check_error(
            "57001,X,42,84,3,,,,,\n",
            "line 2 (code 57001): commune 57001 does not belong to département 42",
        );
        check_error(
            "42001,A,42,84,3,,,,,\n42002,B,42,84,x,,,,,\n",
            "line 3 (code 42002): population \"x\" is not a whole number",
        );
        check_error(
            "42001,A,42,84,3,,,,,\n42001,B,42,84,3,,,,,\n",
            "line 3 (code 42001): duplicate code, already on line 2",
        );
        check_error("42001,A,42,84,3\n", "line 2");
        let crlf = parse(
            "c.csv",
            format!("{HEADER}42001,A,42,84,3,,,,,\r\n42002,B,42,84,-1,,,,,\r\n").as_bytes(),
            "42",
        );
        let error = crlf.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("line 3 (code 42002)"), "{error}");
        let error = parse("c.csv", b"code,name\n42001,A\n", "42")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("missing column \"nom\""), "{error}");
    }

    #[test]
    fn web_addresses() {
        assert_eq!(
            web_address("https://www.ambierle.fr/").as_deref(),
            Some("https://www.ambierle.fr/")
        );
        assert_eq!(
            web_address("www.bajus.fr").as_deref(),
            Some("http://www.bajus.fr")
        );
        assert_eq!(web_address("mairiedesavilly@orange.fr"), None);
        assert_eq!(web_address("javascript:alert(1)"), None);
        assert_eq!(web_address("http://a b"), None);
    }
}
