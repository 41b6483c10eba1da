//! The CSV import: what LibreOffice and Excel write in French (`;`
//! between fields, a UTF-8 byte-order mark, CRLF line ends, quoted
//! fields), or plain `,`-separated text. The header names the columns:
//! `email` (or `e-mail`, `courriel`, `mail`), optional `prenom` (`prénom`)
//! and `role` (`rôle`), in any order and case.
//!
//! It must not guess columns from data: a file without a header line is
//! refused with the header to add.

use super::{
    Import, ImportErrors, LineError, MAX_BYTES, MAX_ERRORS_SHOWN, MAX_LINE_BYTES, Role, Target,
    too_big,
};
use crate::fr;

/// The header every error about columns shows.
const EXAMPLE_HEADER: &str = "email;prenom;role";

/// The targets of a CSV file, or every bad line.
pub fn from_csv(bytes: &[u8]) -> Result<Vec<Target>, ImportErrors> {
    if bytes.len() > MAX_BYTES {
        return Err(too_big("Le fichier", bytes.len()));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportErrors::whole(format!(
            "Le fichier est vide : la première ligne nomme les colonnes ({EXAMPLE_HEADER}), \
             puis une personne par ligne."
        )));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(bytes))
        .from_reader(bytes);
    let lines = Lines::of(bytes);
    let mut records = reader.byte_records();
    let mut import = Import::default();
    let columns = loop {
        match records.next() {
            Some(Ok(header)) => break columns(&header, lines.at(header.position()))?,
            Some(Err(_)) => continue,
            None => return Err(ImportErrors::whole("Le fichier est vide.".to_owned())),
        }
    };
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = lines.at(error.position());
                import.error(line, "ligne illisible : vérifiez les guillemets".to_owned());
                continue;
            }
        };
        let line = lines.at(record.position());
        read_line(&mut import, &columns, &record, line);
    }
    import.finish(&format!(
        "Aucune cible : sous la ligne des colonnes ({EXAMPLE_HEADER}), écrivez une personne \
         par ligne."
    ))
}

/// Where each column is, by its position in the header.
struct Columns {
    email: usize,
    first_name: Option<usize>,
    role: Option<usize>,
    /// How many columns the header names.
    count: usize,
}

/// The header's columns, or what is wrong with it (all on its `line`, 1
/// unless blank lines come first).
fn columns(header: &csv::ByteRecord, line: usize) -> Result<Columns, ImportErrors> {
    let refuse = |messages: Vec<String>| {
        let total = messages.len();
        let shown = messages
            .into_iter()
            .take(MAX_ERRORS_SHOWN)
            .map(|message| LineError { line, message })
            .collect();
        ImportErrors { shown, total }
    };
    let mut names: Vec<String> = Vec::new();
    for field in header {
        let Ok(name) = std::str::from_utf8(field) else {
            return Err(refuse(vec![unreadable()]));
        };
        names.push(name.trim().to_lowercase());
    }
    // Spreadsheets often end lines with empty cells.
    while names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    if names.iter().any(|name| name.contains('@')) {
        return Err(refuse(vec![format!(
            "la première ligne doit nommer les colonnes ({EXAMPLE_HEADER}), elle contient \
             une adresse : ajoutez cette ligne en tête du fichier"
        )]));
    }
    let (mut email, mut first_name, mut role) = (None, None, None);
    let mut errors = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let slot = match name.as_str() {
            "email" | "e-mail" | "courriel" | "mail" | "adresse e-mail" => &mut email,
            "prenom" | "prénom" => &mut first_name,
            "role" | "rôle" => &mut role,
            "" => {
                errors.push(format!("la colonne {} n'a pas de nom", index + 1));
                continue;
            }
            other => {
                errors.push(format!(
                    "colonne « {} » inconnue : gardez seulement email, prenom et role",
                    super::address::shown(other)
                ));
                continue;
            }
        };
        if slot.replace(index).is_some() {
            errors.push(format!("la colonne « {name} » apparaît deux fois"));
        }
    }
    match email {
        Some(email) if errors.is_empty() => Ok(Columns {
            email,
            first_name,
            role,
            count: names.len(),
        }),
        None => {
            errors.push(format!(
                "pas de colonne email : la première ligne nomme les colonnes, par exemple \
                 {EXAMPLE_HEADER}"
            ));
            Err(refuse(errors))
        }
        Some(_) => Err(refuse(errors)),
    }
}

/// Reads one data line into `import`: a target, or its errors.
fn read_line(import: &mut Import, columns: &Columns, record: &csv::ByteRecord, line: usize) {
    if record.iter().all(|field| field.trim_ascii().is_empty()) {
        return;
    }
    if record
        .iter()
        .any(|field| field.contains(&b'\n') || field.contains(&b'\r'))
    {
        let message = "un guillemet ouvert sur cette ligne n'est pas refermé : une valeur ne \
                       peut pas passer à la ligne";
        return import.error(line, message.to_owned());
    }
    let length = record.as_slice().len() + record.len();
    if length > MAX_LINE_BYTES {
        let message = format!(
            "ligne trop longue ({} caractères, {} au plus) : une ligne donne une adresse, \
             un prénom et un rôle",
            fr::number(i64::try_from(length).unwrap_or(i64::MAX)),
            fr::number(i64::try_from(MAX_LINE_BYTES).unwrap_or(i64::MAX)),
        );
        return import.error(line, message);
    }
    let Ok(fields) = record
        .iter()
        .map(std::str::from_utf8)
        .collect::<Result<Vec<&str>, _>>()
    else {
        return import.error(line, unreadable());
    };
    let extra = fields.get(columns.count..).unwrap_or_default();
    if extra.iter().any(|field| !field.trim().is_empty()) {
        let message = format!(
            "{} au lieu de {} : si un prénom contient le séparateur, mettez-le entre \
             guillemets",
            fr::count(fields.len(), "colonne", "colonnes"),
            columns.count,
        );
        return import.error(line, message);
    }
    let field = |index: Option<usize>| {
        index
            .and_then(|index| fields.get(index))
            .copied()
            .unwrap_or_default()
    };
    let role = field(columns.role);
    let Some(role) = Role::parse(role) else {
        let message = format!(
            "rôle « {} » inconnu : écrivez agent ou élu (vide vaut agent)",
            super::address::shown(role.trim())
        );
        return import.error(line, message);
    };
    import.add(
        line,
        field(Some(columns.email)),
        field(columns.first_name),
        role,
    );
}

/// Bytes that are not UTF-8: most often a file saved in Windows' own
/// encoding.
fn unreadable() -> String {
    "caractères illisibles : enregistrez le fichier en UTF-8 (Excel : « CSV UTF-8 » ; \
     LibreOffice : jeu de caractères « Unicode (UTF-8) »)"
        .to_owned()
}

/// `;` if the first line has more of them than of `,` (a French
/// spreadsheet's export), tab likewise, else `,`.
fn delimiter(bytes: &[u8]) -> u8 {
    let first = bytes
        .split(|b| *b == b'\n' || *b == b'\r')
        .next()
        .unwrap_or_default();
    let count = |wanted: u8| first.iter().filter(|b| **b == wanted).count();
    [b';', b'\t']
        .into_iter()
        .filter(|d| count(*d) > count(b','))
        .max_by_key(|d| count(*d))
        .unwrap_or(b',')
}

/// Where each line starts, line ends being `\n`, `\r\n` or a lone `\r`
/// as for the csv reader (whose own line count is off with `\r\n`).
struct Lines<'a> {
    bytes: &'a [u8],
    starts: Vec<usize>,
}

impl Lines<'_> {
    fn of(bytes: &[u8]) -> Lines<'_> {
        let mut starts = vec![0];
        for (index, byte) in bytes.iter().enumerate() {
            let ends_line = match byte {
                b'\n' => true,
                b'\r' => bytes.get(index + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                starts.push(index + 1);
            }
        }
        Lines { bytes, starts }
    }

    /// The line (from 1) of the record the csv reader places at `offset`.
    /// After a `\r\n` the reader places the next record on the `\n`: line
    /// ends at `offset` are not part of the record.
    fn at(&self, position: Option<&csv::Position>) -> usize {
        let offset = position.map_or(0, csv::Position::byte);
        let mut offset = usize::try_from(offset).unwrap_or(usize::MAX);
        while matches!(self.bytes.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        self.starts.partition_point(|start| *start <= offset)
    }
}
