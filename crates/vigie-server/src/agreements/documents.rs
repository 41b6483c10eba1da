//! An agreement's documents through the document engine, prefilled from
//! its data: the agreement itself (its offer's template,
//! `convention-<offer>.typ` when the territory has one, `convention.typ`
//! otherwise), the sensor's installation attestation, a phase's minutes
//! and the final minutes; and their signed scans, whose upload records
//! what the signature makes (signed, installed, step done, mission
//! ended).
//!
//! What it must never do: keep a scan that is not a PDF, PNG or JPEG by
//! its bytes, or record a signature whose date the offer's rules refuse
//! (nothing is stored then).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::offers::{Completion, DeliverableKind, Start};
use super::prefill;
use super::service::{self, Fact, View};
use super::store::{self, Change, Scan};
use super::today;
use crate::accounts::{Caller, CsrfMultipart};
use crate::db::now_ms;
use crate::web::upload::{self as form, unreadable};
use crate::{AppError, AppState, fr};

/// The largest signed scan.
pub const MAX_SCAN: usize = 10 * 1024 * 1024;
/// The upload's body limit: the scan and the form's few fields.
pub const MAX_UPLOAD: usize = MAX_SCAN + 64 * 1024;

#[derive(Deserialize)]
pub(super) struct Which {
    /// The agreement itself when not given.
    #[serde(rename = "type", default = "agreement_kind")]
    kind: String,
    #[serde(default)]
    etape: String,
}

fn agreement_kind() -> String {
    DeliverableKind::Agreement.id().to_owned()
}

/// The deliverable `which` names among the agreement's; 404 otherwise.
fn find(view: &View, kind: &str, step: &str) -> Result<DeliverableKind, AppError> {
    view.deliverables
        .iter()
        .find(|d| d.kind.id() == kind && d.step == step)
        .map(|d| d.kind)
        .ok_or(AppError::NotFound)
}

/// `GET /conventions/{agreement}/document.pdf?type=KIND&etape=STEP`.
pub(super) async fn pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(which): Query<Which>,
) -> Result<Response, AppError> {
    let (agreement, offer) = service::visible(&state, &caller, &id).await?;
    let view = service::view(&state, agreement, offer, today()).await?;
    let kind = find(&view, &which.kind, &which.etape)?;
    let commune = crate::territory::commune(&state.db, &view.agreement.commune)
        .await?
        .ok_or(AppError::NotFound)?;
    let (template, data) = match kind {
        DeliverableKind::Agreement => {
            let own = format!("convention-{}.typ", view.offer.id);
            let template = if state.settings.documents.has_template(&own) {
                own
            } else {
                "convention.typ".to_owned()
            };
            (template, prefill::agreement_data(&view, &commune))
        }
        DeliverableKind::InstallationAttestation => (
            "attestation-installation.typ".to_owned(),
            prefill::attestation_data(&state, &view, &commune).await?,
        ),
        DeliverableKind::PhaseMinutes => (
            "pv-achevement-phase.typ".to_owned(),
            prefill::phase_data(&view, &commune, &which.etape),
        ),
        DeliverableKind::FinalMinutes => (
            "pv-fin-convention.typ".to_owned(),
            prefill::final_data(&view, &commune),
        ),
        DeliverableKind::LoanForm | DeliverableKind::ReturnForm => return Err(AppError::NotFound),
    };
    let documents = state.settings.documents.clone();
    let at = chrono::Utc::now();
    let bytes = state
        .render_with(move || documents.pdf(&template, &data, at))
        .await?;
    store::produced(&state.db, &view.agreement.id, kind, &which.etape, now_ms()).await?;
    let name = format!("{}-{}.pdf", kind.id().replace('_', "-"), commune.code);
    Ok(crate::web::pdf(bytes, &name))
}

/// `POST /conventions/{agreement}/signe` (multipart: `csrf`, `type`,
/// `etape`, `signed_on`, `file`): keeps the signed scan and records what
/// the signature makes.
pub(super) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut upload: CsrfMultipart,
) -> Result<Response, AppError> {
    if !caller.is_staff() {
        return Err(AppError::Forbidden);
    }
    service::visible(&state, &caller, &id).await?;
    let mut sent = form::read(
        &mut upload.form()?,
        &["csrf", "type", "etape", "signed_on"],
        "file",
    )
    .await
    .map_err(|e| unreadable(&e, MAX_SCAN))?;
    let file = sent
        .file
        .take()
        .map(|(name, bytes)| (form::file_name(&name, "fichier"), bytes));
    upload.check(sent.text("csrf"))?;
    let (kind, signed_on) = (sent.text("type"), sent.text("signed_on"));
    let step = sent.text("etape").unwrap_or_default().to_owned();
    let (agreement, offer) = service::visible(&state, &caller, &id).await?;
    let view = service::view(&state, agreement, offer, today()).await?;
    let kind = find(&view, kind.unwrap_or_default(), &step)?;
    let on = signed_on.unwrap_or_default();
    let on: NaiveDate = on.trim().parse().map_err(|_| {
        AppError::Unprocessable(format!(
            "« Signé le » doit être une date (AAAA-MM-JJ), pas « {on} »."
        ))
    })?;
    if on > today() {
        return Err(AppError::Unprocessable(format!(
            "« Signé le » ({}) est dans le futur.",
            fr::day(on)
        )));
    }
    let Some((name, bytes)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
        return Err(AppError::Unprocessable(
            "Aucun fichier : choisissez le scan signé à joindre.".to_owned(),
        ));
    };
    if bytes.len() > MAX_SCAN {
        return Err(AppError::Unprocessable(format!(
            "« {name} » : au plus {} par scan.",
            fr::size(i64::try_from(MAX_SCAN).unwrap_or(i64::MAX))
        )));
    }
    let Some(content_type) = crate::web::scan_type(&bytes) else {
        return Err(AppError::Unprocessable(format!(
            "« {name} » n'est ni un PDF, ni une image PNG ou JPEG : numérisez le document signé dans l'un de ces formats."
        )));
    };
    let fact = signature_fact(&view, kind, &step, on);
    let (facts, detail) = match fact {
        Some(fact) => {
            let (facts, sentence) =
                service::checked_fact(&view.offer, &view.agreement.facts, fact)?;
            (
                Some(facts),
                format!(
                    "Document signé déposé : {} (signé le {}). {sentence}",
                    kind.label(),
                    fr::day(on)
                ),
            )
        }
        None => (
            None,
            format!(
                "Document signé déposé : {} (signé le {}).",
                kind.label(),
                fr::day(on)
            ),
        ),
    };
    let change = Change {
        facts: facts.as_ref(),
        ..Change::note(Some(caller.user_id), "signed_document", &detail)
    };
    let scan = Scan {
        kind,
        step: &step,
        signed_on: on,
        name: &name,
        content_type,
        bytes: &bytes,
    };
    store::signed(&state.db, &view.agreement.id, &scan, &change, now_ms()).await?;
    Ok(Redirect::to(&format!("/conventions/{}#documents", view.agreement.id)).into_response())
}

/// What a signature records, when the agreement does not know it yet.
fn signature_fact(view: &View, kind: DeliverableKind, step: &str, on: NaiveDate) -> Option<Fact> {
    let facts = &view.agreement.facts;
    match kind {
        DeliverableKind::Agreement if facts.signed_on.is_none() => Some(Fact::Signed(on)),
        DeliverableKind::InstallationAttestation
            if facts.started_on.is_none() && view.offer.start == Start::InstallationAttested =>
        {
            // The day installed, as the sensor reported it; else the signature's.
            Some(Fact::Started(view.schedule.starts_on.unwrap_or(on)))
        }
        DeliverableKind::PhaseMinutes
            if !step.is_empty() && !facts.steps_done.iter().any(|d| d.step == step) =>
        {
            Some(Fact::StepDone {
                step: step.to_owned(),
                on,
            })
        }
        DeliverableKind::FinalMinutes
            if facts.completed_on.is_none()
                && view.offer.completion() == Some(Completion::FinalMinutes) =>
        {
            Some(Fact::Completed(on))
        }
        _ => None,
    }
}

/// `GET /conventions/{agreement}/signe?type=KIND&etape=STEP`: the scan.
pub(super) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(which): Query<Which>,
) -> Result<Response, AppError> {
    let (agreement, _) = service::visible(&state, &caller, &id).await?;
    let (name, content_type, bytes) =
        store::scan(&state.db, &agreement.id, &which.kind, &which.etape)
            .await?
            .ok_or(AppError::NotFound)?;
    let content_type = HeaderValue::from_str(&content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    ))
    .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
