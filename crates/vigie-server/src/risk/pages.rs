//! Handlers of the risk map: the staff's page (`/risques`: the map by
//! risk or factor, the coverage, whom to help first, what changed since
//! last month, the EPCIs), a commune's own page, and the JSON API.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::actions::{self, NextStep, PATH_OFFER};
use super::factors::{Factor, Kind, Level};
use super::gather::{Assessment, assess};
use super::map::{self, View};
use super::snapshot::{self, Changes};
use crate::accounts::{Caller, Staff, VisibleCommune};
use crate::cybermeteo::{parse_day, today};
use crate::territory::{self, CommuneCode};
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// How many communes "whom to help first" lists.
const HELP_FIRST: usize = 15;

#[derive(Deserialize)]
pub struct RiskQuery {
    vue: Option<String>,
    jour: Option<String>,
    day: Option<String>,
}

/// A commune of "whom to help first", its next step worked out.
pub struct Ranked {
    pub a: Assessment,
    pub step: NextStep,
    pub risk: String,
}

/// An EPCI's line: its communes' risks together.
pub struct EpciRow {
    pub siren: String,
    /// Its most populous commune of the territory, to recognise it.
    pub around: String,
    pub communes: String,
    pub known: String,
    pub mean: String,
    pub worst: Level,
}

#[derive(Template)]
#[template(path = "risk/territory.html")]
struct TerritoryPage {
    chrome: Chrome,
    territory: String,
    day: NaiveDate,
    today: NaiveDate,
    day_fr: String,
    view: View,
    views: Vec<View>,
    svg: String,
    legend: Vec<(Level, String)>,
    coverage: Vec<(usize, String)>,
    ranked: Vec<Ranked>,
    unknown: String,
    since: Option<String>,
    changes: Changes,
    /// The non-empty lists of `changes`, titled.
    change_lists: Vec<(&'static str, Vec<snapshot::Change>)>,
    epcis: Vec<EpciRow>,
    rules: super::Rules,
}

/// `GET /risques?vue=&jour=`: the territory's risk map, for the staff.
pub async fn territory_page(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(query): Query<RiskQuery>,
) -> Result<Response, AppError> {
    let rules = state.settings.risk.clone();
    let day = parse_day(query.jour.as_deref(), "jour")?;
    let view = View::parse(query.vue.as_deref());
    let assessed = assess(&state, &rules, None, day).await?;
    let geometry = state.map_geometry().await?;
    let svg = map::render(&geometry, &rules, &assessed, view, |code| {
        caller.can_see_commune(code)
    });
    let legend = Level::ALL
        .into_iter()
        .map(|level| {
            let n = assessed
                .iter()
                .filter(|a| view.of(&rules, a).1 == level)
                .count();
            (level, fr::count(n, "commune", "communes"))
        })
        .collect();
    let coverage = (0..=4)
        .rev()
        .map(|known| {
            let n = assessed.iter().filter(|a| a.known() == known).count();
            (known, fr::count(n, "commune", "communes"))
        })
        .collect();
    let mut candidates: Vec<&Assessment> = assessed.iter().filter(|a| a.risk.is_some()).collect();
    candidates.sort_by_key(|a| (std::cmp::Reverse((a.level.rank(), a.risk)), a.commune.code));
    let mut ranked = Vec::new();
    for a in candidates.into_iter().take(HELP_FIRST) {
        ranked.push(Ranked {
            step: actions::next_step(&state, &rules, a).await?,
            risk: a.risk.map_or_else(String::new, |r| r.to_string()),
            a: a.clone(),
        });
    }
    let unknown = assessed.iter().filter(|a| a.risk.is_none()).count();
    let (since, changes) = match snapshot::before(&state, &snapshot::month_of(day), None).await? {
        Some((month, kept)) => (
            Some(month_label(&month)),
            snapshot::changes(&kept, &assessed),
        ),
        None => (None, Changes::default()),
    };
    let change_lists = [
        ("Risque en hausse", &changes.worse),
        ("Risque en baisse", &changes.better),
        ("Nouvelles failles critiques", &changes.new_critical),
        (
            "Nouvelles alertes sortantes (compromission possible)",
            &changes.new_compromises,
        ),
    ]
    .into_iter()
    .filter(|(_, list)| !list.is_empty())
    .map(|(title, list)| (title, list.clone()))
    .collect();
    let page = TerritoryPage {
        change_lists,
        chrome: Chrome::new("Carte des risques", Some(&caller)),
        territory: territory::territory_name(&state.db).await?,
        day,
        today: today(),
        day_fr: fr::day(day),
        view,
        views: std::iter::once(View::Risk)
            .chain(Kind::ALL.map(View::Factor))
            .collect(),
        svg,
        legend,
        coverage,
        ranked,
        unknown: fr::count(unknown, "commune", "communes"),
        since,
        changes,
        epcis: epcis(&assessed),
        rules: (*rules).clone(),
    };
    render(&page)
}

/// « mars 2026 » from `2026-03`.
fn month_label(month: &str) -> String {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_or_else(|_| month.to_owned(), fr::month)
}

/// The EPCIs of the territory, the riskiest first.
fn epcis(assessed: &[Assessment]) -> Vec<EpciRow> {
    let mut groups: BTreeMap<&str, Vec<&Assessment>> = BTreeMap::new();
    for a in assessed {
        if let Some(epci) = a.commune.epci.as_deref() {
            groups.entry(epci).or_default().push(a);
        }
    }
    let mut rows: Vec<(Option<u32>, EpciRow)> = groups
        .into_iter()
        .map(|(siren, members)| {
            let risks: Vec<u32> = members
                .iter()
                .filter_map(|a| a.risk.map(u32::from))
                .collect();
            let mean = (!risks.is_empty()).then(|| risks.iter().sum::<u32>() / risks.len() as u32);
            let around = members
                .iter()
                .max_by_key(|a| a.commune.population)
                .map_or_else(String::new, |a| a.commune.name.clone());
            let worst = members
                .iter()
                .map(|a| a.level)
                .max_by_key(|l| l.rank())
                .unwrap_or(Level::Unknown);
            let row = EpciRow {
                siren: siren.to_owned(),
                around,
                communes: fr::count(members.len(), "commune", "communes"),
                known: fr::count(risks.len(), "évaluée", "évaluées"),
                mean: mean.map_or_else(|| "inconnu".to_owned(), |m| format!("{m}/100")),
                worst,
            };
            (mean, row)
        })
        .collect();
    rows.sort_by_key(|(mean, row)| (std::cmp::Reverse(*mean), row.siren.clone()));
    rows.into_iter().map(|(_, row)| row).collect()
}

#[derive(Template)]
#[template(path = "risk/commune.html")]
struct CommunePage {
    chrome: Chrome,
    a: Assessment,
    step: NextStep,
    /// (label, factor, level) in the API's order.
    factors: Vec<(&'static str, Factor, Level)>,
    can_create: bool,
    path_offer: &'static str,
    since: Option<String>,
    changed: Vec<String>,
}

/// `GET /communes/{code}/risques`: the commune's own risk, for its users
/// and the staff.
pub async fn commune_page(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let rules = state.settings.risk.clone();
    let day = today();
    let a = assess(&state, &rules, Some(&commune.code), day)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let step = actions::next_step(&state, &rules, &a).await?;
    let factors = Kind::ALL
        .into_iter()
        .filter_map(|k| {
            let f = a.factors.get(k.index())?.clone();
            let level = Level::of(&rules, f.score);
            Some((k.label(), f, level))
        })
        .collect();
    let before = snapshot::before(
        &state,
        &snapshot::month_of(day),
        Some(commune.code.as_str()),
    )
    .await?;
    let (since, changed) = match before {
        Some((month, kept)) => {
            let c = snapshot::changes(&kept, std::slice::from_ref(&a));
            let lines = [
                (&c.worse, "Risque en hausse"),
                (&c.better, "Risque en baisse"),
                (&c.new_critical, "Nouvelles failles critiques"),
                (&c.new_compromises, "Nouvelle alerte sortante"),
            ]
            .into_iter()
            .flat_map(|(list, label)| list.iter().map(move |x| format!("{label} : {}", x.what)))
            .collect();
            (Some(month_label(&month)), lines)
        }
        None => (None, Vec::new()),
    };
    let page = CommunePage {
        chrome: Chrome::new(format!("Risques — {}", a.commune.name), Some(&caller)),
        can_create: caller.is_staff(),
        path_offer: PATH_OFFER,
        factors,
        step,
        a,
        since,
        changed,
    };
    render(&page)
}

#[derive(Serialize)]
pub struct FactorEntry {
    score: Option<u8>,
    why: String,
}

#[derive(Serialize)]
pub struct FactorsEntry {
    pressure: FactorEntry,
    exposure: FactorEntry,
    maturity: FactorEntry,
    human: FactorEntry,
}

#[derive(Serialize)]
pub struct RiskEntry {
    commune: CommuneCode,
    name: String,
    risk: Option<u8>,
    level: Level,
    factors: FactorsEntry,
}

/// `GET /api/v1/risk?day=YYYY-MM-DD`: every commune the caller may see
/// (the staff: all; a commune user: its own), by code.
pub async fn risk_api(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RiskQuery>,
) -> Result<Json<Vec<RiskEntry>>, AppError> {
    let rules = state.settings.risk.clone();
    let day = parse_day(query.day.as_deref(), "day")?;
    let only = if caller.is_staff() {
        None
    } else {
        match caller.commune {
            Some(code) => Some(code),
            None => return Ok(Json(Vec::new())),
        }
    };
    let assessed = assess(&state, &rules, only.as_ref(), day).await?;
    let entry = |f: &Factor| FactorEntry {
        score: f.score,
        why: f.why.clone(),
    };
    Ok(Json(
        assessed
            .into_iter()
            .filter(|a| caller.can_see_commune(&a.commune.code))
            .map(|a| {
                let [p, e, m, h] = &a.factors;
                RiskEntry {
                    factors: FactorsEntry {
                        pressure: entry(p),
                        exposure: entry(e),
                        maturity: entry(m),
                        human: entry(h),
                    },
                    commune: a.commune.code,
                    name: a.commune.name,
                    risk: a.risk,
                    level: a.level,
                }
            })
            .collect(),
    ))
}
