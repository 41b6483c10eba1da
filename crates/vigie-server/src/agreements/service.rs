//! What the API and the pages do to agreements, checked the same way for
//! both: creating one (the commune, the offer, its eligibility, no second
//! agreement of the same offer in force, dates the offer allows),
//! recording what happens (signature, the starting event, steps, the
//! end of the mission, terminations), and the view every reader gets:
//! the dates of today, the documents and their state.
//!
//! What it must never do: store a fact the offer's rules refuse (every
//! change is checked by `dates::schedule` first, and refused with its
//! French reason as a 422, nothing stored), or let a caller read an
//! agreement of a commune they may not see (404, as for one that does
//! not exist).

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::{self, Facts, Schedule, StepDone, Termination};
use super::eligibility::{self, Applicant};
use super::offers::{DeliverableKind, Offer};
use super::store::{self, Agreement, Change, Costs, DataAtEnd, DocumentRow, Referent};
use super::{Status, today};
use crate::accounts::{Caller, audit};
use crate::db::now_ms;
use crate::{AppError, AppState, fr};

/// The longest text of a referent's field.
pub const MAX_FIELD_CHARS: usize = 200;

/// A new agreement, as the API or the form gives it.
pub struct Request {
    pub commune: String,
    pub offer: String,
    /// `None`: a draft, not signed yet.
    pub signed_on: Option<NaiveDate>,
    pub starts_on: Option<NaiveDate>,
    /// `None`: the town hall's contacts from the referential.
    pub commune_referent: Option<Referent>,
    /// `None`: the territory's signatory of the documents.
    pub territory_referent: Option<Referent>,
    pub costs: Option<Costs>,
    pub data_at_end: Option<DataAtEnd>,
}

/// An agreement the caller may see, with its offer; 404 otherwise.
pub async fn visible(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Agreement, Offer), AppError> {
    let agreement = store::get(&state.db, id)
        .await?
        .filter(|a| caller.can_see_commune(&a.commune))
        .ok_or(AppError::NotFound)?;
    let offer = state
        .settings
        .offers
        .get(&agreement.offer)
        .cloned()
        .ok_or_else(|| {
            AppError::Internal(format!(
                "agreement {id}: offer {} not in the catalogue",
                agreement.offer
            ))
        })?;
    Ok((agreement, offer))
}

/// Creates an agreement; its id. Refusals are 422, in French.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: Request,
) -> Result<String, AppError> {
    let code = request.commune.trim();
    let commune = crate::territory::commune(&state.db, code)
        .await?
        .ok_or_else(|| {
            AppError::Unprocessable(format!(
                "La commune « {code} » n'est pas une commune du territoire : donnez son code INSEE, par exemple 42218."
            ))
        })?;
    let offer = state
        .settings
        .offers
        .get(request.offer.trim())
        .ok_or_else(|| {
            let known: Vec<&str> = state.settings.offers.all().map(|o| o.id.as_str()).collect();
            AppError::Unprocessable(format!(
                "L'offre « {} » n'existe pas : choisissez parmi {}.",
                request.offer.trim(),
                known.join(", ")
            ))
        })?;
    eligibility::check(offer, &Applicant::commune(&commune))
        .map_err(|refusal| AppError::Unprocessable(refusal.0))?;
    let facts = Facts {
        signed_on: request.signed_on,
        started_on: request.starts_on,
        ..Facts::default()
    };
    let today = today();
    dates::schedule(offer, &facts, today).map_err(|e| AppError::Unprocessable(e.to_string()))?;
    for other in store::of_commune(&state.db, &commune.code).await? {
        if other.offer != offer.id {
            continue;
        }
        let other_facts = store::effective_facts(&state.db, &state.settings.offers, &other).await?;
        let open = dates::schedule(offer, &other_facts, today)
            .is_ok_and(|s| !matches!(s.status, Status::Ended | Status::Terminated));
        if open {
            return Err(AppError::Unprocessable(format!(
                "{} a déjà une convention pour {} qui n'est pas terminée ({}) : mettez-la à jour plutôt que d'en créer une autre.",
                commune.name, offer.short_name, other.id
            )));
        }
    }
    let commune_referent = match request.commune_referent {
        Some(referent) => checked(referent, "référent de la commune")?,
        None => Referent {
            name: format!("Mairie de {}", commune.name),
            role: "Secrétariat de mairie".to_owned(),
            email: commune.email.clone().unwrap_or_default(),
            phone: commune.phone.clone().unwrap_or_default(),
        },
    };
    let territory_referent = match request.territory_referent {
        Some(referent) => checked(referent, "référent du territoire")?,
        None => {
            let branding = state.settings.documents.branding();
            Referent {
                name: branding.signatory_name.clone(),
                role: branding.signatory_title.clone(),
                ..Referent::default()
            }
        }
    };
    let costs = request.costs.map(checked_costs).transpose()?;
    let detail = match request.signed_on {
        Some(day) => format!(
            "Convention pour {} créée, signée le {}.",
            offer.short_name,
            fr::day(day)
        ),
        None => format!("Convention pour {} créée en préparation.", offer.short_name),
    };
    let new = store::NewAgreement {
        commune: &commune.code,
        offer: &offer.id,
        facts: &facts,
        territory_referent: &territory_referent,
        commune_referent: &commune_referent,
        costs: costs.as_ref(),
        data_at_end: request.data_at_end,
        created_by: Some(caller.user_id),
        detail: &detail,
    };
    let id = store::create(&state.db, &new, now_ms()).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "agreement_create",
        &format!("agreement {id}: {} for commune {}", offer.id, commune.code),
    )
    .await;
    Ok(id)
}

/// A referent's fields, trimmed and bounded.
pub fn checked(mut referent: Referent, whose: &str) -> Result<Referent, AppError> {
    for (field, value) in [
        ("nom", &mut referent.name),
        ("fonction", &mut referent.role),
        ("adresse électronique", &mut referent.email),
        ("téléphone", &mut referent.phone),
    ] {
        *value = value.trim().to_owned();
        if value.chars().count() > MAX_FIELD_CHARS || value.chars().any(char::is_control) {
            return Err(AppError::Unprocessable(format!(
                "Le champ « {field} » du {whose} doit tenir sur une ligne de {MAX_FIELD_CHARS} caractères au plus."
            )));
        }
    }
    Ok(referent)
}

/// Amounts are cents of euro, from 0 to a billion euros.
fn checked_costs(costs: Costs) -> Result<Costs, AppError> {
    const MAX_CENTS: i64 = 100_000_000_000;
    let amounts = [costs.total_cents, costs.founders_cents, costs.commune_cents]
        .into_iter()
        .flatten()
        .chain(costs.phases.iter().map(|p| p.cents));
    for cents in amounts {
        if !(0..=MAX_CENTS).contains(&cents) {
            return Err(AppError::Unprocessable(
                "Un montant doit être compris entre 0 et 1 milliard d'euros.".to_owned(),
            ));
        }
    }
    if costs.phases.len() > super::offers::MAX_ITEMS {
        return Err(AppError::Unprocessable(format!(
            "Au plus {} phases chiffrées.",
            super::offers::MAX_ITEMS
        )));
    }
    Ok(costs)
}

/// Something that happened to an agreement.
pub enum Fact {
    /// Signed on this day.
    Signed(NaiveDate),
    /// The event that starts it (installation attested, notification,
    /// the day it sets).
    Started(NaiveDate),
    /// A step held on this day.
    StepDone {
        step: String,
        on: NaiveDate,
    },
    /// The offer's completion event (final minutes, restitution).
    Completed(NaiveDate),
    Terminated(Termination),
}

impl Fact {
    /// The facts with this one, and the history's sentence.
    fn apply(self, offer: &Offer, facts: &Facts) -> (Facts, String) {
        let mut next = facts.clone();
        let detail = match self {
            Fact::Signed(day) => {
                next.signed_on = Some(day);
                format!("Signée le {}.", fr::day(day))
            }
            Fact::Started(day) => {
                next.started_on = Some(day);
                format!("{} le {}.", start_label(offer), fr::day(day))
            }
            Fact::StepDone { step, on } => {
                let title = offer.step(&step).map_or(step.clone(), |s| s.title.clone());
                next.steps_done.retain(|done| done.step != step);
                next.steps_done.push(StepDone { step, on });
                format!("{title} : faite le {}.", fr::day(on))
            }
            Fact::Completed(day) => {
                next.completed_on = Some(day);
                format!("Mission achevée le {}.", fr::day(day))
            }
            Fact::Terminated(termination) => {
                next.terminations.push(termination);
                termination_sentence(&termination)
            }
        };
        (next, detail)
    }
}

/// How a page names the offer's starting event.
pub fn start_label(offer: &Offer) -> &'static str {
    match offer.start {
        super::offers::Start::Signature => "Commencée",
        super::offers::Start::GivenDate => "Commencée",
        super::offers::Start::InstallationAttested => "Installation du boîtier attestée",
        super::offers::Start::Notification => "Notifiée à la commune",
    }
}

fn termination_sentence(termination: &Termination) -> String {
    match *termination {
        Termination::Notice { given_on, by } => format!(
            "Résiliation avec préavis par {}, lettre reçue le {}.",
            by.label(),
            fr::day(given_on)
        ),
        Termination::NonRenewal { given_on, by } => format!(
            "Reconduction refusée par {}, lettre reçue le {}.",
            by.label(),
            fr::day(given_on)
        ),
        Termination::Decided { given_on, ends_on } => format!(
            "Fin décidée le {}, effective le {}.",
            fr::day(given_on),
            fr::day(ends_on)
        ),
    }
}

/// Records `fact` on the agreement, after checking it against the
/// offer's rules.
pub async fn record(
    state: &AppState,
    caller: &Caller,
    agreement: &Agreement,
    offer: &Offer,
    fact: Fact,
) -> Result<(), AppError> {
    let (facts, detail) = checked_fact(offer, &agreement.facts, fact)?;
    let change = Change {
        facts: Some(&facts),
        ..Change::note(Some(caller.user_id), "fact", &detail)
    };
    store::change(&state.db, &agreement.id, &change, now_ms()).await?;
    Ok(())
}

/// The facts with `fact`, if the offer allows them; its sentence.
pub fn checked_fact(offer: &Offer, facts: &Facts, fact: Fact) -> Result<(Facts, String), AppError> {
    let (next, detail) = fact.apply(offer, facts);
    dates::schedule(offer, &next, today()).map_err(|e| AppError::Unprocessable(e.to_string()))?;
    Ok((next, detail))
}

/// A document of an agreement, and where it stands.
#[derive(Clone, Debug, Serialize)]
pub struct Deliverable {
    pub kind: DeliverableKind,
    /// The step of a phase's minutes; empty otherwise.
    pub step: String,
    pub status: DeliverableStatus,
    #[serde(skip)]
    pub signed_on: Option<String>,
    #[serde(skip)]
    pub signed_name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliverableStatus {
    ToProduce,
    Produced,
    Signed,
}

impl DeliverableStatus {
    pub fn label(self) -> &'static str {
        match self {
            DeliverableStatus::ToProduce => "à produire",
            DeliverableStatus::Produced => "produit, à faire signer",
            DeliverableStatus::Signed => "signé",
        }
    }
}

/// The agreement's own documents (the crisis kit's loan and return forms
/// are each loan's, in `crisis`), in the offer's order: a phase's minutes
/// for each step that makes them.
pub fn deliverables(offer: &Offer, rows: &[DocumentRow]) -> Vec<Deliverable> {
    let mut out = Vec::new();
    for kind in &offer.deliverables {
        let steps: Vec<String> = match kind {
            DeliverableKind::LoanForm | DeliverableKind::ReturnForm => continue,
            DeliverableKind::PhaseMinutes => {
                let steps: Vec<String> = offer
                    .steps
                    .iter()
                    .filter(|s| s.deliverables.contains(kind))
                    .map(|s| s.id.clone())
                    .collect();
                if steps.is_empty() {
                    vec![String::new()]
                } else {
                    steps
                }
            }
            _ => vec![String::new()],
        };
        for step in steps {
            let row = rows.iter().find(|r| r.kind == kind.id() && r.step == step);
            let status = match row {
                Some(r) if r.signed_at.is_some() => DeliverableStatus::Signed,
                Some(r) if r.produced_at.is_some() => DeliverableStatus::Produced,
                _ => DeliverableStatus::ToProduce,
            };
            out.push(Deliverable {
                kind: *kind,
                step,
                status,
                signed_on: row.and_then(|r| r.signed_on.clone()),
                signed_name: row.and_then(|r| r.signed_name.clone()),
            });
        }
    }
    out
}

/// Everything a reader sees of an agreement today.
pub struct View {
    pub agreement: Agreement,
    pub offer: Offer,
    /// The facts the dates read (the sensor's installation filled in).
    pub facts: Facts,
    pub schedule: Schedule,
    pub deliverables: Vec<Deliverable>,
}

/// The view of `agreement` on `on`.
pub async fn view(
    state: &AppState,
    agreement: Agreement,
    offer: Offer,
    on: NaiveDate,
) -> Result<View, AppError> {
    let facts = store::effective_facts(&state.db, &state.settings.offers, &agreement).await?;
    let schedule = dates::schedule(&offer, &facts, on).map_err(|e| {
        AppError::Internal(format!(
            "agreement {}: stored facts refused: {e}",
            agreement.id
        ))
    })?;
    let rows = store::documents(&state.db, &agreement.id).await?;
    let deliverables = deliverables(&offer, &rows);
    Ok(View {
        agreement,
        offer,
        facts,
        schedule,
        deliverables,
    })
}
