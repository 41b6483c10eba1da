//! Bookings: a commune's planned need (an exercise, an election night, a
//! planned migration) holds one item, or a number of items of a kind, on
//! its days. Loans honour them (`rules::lend_refusal`); a booking of the
//! commune also allows lending to it without a crisis.
//!
//! What it must never do: take a booking that overlaps another of the
//! same item, or that asks for more items of a kind than the kit has in
//! service on common days.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::crises::BookingLine;
use super::rules::{self, Booking, Kind, Span, State as ItemState};
use super::store;
use super::{id, refuse};
use crate::accounts::{CsrfForm, Staff, audit};
use crate::cybermeteo::today;
use crate::territory::CommuneCode;
use crate::web::{Chrome, render};
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "crisis/bookings.html")]
struct BookingsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    communes: Vec<(String, String)>,
    items: Vec<(i64, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    today: String,
}

struct Row {
    line: BookingLine,
    commune: String,
    /// Items that may be lent for it now: (id, label).
    choices: Vec<(i64, String)>,
    due: String,
}

/// `GET /crise/reservations`.
pub(super) async fn page(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let items = store::items(&state.db).await?;
    let rows = store::bookings(&state.db, today(), None)
        .await?
        .iter()
        .map(|b| Row {
            line: BookingLine::of(b),
            commune: b.commune_name.clone(),
            choices: items
                .iter()
                .filter(|i| i.state() == ItemState::Available)
                .filter(|i| match b.item_id {
                    Some(id) => i.id == id,
                    None => Some(i.kind.as_str()) == b.kind.as_deref(),
                })
                .map(|i| (i.id, format!("{} ({})", i.label, i.identifiers_fr())))
                .collect(),
            due: b.to_day.clone(),
        })
        .collect();
    let communes = crate::territory::communes(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code.to_string(), c.name))
        .collect();
    render(&BookingsPage {
        chrome: Chrome::new("Kit de crise — réservations", Some(&caller)),
        rows,
        communes,
        items: items
            .iter()
            .filter(|i| i.state() != ItemState::OutOfOrder)
            .map(|i| (i.id, format!("{} — {}", i.label, i.kind().label_fr())))
            .collect(),
        kinds: Kind::ALL
            .into_iter()
            .map(|k| (k.id(), k.plural_fr()))
            .collect(),
        today: today().to_string(),
    })
}

#[derive(Deserialize, Default)]
pub(super) struct BookingForm {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    count: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// `POST /crise/reservations`.
pub(super) async fn add(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<BookingForm>,
) -> Result<Response, AppError> {
    let code = CommuneCode::parse(form.commune.trim())
        .map_err(|_| refuse("« Commune » : choisissez la commune."))?;
    let commune = crate::territory::commune(&state.db, &code)
        .await?
        .ok_or_else(|| refuse("« Commune » : cette commune n'est pas dans le territoire."))?;
    let from = rules::day(&form.from, "Du").map_err(refuse)?;
    let to = rules::day(&form.to, "Au").map_err(refuse)?;
    if from < today() {
        return Err(refuse(
            "« Du » : une réservation commence aujourd'hui ou plus tard.",
        ));
    }
    let span = Span::new(from, to, "Au").map_err(refuse)?;
    let reason = rules::text(&form.reason, "Pour quoi faire", rules::MAX_SHORT).map_err(refuse)?;
    let (item, item_kind, kind, count) = if form.item.trim().is_empty() {
        let kind = Kind::parse(&form.kind)
            .ok_or_else(|| refuse("Choisissez un matériel, ou un type et un nombre."))?;
        let count = form
            .count
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=rules::MAX_BOOKED).contains(n))
            .ok_or_else(|| refuse(format!("« Nombre » : de 1 à {}.", rules::MAX_BOOKED)))?;
        (None, None, Some(kind), count)
    } else {
        let item = store::item(
            &state.db,
            id(form.item.trim()).map_err(|_| refuse("« Matériel » : choix inconnu."))?,
        )
        .await?
        .ok_or_else(|| refuse("« Matériel » : choix inconnu."))?;
        if item.state() == ItemState::OutOfOrder {
            return Err(refuse(format!(
                "« {} » est hors service : il ne peut pas être réservé.",
                item.label
            )));
        }
        (Some(item.id), Some(item.kind()), None, 1)
    };
    let booking = Booking {
        id: 0,
        commune: commune.code.to_string(),
        commune_name: commune.name.clone(),
        item,
        kind,
        count,
        span,
        item_kind,
    };
    let existing: Vec<Booking> = store::bookings(&state.db, today(), None)
        .await?
        .iter()
        .filter_map(store::BookingRow::rule)
        .collect();
    let (in_service, lent) = match kind.or(item_kind) {
        Some(kind) => (
            store::in_service(&state.db, kind).await?,
            store::lent_during(&state.db, kind, span, today()).await?,
        ),
        None => (0, 0),
    };
    if let Some(why) = rules::booking_refusal(&booking, &existing, in_service, lent) {
        return Err(AppError::Conflict(why));
    }
    let id = store::book(&state.db, &booking, &reason, Some(caller.user_id)).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_booking",
        &format!("booking {id} for commune {}", commune.code),
    )
    .await;
    Ok(Redirect::to(&format!("/crise/reservations#reservation-{id}")).into_response())
}

/// `POST /crise/reservations/{booking}/annuler` (`confirm=oui`).
pub(super) async fn cancel(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(booking): Path<String>,
    CsrfForm(form): CsrfForm<crate::accounts::ConfirmForm>,
) -> Result<Response, AppError> {
    let booking = store::booking(&state.db, id(&booking)?)
        .await?
        .ok_or(AppError::NotFound)?;
    if !form.confirmed() {
        return Err(refuse(
            "Cochez la case de confirmation pour annuler la réservation.",
        ));
    }
    store::cancel_booking(&state.db, booking.id).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_booking_cancel",
        &format!("booking {}", booking.id),
    )
    .await;
    Ok(Redirect::to("/crise/reservations").into_response())
}
