//! The network probe's scans at the observatory: the staff uploads a
//! probe's `vigie.probe/1` document (`POST /api/v1/probes`, what
//! `vigie probe --upload` does), stored once however often it is sent;
//! each commune's scans are listed with their trend
//! (`/communes/{code}/sonde`), each report shown whole (`/sondes/{id}`)
//! or as a PDF (`/sondes/{id}.pdf`); the staff download a commune's
//! scope file prefilled from its pre-audit
//! (`/communes/{code}/sonde/perimetre.toml`, [`perimeter`]).
//!
//! What it must never do: store any part of a refused document, store one
//! scan twice, let a commune user upload, or show a commune's scans to
//! anyone but that commune's users and the staff (404 otherwise, the
//! same answer as for a scan that does not exist).

pub(crate) mod pages;
pub mod perimeter;
mod scan;
mod store;
mod upload;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::post;

use crate::web::{Access, Routes};

pub use scan::{ScanSummary, SeverityCounts, trend};
pub use store::{Stored, document, history, last_scan, store};
pub use upload::{MAX_PROBE_BYTES, parse};

pub fn router() -> Routes {
    Routes::new()
        .method(
            Method::POST,
            "/api/v1/probes",
            Access::Staff,
            post(upload::receive).layer(DefaultBodyLimit::max(MAX_PROBE_BYTES)),
        )
        .get("/communes/{code}/sonde", Access::Visible, pages::history)
        .get(
            "/communes/{code}/sonde/perimetre.toml",
            Access::Staff,
            perimeter::download,
        )
        // `{scan}` or `{scan}.pdf`: one segment, told apart by the handler.
        .get("/sondes/{scan}", Access::Visible, pages::report)
}
