//! CSV files as the exports write them, for a French spreadsheet (issue
//! 13): semicolons between cells (a comma is the decimal separator in
//! French), UTF-8 with a byte-order mark (without it Excel reads the
//! accents as Windows-1252), quoting as RFC 4180, a header line,
//! and the one place that keeps them from running formulas in a
//! spreadsheet (issue 14, "CSV formula injection"): a text cell starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return (spaces before it
//! included) gets a leading `'`, as OWASP recommends, so that Excel or
//! LibreOffice show it as text. Commune names come from `vigie import`
//! files, labels from sensors: every text cell goes through it. Numbers
//! the code writes are [`Cell::Number`] and stay as they are, negative
//! ones included.

use std::borrow::Cow;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::AppError;

/// The UTF-8 byte-order mark a French spreadsheet needs to read UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One cell of a row.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    /// Text, neutralised if a spreadsheet would read it as a formula.
    Text(&'a str),
    /// A number the code computed, written as is.
    Number(i64),
}

/// A CSV file being written, served as an attachment.
pub struct CsvFile {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvFile {
    /// A file starting with its `header` line.
    pub fn new(header: &[&str]) -> Result<CsvFile, AppError> {
        let mut file = CsvFile {
            writer: csv::WriterBuilder::new()
                .delimiter(b';')
                .from_writer(BOM.to_vec()),
        };
        let cells: Vec<Cell<'_>> = header.iter().map(|name| Cell::Text(name)).collect();
        file.row(&cells)?;
        Ok(file)
    }

    /// Appends a row.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), AppError> {
        let fields: Vec<Cow<'_, str>> = cells
            .iter()
            .map(|cell| match cell {
                Cell::Text(text) => neutralise(text),
                Cell::Number(n) => Cow::Owned(n.to_string()),
            })
            .collect();
        self.writer
            .write_record(fields.iter().map(|field| field.as_bytes()))
            .map_err(|e| AppError::Internal(format!("csv: {e}")))
    }

    /// The file as a download named `filename`.
    pub fn into_response(self, filename: &'static str) -> Result<Response, AppError> {
        let bytes = self
            .writer
            .into_inner()
            .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        let disposition = format!("attachment; filename=\"{filename}\"");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            bytes,
        )
            .into_response())
    }
}

/// `text`, with a leading `'` if a spreadsheet would take it for a
/// formula.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    let first = text.trim_start_matches(' ').chars().next();
    if matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        assert_eq!(neutralise(text), expected, "{text:?}");
    }

    #[test]
    fn formulas_become_text() {
        check(
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "'=HYPERLINK(\"http://evil.example\",\"x\")",
        );
        check("+33 4 77 00 00 00", "'+33 4 77 00 00 00");
        check("-2+3", "'-2+3");
        check("@SUM(A1)", "'@SUM(A1)");
        check("\tcmd", "'\tcmd");
        check("\rcmd", "'\rcmd");
        check("  =1+1", "'  =1+1");
        check("Saint-Étienne", "Saint-Étienne");
        check("L'Hôpital-le-Grand", "L'Hôpital-le-Grand");
        check("42218", "42218");
        check("", "");
    }

    #[test]
    fn numbers_are_written_as_they_are_and_text_is_quoted_when_needed() {
        let mut file = CsvFile::new(&["nom", "score"]).unwrap();
        file.row(&[Cell::Text("=1+1"), Cell::Number(-3)]).unwrap();
        file.row(&[Cell::Text("Roche; \"la\""), Cell::Number(7)])
            .unwrap();
        let text = String::from_utf8(file.writer.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}nom;score\n'=1+1;-3\n\"Roche; \"\"la\"\"\";7\n"
        );
    }
}
