//! The programme's pages: the offers, the staff's list of agreements and
//! their form, a commune's agreements, and an agreement's page (where it
//! stands and what to do next, its dates, steps, documents, what its end
//! obliges, its referents and history), with the staff's forms.
//!
//! What it must never do: show a commune another's agreements (the
//! handlers go through `service::visible` and `VisibleCommune`), or lose
//! what a person typed when the form is refused (it comes back with the
//! reason, status 422, nothing stored).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::dates::Termination;
use super::offers::{Offer, Party, Start};
use super::service::{self, Deliverable, DeliverableStatus, Fact, Request, View};
use super::store::{self, Agreement, Change, DataAtEnd, Referent};
use super::{Status, today};
use crate::accounts::{Caller, CsrfForm, Staff, VisibleCommune};
use crate::db::now_ms;
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
            let rules = super::documents::rules(offer, None);
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

fn optional_day(text: &str, what: &str) -> Result<Option<NaiveDate>, String> {
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

#[derive(Template)]
#[template(path = "agreements/show.html")]
struct ShowPage {
    chrome: Chrome,
    commune: Commune,
    view: View,
    status: &'static str,
    next: String,
    dates: Vec<(&'static str, String)>,
    steps: Vec<StepRow>,
    documents: Vec<DocumentRow>,
    ends: Vec<EndRow>,
    history: Vec<(String, String)>,
    start_label: &'static str,
    needs_start: bool,
    can_terminate: bool,
    parties: Vec<(&'static str, &'static str)>,
    data_choice: &'static str,
    error: Option<String>,
    is_staff: bool,
}

struct StepRow {
    id: String,
    title: String,
    window: String,
    done: Option<String>,
    late: bool,
}

struct DocumentRow {
    kind: &'static str,
    label: String,
    step: String,
    status: &'static str,
    signed: bool,
    signed_line: String,
}

struct EndRow {
    action: &'static str,
    label: &'static str,
    due: String,
    done: Option<String>,
}

fn document_row(view: &View, d: &Deliverable) -> DocumentRow {
    let step_title = view.offer.step(&d.step).map(|s| s.title.clone());
    DocumentRow {
        kind: d.kind.id(),
        label: match step_title {
            Some(title) => format!("{} — {title}", d.kind.label()),
            None => d.kind.label().to_owned(),
        },
        step: d.step.clone(),
        status: d.status.label(),
        signed: d.status == DeliverableStatus::Signed,
        signed_line: match (&d.signed_on, &d.signed_name) {
            (Some(on), Some(name)) => {
                let on = on.parse::<NaiveDate>().map_or(on.clone(), fr::day);
                format!("signé le {on} ({name})")
            }
            _ => String::new(),
        },
    }
}

async fn show_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (agreement, offer) = service::visible(state, caller, id).await?;
    let commune = crate::territory::commune(&state.db, &agreement.commune)
        .await?
        .ok_or(AppError::NotFound)?;
    let ends = store::end_actions(&state.db, &agreement.id).await?;
    let events = store::events(&state.db, &agreement.id).await?;
    let view = service::view(state, agreement, offer, today()).await?;
    let s = &view.schedule;
    let mut dates = Vec::new();
    if let Some(day) = view.facts.signed_on {
        dates.push(("Signée le", fr::day_long(day)));
    }
    if let Some(day) = s.starts_on {
        dates.push(("Commence le", fr::day_long(day)));
    }
    if let Some(period) = s.period {
        dates.push((
            "Période en cours",
            format!(
                "n° {}, {}",
                period.number,
                fr::day_range(period.starts_on, period.ends_on)
            ),
        ));
    }
    if let Some(day) = s.notice_by {
        dates.push(("Résiliation à recevoir au plus tard le", fr::day_long(day)));
    }
    if let Some(day) = s.renews_on {
        dates.push(("Reconduction tacite le", fr::day_long(day)));
    }
    if let Some(day) = s.ends_on {
        dates.push(("Dernier jour", fr::day_long(day)));
    }
    let steps = s
        .steps
        .iter()
        .map(|w| StepRow {
            id: w.step.clone(),
            title: view
                .offer
                .step(&w.step)
                .map_or(w.step.clone(), |st| st.title.clone()),
            window: fr::day_range(w.opens_on, w.due_on),
            done: w.done_on.map(fr::day_long),
            late: w.done_on.is_none() && w.due_on < s.on,
        })
        .collect();
    let documents = view
        .deliverables
        .iter()
        .map(|d| document_row(&view, d))
        .collect();
    let end_rows = ends
        .iter()
        .filter_map(|e| {
            let action = e.action()?;
            Some(EndRow {
                action: action.id(),
                label: action.label(),
                due: e
                    .due_on
                    .parse::<NaiveDate>()
                    .map_or(e.due_on.clone(), fr::day_long),
                done: e.done_at.map(|at| {
                    if e.note.is_empty() {
                        fr::date(at)
                    } else {
                        format!("{} ({})", fr::date(at), e.note)
                    }
                }),
            })
        })
        .collect();
    let history = events
        .iter()
        .map(|e| (fr::date_at(e.at), e.detail.clone()))
        .collect();
    let parties = view
        .offer
        .notice
        .as_ref()
        .map(|n| n.by.iter().map(|p| (party_id(*p), p.label())).collect())
        .unwrap_or_default();
    let next = next_step(&view, &ends);
    render(&ShowPage {
        chrome: Chrome::new(
            format!("{} — {}", view.offer.title, commune.name),
            Some(caller),
        ),
        status: s.status.label(),
        next,
        dates,
        steps,
        documents,
        ends: end_rows,
        history,
        start_label: service::start_label(&view.offer),
        needs_start: view.offer.start != Start::Signature && view.facts.started_on.is_none(),
        can_terminate: !matches!(s.status, Status::Ended | Status::Terminated | Status::Draft),
        parties,
        data_choice: view.agreement.data_at_end.map_or("", DataAtEnd::id),
        error,
        is_staff: caller.is_staff(),
        commune,
        view,
    })
}

fn party_id(party: Party) -> &'static str {
    match party {
        Party::Territory => "territory",
        Party::Commune => "commune",
    }
}

/// `/conventions/{agreement}`.
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    show_page(&state, &caller, &id, None).await
}

/// A refused form: the page again, with why, as 422.
async fn refused(
    state: &AppState,
    caller: &Caller,
    id: &str,
    message: String,
) -> Result<Response, AppError> {
    let page = show_page(state, caller, id, Some(message)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

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
