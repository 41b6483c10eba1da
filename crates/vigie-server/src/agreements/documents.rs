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
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::offers::{
    Completion, Cost, DeliverableKind, Duration, NoticeEffect, Offer, Renewal, Start,
};
use super::service::{self, Fact, View};
use super::store::{self, Change, Scan};
use super::today;
use crate::accounts::{Caller, CsrfMultipart};
use crate::db::now_ms;
use crate::territory::Commune;
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
            (template, agreement_data(&view, &commune))
        }
        DeliverableKind::InstallationAttestation => (
            "attestation-installation.typ".to_owned(),
            attestation_data(&state, &view, &commune).await?,
        ),
        DeliverableKind::PhaseMinutes => (
            "pv-achevement-phase.typ".to_owned(),
            phase_data(&view, &commune, &which.etape),
        ),
        DeliverableKind::FinalMinutes => (
            "pv-fin-convention.typ".to_owned(),
            final_data(&view, &commune),
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
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// What every document says of the parties.
#[derive(Serialize)]
struct Parties {
    name: String,
    code: String,
    population: String,
}

fn commune_json(commune: &Commune) -> Parties {
    Parties {
        name: commune.name.clone(),
        code: commune.code.to_string(),
        population: if commune.population > 0 {
            fr::plural(commune.population, "habitant", "habitants")
        } else {
            "population inconnue".to_owned()
        },
    }
}

fn long(day: Option<NaiveDate>) -> Value {
    day.map_or(Value::Null, |d| Value::String(fr::day_long(d)))
}

fn euros(cents: i64) -> String {
    let whole = fr::number(cents / 100);
    match cents % 100 {
        0 => format!("{whole} €"),
        rest => format!("{whole},{rest:02} €"),
    }
}

/// The offer's rules as the agreement's articles say them.
pub fn rules(offer: &Offer, starts_on: Option<NaiveDate>) -> Value {
    let start = match offer.start {
        Start::Signature => "La convention prend effet à sa signature.".to_owned(),
        Start::GivenDate => match starts_on {
            Some(day) => format!("La convention prend effet le {}.", fr::day_long(day)),
            None => "La convention prend effet à la date que les parties fixent.".to_owned(),
        },
        Start::InstallationAttested => {
            "La convention prend effet à la date d'installation du boîtier, attestée par les parties."
                .to_owned()
        }
        Start::Notification => {
            "La convention entre en vigueur au jour de sa notification à la commune.".to_owned()
        }
    };
    let months = |m: u32| fr::plural(i64::from(m), "mois", "mois");
    let duration = match offer.duration {
        Duration::Fixed { months: m } => format!("Elle est conclue pour {}.", months(m)),
        Duration::EndOfCalendarYear => {
            "Elle se termine à la fin de l'année civile (31 décembre).".to_owned()
        }
        Duration::AtMost {
            months: m,
            ends_with,
        } => format!(
            "Elle est conclue pour {} au plus et s'achève {}.",
            months(m),
            match ends_with {
                Completion::FinalMinutes => "à la signature du procès-verbal de fin de mission",
                Completion::Restitution => "à la réunion de restitution",
            }
        ),
    };
    let renewal = match offer.renewal {
        Renewal::None => "Elle n'est pas reconduite.".to_owned(),
        Renewal::Tacit {
            period_months,
            max_total_months,
        } => match max_total_months {
            Some(max) => format!(
                "Elle est reconduite tacitement par périodes de {}, dans la limite de {} au total.",
                months(period_months),
                fr::plural(i64::from(max / 12), "an", "ans")
            ),
            None => format!(
                "Elle est reconduite tacitement par périodes de {} jusqu'à la fin de la mission.",
                months(period_months)
            ),
        },
    };
    let notice = match &offer.notice {
        None => "La convention ne prévoit pas de résiliation avec préavis.".to_owned(),
        Some(notice) => {
            let parties: Vec<&str> = notice.by.iter().map(|p| p.label()).collect();
            format!(
                "Elle peut être résiliée par {}, par lettre recommandée avec accusé de réception, avec un préavis de {} courant de la réception de la lettre ({}){}.",
                parties.join(" ou "),
                months(notice.months),
                notice.article,
                match notice.effect {
                    NoticeEffect::AnyTime => "",
                    NoticeEffect::PeriodEnd =>
                        " ; la résiliation prend effet à la fin de la période en cours",
                }
            )
        }
    };
    json!({ "start": start, "duration": duration, "renewal": renewal, "notice": notice })
}

fn agreement_data(view: &View, commune: &Commune) -> Value {
    let offer = &view.offer;
    let steps: Vec<[String; 2]> = offer
        .steps
        .iter()
        .map(|step| {
            let origin = step
                .after
                .as_deref()
                .and_then(|after| offer.step(after))
                .map_or("du début de la convention".to_owned(), |s| {
                    format!("de « {} »", s.title)
                });
            let when = if step.from_months == step.to_months {
                if step.from_months == 0 {
                    format!("au début, à partir {origin}")
                } else {
                    format!(
                        "{} après la date {origin}",
                        fr::plural(i64::from(step.to_months), "mois", "mois")
                    )
                }
            } else {
                format!(
                    "entre {} et {} mois après la date {origin}",
                    step.from_months, step.to_months
                )
            };
            [step.title.clone(), when]
        })
        .collect();
    let cost = match offer.cost {
        Cost::Free => "La mise à disposition est gratuite pour la commune.",
        Cost::ContributionPerPhase => {
            "La commune verse une contribution à l'issue de chaque phase, après la fourniture du procès-verbal d'achèvement de phase ou de fin de mission."
        }
        Cost::Unspecified => "Les conditions financières sont fixées par le territoire.",
    };
    let mut costs = Vec::new();
    if let Some(c) = &view.agreement.costs {
        for (label, cents) in [
            ("Coût total de la prestation", c.total_cents),
            ("Part des membres fondateurs", c.founders_cents),
            ("Contribution de la commune", c.commune_cents),
        ] {
            if let Some(cents) = cents {
                costs.push([label.to_owned(), euros(cents)]);
            }
        }
        for phase in &c.phases {
            let title = offer
                .step(&phase.step)
                .map_or(phase.step.as_str(), |s| s.title.as_str());
            costs.push([
                format!("Contribution après « {title} »"),
                euros(phase.cents),
            ]);
        }
    }
    let p = &offer.processing;
    json!({
        "title": format!("Convention : {}", offer.title),
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": offer.title, "summary": offer.summary, "source": offer.source },
        "referents": {
            "commune": view.agreement.commune_referent,
            "territory": view.agreement.territory_referent,
        },
        "signed_on": long(view.facts.signed_on),
        "rules": rules(offer, view.schedule.starts_on),
        "steps": steps,
        "cost": cost,
        "costs": costs,
        "end_actions": offer.end_actions.iter().map(|a| a.label()).collect::<Vec<_>>(),
        "data_at_end": view.agreement.data_at_end.map(|d| d.label()),
        "processing": {
            "name": p.name, "controller": p.controller, "processor": p.processor,
            "sub_processors": p.sub_processors, "purposes": p.purposes, "data": p.data,
            "people": p.people, "recipients": p.recipients, "retention": p.retention,
            "article": p.article,
        },
        "date": fr::day_long(today()),
    })
}

async fn attestation_data(
    state: &AppState,
    view: &View,
    commune: &Commune,
) -> Result<Value, AppError> {
    let sensors: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT id, installed_at FROM sensors WHERE commune = $1 AND installed_at IS NOT NULL \
         ORDER BY installed_at LIMIT 20",
    )
    .bind(commune.code)
    .fetch_all(state.db.read())
    .await?;
    let sensors: Vec<[String; 2]> = sensors
        .into_iter()
        .map(|(id, at)| [id, at.map(fr::date).unwrap_or_default()])
        .collect();
    Ok(json!({
        "title": "Attestation d'installation du boîtier",
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": view.offer.title },
        "installed_on": long(view.schedule.starts_on),
        "sensors": sensors,
        "ends_on": long(view.schedule.ends_on),
        "date": fr::day_long(today()),
    }))
}

fn phase_data(view: &View, commune: &Commune, step: &str) -> Value {
    let offer = &view.offer;
    let title = offer
        .step(step)
        .map_or("Phase".to_owned(), |s| s.title.clone());
    let window = view.schedule.steps.iter().find(|w| w.step == step);
    let contribution = view
        .agreement
        .costs
        .as_ref()
        .and_then(|c| c.phases.iter().find(|p| p.step == step))
        .map(|p| euros(p.cents));
    json!({
        "title": "Procès-verbal d'achèvement de phase",
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": offer.title },
        "step": {
            "title": title,
            "window": window.map_or("—".to_owned(), |w| fr::day_range(w.opens_on, w.due_on)),
            "done_on": long(window.and_then(|w| w.done_on)),
        },
        "contribution": contribution,
        "date": fr::day_long(today()),
    })
}

fn final_data(view: &View, commune: &Commune) -> Value {
    let steps: Vec<[String; 2]> = view
        .schedule
        .steps
        .iter()
        .map(|w| {
            let title = view
                .offer
                .step(&w.step)
                .map_or(w.step.clone(), |s| s.title.clone());
            let done = w.done_on.map_or("pas encore".to_owned(), fr::day);
            [title, done]
        })
        .collect();
    json!({
        "title": "Procès-verbal de fin de mission",
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": view.offer.title },
        "steps": steps,
        "starts_on": long(view.schedule.starts_on),
        "date": fr::day_long(today()),
    })
}

/// A scan's type, from its first bytes.
fn scan_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else {
        None
    }
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
    let mut form = upload.form()?;
    let (mut csrf, mut kind, mut step, mut signed_on, mut file) =
        (None, None, String::new(), None, None);
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("envoi illisible : {}", e.body_text()))
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = Some(field.text().await.map_err(bad)?),
            "type" => kind = Some(field.text().await.map_err(bad)?),
            "etape" => step = field.text().await.map_err(bad)?,
            "signed_on" => signed_on = Some(field.text().await.map_err(bad)?),
            "file" => {
                let name = crate::audits::files::clean_name(field.file_name().unwrap_or_default());
                let bytes = field.bytes().await.map_err(|e| {
                    AppError::BadRequest(format!(
                        "fichier trop gros ou coupé : au plus {} ({})",
                        fr::size(i64::try_from(MAX_SCAN).unwrap_or(i64::MAX)),
                        e.body_text()
                    ))
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    upload.check(csrf.as_deref())?;
    let (agreement, offer) = service::visible(&state, &caller, &id).await?;
    let view = service::view(&state, agreement, offer, today()).await?;
    let kind = find(&view, kind.as_deref().unwrap_or_default(), &step)?;
    let on = signed_on.as_deref().unwrap_or_default();
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
    let Some(content_type) = scan_type(&bytes) else {
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
