//! Exports of the daily weather: CSV over a range of days, GeoJSON of one
//! day with the contours. The staff export every commune; a commune's
//! users only their own (a commune's details are its own), and only their
//! own is computed: the filter is in the queries (issue 14).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::weather::{self, CommuneWeather, Communes};
use super::{parse_day, parse_range_end, today};
use crate::accounts::Caller;
use crate::territory::CommuneCode;
use crate::web::csv::{Cell, CsvFile};
use crate::{AppError, AppState};

#[derive(Deserialize)]
pub struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
    day: Option<String>,
}

/// The longest range one CSV export covers.
const MAX_DAYS: i64 = 366;

/// The communes `caller` may export: every one for the staff, their own
/// for a commune user, none for an account without a commune.
fn visible_communes(caller: &Caller) -> Option<Communes> {
    if caller.is_staff() {
        Some(Communes::All)
    } else {
        caller.commune.map(Communes::One)
    }
}

/// The weather of the communes `caller` may see, day by day.
async fn visible_weather(
    state: &AppState,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, Vec<CommuneWeather>)>, AppError> {
    let Some(communes) = visible_communes(caller) else {
        return Ok(Vec::new());
    };
    let silent_since = crate::db::now_ms() - state.settings.silent_after_secs * 1000;
    let days = weather::for_days(&state.db, communes, from, to, today(), silent_since).await?;
    // Computed for the visible communes only; checked again all the same.
    Ok(days
        .into_iter()
        .map(|(day, weather)| {
            let visible = weather
                .into_iter()
                .filter(|w| caller.can_see_commune(&w.commune))
                .collect();
            (day, visible)
        })
        .collect())
}

/// The CSV's header line, in French (issue 13).
pub const HEADER: [&str; 7] = [
    "Jour",
    "Code INSEE",
    "Commune",
    "Score",
    "Attaques entrantes",
    "Attaques sortantes",
    "Météo",
];

/// `GET /export/meteo.csv?from=&to=` (default: the last 90 days).
pub async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let to = parse_range_end(query.to.as_deref())?;
    let from = match query.from.as_deref() {
        Some(_) => parse_day(query.from.as_deref(), "from")?,
        None => to - Duration::days(89),
    };
    if from > to || (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::BadRequest(format!(
            "« from » doit précéder « to », sur {MAX_DAYS} jours au plus."
        )));
    }
    let mut file = CsvFile::new(&HEADER)?;
    for (day, weather) in visible_weather(&state, &caller, from, to).await? {
        let day = day.format("%d/%m/%Y").to_string();
        for w in weather {
            let level = w.level.label_fr();
            file.row(&[
                Cell::Text(&day),
                Cell::Text(&w.commune),
                Cell::Text(&w.name),
                Cell::Number(w.score),
                Cell::Number(w.inbound),
                Cell::Number(w.outbound),
                Cell::Text(level),
            ])?;
        }
    }
    file.into_response("cybermeteo.csv")
}

/// `GET /export/meteo.geojson?day=`: one day's weather with the contours.
pub async fn geojson(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let day = parse_day(query.day.as_deref(), "day")?;
    let weather = visible_weather(&state, &caller, day, day)
        .await?
        .into_iter()
        .flat_map(|(_, weather)| weather);
    let rows: Vec<(CommuneCode, Option<String>)> =
        sqlx::query_as("SELECT code, geometry FROM communes")
            .fetch_all(state.db.read())
            .await?;
    let mut features = Vec::new();
    for w in weather {
        let geometry = rows
            .iter()
            .find(|(code, _)| *code == w.commune)
            .and_then(|(_, geometry)| geometry.as_deref())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .unwrap_or(serde_json::Value::Null);
        features.push(serde_json::json!({
            "type": "Feature",
            "properties": { "code": w.commune, "nom": w.name, "jour": day.to_string(), "score": w.score,
                            "entrantes": w.inbound, "sortantes": w.outbound, "meteo": w.level },
            "geometry": geometry,
        }));
    }
    let collection = serde_json::json!({ "type": "FeatureCollection", "features": features });
    // A download, not a page of JSON (issue 13).
    let disposition = format!("attachment; filename=\"cybermeteo-{day}.geojson\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        collection.to_string(),
    )
        .into_response())
}
