//! The staff's pages of the kit: `/crise` (open crises first, with the
//! form that declares one, then every item with its state and next
//! annual check, and the form that adds one) and an item's page (its
//! loans and history, the annual check, out of order and back, the wipe).
//!
//! What it must never do: be shown to a commune user (`Staff`), or store
//! part of a refused form.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ledger::{self, Filter, Loan};
use super::rules::{self, Kind};
use super::store::{self, Crisis, Event, Item};
use super::{id, refuse};
use crate::accounts::{CsrfForm, Staff, audit};
use crate::cybermeteo::today;
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// The most items the kit keeps: a territory's kit is tens of items.
const MAX_ITEMS: i64 = 2000;

#[derive(Template)]
#[template(path = "crisis/inventory.html")]
struct InventoryPage {
    chrome: Chrome,
    open: Vec<CrisisLine>,
    items: Vec<ItemLine>,
    communes: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    today: String,
}

pub(super) struct CrisisLine {
    pub id: i64,
    pub commune: String,
    pub since: String,
    pub what: String,
}

impl CrisisLine {
    pub fn of(crisis: &Crisis) -> CrisisLine {
        CrisisLine {
            id: crisis.id,
            commune: crisis.commune_name.clone(),
            since: crisis
                .started_day
                .parse()
                .map_or_else(|_| String::new(), fr::day),
            what: crisis.what.clone(),
        }
    }
}

struct ItemLine {
    id: i64,
    label: String,
    kind: &'static str,
    identifiers: String,
    state: &'static str,
    state_id: &'static str,
    next_check: String,
    check_late: bool,
}

/// `GET /crise`.
pub(super) async fn page(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let today = today();
    let open = store::crises(&state.db, None)
        .await?
        .iter()
        .filter(|c| c.closed_at.is_none())
        .map(CrisisLine::of)
        .collect();
    let items = store::items(&state.db)
        .await?
        .into_iter()
        .map(|item| {
            let next = item.next_check();
            ItemLine {
                id: item.id,
                kind: item.kind().label_fr(),
                identifiers: item.identifiers_fr(),
                state: item.state().label_fr(),
                state_id: item.state().id(),
                next_check: next.map_or_else(String::new, fr::day),
                check_late: next.is_some_and(|d| d < today),
                label: item.label,
            }
        })
        .collect();
    let communes = crate::territory::communes(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code.to_string(), c.name))
        .collect();
    render(&InventoryPage {
        chrome: Chrome::new("Kit de crise", Some(&caller)),
        open,
        items,
        communes,
        kinds: Kind::ALL
            .into_iter()
            .map(|k| (k.id(), k.label_fr()))
            .collect(),
        today: today.to_string(),
    })
}

#[derive(Deserialize, Default)]
pub(super) struct ItemForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    imei: String,
    #[serde(default)]
    address: String,
}

/// `POST /crise/materiels`: adds an item.
pub(super) async fn add(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<ItemForm>,
) -> Result<Response, AppError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kit_items")
        .fetch_one(&state.db.pool)
        .await?;
    if count >= MAX_ITEMS {
        return Err(refuse(format!(
            "Le kit compte déjà {} matériels : c'est le plus qu'il garde.",
            fr::number(MAX_ITEMS)
        )));
    }
    let item = rules::new_item(
        &form.kind,
        &form.label,
        &form.serial,
        &form.imei,
        &form.address,
    )
    .map_err(refuse)?;
    let id = store::add_item(&state.db, &item, today(), Some(caller.user_id)).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "kit_item_add",
        &format!("item {id} ({})", item.kind.id()),
    )
    .await;
    Ok(Redirect::to(&format!("/crise/materiels/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "crisis/item.html")]
struct ItemPage {
    chrome: Chrome,
    item: Item,
    kind: &'static str,
    state: &'static str,
    next_check: String,
    /// Each loan: (the page it is followed on, what it was).
    loans: Vec<(String, String)>,
    history: Vec<(String, String)>,
    to_wipe: Option<Loan>,
    methods: &'static [&'static str],
    out_of_order: bool,
    today: String,
}

/// `GET /crise/materiels/{item}`.
pub(super) async fn show(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(item): Path<String>,
) -> Result<Response, AppError> {
    let item = store::item(&state.db, id(&item)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let loans = ledger::loans(
        &state.db,
        Filter {
            item: Some(item.id),
            ..Filter::default()
        },
    )
    .await?
    .iter()
    .map(|loan| (super::lending::page_of(loan), loan_sentence(loan)))
    .collect();
    let history = store::history(&state.db, Some(item.id), None)
        .await?
        .into_iter()
        .map(|Event { at, what }| (fr::date_time(at), what))
        .collect();
    render(&ItemPage {
        chrome: Chrome::new(format!("Kit de crise — {}", item.label), Some(&caller)),
        kind: item.kind().label_fr(),
        state: item.state().label_fr(),
        next_check: item.next_check().map_or_else(String::new, fr::day),
        to_wipe: ledger::to_wipe(&state.db, item.id).await?,
        methods: item.kind().wipe_methods(),
        out_of_order: item.state() == rules::State::OutOfOrder,
        loans,
        history,
        today: today().to_string(),
        item,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct CheckForm {
    #[serde(default)]
    day: String,
    #[serde(default)]
    note: String,
}

/// `POST /crise/materiels/{item}/controle`: the annual check done.
pub(super) async fn check(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(item): Path<String>,
    CsrfForm(form): CsrfForm<CheckForm>,
) -> Result<Response, AppError> {
    let item = store::item(&state.db, id(&item)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let day = rules::day(&form.day, "Date du contrôle").map_err(refuse)?;
    if day > today() {
        return Err(refuse("« Date du contrôle » : pas dans le futur."));
    }
    let note = rules::text(&form.note, "Constat", rules::MAX_LONG).map_err(refuse)?;
    store::record_check(&state.db, item.id, day, &note, caller.user_id).await?;
    Ok(Redirect::to(&format!("/crise/materiels/{}", item.id)).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct StateForm {
    #[serde(default)]
    out_of_order: String,
    #[serde(default)]
    note: String,
}

/// `POST /crise/materiels/{item}/etat` (`out_of_order=oui|non`, `note`).
pub(super) async fn set_state(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(item): Path<String>,
    CsrfForm(form): CsrfForm<StateForm>,
) -> Result<Response, AppError> {
    let item = store::item(&state.db, id(&item)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let out = match form.out_of_order.as_str() {
        "oui" => true,
        "non" => false,
        _ => return Err(refuse("« État » : hors service, ou remis en service.")),
    };
    let note = rules::text(&form.note, "Pourquoi", rules::MAX_SHORT).map_err(refuse)?;
    if !store::set_out_of_order(&state.db, item.id, out, &note, caller.user_id).await? {
        return Err(AppError::Conflict(format!(
            "« {} » est {} : {}",
            item.label,
            item.state().label_fr(),
            if out {
                "un matériel prêté se met hors service à son retour."
            } else {
                "il n'est pas hors service."
            }
        )));
    }
    Ok(Redirect::to(&format!("/crise/materiels/{}", item.id)).into_response())
}

/// « Saint-Étienne : remis à Jeanne Martin le 02/03/2026, rendu le 09/03/2026 ».
fn loan_sentence(loan: &Loan) -> String {
    let back = match loan.returned_at {
        Some(at) => format!("rendu le {}", fr::date(at)),
        None => format!(
            "à rendre le {}",
            loan.due().map_or_else(String::new, fr::day)
        ),
    };
    format!(
        "{} : remis à {} le {}, {back}",
        loan.commune_name,
        loan.holder_name,
        fr::date(loan.lent_at)
    )
}
