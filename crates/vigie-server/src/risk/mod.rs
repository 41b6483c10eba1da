//! The territory's risk map (issue 15): per commune, four factors scored
//! 0–100 with why, from what the platform already holds (the sensor's
//! attacks, the probe's findings, the pre-audit, the phishing exercises
//! and e-learning), combined into one level by a rule the territory can
//! read and tune (`data/risk.toml`, `risk_file` in vigie.toml). The
//! staff's map and "whom to help first" (`/risques`), each commune's own
//! page (`/communes/{code}/risques`), the JSON API, and the monthly
//! snapshot behind "what changed since last month". Shared (issue 15,
//! "Sharing"): the public, anonymised page of the territory by EPCI
//! (`public.rs`, `public_page.rs`, when `public_territory` is on) and
//! the attacking sources for the regional CSIRT as STIX 2.1 and CSV
//! (`sources.rs`, `stix.rs`, `csirt.rs`, staff only).
//!
//! What it must never do: show a commune's risk to another commune (the
//! API and pages filter by `Caller::can_see_commune`, the commune page
//! takes `VisibleCommune`), or score a factor without data as good; publish
//! a figure of fewer than five communes, or export a commune's name or an
//! internal address.

pub mod actions;
mod csirt;
pub mod factors;
pub mod gather;
pub mod map;
mod pages;
pub mod public;
pub mod public_page;
pub mod rules;
pub mod snapshot;
pub mod sources;
pub mod stix;

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
        // Anonymous on purpose, and 404 unless `public_territory` is on.
        .get("/public/territoire", Access::Public, public_page::page)
        .get("/public/territoire.csv", Access::Public, public_page::csv)
        .get("/api/v1/exports/stix", Access::Staff, csirt::stix_bundle)
        .get(
            "/api/v1/exports/sources.csv",
            Access::Staff,
            csirt::sources_csv,
        )
}
