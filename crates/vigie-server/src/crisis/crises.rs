//! Crises: declaring one for a commune (who asked, the day, what
//! happened), its page (who holds what, due back when, the signed forms,
//! the return and the wipe; the lending form for the staff), closing it,
//! and a commune's own page of the kit (`/communes/{code}/crise`).
//!
//! What it must never do: show a commune another's crisis (404, as for
//! one that does not exist) or the staff's forms (the handlers refuse
//! them anyway: `Staff`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::inventory::CrisisLine;
use super::ledger::{self, Filter, Loan};
use super::rules::{self, DataOutcome, State as ItemState};
use super::store::{self, BookingRow, Crisis};
use super::{agreed_outcome, refuse, visible_crisis};
use crate::accounts::{Caller, CsrfForm, Staff, VisibleCommune, audit};
use crate::cybermeteo::today;
use crate::territory::{Commune, CommuneCode};
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// How long a loan lasts unless said otherwise: two weeks, the time a
/// forensic analysis and a restart usually take.
const DEFAULT_LOAN_DAYS: i64 = 14;

/// A loan as the pages show it.
pub(super) struct LoanLine {
    pub id: i64,
    pub item_id: i64,
    pub item: String,
    pub identifiers: String,
    pub holder: String,
    pub lent: String,
    pub due: String,
    pub late: bool,
    pub signatory: Option<String>,
    pub accepted: bool,
    pub returned: Option<String>,
    pub return_signed: bool,
    pub wiped: Option<String>,
}

impl LoanLine {
    pub fn of(loan: &Loan) -> LoanLine {
        let due = loan.due();
        LoanLine {
            id: loan.id,
            item_id: loan.item_id,
            item: format!("{} ({})", loan.item_label, loan.kind().label_fr()),
            identifiers: loan.identifiers_fr(),
            holder: format!("{} ({})", loan.holder_name, loan.holder_role),
            lent: fr::date(loan.lent_at),
            due: due.map_or_else(String::new, fr::day),
            late: loan.returned_at.is_none() && due.is_some_and(|d| d < today()),
            signatory: loan.signatory.clone(),
            accepted: loan.acceptance_scan.is_some(),
            returned: loan.returned_at.map(|at| {
                let data = match loan.outcome() {
                    Some(DataOutcome::Returned) => "données restituées à la commune",
                    Some(DataOutcome::Destroyed) | None => "données de la commune détruites",
                };
                format!(
                    "rendu le {} par {} ; {data}",
                    fr::date(at),
                    loan.returned_by.as_deref().unwrap_or_default()
                )
            }),
            return_signed: loan.return_scan.is_some(),
            wiped: loan.wipe_day.as_ref().map(|day| {
                let day = day.parse().map_or_else(|_| day.clone(), fr::day);
                format!(
                    "effacé le {day} par {}",
                    loan.wiped_by.as_deref().unwrap_or_default()
                )
            }),
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct DeclareForm {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    declared_by: String,
    #[serde(default)]
    started: String,
    #[serde(default)]
    what: String,
}

/// `POST /crise/declarer`: a crisis declared for a commune; then its page,
/// where the items are lent.
pub(super) async fn declare(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<DeclareForm>,
) -> Result<Response, AppError> {
    let code = CommuneCode::parse(form.commune.trim())
        .map_err(|_| refuse("« Commune » : choisissez la commune touchée."))?;
    let commune = crate::territory::commune(&state.db, &code)
        .await?
        .ok_or_else(|| refuse("« Commune » : cette commune n'est pas dans le territoire."))?;
    let declared_by = rules::text(
        &form.declared_by,
        "Qui demande (nom et fonction)",
        rules::MAX_SHORT,
    )
    .map_err(refuse)?;
    let started = rules::day(&form.started, "Attaque constatée le").map_err(refuse)?;
    if started > today() {
        return Err(refuse("« Attaque constatée le » : pas dans le futur."));
    }
    let what = rules::text(&form.what, "Ce qui s'est passé", rules::MAX_LONG).map_err(refuse)?;
    let id = store::declare(
        &state.db,
        &commune.code,
        &declared_by,
        started,
        &what,
        Some(caller.user_id),
    )
    .await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_crisis",
        &format!("crisis {id} of commune {}", commune.code),
    )
    .await;
    Ok(Redirect::to(&format!("/crises/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "crisis/crisis.html")]
struct CrisisPage {
    chrome: Chrome,
    crisis: Crisis,
    started: String,
    declared: String,
    closed: Option<String>,
    staff: bool,
    loans: Vec<LoanLine>,
    all_back: bool,
    available: Vec<(i64, String)>,
    due: String,
    history: Vec<(String, String)>,
    /// What the agreement says of the commune's data: `returned`,
    /// `destroyed` or empty.
    agreed: &'static str,
}

/// `GET /crises/{crisis}`.
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(crisis): Path<String>,
) -> Result<Response, AppError> {
    let crisis = visible_crisis(&state, &caller, &crisis).await?;
    let loans = ledger::loans(
        &state.db,
        Filter {
            crisis: Some(crisis.id),
            ..Filter::default()
        },
    )
    .await?;
    let available = if caller.is_staff() && crisis.closed_at.is_none() {
        store::items(&state.db)
            .await?
            .into_iter()
            .filter(|i| i.state() == ItemState::Available)
            .map(|i| {
                let what = format!(
                    "{} — {}, {}",
                    i.label,
                    i.kind().label_fr(),
                    i.identifiers_fr()
                );
                (i.id, what)
            })
            .collect()
    } else {
        Vec::new()
    };
    let history = store::history(&state.db, None, Some(crisis.id))
        .await?
        .into_iter()
        .map(|e| (fr::date_time(e.at), e.what))
        .collect();
    render(&CrisisPage {
        chrome: Chrome::new(
            format!("Crise cyber — {}", crisis.commune_name),
            Some(&caller),
        ),
        started: crisis
            .started_day
            .parse()
            .map_or_else(|_| String::new(), fr::day_long),
        declared: fr::date_at(crisis.declared_at),
        closed: crisis.closed_at.map(fr::date),
        staff: caller.is_staff(),
        all_back: loans.iter().all(|l| l.returned_at.is_some()),
        loans: loans.iter().map(LoanLine::of).collect(),
        available,
        due: (today() + chrono::Duration::days(DEFAULT_LOAN_DAYS)).to_string(),
        history,
        agreed: agreed_outcome(&state, &crisis.commune)
            .await?
            .map_or("", DataOutcome::id),
        crisis,
    })
}

/// `POST /crises/{crisis}/cloture` (`confirm=oui`): closed once every
/// item lent for it is back.
pub(super) async fn close(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(crisis): Path<String>,
    CsrfForm(form): CsrfForm<crate::accounts::ConfirmForm>,
) -> Result<Response, AppError> {
    let crisis = visible_crisis(&state, &caller, &crisis).await?;
    if !form.confirmed() {
        return Err(refuse(
            "Cochez la case de confirmation pour clore la crise.",
        ));
    }
    if !store::close(&state.db, crisis.id, caller.user_id).await? {
        return Err(AppError::Conflict(
            "La crise est déjà close, ou du matériel n'est pas encore rendu : enregistrez chaque retour d'abord.".to_owned(),
        ));
    }
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_crisis_close",
        &format!("crisis {}", crisis.id),
    )
    .await;
    Ok(Redirect::to(&format!("/crises/{}", crisis.id)).into_response())
}

#[derive(Template)]
#[template(path = "crisis/commune.html")]
struct CommunePage {
    chrome: Chrome,
    commune: Commune,
    staff: bool,
    crises: Vec<CrisisLine>,
    closed: Vec<CrisisLine>,
    loans: Vec<LoanLine>,
    bookings: Vec<BookingLine>,
    agreed: &'static str,
}

pub(super) struct BookingLine {
    pub id: i64,
    pub what: String,
    pub days: String,
    pub reason: String,
}

impl BookingLine {
    pub fn of(row: &BookingRow) -> BookingLine {
        let days = match row.rule() {
            Some(b) => fr::day_range(b.span.from, b.span.to),
            None => String::new(),
        };
        BookingLine {
            id: row.id,
            what: row.what_fr(),
            days,
            reason: row.reason.clone(),
        }
    }
}

/// `GET /communes/{code}/crise`: the commune's crises, the items it holds
/// or held, its bookings.
pub(super) async fn of_commune(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let crises = store::crises(&state.db, Some(&commune.code)).await?;
    let loans = ledger::loans(
        &state.db,
        Filter {
            commune: Some(&commune.code),
            ..Filter::default()
        },
    )
    .await?;
    let bookings = store::bookings(&state.db, today(), Some(&commune.code)).await?;
    render(&CommunePage {
        chrome: Chrome::new(format!("Kit de crise — {}", commune.name), Some(&caller)),
        staff: caller.is_staff(),
        crises: crises
            .iter()
            .filter(|c| c.closed_at.is_none())
            .map(CrisisLine::of)
            .collect(),
        closed: crises
            .iter()
            .filter(|c| c.closed_at.is_some())
            .map(CrisisLine::of)
            .collect(),
        loans: loans.iter().map(LoanLine::of).collect(),
        bookings: bookings.iter().map(BookingLine::of).collect(),
        agreed: agreed_outcome(&state, &commune.code)
            .await?
            .map_or("", DataOutcome::id),
        commune,
    })
}
