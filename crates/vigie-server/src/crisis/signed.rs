//! The signed forms: the loan form signed by the commune (its
//! acceptance, with the signatory's name) and the return form signed at
//! the return, each kept as a scan or a photo with the loan; and their
//! download by whoever may see the loan.
//!
//! What it must never do: keep a file that is not a PDF, a PNG or a JPEG
//! (known by its bytes, never its name) or larger than
//! [`ledger::MAX_SCAN`]; serve one inline (always a download).

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ledger::{self, Scan};
use super::lending::page_of;
use super::rules;
use super::{refuse, visible_loan};
use crate::accounts::{Caller, CsrfMultipart, Staff, audit};
use crate::web::upload as form;
use crate::{AppError, AppState, fr};

/// `POST /prets/{loan}/fiche-signee` (multipart: `csrf`, `fiche` =
/// `pret` or `restitution`, `signatory` for the loan form, `file`).
pub(super) async fn upload(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(loan): Path<String>,
    mut upload: CsrfMultipart,
) -> Result<Response, AppError> {
    let loan = visible_loan(&state, &caller, &loan).await?;
    let mut sent = form::read(&mut upload.form()?, &["csrf", "fiche", "signatory"], "file")
        .await
        .map_err(|e| {
            refuse(format!(
                "envoi illisible ou trop gros (au plus {} pour la fiche signée) : {}",
                fr::size(i64::try_from(ledger::MAX_SCAN).unwrap_or(i64::MAX)),
                e.body_text()
            ))
        })?;
    let file = sent
        .file
        .take()
        .map(|(name, bytes)| (form::file_name(&name, "fiche-signee"), bytes));
    upload.check(sent.text("csrf"))?;
    let which = sent.text("fiche").unwrap_or_default().to_owned();
    let signatory = sent.text("signatory").unwrap_or_default().to_owned();
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(refuse(
            "« Fiche signée » : choisissez le scan ou la photo de la fiche signée.",
        ));
    };
    if bytes.len() > ledger::MAX_SCAN {
        return Err(refuse(format!(
            "« Fiche signée » : au plus {}.",
            fr::size(i64::try_from(ledger::MAX_SCAN).unwrap_or(i64::MAX))
        )));
    }
    let content_type = crate::web::scan_type(&bytes)
        .ok_or_else(|| refuse("« Fiche signée » : un PDF, ou une photo PNG ou JPEG."))?;
    let scan = Scan {
        name: &name,
        content_type,
        bytes: &bytes,
    };
    match which.as_str() {
        "pret" => {
            let signatory = rules::text(&signatory, "Signée pour la commune par", rules::MAX_SHORT)
                .map_err(refuse)?;
            ledger::accept(&state.db, &loan, &signatory, &scan, Some(caller.user_id)).await?;
        }
        "restitution" if loan.returned_at.is_none() => {
            return Err(AppError::Conflict("Enregistrez d'abord le retour du matériel, puis déposez la fiche de restitution signée.".to_owned()));
        }
        "restitution" => ledger::sign_return(&state.db, &loan, &scan, Some(caller.user_id)).await?,
        _ => return Err(refuse("« Fiche » : fiche de prêt ou fiche de restitution.")),
    }
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_signed_form",
        &format!("loan {} ({which})", loan.id),
    )
    .await;
    Ok(Redirect::to(&page_of(&loan)).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct WhichQuery {
    #[serde(default)]
    fiche: Option<String>,
}

/// `GET /prets/{loan}/fiche-signee?fiche=pret|restitution`: the scan, as
/// a download.
pub(super) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(loan): Path<String>,
    Query(query): Query<WhichQuery>,
) -> Result<Response, AppError> {
    let loan = visible_loan(&state, &caller, &loan).await?;
    let (scan, label) = match query.fiche.as_deref() {
        None | Some("pret") => (loan.acceptance_scan, "de prêt"),
        Some("restitution") => (loan.return_scan, "de restitution"),
        Some(_) => return Err(refuse("« fiche » : pret ou restitution.")),
    };
    let Some(scan) = scan else {
        return Err(AppError::Conflict(format!(
            "Aucune fiche {label} signée n'a encore été déposée pour ce prêt."
        )));
    };
    let (name, content_type, content) = ledger::scan(&state.db, scan)
        .await?
        .ok_or(AppError::NotFound)?;
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
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        content,
    )
        .into_response())
}
