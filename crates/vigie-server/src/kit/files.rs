//! The kit's files: the staff upload the territory's presentation slides,
//! procedure templates and the operator's catalogue; every signed-in user
//! downloads them. Stored in the database (`kit_files`), so replicas share
//! them and a backup of the database holds everything.
//!
//! What it must never do: keep a file larger than [`MAX_FILE`], of a kind
//! not recognised from its bytes by `sniff` (never from its name), or with
//! macros; serve one inline (always a download, with a safe name).

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::FromRow;

use super::pages::{Notice, kit_page};
use super::sniff::{self, Kind};
use super::{Section, clean_text};
use crate::accounts::{Caller, ConfirmForm, CsrfForm, CsrfMultipart, Staff, audit};
use crate::db::{Db, now_ms};
use crate::web::upload as form;
use crate::{AppError, AppState, fr};

/// The largest file kept: a slide deck with photos.
pub const MAX_FILE: usize = 20 * 1024 * 1024;
/// The body limit of the upload route: the file and the form around it.
pub const MAX_UPLOAD: usize = MAX_FILE + 64 * 1024;
/// The most files the kit keeps.
const MAX_FILES: i64 = 200;

/// A file as listed (without its content).
#[derive(Clone, Debug, FromRow)]
pub struct KitFile {
    pub id: i64,
    pub section: String,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub size: i64,
    pub uploaded_at: i64,
}

impl KitFile {
    /// « présentation (PPTX), 2,4 Mo, du 14/07/2026 ».
    pub fn facts_fr(&self) -> String {
        let kind = Kind::parse(&self.kind).map_or("fichier", Kind::label_fr);
        format!(
            "{kind}, {}, du {}",
            fr::size(self.size),
            fr::date(self.uploaded_at)
        )
    }
}

pub async fn list(db: &Db) -> Result<Vec<KitFile>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, section, title, description, kind, size, uploaded_at FROM kit_files \
         ORDER BY uploaded_at DESC, id DESC",
    )
    .fetch_all(db.read())
    .await?)
}

/// What the upload form carries.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    section: String,
    title: String,
    description: String,
    file: Option<(String, axum::body::Bytes)>,
}

async fn read_form(mut multipart: Multipart) -> Result<Upload, AppError> {
    let mut sent = form::read(
        &mut multipart,
        &["csrf", "section", "title", "description"],
        "file",
    )
    .await
    .map_err(|e| {
        AppError::BadRequest(format!(
            "envoi illisible ou trop gros (au plus {} par fichier) : {}",
            fr::size(i64::try_from(MAX_FILE).unwrap_or(i64::MAX)),
            e.body_text()
        ))
    })?;
    let text = |name: &str| sent.text(name).unwrap_or_default().to_owned();
    Ok(Upload {
        csrf: sent.text("csrf").map(str::to_owned),
        section: text("section"),
        title: text("title"),
        description: text("description"),
        file: sent
            .file
            .take()
            .map(|(name, bytes)| (form::file_name(&name, "document"), bytes)),
    })
}

/// `POST /kit/fichiers` (multipart: `csrf`, `section`, `title`,
/// `description`, `file`).
pub(super) async fn upload(
    State(state): State<AppState>,
    Staff(caller): Staff,
    mut form: CsrfMultipart,
) -> Result<Response, AppError> {
    // The session's token, in the form or in `X-CSRF-Token` (a script),
    // is checked before anything is stored; bearer callers need none.
    let upload = read_form(form.form()?).await?;
    form.check(upload.csrf.as_deref())?;
    match check(&state.db, &upload).await? {
        Ok((section, kind)) => {
            store(&state.db, &caller, &upload, section, kind).await?;
            Ok(Redirect::to("/kit#documents").into_response())
        }
        Err(message) => {
            let page = kit_page(&state, &caller, Notice::Error(message)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

/// The form's section and the file's kind, or what is wrong, in French.
async fn check(db: &Db, upload: &Upload) -> Result<Result<(Section, Kind), String>, AppError> {
    let Some(section) = Section::parse(&upload.section) else {
        return Ok(Err("Choisissez la rubrique du fichier.".to_owned()));
    };
    if let Err(why) = clean_text(&upload.title, "Titre", 200)
        .and_then(|_| clean_text(&upload.description, "Description", 1000))
    {
        return Ok(Err(why));
    }
    let Some((name, bytes)) = upload.file.as_ref().filter(|(_, b)| !b.is_empty()) else {
        return Ok(Err(
            "Aucun fichier : choisissez le fichier à ajouter.".to_owned()
        ));
    };
    if bytes.len() > MAX_FILE {
        return Ok(Err(format!(
            "« {name} » : au plus {} par fichier.",
            fr::size(i64::try_from(MAX_FILE).unwrap_or(i64::MAX))
        )));
    }
    let kind = match sniff::recognise(bytes) {
        Ok(kind) => kind,
        Err(what) => {
            return Ok(Err(format!(
                "« {name} » est {what} : le kit accepte les PDF, les présentations (ODP, PPTX), \
                 les documents texte (ODT, DOCX) et les tableurs (ODS, XLSX). Enregistrez-le dans \
                 l'un de ces formats depuis le logiciel qui l'a créé, puis envoyez-le de nouveau."
            )));
        }
    };
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kit_files")
        .fetch_one(&db.pool)
        .await?;
    if count >= MAX_FILES {
        return Ok(Err(format!(
            "Le kit garde déjà {MAX_FILES} fichiers : retirez-en un avant d'en ajouter un autre."
        )));
    }
    Ok(Ok((section, kind)))
}

async fn store(
    db: &Db,
    caller: &Caller,
    upload: &Upload,
    section: Section,
    kind: Kind,
) -> Result<(), AppError> {
    let (name, bytes) = upload.file.as_ref().ok_or(AppError::NotFound)?;
    let name = with_extension(name, kind);
    sqlx::query(
        "INSERT INTO kit_files (section, title, description, name, kind, size, content, \
         uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(section.id())
    .bind(upload.title.trim())
    .bind(upload.description.trim())
    .bind(&name)
    .bind(kind.id())
    .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
    .bind(bytes.to_vec())
    .bind(caller.user_id)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    audit(
        db,
        Some(caller.user_id),
        "kit_file_add",
        &format!("file {name} ({})", kind.id()),
    )
    .await;
    Ok(())
}

/// `GET /kit/fichiers/{file}`: the file, as a download.
pub(super) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    // The kit is the signing communes': 404 for others, as for a file
    // that does not exist.
    if !super::may_read(&state, &caller).await? {
        return Err(AppError::NotFound);
    }
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let row: Option<(String, String, Vec<u8>)> =
        sqlx::query_as("SELECT name, kind, content FROM kit_files WHERE id = $1")
            .bind(id)
            .fetch_optional(state.db.read())
            .await?;
    let (name, kind, content) = row.ok_or(AppError::NotFound)?;
    let content_type = Kind::parse(&kind).map_or("application/octet-stream", Kind::content_type);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition(&name)),
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        content,
    )
        .into_response())
}

/// `POST /kit/fichiers/{file}/supprimer` (`confirm=oui`).
pub(super) async fn delete(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM kit_files WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    let name = name.ok_or(AppError::NotFound)?;
    if !form.confirmed() {
        let message = "Cochez la case de confirmation pour retirer ce fichier du kit.".to_owned();
        let page = kit_page(&state, &caller, Notice::Error(message)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    sqlx::query("DELETE FROM kit_files WHERE id = $1")
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_file_delete",
        &format!("file {name}"),
    )
    .await;
    Ok(Redirect::to("/kit#documents").into_response())
}

/// `name` ending with the extension of what the bytes are, so that the
/// downloaded file opens in the right program whatever it was called.
fn with_extension(name: &str, kind: Kind) -> String {
    let lower = name.to_lowercase();
    if lower.ends_with(&format!(".{}", kind.id())) {
        name.to_owned()
    } else {
        format!("{name}.{}", kind.id())
    }
}

/// `attachment` with the name twice: ASCII for old clients, and UTF-8
/// percent-encoded (RFC 6266 §4.3, RFC 8187) for the accents.
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_safe() {
        assert_eq!(
            form::file_name("C:\\Mairie\\Réunion élus.pptx", "document"),
            "Réunion élus.pptx"
        );
        assert_eq!(form::file_name("../../etc/passwd", "document"), "passwd");
        assert_eq!(form::file_name("\"\n", "document"), "document");
        assert_eq!(with_extension("fiche", Kind::Pdf), "fiche.pdf");
        assert_eq!(with_extension("Fiche.PDF", Kind::Pdf), "Fiche.PDF");
        assert_eq!(with_extension("photo.jpg", Kind::Docx), "photo.jpg.docx");
        assert_eq!(
            disposition("Procédure \"incident\".odt"),
            "attachment; filename=\"Proc_dure _incident_.odt\"; \
             filename*=UTF-8''Proc%C3%A9dure%20%22incident%22.odt"
        );
    }
}
