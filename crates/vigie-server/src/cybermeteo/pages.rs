//! Handlers of the cybermétéo pages and API.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::history::{self, DayWeather, IncidentRow};
use super::outlook;
use super::weather::{self, CommuneWeather, Level, Thresholds};
use super::{charts, map, parse_day, parse_range_end, today};
use crate::accounts::{Caller, VisibleCommune};
use crate::fr;
use crate::territory::{self, Commune, CommuneCode};
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
    day_fr: String,
    svg: String,
    legend: Vec<(Level, String)>,
    worst: Vec<WorstRow>,
    /// A commune user's own commune (code, name), highlighted.
    own: Option<(CommuneCode, String)>,
}

/// `GET /`: a commune user's home is their commune (the map is one tap
/// away, at `/carte`); the staff's is the territory's map.
pub async fn map_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DayQuery>,
) -> Result<Response, AppError> {
    if caller.role == crate::accounts::Role::Commune
        && let Some(code) = caller.commune
    {
        // Their own commune: always theirs to see.
        let commune = territory::commune(&state.db, &code)
            .await?
            .ok_or(AppError::NotFound)?;
        return commune_view(&state, &caller, commune, &query, true).await;
    }
    territory_map(&state, &caller, &query).await
}

/// `GET /carte`: the territory's map, for everyone signed in.
pub async fn territory_map_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DayQuery>,
) -> Result<Response, AppError> {
    territory_map(&state, &caller, &query).await
}

async fn territory_map(
    state: &AppState,
    caller: &Caller,
    query: &DayQuery,
) -> Result<Response, AppError> {
    let day = parse_day(query.jour.as_deref(), "jour")?;
    let weather = territory_weather(state, day).await?;
    let geometry = state.map_geometry().await?;
    let own = caller
        .commune
        .as_deref()
        .filter(|_| caller.role == crate::accounts::Role::Commune);
    let svg = map::render(
        &geometry,
        &weather,
        |code| caller.can_see_commune(code),
        own,
    );
    let legend = Level::ALL
        .iter()
        .map(|level| {
            let count = weather.iter().filter(|c| c.level == *level).count();
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            (*level, fr::plural(count, "commune", "communes"))
        })
        .collect();
    let mut worst: Vec<CommuneWeather> = weather
        .iter()
        .filter(|c| c.score > 0 && c.level != Level::NoData)
        .cloned()
        .collect();
    worst.sort_by_key(|c| std::cmp::Reverse(c.score));
    worst.truncate(10);
    let own_name = own
        .and_then(|code| weather.iter().find(|c| c.commune == code))
        .map(|c| (c.commune, c.name.clone()));
    let page = MapPage {
        chrome: Chrome::new("Cybermétéo", Some(caller)),
        territory: territory::territory_name(&state.db).await?,
        day,
        today: today(),
        day_fr: day.format("%d/%m/%Y").to_string(),
        svg,
        legend,
        worst: worst
            .into_iter()
            .map(|c| {
                let link = caller.can_see_commune(&c.commune);
                WorstRow {
                    score: fr::number(c.score),
                    inbound: fr::number(c.inbound),
                    outbound: fr::number(c.outbound),
                    link,
                    c,
                }
            })
            .collect(),
        own: own_name,
    };
    render(&page)
}

/// A row of "the most attacked communes", formatted.
struct WorstRow {
    c: CommuneWeather,
    link: bool,
    score: String,
    inbound: String,
    outbound: String,
}

#[derive(Serialize)]
pub struct WeatherEntry {
    commune: CommuneCode,
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
    let to = parse_range_end(query.to.as_deref())?;
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
    /// The commune user's home (`/`): the map is one tap away.
    is_home: bool,
    population: String,
    day: NaiveDate,
    today: NaiveDate,
    day_fr: String,
    outside_hours_only: bool,
    /// The day's weather as shown: only outside working hours when the
    /// filter is on.
    weather: DayWeather,
    /// "12 sur 91": how many of the day's attacks the filter kept.
    filter_note: String,
    outlook: outlook::Outlook,
    last8: String,
    last90: String,
    hourly: String,
    /// The 8 days as a table (the charts' text alternative).
    last8_rows: Vec<charts::DayRow>,
    /// (label, inbound, outbound), formatted.
    categories: Vec<(String, String, String, bool)>,
    /// (address, attacks, events), formatted.
    sources: Vec<(String, String, String)>,
    sensor: Option<&'static str>,
    /// "Plus 3 attaques comptées sans détail ..." (the box's spool was
    /// full during a long cut), empty if none.
    undetailed: String,
    /// Remote addresses the box (filter mode) blocked that day, by reason.
    blocked: Vec<(String, String)>,
    /// "Grâce aux autres communes, le boîtier a bloqué 2 attaques ce
    /// jour-là." (issue 16), empty if none.
    defended: String,
    /// The network probe's latest scan of the commune.
    probe: Option<crate::probes::ScanSummary>,
    /// The commune's phishing-awareness campaigns, in words.
    campaigns: crate::phishing::overview::CommuneOverview,
    /// The commune's agreements with the territory, in words.
    agreements: crate::agreements::overview::CommuneOverview,
}

pub async fn commune_page(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
    Query(query): Query<DayQuery>,
) -> Result<Response, AppError> {
    commune_view(&state, &caller, commune, &query, false).await
}

/// The commune's page: the day in words and what to do first, then the
/// charts and the details.
async fn commune_view(
    state: &AppState,
    caller: &Caller,
    commune: Commune,
    query: &DayQuery,
    is_home: bool,
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
    let whole = last90
        .last()
        .cloned()
        .ok_or(AppError::Internal("empty history".into()))?;
    let all_incidents = history::incidents(&state.db, &commune.code, day).await?;
    let incidents: Vec<IncidentRow> = all_incidents
        .iter()
        .filter(|i| !outside_hours_only || i.outside_working_hours(day))
        .cloned()
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
        let label = super::category_label(&incident.category).to_owned();
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
        if let Some(source) = incident.source.as_ref().filter(|_| !out) {
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
    categories.sort_by_key(|(_, i, o)| std::cmp::Reverse(i + 10 * o));
    // The filter applies to the headline too: the day's figures are then
    // those of the incidents it kept.
    let (weather, filter_note) = if outside_hours_only {
        let count = |dir: bool| {
            let n = incidents
                .iter()
                .filter(|i| (i.direction == "outbound") == dir)
                .count();
            i64::try_from(n).unwrap_or(i64::MAX)
        };
        let (i, o) = (count(false), count(true));
        let score = weather::score(i, o);
        let level = if whole.level == Level::NoData {
            Level::NoData
        } else {
            thresholds.level(score)
        };
        let filtered = DayWeather {
            day,
            score,
            inbound: i,
            outbound: o,
            level,
            defended: whole.defended,
        };
        let total = i64::try_from(all_incidents.len()).unwrap_or(i64::MAX);
        let note = format!(
            "Filtre actif : seulement les soirs, nuits et week-ends ({} sur {} ce jour).",
            fr::plural(i + o, "attaque", "attaques"),
            fr::number(total)
        );
        (filtered, note)
    } else {
        (whole.clone(), String::new())
    };
    let undetailed = if outside_hours_only {
        0
    } else {
        let listed = i64::try_from(incidents.len()).unwrap_or(i64::MAX);
        (whole.inbound + whole.outbound - listed).max(0)
    };
    let undetailed = if undetailed > 0 {
        format!(
            "Plus {} sans détail : le boîtier a manqué de place pendant une coupure du lien avec l'observatoire. Elles comptent dans la météo.",
            fr::plural(undetailed, "attaque comptée", "attaques comptées")
        )
    } else {
        String::new()
    };
    let blocked = blocked_on(&state.db, &commune.code, day).await?;
    let now = crate::db::now_ms();
    let sensing = crate::sensors::commune_sensing(
        &state.db,
        &commune.code,
        now,
        state.settings.silent_after_secs,
    )
    .await?;
    let territory_name = territory::territory_name(&state.db).await?;
    let before = last90
        .get(..last90.len().saturating_sub(1))
        .unwrap_or_default();
    let outlook = outlook::tell(&outlook::Day {
        day,
        today: today(),
        weather: &weather,
        before,
        incidents: &incidents,
        all_incidents: &all_incidents,
        sensing: outlook::Sensing {
            state: sensing.map(|(s, _)| s),
            last_alive: sensing.and_then(|(_, at)| at),
            now_ms: now,
        },
        territory: &territory_name,
    });
    let probe = crate::probes::last_scan(&state.db, &commune.code).await?;
    let campaigns =
        crate::phishing::overview::of_commune(state, &commune.code, caller.is_staff()).await?;
    let agreements = crate::agreements::overview::of_commune(state, &commune).await?;
    // One scale for both charts: the 8 days keep the 90 days' proportions,
    // so that 2 attacks never look like 91.
    let scale = charts::scale_max(&last90, thresholds);
    let page = CommunePage {
        chrome: Chrome::new(commune.name.clone(), Some(caller)),
        is_home,
        population: fr::plural(commune.population, "habitant", "habitants"),
        last8: charts::day_bars(last8, scale, "Les 8 derniers jours"),
        last90: charts::day_bars(&last90, scale, "Les 90 derniers jours"),
        last8_rows: last8.iter().rev().map(charts::DayRow::from).collect(),
        hourly: charts::hourly(&inbound, &outbound),
        commune,
        day,
        today: today(),
        day_fr: day.format("%d/%m/%Y").to_string(),
        outside_hours_only,
        weather,
        filter_note,
        outlook,
        categories: categories
            .into_iter()
            .map(|(name, i, o)| (name, fr::number(i), fr::number(o), o > 0))
            .collect(),
        sources: sources
            .into_iter()
            .map(|(ip, n, events)| {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                (ip, fr::number(n), fr::number(events))
            })
            .collect(),
        sensor: sensing.map(|(s, _)| s.label_fr()),
        undetailed,
        defended: if whole.defended > 0 {
            format!(
                "Grâce aux autres communes du territoire, le boîtier a bloqué {} ce jour-là : leurs sources étaient déjà sur la liste du territoire.",
                fr::plural(whole.defended, "attaque", "attaques")
            )
        } else {
            String::new()
        },
        blocked: blocked
            .into_iter()
            .map(|(reason, n)| (reason, fr::number(n)))
            .collect(),
        probe,
        campaigns,
        agreements,
    };
    render(&page)
}

/// Addresses a filtering box blocked on `day`, by the attack that got
/// them blocked.
async fn blocked_on(
    db: &crate::Db,
    commune: &CommuneCode,
    day: NaiveDate,
) -> Result<Vec<(String, i64)>, AppError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT category, addresses FROM blocked_counts WHERE commune = $1 AND day = $2
         ORDER BY category",
    )
    .bind(commune)
    .bind(day.to_string())
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(category, addresses)| (super::category_label(&category).to_owned(), addresses))
        .collect())
}
