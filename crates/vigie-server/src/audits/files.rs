//! Files kept with a round: a document that supports an answer (a backup
//! report, a contract page, a screenshot) and the signed scans of the
//! minutes (« procès-verbal d'achèvement de phase », « de fin de
//! mission »). Stored in the database with the round, so replicas share
//! them and a backup of the database holds everything.
//!
//! What it must never do: accept a file larger than [`MAX_FILE`] or of a
//! kind a browser would run (only PDF, images, office documents and text
//! are kept; each is served as a download), or serve a file to anyone who
//! may not see the round.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::FromRow;

use super::visible_audit;
use crate::accounts::{Caller, CsrfMultipart, audit};
use crate::db::now_ms;
use crate::web::upload::{self as form, unreadable};
use crate::{AppError, AppState, fr};

/// The largest file kept (a scanned, signed procès-verbal of a few pages).
pub const MAX_FILE: usize = 10 * 1024 * 1024;
/// The body limit of the upload route: the file and the form around it.
pub const MAX_UPLOAD: usize = MAX_FILE + 64 * 1024;
/// The most files one round keeps.
const MAX_FILES: i64 = 200;

/// The file kinds kept, by their first bytes: (content type, what it is).
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(scan) = crate::web::scan_type(bytes) {
        Some(scan)
    } else if bytes.starts_with(b"PK\x03\x04") {
        // ODT, DOCX, XLSX…: zip containers.
        Some("application/zip")
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

#[derive(Clone, Debug, FromRow)]
pub struct StoredFile {
    pub id: i64,
    pub question: Option<String>,
    pub kind: String,
    pub name: String,
    pub size: i64,
    pub uploaded_at: i64,
}

impl StoredFile {
    pub fn size_fr(&self) -> String {
        fr::size(self.size)
    }

    pub fn date_fr(&self) -> String {
        fr::date(self.uploaded_at)
    }
}

pub async fn list(db: &crate::Db, audit: &str) -> Result<Vec<StoredFile>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, question, kind, name, size, uploaded_at FROM audit_files \
         WHERE audit_id = $1 ORDER BY id",
    )
    .bind(audit)
    .fetch_all(db.read())
    .await?)
}

/// `POST /audits/{audit}/fichiers` (multipart: `csrf`, `kind`,
/// `question`, `file`): keeps one file with the round.
pub(super) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut upload: CsrfMultipart,
) -> Result<Response, AppError> {
    // The session's token, in the form or in `X-CSRF-Token` (a script),
    // is checked before anything is stored; whose round it is decides
    // before the form's shape (404, then 400).
    visible_audit(&state, &caller, &id).await?;
    let mut sent = form::read(&mut upload.form()?, &["csrf", "kind", "question"], "file")
        .await
        .map_err(|e| unreadable(&e, MAX_FILE))?;
    let file = sent
        .file
        .take()
        .map(|(name, bytes)| (form::file_name(&name, "fichier"), bytes));
    upload.check(sent.text("csrf"))?;
    let (kind, question) = (sent.text("kind"), sent.text("question"));

    let round = visible_audit(&state, &caller, &id).await?;
    let kind = match kind {
        Some("signed_minutes") => "signed_minutes",
        _ => "attachment",
    };
    let question = question
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if let Some(q) = &question
        && round.book.question(q).is_none()
    {
        return Err(AppError::BadRequest(format!(
            "question « {q} » inconnue dans ce questionnaire."
        )));
    }
    let Some((name, bytes)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
        return Err(AppError::BadRequest(
            "aucun fichier : choisissez le fichier à joindre.".to_owned(),
        ));
    };
    if bytes.len() > MAX_FILE {
        return Err(AppError::BadRequest(format!(
            "« {name} » : au plus {} par fichier.",
            fr::size(i64::try_from(MAX_FILE).unwrap_or(i64::MAX))
        )));
    }
    let Some(content_type) = sniff(&bytes) else {
        return Err(AppError::BadRequest(format!(
            "« {name} » : seuls les PDF, les images (PNG, JPEG), les documents bureautiques et les textes sont acceptés."
        )));
    };
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_files WHERE audit_id = $1")
        .bind(&round.id)
        .fetch_one(&state.db.pool)
        .await?;
    if count >= MAX_FILES {
        return Err(AppError::BadRequest(format!(
            "cette étape garde déjà {MAX_FILES} fichiers."
        )));
    }
    sqlx::query(
        "INSERT INTO audit_files (audit_id, question, kind, name, content_type, size, content, \
         uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&round.id)
    .bind(&question)
    .bind(kind)
    .bind(&name)
    .bind(content_type)
    .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
    .bind(bytes.to_vec())
    .bind(format!("user:{}", caller.user_id))
    .bind(now_ms())
    .execute(&state.db.pool)
    .await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "audit_file",
        &format!("audit {} file {name} ({kind})", round.id),
    )
    .await;
    Ok(Redirect::to(&format!("/audits/{}#fichiers", round.id)).into_response())
}

#[derive(Deserialize)]
pub(super) struct FileQuery {
    #[serde(default)]
    id: Option<i64>,
}

/// `GET /audits/{audit}/fichiers?id=N`: the file, as a download.
pub(super) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<FileQuery>,
) -> Result<Response, AppError> {
    let round = visible_audit(&state, &caller, &id).await?;
    let Some(file) = query.id else {
        return Err(AppError::BadRequest(
            "« id » manquant : le numéro du fichier.".to_owned(),
        ));
    };
    let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT name, content_type, content FROM audit_files WHERE audit_id = $1 AND id = $2",
    )
    .bind(&round.id)
    .bind(file)
    .fetch_optional(db_read(&state))
    .await?;
    let (name, content_type, content) = row.ok_or(AppError::NotFound)?;
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\""),
            ),
        ],
        content,
    )
        .into_response())
}

fn db_read(state: &AppState) -> &sqlx::AnyPool {
    state.db.read()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"PK\x03\x04...."), Some("application/zip"));
        assert_eq!(
            sniff("Compte rendu été".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(sniff(&[0x4d, 0x5a, 0x90, 0x00]), None); // a Windows program
    }

    #[test]
    fn names_keep_their_last_part() {
        assert_eq!(
            form::file_name("C:\\Users\\mairie\\pv signé.pdf", "fichier"),
            "pv signé.pdf"
        );
        assert_eq!(form::file_name("../../etc/passwd", "fichier"), "passwd");
        assert_eq!(form::file_name("a\"b\n.pdf", "fichier"), "ab.pdf");
        assert_eq!(form::file_name("", "fichier"), "fichier");
    }
}
