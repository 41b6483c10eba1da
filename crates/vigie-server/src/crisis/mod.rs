//! The crisis kit (issue 12; seed 002, Métropole Aix-Marseille-Provence:
//! « mise à disposition de matériels et moyens de communication
//! informatiques au profit des communes en cas de crise cyber »): clean
//! laptops, mobile phones and mailboxes the territory lends to a commune
//! hit by a cyberattack, isolated from its network, until it recovers.
//!
//! - `rules`: what an item is, its states, when it may be lent, bookings
//!   that overlap, the annual check (pure).
//! - `store`: items, crises, bookings, history; `ledger`: loans, signed
//!   forms, returns and wipes, each state change in one transaction with
//!   its line of history.
//! - `inventory` (the staff's inventory and an item's page), `crises`
//!   (declaring, a crisis's page, a commune's page), `lending` (lend,
//!   return, wipe), `signed` (the signed forms' scans), `bookings`, `documents` (the loan form,
//!   the return form and the wipe attestation through `vigie-docs`),
//!   `due` (what the calendar shows).
//!
//! Beyond what asset tools do (Snipe-IT: check-out with an expected
//! return, a signed acceptance, audits): a booking calendar honoured by
//! every loan, a signature at the return, and a wipe attested before the
//! next loan, which records whether the commune's own data was returned
//! to it or destroyed (seed 002, art. 10).
//!
//! What it must never do: show a commune another commune's crises or
//! loans (404, as for one that does not exist), lend an item that is not
//! available, not wiped since its last loan, out of order or booked by
//! another commune on those days, or lend to a commune without a
//! crisis-kit agreement in force and a crisis declared for it or a
//! booking of its own.

mod bookings;
mod crises;
pub mod documents;
mod due;
mod inventory;
pub mod ledger;
mod lending;
pub mod rules;
mod signed;
pub mod store;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing;

pub use due::{Due, due};

use crate::accounts::Caller;
use crate::web::{Access, Routes};
use crate::{AppError, AppState};

/// The body limit of the signed form's upload: the scan and the form.
pub const MAX_UPLOAD: usize = ledger::MAX_SCAN + 64 * 1024;

pub fn router() -> Routes {
    Routes::new()
        .get("/crise", Access::Staff, inventory::page)
        .post("/crise/materiels", Access::Staff, inventory::add)
        .get("/crise/materiels/{item}", Access::Staff, inventory::show)
        .post(
            "/crise/materiels/{item}/controle",
            Access::Staff,
            inventory::check,
        )
        .post(
            "/crise/materiels/{item}/etat",
            Access::Staff,
            inventory::set_state,
        )
        .post(
            "/crise/materiels/{item}/effacement",
            Access::Staff,
            lending::wipe,
        )
        .post("/crise/declarer", Access::Staff, crises::declare)
        .post("/crise/prets", Access::Staff, lending::lend)
        .get("/crise/reservations", Access::Staff, bookings::page)
        .post("/crise/reservations", Access::Staff, bookings::add)
        .post(
            "/crise/reservations/{booking}/annuler",
            Access::Staff,
            bookings::cancel,
        )
        .get("/crises/{crisis}", Access::Visible, crises::show)
        .post("/crises/{crisis}/cloture", Access::Staff, crises::close)
        .get(
            "/communes/{code}/crise",
            Access::Visible,
            crises::of_commune,
        )
        .post(
            "/prets/{loan}/restitution",
            Access::Staff,
            lending::give_back,
        )
        .method(
            Method::POST,
            "/prets/{loan}/fiche-signee",
            Access::Staff,
            routing::post(signed::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .get(
            "/prets/{loan}/fiche-signee",
            Access::Visible,
            signed::download,
        )
        .get(
            "/prets/{loan}/fiche-de-pret.pdf",
            Access::Visible,
            documents::loan_form,
        )
        .get(
            "/prets/{loan}/fiche-de-restitution.pdf",
            Access::Visible,
            documents::return_form,
        )
        .get(
            "/prets/{loan}/attestation-effacement.pdf",
            Access::Visible,
            documents::attestation,
        )
}

/// A path's number (`{item}`, `{crisis}`…): anything else names nothing.
fn id(text: &str) -> Result<i64, AppError> {
    if text.len() > 18 {
        return Err(AppError::NotFound);
    }
    text.parse::<i64>().map_err(|_| AppError::NotFound)
}

/// The crisis `{crisis}` if the caller may see its commune; 404 otherwise,
/// as for one that does not exist.
async fn visible_crisis(
    state: &AppState,
    caller: &Caller,
    text: &str,
) -> Result<store::Crisis, AppError> {
    let crisis = store::crisis(&state.db, id(text)?)
        .await?
        .ok_or(AppError::NotFound)?;
    if caller.can_see_commune(&crisis.commune) {
        Ok(crisis)
    } else {
        Err(AppError::NotFound)
    }
}

/// The loan `{loan}` if the caller may see its commune; 404 otherwise.
async fn visible_loan(
    state: &AppState,
    caller: &Caller,
    text: &str,
) -> Result<ledger::Loan, AppError> {
    let loan = ledger::loan(&state.db, id(text)?)
        .await?
        .ok_or(AppError::NotFound)?;
    if caller.can_see_commune(&loan.commune) {
        Ok(loan)
    } else {
        Err(AppError::NotFound)
    }
}

/// The offer an agreement must be of for the commune to borrow the kit.
pub const OFFER: &str = "crisis_kit";

/// Whether `commune` has a crisis-kit agreement in force on `day`
/// (seed 002: the kit is lent to the communes that subscribed to it).
async fn agreement_in_force(
    state: &AppState,
    commune: &str,
    day: chrono::NaiveDate,
) -> Result<bool, AppError> {
    Ok(
        crate::agreements::store::in_force(&state.db, &state.settings.offers, commune, OFFER, day)
            .await?,
    )
}

/// What the commune's crisis-kit agreement says of its data at the end
/// (seed 002, art. 10), as the return form's choice; `None` when it says
/// nothing or to archive (the commune's instructions decide).
async fn agreed_outcome(
    state: &AppState,
    commune: &str,
) -> Result<Option<rules::DataOutcome>, AppError> {
    use crate::agreements::store::DataAtEnd;
    let agreements = crate::agreements::store::of_commune(&state.db, commune).await?;
    Ok(agreements
        .iter()
        .filter(|a| a.offer == OFFER)
        .find_map(|a| a.data_at_end)
        .and_then(|data| match data {
            DataAtEnd::Return => Some(rules::DataOutcome::Returned),
            DataAtEnd::Destroy => Some(rules::DataOutcome::Destroyed),
            DataAtEnd::Archive => None,
        }))
}

/// A refused form: 400 with what to fix, in French.
fn refuse(message: impl Into<String>) -> AppError {
    AppError::BadRequest(message.into())
}
