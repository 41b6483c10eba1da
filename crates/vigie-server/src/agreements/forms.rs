//! The staff's forms on an agreement's page: what happened (signature,
//! start, a step, completion, termination), the referents and the
//! commune's choice for its data, an end action done, the costs.
//!
//! What it must never do: store what the offer's rules refuse, or lose
//! the page: a refused form gives the page back with why (422), nothing
//! stored.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::dates::Termination;
use super::offers::{Cost, Party};
use super::pages::optional_day;
use super::service::{self, Fact};
use super::show::refused;
use super::store::{self, Change, Costs, DataAtEnd, PhaseCost, Referent};
use crate::accounts::{CsrfForm, Staff};
use crate::db::now_ms;
use crate::{AppError, AppState, fr};

#[derive(Deserialize)]
pub(super) struct EventForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    ends_on: String,
}

/// `POST /conventions/{agreement}/evenements`: signed, started, a step
/// done, completed, a termination.
pub(super) async fn event(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EventForm>,
) -> Result<Response, AppError> {
    let (agreement, offer) = service::visible(&state, &caller, &id).await?;
    let fact = match fact_of(&form) {
        Ok(fact) => fact,
        Err(message) => return refused(&state, &caller, &id, message).await,
    };
    match service::record(&state, &caller, &agreement, &offer, fact).await {
        Ok(()) => Ok(Redirect::to(&format!("/conventions/{id}")).into_response()),
        Err(AppError::Unprocessable(message) | AppError::BadRequest(message)) => {
            refused(&state, &caller, &id, message).await
        }
        Err(other) => Err(other),
    }
}

fn fact_of(form: &EventForm) -> Result<Fact, String> {
    let on = optional_day(&form.on, "Date")?.ok_or("Date : indiquez le jour.")?;
    let by = || match form.by.as_str() {
        "territory" => Ok(Party::Territory),
        "commune" => Ok(Party::Commune),
        _ => Err("Choisissez qui résilie : le territoire ou la commune.".to_owned()),
    };
    Ok(match form.kind.as_str() {
        "signed" => Fact::Signed(on),
        "started" => Fact::Started(on),
        "step_done" => Fact::StepDone {
            step: form.step.clone(),
            on,
        },
        "completed" => Fact::Completed(on),
        "notice" => Fact::Terminated(Termination::Notice {
            given_on: on,
            by: by()?,
        }),
        "non_renewal" => Fact::Terminated(Termination::NonRenewal {
            given_on: on,
            by: by()?,
        }),
        "decided" => Fact::Terminated(Termination::Decided {
            given_on: on,
            ends_on: optional_day(&form.ends_on, "Fin effective")?
                .ok_or("Fin effective : indiquez le dernier jour.")?,
        }),
        _ => return Err("Choisissez ce qui s'est passé.".to_owned()),
    })
}

#[derive(Deserialize)]
pub(super) struct ReferentsForm {
    #[serde(default)]
    commune_name: String,
    #[serde(default)]
    commune_role: String,
    #[serde(default)]
    commune_email: String,
    #[serde(default)]
    commune_phone: String,
    #[serde(default)]
    territory_name: String,
    #[serde(default)]
    territory_role: String,
    #[serde(default)]
    territory_email: String,
    #[serde(default)]
    territory_phone: String,
    #[serde(default)]
    data_at_end: String,
}

/// `POST /conventions/{agreement}/referents`: both referents, and what
/// the commune asks for its data at the end.
pub(super) async fn referents(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReferentsForm>,
) -> Result<Response, AppError> {
    service::visible(&state, &caller, &id).await?;
    let commune = Referent {
        name: form.commune_name,
        role: form.commune_role,
        email: form.commune_email,
        phone: form.commune_phone,
    };
    let territory = Referent {
        name: form.territory_name,
        role: form.territory_role,
        email: form.territory_email,
        phone: form.territory_phone,
    };
    let checked = service::checked(commune, "référent de la commune")
        .and_then(|c| Ok((c, service::checked(territory, "référent du territoire")?)));
    let (commune, territory) = match checked {
        Ok(both) => both,
        Err(AppError::Unprocessable(message)) => {
            return refused(&state, &caller, &id, message).await;
        }
        Err(other) => return Err(other),
    };
    let data = DataAtEnd::parse(form.data_at_end.trim());
    let change = Change {
        referents: Some((&territory, &commune)),
        data_at_end: Some(data),
        ..Change::note(Some(caller.user_id), "referents", "Référents mis à jour.")
    };
    store::change(&state.db, &id, &change, now_ms()).await?;
    Ok(Redirect::to(&format!("/conventions/{id}#referents")).into_response())
}

#[derive(Deserialize)]
pub(super) struct EndForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
}

/// `POST /conventions/{agreement}/fin`: an end action marked done.
pub(super) async fn end_done(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> Result<Response, AppError> {
    service::visible(&state, &caller, &id).await?;
    let Some(action) = super::offers::EndAction::parse(&form.action) else {
        return refused(&state, &caller, &id, "Action de fin inconnue.".to_owned()).await;
    };
    let note: String = form
        .note
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let detail = if note.is_empty() {
        format!("Fait : {}.", action.label())
    } else {
        format!("Fait : {} ({note}).", action.label())
    };
    let change = Change::note(Some(caller.user_id), "end_action", &detail);
    if !store::end_action_done(&state.db, &id, action, &note, &change, now_ms()).await? {
        return refused(
            &state,
            &caller,
            &id,
            "Cette action n'est pas à faire, ou elle est déjà faite.".to_owned(),
        )
        .await;
    }
    Ok(Redirect::to(&format!("/conventions/{id}#fin")).into_response())
}

/// `POST /conventions/{agreement}/couts`: the amounts of an offer with
/// contributions (`total`, `founders`, `commune`, `phase_STEP`, in euros).
pub(super) async fn costs(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let (_, offer) = service::visible(&state, &caller, &id).await?;
    if offer.cost != Cost::ContributionPerPhase {
        return refused(
            &state,
            &caller,
            &id,
            "Cette offre ne prévoit pas de contribution.".to_owned(),
        )
        .await;
    }
    let amount = |field: &str, label: &str| -> Result<Option<i64>, String> {
        match form.get(field).map(|t| t.trim()).unwrap_or_default() {
            "" => Ok(None),
            text => fr::parse_euros(text).map(Some).ok_or_else(|| {
                format!("{label} : « {text} » n'est pas un montant en euros (par exemple 1 500 ou 1 500,50).")
            }),
        }
    };
    let parsed = (|| -> Result<Costs, String> {
        let mut phases = Vec::new();
        for step in &offer.steps {
            if let Some(cents) = amount(&format!("phase_{}", step.id), &step.title)? {
                phases.push(PhaseCost {
                    step: step.id.clone(),
                    cents,
                });
            }
        }
        Ok(Costs {
            total_cents: amount("total", "Coût total")?,
            founders_cents: amount("founders", "Part des membres fondateurs")?,
            commune_cents: amount("commune", "Contribution de la commune")?,
            phases,
        })
    })();
    let costs = match parsed {
        Ok(costs) => costs,
        Err(message) => return refused(&state, &caller, &id, message).await,
    };
    let change = Change {
        costs: Some(Some(&costs)),
        ..Change::note(
            Some(caller.user_id),
            "costs",
            "Conditions financières mises à jour.",
        )
    };
    store::change(&state.db, &id, &change, now_ms()).await?;
    Ok(Redirect::to(&format!("/conventions/{id}#couts")).into_response())
}
