//! The cybermétéo: the territory's map of the day's cyber weather, each
//! commune's page (history, hours, categories, sources), and the JSON API
//! behind them. The map shows every commune's weather to every signed-in
//! user; a commune's details are for that commune and the staff only.

pub mod advice;
pub mod charts;
pub mod dashboard;
pub mod exports;
pub mod history;
pub mod map;
pub mod outlook;
pub mod weather;

mod pages;

use chrono::NaiveDate;

use crate::AppError;
use crate::web::{Access, Routes};

pub fn router() -> Routes {
    Routes::new()
        .get("/", Access::SignedIn, pages::map_page)
        .get("/carte", Access::SignedIn, pages::territory_map_page)
        .get("/communes/{code}", Access::Visible, pages::commune_page)
        .get("/tableau-de-bord", Access::Staff, dashboard::dashboard_page)
        .post(
            "/tableau-de-bord/seuils",
            Access::Admin,
            dashboard::set_thresholds,
        )
        .get("/export/meteo.csv", Access::SignedIn, exports::csv)
        .get("/export/meteo.geojson", Access::SignedIn, exports::geojson)
        .get("/api/v1/weather", Access::SignedIn, pages::weather_api)
        .get(
            "/api/v1/communes/{code}/days",
            Access::Visible,
            pages::days_api,
        )
        .get(
            "/api/v1/communes/{code}/incidents",
            Access::Visible,
            pages::incidents_api,
        )
}

/// Today in Europe/Paris.
pub fn today() -> NaiveDate {
    vigie_core::local_day(chrono::Utc::now())
}

/// Parses the end of a day range (`to`): a day after today is read as
/// today, since a range "until tomorrow" asks for everything known so far
/// (a script in another time zone asks that); `None` means today.
pub fn parse_range_end(text: Option<&str>) -> Result<NaiveDate, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(today()),
        Some(text) => Ok(parse_date(text, "to")?.min(today())),
    }
}

fn parse_date(text: &str, field: &str) -> Result<NaiveDate, AppError> {
    text.parse().map_err(|_| {
        AppError::BadRequest(format!(
            "« {field} » doit être une date au format AAAA-MM-JJ, pas « {text} »."
        ))
    })
}

/// Parses a `YYYY-MM-DD` day given by a user; `None` means today.
pub fn parse_day(text: Option<&str>, field: &str) -> Result<NaiveDate, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(today()),
        Some(text) => {
            let day = parse_date(text, field)?;
            // No weather is known for a day to come (issue 13).
            if day > today() {
                return Err(AppError::BadRequest(format!(
                    "« {field} » ne peut pas être dans le futur : le {} n'est pas encore arrivé.",
                    crate::fr::day_long(day)
                )));
            }
            Ok(day)
        }
    }
}

/// A category's French label, `Autre` for one this version does not know.
pub(crate) fn category_label(category: &str) -> &'static str {
    vigie_core::Category::ALL
        .iter()
        .find(|c| c.as_str() == category)
        .map_or("Autre", |c| c.label_fr())
}
