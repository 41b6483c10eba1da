//! The staff's page of the territory list (`/defense`): every address
//! listed and why (which communes, which attacks, when), the addresses
//! marked legitimate, the history of changes; forms to remove, pin or
//! unpin an entry and to mark an address legitimate (or lift the mark).
//!
//! Who may do what: the territory's staff, with the session's CSRF token;
//! every action goes to the audit journal and to the list's history. The
//! address travels in the form, not the path: no new path parameter.

use std::net::IpAddr;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::queries;
use super::store::{self, Entry};
use crate::accounts::{CsrfForm, Staff, audit};
use crate::db::now_ms;
use crate::fr;
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

/// Changes shown in the history.
const HISTORY: i64 = 100;
/// Longest note on a legitimate address.
const MAX_NOTE: usize = 200;

/// One listed address, ready to show.
struct Line {
    address: String,
    pinned: bool,
    strikes: i64,
    listed: String,
    until: String,
    /// "42218 (balayage, force brute) du … au …", one per commune.
    reasons: Vec<String>,
}

struct HistoryLine {
    at: String,
    address: String,
    what: String,
    by: String,
}

struct LegitLine {
    address: String,
    note: String,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "defence/page.html")]
struct Page {
    chrome: Chrome,
    lines: Vec<Line>,
    legitimate: Vec<LegitLine>,
    history: Vec<HistoryLine>,
    communes: String,
    window_hours: u32,
    heavy_weight: String,
}

#[derive(serde::Deserialize)]
pub(super) struct AddressForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    note: String,
}

/// `GET /defense`.
pub(super) async fn page(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let settings = &state.settings.defence;
    let lines = queries::active(&state.db).await?.iter().map(line).collect();
    let legitimate = queries::legitimate(&state.db)
        .await?
        .into_iter()
        .map(|(address, note, actor, at)| LegitLine {
            address,
            note,
            by: actor.unwrap_or_default(),
            at: fr::date_time(at),
        })
        .collect();
    let history = queries::history(&state.db, HISTORY)
        .await?
        .into_iter()
        .map(|row| HistoryLine {
            at: fr::date_time(row.at),
            what: match (row.op.as_str(), row.expires_at) {
                ("add", 0) => format!("{} (jusqu'à son retrait)", row.cause),
                ("add", until) => format!("{} jusqu'au {}", row.cause, fr::date_time(until)),
                _ => row.cause,
            },
            address: row.address,
            by: row.actor.unwrap_or_else(|| "calcul automatique".to_owned()),
        })
        .collect();
    web::render(&Page {
        chrome: Chrome::new("Défense collective".to_owned(), Some(&caller)),
        lines,
        legitimate,
        history,
        communes: settings.communes.to_string().replace('.', ","),
        window_hours: settings.window_hours,
        heavy_weight: settings.heavy_weight.to_string().replace('.', ","),
    })
}

/// `POST /defense/retirer`.
pub(super) async fn remove(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<AddressForm>,
) -> Result<Response, AppError> {
    let address = address(&form.address)?;
    if !queries::remove(&state.db, &address, &caller.email, now_ms()).await? {
        return Err(AppError::BadRequest(format!(
            "{address} n'est pas sur la liste"
        )));
    }
    audit(&state.db, Some(caller.user_id), "defence_remove", &address).await;
    Ok(back())
}

/// `POST /defense/epingler` and `/defense/desepingler`.
pub(super) async fn pin(
    state: State<AppState>,
    staff: Staff,
    form: CsrfForm<AddressForm>,
) -> Result<Response, AppError> {
    set_pin(state, staff, form, true).await
}

pub(super) async fn unpin(
    state: State<AppState>,
    staff: Staff,
    form: CsrfForm<AddressForm>,
) -> Result<Response, AppError> {
    set_pin(state, staff, form, false).await
}

async fn set_pin(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<AddressForm>,
    pinned: bool,
) -> Result<Response, AppError> {
    let address = address(&form.address)?;
    let settings = &state.settings.defence;
    if !queries::pin(
        &state.db,
        settings,
        &address,
        pinned,
        &caller.email,
        now_ms(),
    )
    .await?
    {
        return Err(AppError::BadRequest(format!(
            "{address} n'a jamais été sur la liste"
        )));
    }
    if pinned {
        audit(&state.db, Some(caller.user_id), "defence_pin", &address).await;
    } else {
        audit(&state.db, Some(caller.user_id), "defence_unpin", &address).await;
    }
    Ok(back())
}

/// `POST /defense/legitime`: never listed, taken off now.
pub(super) async fn legitimate(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<AddressForm>,
) -> Result<Response, AppError> {
    let address = address(&form.address)?;
    let note: String = form.note.trim().chars().take(MAX_NOTE).collect();
    if note.is_empty() {
        return Err(AppError::BadRequest(
            "Dites pourquoi cette adresse est légitime (par exemple « scanner du territoire »)."
                .to_owned(),
        ));
    }
    queries::mark_legitimate(&state.db, &address, &note, &caller.email, now_ms()).await?;
    let detail = format!("{address} : {note}");
    audit(
        &state.db,
        Some(caller.user_id),
        "defence_legitimate",
        &detail,
    )
    .await;
    Ok(back())
}

/// `POST /defense/legitime/retirer`.
pub(super) async fn unmark(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<AddressForm>,
) -> Result<Response, AppError> {
    let address = address(&form.address)?;
    if !queries::unmark_legitimate(&state.db, &address).await? {
        return Err(AppError::BadRequest(format!(
            "{address} n'est pas marquée légitime"
        )));
    }
    audit(&state.db, Some(caller.user_id), "defence_unmark", &address).await;
    Ok(back())
}

/// The address of a form, written as the list stores it.
fn address(text: &str) -> Result<String, AppError> {
    text.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_canonical().to_string())
        .map_err(|_| {
            AppError::BadRequest(format!(
                "« {} » n'est pas une adresse IP (par exemple 203.0.113.7)",
                text.trim().chars().take(60).collect::<String>()
            ))
        })
}

fn back() -> Response {
    Redirect::to("/defense").into_response()
}

fn line(entry: &Entry) -> Line {
    Line {
        address: entry.address.clone(),
        pinned: entry.pinned == 1,
        strikes: entry.strikes,
        listed: fr::date_time(entry.listed_at),
        until: if entry.pinned == 1 {
            "jusqu'à son retrait".to_owned()
        } else {
            fr::date_time(entry.expires_at)
        },
        reasons: reasons(&entry.reason),
    }
}

/// The entry's reason (JSON written by the job), one sentence per commune.
fn reasons(json: &str) -> Vec<String> {
    let items: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    let mut per_commune: std::collections::BTreeMap<String, (Vec<&'static str>, i64, i64)> =
        std::collections::BTreeMap::new();
    for item in &items {
        let commune = item["commune"].as_str().unwrap_or("?").to_owned();
        let category = item["category"].as_str().and_then(store::category);
        let (first, last) = (
            item["first_seen"].as_i64().unwrap_or(0),
            item["last_seen"].as_i64().unwrap_or(0),
        );
        let slot = per_commune
            .entry(commune)
            .or_insert((Vec::new(), first, last));
        if let Some(category) = category {
            slot.0.push(category.label_fr());
        }
        slot.1 = slot.1.min(first);
        slot.2 = slot.2.max(last);
    }
    per_commune
        .into_iter()
        .map(|(commune, (categories, first, last))| {
            format!(
                "{commune} ({}) du {} au {}",
                categories.join(", "),
                fr::date_time(first),
                fr::date_time(last)
            )
        })
        .collect()
}
