//! The programme's pages: the offers, the staff's list of agreements and
//! their form, a commune's agreements; the one sentence that says where
//! an agreement stands and what to do next (an agreement's own page is
//! `show`, the staff's forms on it `forms`).
//!
//! What it must never do: show a commune another's agreements (the
//! handlers go through `service::visible` and `VisibleCommune`), or lose
//! what a person typed when the form is refused (it comes back with the
//! reason, status 422, nothing stored).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::offers::{Offer, Start};
use super::service::{self, DeliverableStatus, Request, View};
use super::store::{self, Agreement};
use super::{Status, today};
use crate::accounts::{Caller, CsrfForm, Staff, VisibleCommune};
use crate::territory::Commune;
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// An agreement in a list.
struct Row {
    id: String,
    commune: String,
    offer: String,
    status: &'static str,
    status_id: &'static str,
    dates: String,
    next: String,
}

#[derive(Template)]
#[template(path = "agreements/list.html")]
struct ListPage {
    chrome: Chrome,
    commune: Option<Commune>,
    rows: Vec<Row>,
    counts: Vec<(&'static str, usize)>,
    can_create: bool,
}

async fn rows(state: &AppState, agreements: Vec<Agreement>) -> Result<Vec<Row>, AppError> {
    let names: std::collections::HashMap<String, String> = crate::territory::communes(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code.to_string(), c.name))
        .collect();
    let mut out = Vec::new();
    for agreement in agreements {
        let Some(offer) = state.settings.offers.get(&agreement.offer).cloned() else {
            continue;
        };
        let commune = names
            .get(&agreement.commune)
            .cloned()
            .unwrap_or_else(|| agreement.commune.clone());
        let ends = store::end_actions(&state.db, &agreement.id).await?;
        let view = service::view(state, agreement, offer, today()).await?;
        out.push(Row {
            id: view.agreement.id.clone(),
            commune,
            offer: view.offer.title.clone(),
            status: view.schedule.status.label(),
            status_id: view.schedule.status.id(),
            dates: dates_line(&view),
            next: next_step(&view, &ends),
        });
    }
    Ok(out)
}

/// « du 5 janvier 2026 au 4 janvier 2029 », « depuis le 5 janvier 2026 ».
fn dates_line(view: &View) -> String {
    match (view.schedule.starts_on, view.schedule.ends_on) {
        (Some(start), Some(end)) => fr::day_range(start, end),
        (Some(start), None) => format!("depuis le {}", fr::day_long(start)),
        (None, _) => match view.facts.signed_on {
            Some(day) => format!("signée le {}", fr::day_long(day)),
            None => "pas encore signée".to_owned(),
        },
    }
}

/// « En cours depuis le 5 janvier 2026 », « Signée, pas encore commencée ».
pub(super) fn status_sentence(view: &View) -> String {
    let label = view.schedule.status.label();
    let mut chars = label.chars();
    let capitalised: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("{capitalised} ({})", dates_line(view))
}

/// What to do next, in one sentence.
pub(super) fn next_step(view: &View, ends: &[store::EndActionRow]) -> String {
    let s = &view.schedule;
    match s.status {
        Status::Draft => {
            "Faites-la signer : produisez la convention, puis déposez le scan signé.".to_owned()
        }
        Status::Signed => match view.offer.start {
            Start::InstallationAttested => "Elle commencera à l'installation du boîtier : au premier envoi du boîtier, ou en déposant l'attestation d'installation signée.".to_owned(),
            Start::Notification => "Notifiez-la à la commune, puis enregistrez la date de notification : elle commence ce jour-là.".to_owned(),
            Start::GivenDate | Start::Signature => match s.starts_on {
                Some(day) => format!("Elle commencera le {}.", fr::day_long(day)),
                None => "Enregistrez la date à laquelle elle commence.".to_owned(),
            },
        },
        Status::Ending => {
            let end = s.ends_on.map_or_else(String::new, fr::day_long);
            let before: Vec<&str> = s
                .steps
                .iter()
                .filter(|w| w.done_on.is_none() && s.ends_on.is_some_and(|e| w.opens_on <= e))
                .filter_map(|w| view.offer.step(&w.step).map(|st| st.title.as_str()))
                .collect();
            if before.is_empty() {
                format!("Elle se termine le {end}.")
            } else {
                format!("Elle se termine le {end} ; d'ici là : {}.", before.join(" ; "))
            }
        }
        Status::Active => {
            if let Some(window) = s.steps.iter().find(|w| w.done_on.is_none()) {
                let title = view.offer.step(&window.step).map_or(window.step.as_str(), |st| st.title.as_str());
                let late = window.due_on < s.on;
                return format!(
                    "{}{title}, {}.",
                    if late { "En retard : " } else { "Prochaine étape : " },
                    fr::day_range(window.opens_on, window.due_on)
                );
            }
            if let Some(undone) = view.deliverables.iter().find(|d| d.status != DeliverableStatus::Signed) {
                return format!("Document à faire signer : {}.", undone.kind.label());
            }
            match (s.notice_by, s.ends_on) {
                (Some(day), _) => format!(
                    "Reconduite tacitement le {} sauf résiliation reçue au plus tard le {}.",
                    s.renews_on.map_or_else(String::new, fr::day_long),
                    fr::day_long(day)
                ),
                (None, Some(end)) => format!("Elle se termine le {}.", fr::day_long(end)),
                (None, None) => "Rien à faire pour l'instant.".to_owned(),
            }
        }
        Status::Ended | Status::Terminated => {
            let pending: Vec<&str> = ends
                .iter()
                .filter(|e| e.done_at.is_none())
                .filter_map(|e| e.action().map(|a| a.label()))
                .collect();
            if pending.is_empty() {
                match s.ends_on {
                    Some(end) => format!("Terminée le {} ; rien ne reste à faire.", fr::day_long(end)),
                    None => "Terminée ; rien ne reste à faire.".to_owned(),
                }
            } else {
                format!("Reste à faire : {}.", pending.join(" ; "))
            }
        }
    }
}

fn counts(rows: &[Row]) -> Vec<(&'static str, usize)> {
    [
        Status::Draft,
        Status::Signed,
        Status::Active,
        Status::Ending,
        Status::Ended,
        Status::Terminated,
    ]
    .into_iter()
    .map(|status| {
        (
            status.label(),
            rows.iter().filter(|r| r.status_id == status.id()).count(),
        )
    })
    .filter(|(_, n)| *n > 0)
    .collect()
}

/// `/conventions`: every agreement of the territory (staff).
pub(super) async fn all(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let rows = rows(&state, store::all(&state.db).await?).await?;
    render(&ListPage {
        chrome: Chrome::new("Conventions", Some(&caller)),
        commune: None,
        counts: counts(&rows),
        rows,
        can_create: true,
    })
}

/// `/communes/{code}/conventions`: one commune's agreements.
pub(super) async fn of_commune(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let rows = rows(&state, store::of_commune(&state.db, &commune.code).await?).await?;
    render(&ListPage {
        chrome: Chrome::new(format!("Conventions — {}", commune.name), Some(&caller)),
        counts: counts(&rows),
        rows,
        commune: Some(commune),
        can_create: caller.is_staff(),
    })
}

#[derive(Template)]
#[template(path = "agreements/offers.html")]
struct OffersPage {
    chrome: Chrome,
    offers: Vec<OfferView>,
}

struct OfferView {
    id: String,
    title: String,
    summary: String,
    source: String,
    who: String,
    rules: Vec<String>,
}

/// `/offres`: the catalogue, and who may sign what.
pub(super) async fn offers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let offers = state
        .settings
        .offers
        .all()
        .map(|offer| {
            let rules = super::prefill::rules(offer, None);
            let rule = |key: &str| {
                rules
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            OfferView {
                id: offer.id.clone(),
                title: offer.title.clone(),
                summary: offer.summary.clone(),
                source: offer.source.clone(),
                who: who_may_sign(offer),
                rules: vec![
                    rule("start"),
                    rule("duration"),
                    rule("renewal"),
                    rule("notice"),
                ],
            }
        })
        .collect();
    render(&OffersPage {
        chrome: Chrome::new("Offres du territoire", Some(&caller)),
        offers,
    })
}

fn who_may_sign(offer: &Offer) -> String {
    let e = &offer.eligibility;
    let bound = |n: u32| fr::number(i64::from(n));
    match (e.commune_population_below, e.epci_population_below) {
        (None, None) => "Toutes les communes du territoire.".to_owned(),
        (Some(c), None) => format!("Les communes de moins de {} habitants.", bound(c)),
        (None, Some(p)) => format!("Les EPCI de moins de {} habitants.", bound(p)),
        (Some(c), Some(p)) => format!(
            "Les communes de moins de {} habitants et les EPCI de moins de {} habitants.",
            bound(c),
            bound(p)
        ),
    }
}

#[derive(Template)]
#[template(path = "agreements/new.html")]
struct NewPage {
    chrome: Chrome,
    communes: Vec<(String, String)>,
    offers: Vec<(String, String)>,
    form: NewForm,
    error: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct NewForm {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    offer: String,
    #[serde(default)]
    signed_on: String,
    #[serde(default)]
    starts_on: String,
}

#[derive(Deserialize)]
pub(super) struct NewQuery {
    commune: Option<String>,
    offre: Option<String>,
}

async fn new_page(
    state: &AppState,
    caller: &Caller,
    form: NewForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let communes = crate::territory::communes(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code.to_string(), c.name))
        .collect();
    let offers = state
        .settings
        .offers
        .all()
        .map(|o| (o.id.clone(), o.title.clone()))
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = render(&NewPage {
        chrome: Chrome::new("Nouvelle convention", Some(caller)),
        communes,
        offers,
        form,
        error,
    })?;
    Ok((status, page).into_response())
}

/// `/conventions/nouvelle`: the form (staff).
pub(super) async fn new_form(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    let form = NewForm {
        commune: query.commune.unwrap_or_default(),
        offer: query.offre.unwrap_or_default(),
        ..NewForm::default()
    };
    new_page(&state, &caller, form, None).await
}

pub(super) fn optional_day(text: &str, what: &str) -> Result<Option<NaiveDate>, String> {
    match text.trim() {
        "" => Ok(None),
        text => text
            .parse()
            .map(Some)
            .map_err(|_| format!("{what} : indiquez une date (jj/mm/aaaa).")),
    }
}

/// `POST /conventions`: creates it, or gives the form back with why.
pub(super) async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<NewForm>,
) -> Result<Response, AppError> {
    let days = optional_day(&form.signed_on, "Signée le")
        .and_then(|signed| Ok((signed, optional_day(&form.starts_on, "Commence le")?)));
    let (signed_on, starts_on) = match days {
        Ok(days) => days,
        Err(message) => return new_page(&state, &caller, form, Some(message)).await,
    };
    let request = Request {
        commune: form.commune.clone(),
        offer: form.offer.clone(),
        signed_on,
        starts_on,
        commune_referent: None,
        territory_referent: None,
        costs: None,
        data_at_end: None,
    };
    match service::create(&state, &caller, request).await {
        Ok(id) => Ok(Redirect::to(&format!("/conventions/{id}")).into_response()),
        Err(AppError::BadRequest(message) | AppError::Unprocessable(message)) => {
            new_page(&state, &caller, form, Some(message)).await
        }
        Err(other) => Err(other),
    }
}
