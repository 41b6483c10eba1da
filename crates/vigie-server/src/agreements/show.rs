//! An agreement's page: where it stands and what to do next, its dates,
//! steps, documents, costs, what its end obliges, its referents and its
//! history, with the staff's forms (handled in `forms`).
//!
//! What it must never do: show a commune another's agreement (the page
//! goes through `service::visible`: 404 otherwise).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use super::offers::{Cost, DeliverableKind, Party, Start};
use super::pages::next_step;
use super::service::{self, Deliverable, DeliverableStatus, View};
use super::store::{self, DataAtEnd};
use super::{Status, today};
use crate::accounts::Caller;
use crate::territory::Commune;
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

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
    /// The offer has contributions: the amounts, and the phases to price.
    has_costs: bool,
    /// The offer lends equipment: each loan's forms are on the kit's pages.
    has_loans: bool,
    costs: Vec<(String, String)>,
    cost_fields: CostFields,
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

pub(super) async fn show_page(
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
        has_costs: view.offer.cost == Cost::ContributionPerPhase,
        has_loans: view.offer.deliverables.contains(&DeliverableKind::LoanForm),
        costs: cost_lines(&view),
        cost_fields: cost_fields(&view),
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
pub(super) async fn refused(
    state: &AppState,
    caller: &Caller,
    id: &str,
    message: String,
) -> Result<Response, AppError> {
    let page = show_page(state, caller, id, Some(message)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The costs as the page lists them.
fn cost_lines(view: &View) -> Vec<(String, String)> {
    let Some(costs) = &view.agreement.costs else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (label, cents) in [
        ("Coût total de la prestation", costs.total_cents),
        ("Part des membres fondateurs", costs.founders_cents),
        ("Contribution de la commune", costs.commune_cents),
    ] {
        if let Some(cents) = cents {
            out.push((label.to_owned(), fr::euros(cents)));
        }
    }
    for phase in &costs.phases {
        let title = view
            .offer
            .step(&phase.step)
            .map_or(phase.step.as_str(), |s| s.title.as_str());
        out.push((format!("Due après « {title} »"), fr::euros(phase.cents)));
    }
    out
}

/// The costs form's fields, as typed (French amounts).
struct CostFields {
    total: String,
    founders: String,
    commune: String,
    /// (step id, step title, amount) for each step whose minutes make a
    /// contribution due.
    phases: Vec<(String, String, String)>,
}

fn cost_fields(view: &View) -> CostFields {
    let costs = view.agreement.costs.clone().unwrap_or_default();
    let typed = |cents: Option<i64>| cents.map(fr::euros).unwrap_or_default();
    let phases = view
        .offer
        .steps
        .iter()
        .filter(|s| {
            s.deliverables.contains(&DeliverableKind::PhaseMinutes)
                || s.deliverables.contains(&DeliverableKind::FinalMinutes)
        })
        .map(|s| {
            let amount = costs
                .phases
                .iter()
                .find(|p| p.step == s.id)
                .map(|p| fr::euros(p.cents))
                .unwrap_or_default();
            (s.id.clone(), s.title.clone(), amount)
        })
        .collect();
    CostFields {
        total: typed(costs.total_cents),
        founders: typed(costs.founders_cents),
        commune: typed(costs.commune_cents),
        phases,
    }
}
