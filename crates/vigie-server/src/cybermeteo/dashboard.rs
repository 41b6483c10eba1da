//! The territory's dashboard, for its staff: how many communes are
//! equipped and reporting, attacks per day and category, the most attacked
//! communes, and the trend week on week.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use vigie_core::Category;

use super::today;
use super::weather::{Thresholds, score};
use crate::accounts::{Admin, CsrfForm, Staff};
use crate::sensors::{self, SensorState};
use crate::territory::CommuneCode;
use crate::web::{Chrome, render};
use crate::{AppError, AppState};

/// Days in the per-day table.
const DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "cybermeteo/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    /// « 12 communes équipées d'un boîtier ».
    equipped: String,
    /// « 11 qui transmettent », « 1 qui transmet ».
    reporting: String,
    /// « 1 silencieuse », « 2 silencieuses »; empty when none is.
    silent: String,
    categories: Vec<&'static str>,
    /// (day, counts per category in `categories` order, total).
    days: Vec<(NaiveDate, Vec<i64>, i64)>,
    /// (code, name, score over 7 days, outbound over 7 days).
    most_attacked: Vec<(CommuneCode, String, i64, i64)>,
    this_week: i64,
    last_week: i64,
    thresholds: Thresholds,
    is_admin: bool,
}

pub async fn dashboard_page(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let now = crate::db::now_ms();
    let states =
        sensors::commune_sensor_states(&state.db, now, state.settings.silent_after_secs).await?;
    let silent = states
        .values()
        .filter(|s| **s == SensorState::Silent)
        .count();
    let to = today();
    let from = to - Duration::days(DAYS - 1);
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT day, category, CAST(SUM(inbound + outbound) AS BIGINT) AS n FROM daily_counts
         WHERE day >= $1 AND day <= $2 GROUP BY day, category",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(state.db.read())
    .await?;
    let mut days: Vec<(NaiveDate, Vec<i64>, i64)> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| (d, vec![0; Category::ALL.len()], 0))
        .collect();
    for (day, category, count) in rows {
        let (Ok(day), Some(index)) = (
            day.parse::<NaiveDate>(),
            Category::ALL.iter().position(|c| c.as_str() == category),
        ) else {
            continue;
        };
        if let Some(entry) = days.iter_mut().find(|(d, _, _)| *d == day) {
            entry.1[index] += count;
            entry.2 += count;
        }
    }
    let week = |end: NaiveDate| {
        days.iter()
            .filter(|(d, _, _)| *d <= end && *d > end - Duration::days(7))
            .map(|(_, _, t)| t)
            .sum()
    };
    let (this_week, last_week) = (week(to), week(to - Duration::days(7)));
    days.reverse();
    let page = DashboardPage {
        chrome: Chrome::new("Tableau de bord", Some(&caller)),
        equipped: crate::fr::count(
            states.len(),
            "commune équipée d'un boîtier",
            "communes équipées d'un boîtier",
        ),
        reporting: crate::fr::count(states.len() - silent, "qui transmet", "qui transmettent"),
        silent: if silent == 0 {
            String::new()
        } else {
            crate::fr::count(silent, "silencieuse", "silencieuses")
        },
        categories: Category::ALL.iter().map(|c| c.label_fr()).collect(),
        days,
        most_attacked: most_attacked(&state, to - Duration::days(6), to).await?,
        this_week,
        last_week,
        thresholds: Thresholds::load(&state.db).await?,
        is_admin: caller.role == crate::accounts::Role::Admin,
    };
    render(&page)
}

async fn most_attacked(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(CommuneCode, String, i64, i64)>, AppError> {
    let rows: Vec<(CommuneCode, String, i64, i64)> = sqlx::query_as(
        "SELECT k.commune, c.name, CAST(SUM(k.inbound) AS BIGINT) AS inbound, CAST(SUM(k.outbound) AS BIGINT) AS outbound
         FROM daily_counts k JOIN communes c ON c.code = k.commune
         WHERE k.day >= $1 AND k.day <= $2 GROUP BY k.commune, c.name",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(state.db.read())
    .await?;
    let mut out: Vec<_> = rows
        .into_iter()
        .map(|(commune, name, inbound, outbound)| {
            (commune, name, score(inbound, outbound), outbound)
        })
        .collect();
    out.sort_by_key(|(_, _, score, _)| std::cmp::Reverse(*score));
    out.truncate(10);
    Ok(out)
}

#[derive(serde::Deserialize)]
pub struct ThresholdsForm {
    cloud_min: String,
    rain_min: String,
    storm_min: String,
}

/// `POST /tableau-de-bord/seuils`: the administrator sets the territory's
/// weather thresholds.
pub async fn set_thresholds(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<ThresholdsForm>,
) -> Result<Response, AppError> {
    let number = |text: &str, name: &str| {
        text.trim().parse::<i64>().ok().filter(|n| (1..=1_000_000).contains(n)).ok_or_else(|| {
            AppError::BadRequest(format!("Le seuil « {name} » doit être un nombre entier entre 1 et 1 000 000, pas « {text} »."))
        })
    };
    let thresholds = Thresholds {
        cloud_min: number(&form.cloud_min, "nuageux")?,
        rain_min: number(&form.rain_min, "pluie")?,
        storm_min: number(&form.storm_min, "orage")?,
    };
    if !(thresholds.cloud_min < thresholds.rain_min && thresholds.rain_min < thresholds.storm_min) {
        return Err(AppError::BadRequest(
            "Les seuils doivent croître : nuageux < pluie < orage.".to_owned(),
        ));
    }
    sqlx::query("UPDATE territory SET cloud_min = $1, rain_min = $2, storm_min = $3 WHERE id = 1")
        .bind(thresholds.cloud_min)
        .bind(thresholds.rain_min)
        .bind(thresholds.storm_min)
        .execute(&state.db.pool)
        .await?;
    let detail = format!(
        "nuageux {}, pluie {}, orage {}",
        thresholds.cloud_min, thresholds.rain_min, thresholds.storm_min
    );
    crate::accounts::audit(&state.db, Some(caller.user_id), "thresholds.set", &detail).await;
    Ok(axum::response::Redirect::to("/tableau-de-bord").into_response())
}
