//! A multipart form as the upload handlers read it (the pre-audit's files,
//! the documentation kit, a campaign's targets, an agreement's and a
//! loan's signed scans): the text fields the handler names, and its one
//! file with a name fit to keep.
//!
//! What it must never do: keep a field the handler did not ask for, or a
//! file name that carries a path, a control character or a quote (it ends
//! up in a `Content-Disposition` header and on pages).

use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;

/// The longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 120;

/// What the form held.
#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(&'static str, String)>,
    /// The file's name as sent (cleaned with [`file_name`] by the caller,
    /// which knows the default) and its bytes; the last one sent.
    pub file: Option<(String, Bytes)>,
}

impl Form {
    /// The last value sent for `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value sent for `name`, in order (checkboxes).
    pub fn texts(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(field, _)| *field == name)
            .map(|(_, value)| value.clone())
            .collect()
    }
}

/// Why a form could not be read, and whether it broke in the file (too
/// large, cut short) or elsewhere: the handlers say the two differently.
#[derive(Debug)]
pub struct ReadError {
    pub in_file: bool,
    pub error: MultipartError,
}

impl ReadError {
    fn outside(error: MultipartError) -> ReadError {
        ReadError {
            in_file: false,
            error,
        }
    }

    /// What went wrong, as the multipart reader says it.
    pub fn body_text(&self) -> String {
        self.error.body_text()
    }
}

/// Reads `form` whole: the text fields among `fields`, and the file sent
/// as `file`. Other fields are passed over unread.
pub async fn read(
    form: &mut Multipart,
    fields: &[&'static str],
    file: &str,
) -> Result<Form, ReadError> {
    let mut out = Form::default();
    while let Some(field) = form.next_field().await.map_err(ReadError::outside)? {
        let name = field.name().unwrap_or_default();
        if name == file {
            let sent = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(|error| ReadError {
                in_file: true,
                error,
            })?;
            out.file = Some((sent, bytes));
        } else if let Some(known) = fields.iter().find(|known| **known == name) {
            out.fields
                .push((known, field.text().await.map_err(ReadError::outside)?));
        }
    }
    Ok(out)
}

/// The 400 for a form that could not be read: a file too large (beyond
/// `max_file` bytes) or cut short, or an unreadable form.
pub fn unreadable(error: &ReadError, max_file: usize) -> crate::AppError {
    crate::AppError::BadRequest(if error.in_file {
        format!(
            "fichier trop gros ou coupé : au plus {} ({})",
            crate::fr::size(i64::try_from(max_file).unwrap_or(i64::MAX)),
            error.body_text()
        )
    } else {
        format!("envoi illisible : {}", error.body_text())
    })
}

/// A file name as kept: its last path part, without control characters
/// or quotes, at most [`MAX_NAME_CHARS`] characters, trimmed; `default`
/// when nothing is left.
pub fn file_name(sent: &str, default: &str) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(MAX_NAME_CHARS)
        .collect();
    match cleaned.trim() {
        "" => default.to_owned(),
        kept => kept.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_lose_their_path_controls_and_quotes() {
        assert_eq!(
            file_name("C:\\Mes documents\\scan \"signé\".pdf", "x"),
            "scan signé.pdf"
        );
        assert_eq!(file_name("../../etc/passwd", "x"), "passwd");
        assert_eq!(file_name(" a\u{7}b ", "x"), "ab");
        assert_eq!(file_name("dossier/", "fichier"), "fichier");
        assert_eq!(file_name(&"é".repeat(200), "x").chars().count(), 120);
    }
}
