//! The commune page's word on the commune's agreements: each one with
//! where it stands and what to do next, and the offers it could still
//! sign, so a mayor sees at a glance what the commune has signed and what
//! it is owed.
//!
//! What it must never do: show another commune's agreements (the caller's
//! page is already one it may see), or propose an offer the commune may
//! not sign.

use super::eligibility::{self, Applicant};
use super::pages::{next_step, status_sentence};
use super::{Status, service, store, today};
use crate::territory::Commune;
use crate::{AppError, AppState};

/// One agreement, in words.
#[derive(Clone, Debug)]
pub struct Line {
    pub href: String,
    pub offer: String,
    pub status: String,
    pub next: String,
}

/// What the commune page says.
#[derive(Clone, Debug)]
pub struct CommuneOverview {
    pub lines: Vec<Line>,
    /// Offers the commune may sign and has no agreement for (titles).
    pub open_offers: Vec<String>,
}

/// The overview of `commune`'s agreements.
pub async fn of_commune(state: &AppState, commune: &Commune) -> Result<CommuneOverview, AppError> {
    let mut lines = Vec::new();
    let mut held = Vec::new();
    for agreement in store::of_commune(&state.db, &commune.code).await? {
        let Some(offer) = state.settings.offers.get(&agreement.offer).cloned() else {
            continue;
        };
        let ends = store::end_actions(&state.db, &agreement.id).await?;
        let view = service::view(state, agreement, offer, today()).await?;
        if !matches!(view.schedule.status, Status::Ended | Status::Terminated) {
            held.push(view.offer.id.clone());
        }
        lines.push(Line {
            href: format!("/conventions/{}", view.agreement.id),
            offer: view.offer.title.clone(),
            status: status_sentence(&view),
            next: next_step(&view, &ends),
        });
    }
    let applicant = Applicant::commune(commune);
    let open_offers = state
        .settings
        .offers
        .all()
        .filter(|o| !held.contains(&o.id) && eligibility::check(o, &applicant).is_ok())
        .map(|o| o.title.clone())
        .collect();
    Ok(CommuneOverview { lines, open_offers })
}
