//! Phishing-awareness campaigns (issue 11; the Mégalis agreement's path
//! 1): predefined scenarios (`data/scenarios/`) sent to a commune's agents
//! and élus on working days between 8 h and 18 h, through the outbox; the
//! openings, clicks and submissions counted by token; the mail scanners'
//! fetches set aside; the results; and the purge that leaves only the
//! aggregate figures.
//!
//! What it must never do: keep of a person more than the agreement lists
//! (see `store`), read or keep what someone typed in the exercise's form,
//! an IP address or a user agent (see `track`), show a commune's campaign
//! to anyone but its users and the staff (404, as for one that does not
//! exist), or leave a purged campaign's addresses anywhere in the
//! database files.

mod api;
pub mod deliverable;
mod links;
pub mod overview;
mod pages;
pub mod results;
pub mod scenarios;
pub mod schedule;
pub mod settings;
pub mod store;
pub mod targets;
pub mod track;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing;
use chrono::{Duration, NaiveDate};

pub use settings::CampaignSettings;
pub use store::{Campaign, Status};
pub use track::Tracker;

use crate::accounts::{Caller, audit};
use crate::db::now_ms;
use crate::web::{Access, Routes};
use crate::{AppError, AppState};

/// The largest request that starts a campaign: its targets file and a
/// little JSON or form around it.
pub const MAX_REQUEST_BYTES: usize = targets::MAX_BYTES + 64 * 1024;
/// Scenarios one campaign may use at most.
const MAX_SCENARIOS: usize = 20;

pub fn router() -> Routes {
    let large = || DefaultBodyLimit::max(MAX_REQUEST_BYTES);
    Routes::new()
        .get("/api/v1/scenarios", Access::SignedIn, api::scenarios)
        .method(
            Method::POST,
            "/api/v1/campaigns",
            Access::Staff,
            routing::post(api::create).layer(large()),
        )
        .get("/api/v1/campaigns/{campaign}", Access::Visible, api::show)
        .post(
            "/api/v1/campaigns/{campaign}/purge",
            Access::Staff,
            api::purge,
        )
        .get("/campagnes", Access::Staff, pages::all)
        .method(
            Method::POST,
            "/campagnes",
            Access::Staff,
            routing::post(pages::create).layer(large()),
        )
        .get("/campagnes/nouvelle", Access::Staff, pages::new_form)
        .get(
            "/communes/{code}/campagnes",
            Access::Visible,
            pages::of_commune,
        )
        .get("/campagnes/{campaign}", Access::Visible, pages::show)
        .post("/campagnes/{campaign}/purge", Access::Staff, pages::purge)
        .get(
            "/campagnes/{campaign}/resultats",
            Access::Visible,
            deliverable::page,
        )
        .get(
            "/campaigns/{campaign}/results.pdf",
            Access::Visible,
            deliverable::pdf,
        )
        // The exercise mails' links: the token is the key (see `track`).
        .get("/o/{token}", Access::Public, links::image)
        .get("/c/{token}", Access::Public, links::click)
        .post("/c/{token}", Access::Public, links::submit)
        .get("/c/{token}/exercice", Access::Public, links::exercise)
}

/// A campaign asked for, by the API or the staff's form.
pub struct Request {
    pub commune: String,
    pub scenarios: Vec<String>,
    pub targets: Vec<targets::Target>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub rate_per_hour: Option<u32>,
}

/// Checks the request, plans the sends and writes the campaign; returns
/// its id. Nothing is written if anything is wrong.
pub async fn create_campaign(
    state: &AppState,
    caller: &Caller,
    request: Request,
) -> Result<String, AppError> {
    let commune = crate::territory::commune(&state.db, request.commune.trim())
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "commune « {} » inconnue du territoire",
                request.commune
            ))
        })?;
    let library = &state.settings.scenarios;
    let mut chosen: Vec<String> = Vec::new();
    for id in &request.scenarios {
        let id = id.trim();
        if library.get(id).is_none() {
            return Err(AppError::BadRequest(format!(
                "scénario « {id} » inconnu : voyez la liste dans /api/v1/scenarios"
            )));
        }
        if !chosen.iter().any(|c| c == id) {
            chosen.push(id.to_owned());
        }
    }
    if chosen.is_empty() || chosen.len() > MAX_SCENARIOS {
        return Err(AppError::BadRequest(format!(
            "choisissez de 1 à {MAX_SCENARIOS} scénarios"
        )));
    }
    let settings = &state.settings.campaigns;
    let window = schedule::Window {
        start: request.start,
        end: request.end,
    };
    let sends = schedule::plan(
        &window,
        request.targets.len(),
        request.rate_per_hour,
        chrono::Utc::now(),
        settings.calendar,
    )
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let domain = settings.domain(
        state.settings.smtp.as_ref().map(|s| s.from.as_str()),
        &state.settings.public_url,
    );
    let new = store::NewCampaign {
        commune: &commune,
        scenarios: &chosen,
        targets: &request.targets,
        sends: &sends,
        start: request.start,
        end: request.end,
        rate_per_hour: request.rate_per_hour,
        purge_due_at: purge_due(request.end, settings.purge_after_days),
        created_by: caller.user_id,
    };
    let sending = store::Sending {
        library,
        public_url: &state.settings.public_url,
        sender_domain: &domain,
    };
    let id = store::create(&state.db, &new, &sending, now_ms()).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "campaign_create",
        &format!(
            "campaign {id} for commune {}: {} targets",
            commune.code,
            request.targets.len()
        ),
    )
    .await;
    Ok(id)
}

/// The purge's due time: midnight (Paris) after the last day, plus the
/// configured delay.
pub fn purge_due(end: NaiveDate, after_days: u32) -> i64 {
    let day = end + Duration::days(1 + i64::from(after_days));
    vigie_core::local_day_start_ms(day).unwrap_or(i64::MAX)
}

/// Purges the campaign now (by a person, or by the job when due).
pub async fn purge_campaign(
    state: &AppState,
    caller: Option<&Caller>,
    campaign: &Campaign,
) -> Result<(), AppError> {
    state.tracker.flush(&state.db, now_ms()).await?;
    store::purge(&state.db, &campaign.id, now_ms()).await?;
    state.tracker.forget(&campaign.id);
    audit(
        &state.db,
        caller.map(|c| c.user_id),
        "campaign_purge",
        &format!("campaign {} of commune {}", campaign.id, campaign.commune),
    )
    .await;
    Ok(())
}

/// The purge job: every campaign whose purge is due.
pub async fn purge_due_campaigns(state: &AppState) -> Result<usize, AppError> {
    let due = store::due_for_purge(&state.db, now_ms()).await?;
    for id in &due {
        if let Some(campaign) = store::get(&state.db, id).await? {
            purge_campaign(state, None, &campaign).await?;
        }
    }
    Ok(due.len())
}

/// The campaign `id` if the caller may see its commune; 404 otherwise, as
/// for one that does not exist.
pub(crate) async fn visible_campaign(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Campaign, AppError> {
    if id.len() > 64 {
        return Err(AppError::NotFound);
    }
    let campaign = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if !caller.can_see_commune(&campaign.commune) {
        return Err(AppError::NotFound);
    }
    Ok(campaign)
}
