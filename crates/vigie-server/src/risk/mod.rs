//! The territory's risk map (issue 15): per commune, four factors scored
//! 0–100 with why, from what the platform already holds (the sensor's
//! attacks, the probe's findings, the pre-audit, the phishing exercises
//! and e-learning), combined into one level by a rule the territory can
//! read and tune (`data/risk.toml`, `risk_file` in vigie.toml). The
//! staff's map and "whom to help first" (`/risques`), each commune's own
//! page (`/communes/{code}/risques`), the JSON API, and the monthly
//! snapshot behind "what changed since last month".
//!
//! What it must never do: show a commune's risk to another commune (the
//! API and pages filter by `Caller::can_see_commune`, the commune page
//! takes `VisibleCommune`), or score a factor without data as good.

pub mod actions;
pub mod factors;
pub mod gather;
pub mod map;
mod pages;
pub mod rules;
pub mod snapshot;

pub use factors::{Factor, Kind, Level};
pub use gather::{Assessment, assess};
pub use rules::{RiskError, Rules};

use crate::web::{Access, Routes};

/// How often the job looks whether this month's snapshot is kept.
pub const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

pub fn router() -> Routes {
    Routes::new()
        .get("/risques", Access::Staff, pages::territory_page)
        .get(
            "/communes/{code}/risques",
            Access::Visible,
            pages::commune_page,
        )
        .get("/api/v1/risk", Access::SignedIn, pages::risk_api)
}
