//! Handlers of the cybermétéo pages and API.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::history::{self, DayWeather, IncidentRow};
use super::weather::{self, CommuneWeather, Level, Thresholds};
use super::{charts, map, parse_day, today};
use crate::accounts::{Caller, VisibleCommune};
use crate::territory::{self, Commune};
use crate::web::{Chrome, render};
use crate::{AppError, AppState};

#[derive(Deserialize)]
pub struct DayQuery {
    jour: Option<String>,
    day: Option<String>,
    hors_heures: Option<String>,
}

/// Every commune's weather for `day`, sorted by code.
async fn territory_weather(
    state: &AppState,
    day: NaiveDate,
) -> Result<Vec<CommuneWeather>, AppError> {
    let silent_since = crate::db::now_ms() - state.settings.silent_after_secs * 1000;
    Ok(weather::for_day(&state.db, day, today(), silent_since).await?)
}

#[derive(Template)]
#[template(path = "cybermeteo/map.html")]
struct MapPage {
    chrome: Chrome,
    territory: String,
    day: NaiveDate,
    today: NaiveDate,
    svg: String,
    legend: Vec<(Level, usize)>,
    worst: Vec<CommuneWeather>,
}

pub async fn map_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DayQuery>,
) -> Result<Response, AppError> {
    let day = parse_day(query.jour.as_deref(), "jour")?;
    let weather = territory_weather(&state, day).await?;
    let geometry = state.map_geometry().await?;
    let svg = map::render(&geometry, &weather, |code| caller.can_see_commune(code));
    let legend = Level::ALL
        .iter()
        .map(|level| (*level, weather.iter().filter(|c| c.level == *level).count()))
        .collect();
    let mut worst: Vec<CommuneWeather> = weather
        .iter()
        .filter(|c| c.score > 0 && c.level != Level::NoData)
        .cloned()
        .collect();
    worst.sort_by_key(|c| std::cmp::Reverse(c.score));
    worst.truncate(10);
    let page = MapPage {
        chrome: Chrome::new("Cybermétéo", Some(&caller)),
        territory: territory::territory_name(&state.db).await?,
        day,
        today: today(),
        svg,
        legend,
        worst,
    };
    render(&page)
}

#[derive(Serialize)]
pub struct WeatherEntry {
    commune: String,
    name: String,
    score: i64,
    inbound: i64,
    outbound: i64,
    level: Level,
}

/// `GET /api/v1/weather?day=YYYY-MM-DD`: every commune's weather (the map
/// is the territory's, shown to every signed-in user).
pub async fn weather_api(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<DayQuery>,
) -> Result<Json<Vec<WeatherEntry>>, AppError> {
    let day = parse_day(query.day.as_deref(), "day")?;
    let weather = territory_weather(&state, day).await?;
    Ok(Json(
        weather
            .into_iter()
            .map(|c| WeatherEntry {
                commune: c.commune,
                name: c.name,
                score: c.score,
                inbound: c.inbound,
                outbound: c.outbound,
                level: c.level,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/communes/{code}/days?from=&to=`: per day, category and
/// direction (default: the last 90 days).
pub async fn days_api(
    State(state): State<AppState>,
    VisibleCommune(commune): VisibleCommune,
    Query(query): Query<RangeQuery>,
) -> Result<Json<Vec<history::CategoryCount>>, AppError> {
    let to = parse_day(query.to.as_deref(), "to")?;
    let from = match query.from.as_deref() {
        Some(_) => parse_day(query.from.as_deref(), "from")?,
        None => to - Duration::days(89),
    };
    if from > to || (to - from).num_days() > 3660 {
        return Err(AppError::BadRequest(
            "« from » doit précéder « to », sur dix ans au plus.".to_owned(),
        ));
    }
    Ok(Json(
        history::category_counts(&state.db, &commune.code, from, to).await?,
    ))
}

/// `GET /api/v1/communes/{code}/incidents?day=`: the day's incidents.
pub async fn incidents_api(
    State(state): State<AppState>,
    VisibleCommune(commune): VisibleCommune,
    Query(query): Query<DayQuery>,
) -> Result<Json<Vec<IncidentRow>>, AppError> {
    let day = parse_day(query.day.as_deref(), "day")?;
    Ok(Json(
        history::incidents(&state.db, &commune.code, day).await?,
    ))
}

#[derive(Template)]
#[template(path = "cybermeteo/commune.html")]
struct CommunePage {
    chrome: Chrome,
    commune: Commune,
    day: NaiveDate,
    today: NaiveDate,
    outside_hours_only: bool,
    weather: DayWeather,
    last8: String,
    last90: String,
    hourly: String,
    categories: Vec<(String, i64, i64)>,
    sources: Vec<(String, usize, i64)>,
    outbound_today: bool,
    sensor: Option<&'static str>,
    /// Attacks counted that day whose detail the box dropped (its spool
    /// was full during a long cut).
    undetailed: i64,
    /// Remote addresses the box (filter mode) blocked that day, by reason.
    blocked: Vec<(String, i64)>,
    /// The network probe's latest scan of the commune.
    probe: Option<crate::probes::ScanSummary>,
}

pub async fn commune_page(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
    Query(query): Query<DayQuery>,
) -> Result<Response, AppError> {
    let day = parse_day(query.jour.as_deref(), "jour")?;
    let outside_hours_only = query.hors_heures.is_some();
    let thresholds = Thresholds::load(&state.db).await?;
    let last90 = history::days(
        &state.db,
        &commune.code,
        day - Duration::days(89),
        day,
        thresholds,
    )
    .await?;
    let last8 = last90
        .get(last90.len().saturating_sub(8)..)
        .unwrap_or_default();
    let weather = last90
        .last()
        .cloned()
        .ok_or(AppError::Internal("empty history".into()))?;
    let incidents: Vec<IncidentRow> = history::incidents(&state.db, &commune.code, day)
        .await?
        .into_iter()
        .filter(|i| !outside_hours_only || i.outside_working_hours(day))
        .collect();
    let (mut inbound, mut outbound) = ([0i64; 24], [0i64; 24]);
    let mut categories: Vec<(String, i64, i64)> = Vec::new();
    let mut sources: Vec<(String, usize, i64)> = Vec::new();
    for incident in &incidents {
        let out = incident.direction == "outbound";
        let hour = usize::try_from(incident.hour).unwrap_or(0).min(23);
        if out {
            outbound[hour] += 1
        } else {
            inbound[hour] += 1
        }
        let label = category_label(&incident.category).to_owned();
        match categories.iter_mut().find(|(name, _, _)| *name == label) {
            Some(entry) => {
                if out {
                    entry.2 += 1
                } else {
                    entry.1 += 1
                }
            }
            None => categories.push((label, i64::from(!out), i64::from(out))),
        }
        if let Some(source) = &incident.source {
            match sources.iter_mut().find(|(ip, _, _)| ip == source) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 += incident.events
                }
                None => sources.push((source.clone(), 1, incident.events)),
            }
        }
    }
    sources.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
    sources.truncate(10);
    let undetailed = if outside_hours_only {
        0
    } else {
        let listed = i64::try_from(incidents.len()).unwrap_or(i64::MAX);
        (weather.inbound + weather.outbound - listed).max(0)
    };
    let blocked = blocked_on(&state.db, &commune.code, day).await?;
    let now = crate::db::now_ms();
    let sensor = crate::sensors::commune_sensor_state(
        &state.db,
        &commune.code,
        now,
        state.settings.silent_after_secs,
    )
    .await?
    .map(|s| s.label_fr());
    let probe = crate::probes::last_scan(&state.db, &commune.code).await?;
    let page = CommunePage {
        chrome: Chrome::new(commune.name.clone(), Some(&caller)),
        outbound_today: weather.outbound > 0,
        last8: charts::day_bars(last8),
        last90: charts::day_bars(&last90),
        hourly: charts::hourly(&inbound, &outbound),
        commune,
        day,
        today: today(),
        outside_hours_only,
        weather,
        categories,
        sources,
        sensor,
        undetailed,
        blocked,
        probe,
    };
    render(&page)
}

/// Addresses a filtering box blocked on `day`, by the attack that got
/// them blocked.
async fn blocked_on(
    db: &crate::Db,
    commune: &str,
    day: NaiveDate,
) -> Result<Vec<(String, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT category, addresses FROM blocked_counts WHERE commune = $1 AND day = $2
         ORDER BY category",
    )
    .bind(commune)
    .bind(day.to_string())
    .fetch_all(db.read())
    .await?;
    let mut blocked = Vec::with_capacity(rows.len());
    for row in rows {
        let category: String = row.try_get("category")?;
        blocked.push((
            category_label(&category).to_owned(),
            row.try_get("addresses")?,
        ));
    }
    Ok(blocked)
}

fn category_label(category: &str) -> &'static str {
    vigie_core::Category::ALL
        .iter()
        .find(|c| c.as_str() == category)
        .map_or("Autre", |c| c.label_fr())
}
