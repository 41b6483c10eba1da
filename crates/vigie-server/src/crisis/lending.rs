//! The handovers: lending items for a crisis or a booking, the return
//! (who, the state, the commune's data returned or destroyed) and the
//! wipe attested before the next loan. The signed forms are `signed`'s.
//!
//! What it must never do: store part of a refused form, lend without the
//! rules' leave (`rules::lend_refusal` for every item, then the ledger's
//! conditional update).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ledger::{self, Handover, Loan, Return, Wipe};
use super::rules::{self, DataOutcome, Lendable, Span, State as ItemState};
use super::store;
use super::{agreement_in_force, id, refuse, visible_loan};
use crate::accounts::{CsrfForm, Staff, audit};
use crate::cybermeteo::today;
use crate::{AppError, AppState, fr};

/// The most items one handover lends.
const MAX_ITEMS: usize = 50;

/// Where a loan is followed: its crisis's page, or its commune's.
pub(super) fn page_of(loan: &Loan) -> String {
    match loan.crisis_id {
        Some(crisis) => format!("/crises/{crisis}#pret-{}", loan.id),
        None => format!("/communes/{}/crise#pret-{}", loan.commune, loan.id),
    }
}

/// `POST /crise/prets` (`crisis` or `booking`, `item` repeated,
/// `holder_name`, `holder_role`, `due`).
pub(super) async fn lend(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let today = today();
    let (commune, crisis, booking, back) = if !field("crisis").is_empty() {
        let crisis = store::crisis(&state.db, id(field("crisis"))?)
            .await?
            .ok_or(AppError::NotFound)?;
        if crisis.closed_at.is_some() {
            return Err(refuse(
                "Cette crise est close : déclarez-en une nouvelle pour prêter du matériel.",
            ));
        }
        (
            crisis.commune.clone(),
            Some(crisis.id),
            None,
            format!("/crises/{}#prets", crisis.id),
        )
    } else if !field("booking").is_empty() {
        let booking = store::booking(&state.db, id(field("booking"))?)
            .await?
            .ok_or(AppError::NotFound)?;
        let back = format!("/communes/{}/crise#prets", booking.commune);
        (booking.commune, None, Some(booking.id), back)
    } else {
        return Err(refuse(
            "Un prêt se fait pour une crise déclarée ou une réservation de la commune : déclarez la crise d'abord.",
        ));
    };
    let holder_name = rules::text(
        field("holder_name"),
        "Nom de la personne qui reçoit le matériel",
        rules::MAX_SHORT,
    )
    .map_err(refuse)?;
    let holder_role =
        rules::text(field("holder_role"), "Sa fonction", rules::MAX_SHORT).map_err(refuse)?;
    let due = rules::day(field("due"), "Retour prévu le").map_err(refuse)?;
    let span = Span::new(today, due, "Retour prévu le").map_err(refuse)?;
    let mut items: Vec<i64> = Vec::new();
    for (_, value) in pairs.iter().filter(|(k, _)| k == "item") {
        let item = value
            .trim()
            .parse::<i64>()
            .map_err(|_| refuse("« Matériel » : choix inconnu."))?;
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if items.is_empty() {
        return Err(refuse("Cochez au moins un matériel à prêter."));
    }
    if items.len() > MAX_ITEMS {
        return Err(refuse(format!("Au plus {MAX_ITEMS} matériels par prêt.")));
    }
    if !agreement_in_force(&state, &commune, today).await? {
        return Err(refuse(
            "Cette commune n'a pas de convention « kit de crise » en vigueur : le matériel ne peut pas lui être prêté.",
        ));
    }
    let refusals = refusals(&state, &commune, span, &items).await?;
    if !refusals.is_empty() {
        return Err(AppError::Conflict(format!(
            "Rien n'a été prêté. {}",
            refusals.join(" ")
        )));
    }
    let handover = Handover {
        items,
        commune,
        crisis,
        booking,
        holder_name,
        holder_role,
        due,
    };
    match ledger::lend(&state.db, &handover, Some(caller.user_id)).await? {
        Ok(id) => {
            let detail = format!(
                "handover {id}: {} item(s) to commune {}",
                handover.items.len(),
                handover.commune
            );
            audit(&state.db, Some(caller.user_id), "kit_lend", &detail).await;
            Ok(Redirect::to(&back).into_response())
        }
        Err(label) => Err(AppError::Conflict(format!(
            "« {label} » vient d'être prêté ou retiré par quelqu'un d'autre : rien n'a été prêté, rechargez la page."
        ))),
    }
}

/// Why each item cannot be lent to `commune` for `span` (empty: all may).
async fn refusals(
    state: &AppState,
    commune: &str,
    span: Span,
    items: &[i64],
) -> Result<Vec<String>, AppError> {
    let all = store::items(&state.db).await?;
    let bookings: Vec<rules::Booking> = store::bookings(&state.db, span.from, None)
        .await?
        .iter()
        .filter_map(store::BookingRow::rule)
        .collect();
    let mut refusals = Vec::new();
    for id in items {
        let Some(item) = all.iter().find(|i| i.id == *id) else {
            refusals.push("Un des matériels choisis n'existe plus : rechargez la page.".to_owned());
            continue;
        };
        let booked_elsewhere = |id: i64| {
            bookings
                .iter()
                .any(|b| b.item == Some(id) && b.commune != commune && b.span.overlaps(span))
        };
        let spare = i64::try_from(
            all.iter()
                .filter(|i| {
                    i.kind == item.kind
                        && i.state() == ItemState::Available
                        && !items.contains(&i.id)
                        && !booked_elsewhere(i.id)
                })
                .count(),
        )
        .unwrap_or(i64::MAX);
        let lendable = Lendable {
            id: item.id,
            label: item.label.clone(),
            kind: item.kind(),
            state: item.state(),
            unwiped: ledger::unwiped(&state.db, item.id).await?,
        };
        if let Some(why) = rules::lend_refusal(&lendable, commune, span, &bookings, spare) {
            refusals.push(why);
        }
    }
    Ok(refusals)
}

#[derive(Deserialize, Default)]
pub(super) struct ReturnForm {
    #[serde(default)]
    returned_by: String,
    #[serde(default)]
    condition: String,
    #[serde(default)]
    data: String,
}

/// `POST /prets/{loan}/restitution`: the item is back, to wipe.
pub(super) async fn give_back(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(loan): Path<String>,
    CsrfForm(form): CsrfForm<ReturnForm>,
) -> Result<Response, AppError> {
    let loan = visible_loan(&state, &caller, &loan).await?;
    let returned_by =
        rules::text(&form.returned_by, "Rendu par", rules::MAX_SHORT).map_err(refuse)?;
    let condition =
        rules::text(&form.condition, "État au retour", rules::MAX_LONG).map_err(refuse)?;
    let outcome = DataOutcome::parse(&form.data).ok_or_else(|| {
        refuse("« Données de la commune » : choisissez restituées ou détruites, comme la commune le demande.")
    })?;
    let back = Return {
        returned_by: &returned_by,
        condition: &condition,
        outcome,
    };
    if !ledger::give_back(&state.db, &loan, &back, Some(caller.user_id)).await? {
        return Err(AppError::Conflict(format!(
            "« {} » est déjà rendu.",
            loan.item_label
        )));
    }
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_return",
        &format!("loan {}", loan.id),
    )
    .await;
    Ok(Redirect::to(&page_of(&loan)).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct WipeForm {
    #[serde(default)]
    day: String,
    #[serde(default)]
    wiped_by: String,
    #[serde(default)]
    method: String,
}

/// `POST /crise/materiels/{item}/effacement`: the wipe of the item's last
/// returned loan, attested; the item is available again.
pub(super) async fn wipe(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(item): Path<String>,
    CsrfForm(form): CsrfForm<WipeForm>,
) -> Result<Response, AppError> {
    let item = store::item(&state.db, id(&item)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(loan) = ledger::to_wipe(&state.db, item.id).await? else {
        return Err(AppError::Conflict(format!(
            "« {} » n'attend pas d'effacement : il est {}.",
            item.label,
            item.state().label_fr()
        )));
    };
    let day = rules::day(&form.day, "Effacé le").map_err(refuse)?;
    let returned = loan.returned_at.map(fr::date).unwrap_or_default();
    let returned_day = loan
        .returned_at
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(vigie_core::local_day);
    if day > today() || returned_day.is_some_and(|r| day < r) {
        return Err(refuse(format!(
            "« Effacé le » : entre le retour ({returned}) et aujourd'hui."
        )));
    }
    let wiped_by = rules::text(&form.wiped_by, "Effacé par", rules::MAX_SHORT).map_err(refuse)?;
    let method = item
        .kind()
        .wipe_methods()
        .iter()
        .find(|m| **m == form.method.trim())
        .ok_or_else(|| refuse("« Méthode » : choisissez la méthode d'effacement employée."))?;
    let wipe = Wipe {
        day,
        wiped_by: &wiped_by,
        method,
    };
    if !ledger::wipe(&state.db, &loan, &wipe, Some(caller.user_id)).await? {
        return Err(AppError::Conflict(format!(
            "L'effacement de « {} » est déjà attesté.",
            item.label
        )));
    }
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_wipe",
        &format!("item {} loan {}", item.id, loan.id),
    )
    .await;
    Ok(Redirect::to(&format!("/crise/materiels/{}#historique", item.id)).into_response())
}
