//! The signed-in side: a commune's results (per module: completions,
//! average score, last day), its links (create, revoke) and what to do
//! next; the staff's overview of every commune; the JSON for scripts.
//!
//! What it must never do: show a commune's results to anyone but its
//! users and the staff (`VisibleCommune`: 404 otherwise), or show anything
//! finer than a commune's aggregates (no ranking of people: there are no
//! people in the data).

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::links::{self, LINK_DAYS, MAX_COMPLETIONS_PER_LINK_PER_DAY};
use super::module::catalogue;
use super::store::{self, Tally};
use crate::accounts::{Caller, CsrfForm, Staff, VisibleCommune, audit};
use crate::db::now_ms;
use crate::territory::Commune;
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

#[derive(Template)]
#[template(path = "elearning/results.html")]
struct ResultsPage {
    chrome: Chrome,
    commune: Commune,
    rows: Vec<ResultRow>,
    total: String,
    links: Vec<LinkRow>,
    /// Whether a link works now: without one, the page starts by saying
    /// to create it.
    working_link: bool,
    /// The link just created (shown once) and until when it works.
    created: Option<(String, String)>,
    message: Option<String>,
    link_days: String,
    cap: String,
}

struct ResultRow {
    title: String,
    completions: String,
    average: String,
    last: String,
}

struct LinkRow {
    id: i64,
    created: String,
    state: String,
    usable: bool,
    today: String,
}

/// The commune's results page, with `created` or `message` on top.
async fn results_page(
    state: &AppState,
    caller: &Caller,
    commune: Commune,
    created: Option<(String, String)>,
    message: Option<String>,
) -> Result<Response, AppError> {
    let catalogue = catalogue().map_err(|e| AppError::Internal(e.to_owned()))?;
    let tallies = store::tallies(&state.db, &commune.code).await?;
    let empty = Tally::default();
    let rows = catalogue
        .modules
        .iter()
        .map(|module| {
            let tally = tallies.get(&module.id).unwrap_or(&empty);
            ResultRow {
                title: module.title.clone(),
                completions: fr::number(tally.completions),
                average: tally.average_fr(),
                last: tally.last_fr(),
            }
        })
        .collect();
    let total: i64 = tallies.values().map(|t| t.completions).sum();
    let now = now_ms();
    let today = store::paris_day(now);
    let links: Vec<LinkRow> = links::list(&state.db, &commune.code)
        .await?
        .into_iter()
        .map(|link| LinkRow {
            id: link.id,
            created: fr::date(link.created_at),
            state: link.state_fr(now),
            usable: link.usable(now),
            today: fr::plural(link.counted_on(&today), "parcours", "parcours"),
        })
        .collect();
    render(&ResultsPage {
        chrome: Chrome::new(format!("Formation — {}", commune.name), Some(caller)),
        commune,
        rows,
        total: match total {
            0 => "Aucun parcours terminé pour l'instant.".to_owned(),
            n => format!(
                "{} en tout.",
                fr::plural(n, "parcours terminé", "parcours terminés")
            ),
        },
        working_link: links.iter().any(|link| link.usable),
        links,
        created,
        message,
        link_days: fr::plural(LINK_DAYS, "jour", "jours"),
        cap: fr::plural(MAX_COMPLETIONS_PER_LINK_PER_DAY, "parcours", "parcours"),
    })
}

/// `GET /communes/{code}/formation`.
pub(super) async fn results(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    results_page(&state, &caller, commune, None, None).await
}

/// `POST /communes/{code}/formation/lien`: a new link, shown once.
pub(super) async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let now = now_ms();
    let (id, token) = match links::create(&state.db, &commune.code, Some(caller.user_id), now).await
    {
        Ok(created) => created,
        Err(AppError::Conflict(message)) => {
            let page = results_page(&state, &caller, commune, None, Some(message)).await?;
            return Ok((StatusCode::CONFLICT, page).into_response());
        }
        Err(e) => return Err(e),
    };
    audit(
        &state.db,
        Some(caller.user_id),
        "elearning_link_create",
        &format!("link {id} of commune {}", commune.code),
    )
    .await;
    let link = format!("{}/formation/{token}", state.settings.public_url);
    let until = fr::date(now.saturating_add(LINK_DAYS * 86_400_000));
    results_page(&state, &caller, commune, Some((link, until)), None).await
}

#[derive(Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    link: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /communes/{code}/formation/lien/revoquer` (`link`, `confirm=oui`).
pub(super) async fn revoke_link(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<Response, AppError> {
    let Ok(id) = form.link.trim().parse::<i64>() else {
        return Err(AppError::BadRequest(
            "« link » : le numéro du lien à fermer.".to_owned(),
        ));
    };
    if form.confirm.as_deref() != Some("oui") {
        let message = "Cochez la case de confirmation pour fermer ce lien.".to_owned();
        let page = results_page(&state, &caller, commune, None, Some(message)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    if !links::revoke(&state.db, &commune.code, id, now_ms()).await? {
        return Err(AppError::NotFound);
    }
    audit(
        &state.db,
        Some(caller.user_id),
        "elearning_link_revoke",
        &format!("link {id} of commune {}", commune.code),
    )
    .await;
    Ok(Redirect::to(&format!("/communes/{}/formation#liens", commune.code)).into_response())
}

#[derive(Template)]
#[template(path = "elearning/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    communes: Vec<OverviewRow>,
    modules: String,
}

struct OverviewRow {
    code: String,
    name: String,
    links: String,
    completions: String,
    modules: String,
    average: String,
    last: String,
}

/// `GET /formation`: every commune's counts, for the staff.
pub(super) async fn overview(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let catalogue = catalogue().map_err(|e| AppError::Internal(e.to_owned()))?;
    let communes = store::overview(&state.db, now_ms())
        .await?
        .into_iter()
        .map(|row| {
            let tally = row.as_tally();
            OverviewRow {
                code: row.code.to_string(),
                name: row.name,
                links: fr::number(row.active_links),
                completions: fr::number(row.completions),
                modules: fr::number(row.modules),
                average: tally.average_fr(),
                last: tally.last_fr(),
            }
        })
        .collect();
    render(&OverviewPage {
        chrome: Chrome::new("Formation des communes", Some(&caller)),
        communes,
        modules: fr::number(i64::try_from(catalogue.modules.len()).unwrap_or(0)),
    })
}

/// One module in `GET /api/v1/communes/{code}/elearning`.
#[derive(Serialize)]
struct ApiModule {
    module: String,
    title: String,
    completions: i64,
    /// The mean of each completion's percentage of right answers, to one
    /// decimal; `null` without completions.
    average_score: Option<f64>,
}

/// `GET /api/v1/communes/{code}/elearning`: every module, in the list's
/// order, with the commune's completions and average score.
pub(super) async fn api(
    State(state): State<AppState>,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let catalogue = catalogue().map_err(|e| AppError::Internal(e.to_owned()))?;
    let tallies = store::tallies(&state.db, &commune.code).await?;
    let modules: Vec<ApiModule> = catalogue
        .modules
        .iter()
        .map(|module| {
            let tally = tallies.get(&module.id);
            ApiModule {
                module: module.id.clone(),
                title: module.title.clone(),
                completions: tally.map_or(0, |t| t.completions),
                average_score: tally.and_then(Tally::average_percent),
            }
        })
        .collect();
    Ok(Json(modules).into_response())
}
