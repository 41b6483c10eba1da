//! Collective defence (issue 16): the territory list, built from every
//! commune's incidents, served to every box, shown to the staff.
//!
//! An external address that attacked several communes within a window
//! (`rules`: weights, threshold, stay doubling with each return) enters
//! the list; the `defence.compute` job of [`crate::jobs`] reads the new
//! incidents every minute (`job::compute`, bounded per run), and every
//! change is a row of `defence_changes`, both the history the staff read
//! (`/defense`, `pages`) and what boxes fetch (`api`: only the changes
//! after their cursor, `304` when there are none).
//!
//! What it must never do: list a special address, one of the territory's
//! networks, an allowlisted or a legitimate one (`rules`, `store`); let
//! one commune alone list an address; tell a commune's box which commune
//! saw what (boxes get addresses and times only).

mod allowlists;
mod api;
pub mod job;
mod listing;
mod pages;
pub mod queries;
pub mod rules;
pub mod store;
mod upkeep;

use std::time::Duration;

use crate::web::{Access, Routes};

pub use api::SnapshotCache;
pub use job::{RunSummary, catch_up, compute};
pub use rules::DefenceSettings;

/// How often the list is computed: a box gets a new entry within this
/// plus its own polling interval (issue 16 asks for 5 minutes).
pub const COMPUTE_EVERY: Duration = Duration::from_secs(60);
/// How long one minute's job may keep reading batches when incidents
/// wait: most of the minute, so that it catches up without overlapping
/// the next one.
pub const CATCH_UP_BUDGET: Duration = Duration::from_secs(40);

/// The staff's page and its forms, and the boxes' endpoint.
pub fn router() -> Routes {
    Routes::new()
        .get("/defense", Access::Staff, pages::page)
        .post("/defense/retirer", Access::Staff, pages::remove)
        .post("/defense/epingler", Access::Staff, pages::pin)
        .post("/defense/desepingler", Access::Staff, pages::unpin)
        .post("/defense/legitime", Access::Staff, pages::legitimate)
        .post("/defense/legitime/retirer", Access::Staff, pages::unmark)
        .get(
            vigie_core::defence::DEFENCE_PATH,
            Access::Sensor,
            api::changes,
        )
}
