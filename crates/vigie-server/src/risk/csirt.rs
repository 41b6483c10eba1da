//! What the territory shares with its regional CSIRT (issue 15,
//! "Sharing"): the attacking sources its sensors saw over a range of
//! days, as a STIX 2.1 bundle (`GET /api/v1/exports/stix`) and as CSV
//! (`GET /api/v1/exports/sources.csv`), on the staff's token or session.
//!
//! What it must never do: answer anyone but the staff (the `Staff`
//! extractor), name a commune, or let an address that is not an Internet
//! address leave (`sources::observed` filters them).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::sources::{self, Source};
use super::stix::{self, Publisher};
use crate::accounts::Staff;
use crate::cybermeteo::category_label;
use crate::web::csv::{Cell, CsvFile};
use crate::{AppError, AppState, territory};

#[derive(Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The CSV's header line, in French.
pub const HEADER: [&str; 8] = [
    "Adresse",
    "Version IP",
    "Catégories",
    "Incidents",
    "Dont sortants",
    "Communes touchées",
    "Première observation (UTC)",
    "Dernière observation (UTC)",
];

/// `GET /api/v1/exports/stix?from=&to=`: a STIX 2.1 bundle.
pub async fn stix_bundle(
    State(state): State<AppState>,
    Staff(_): Staff,
    Query(query): Query<RangeQuery>,
) -> Result<Response, AppError> {
    let (from, to) = sources::range(query.from.as_deref(), query.to.as_deref())?;
    let found = sources::observed(&state.db, from, to).await?;
    let name = territory::territory_name(&state.db).await?;
    let publisher = Publisher {
        name: &name,
        public_url: &state.settings.public_url,
    };
    let bundle = stix::bundle(&publisher, &found, &from.to_string(), &to.to_string());
    let disposition = format!("attachment; filename=\"sources-{from}-{to}.stix.json\"");
    Ok((
        [
            // The media type STIX 2.1 registers (section 1.7).
            (
                header::CONTENT_TYPE,
                "application/stix+json;version=2.1".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bundle.to_string(),
    )
        .into_response())
}

/// `GET /api/v1/exports/sources.csv?from=&to=`: the same sources as CSV.
pub async fn sources_csv(
    State(state): State<AppState>,
    Staff(_): Staff,
    Query(query): Query<RangeQuery>,
) -> Result<Response, AppError> {
    let (from, to) = sources::range(query.from.as_deref(), query.to.as_deref())?;
    let mut file = CsvFile::new(&HEADER)?;
    for source in sources::observed(&state.db, from, to).await? {
        row(&mut file, &source)?;
    }
    file.into_response("sources-attaques.csv")
}

fn row(file: &mut CsvFile, s: &Source) -> Result<(), AppError> {
    let address = s.address.to_string();
    let categories = s
        .categories
        .iter()
        .map(|(c, n)| format!("{} ({n})", category_label(c)))
        .collect::<Vec<_>>()
        .join(" | ");
    // UTC, as a CSIRT's other sources (logs, feeds) are.
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let (first, last) = (at(s.first_seen_ms), at(s.last_seen_ms));
    file.row(&[
        Cell::Text(&address),
        Cell::Text(if s.address.is_ipv4() { "IPv4" } else { "IPv6" }),
        Cell::Text(&categories),
        Cell::Number(s.incidents),
        Cell::Number(s.outbound),
        Cell::Number(i64::try_from(s.communes).unwrap_or(i64::MAX)),
        Cell::Text(&first),
        Cell::Text(&last),
    ])
}
