//! The calendar page (`/calendrier`, issue 12): what is due over a range
//! of days, grouped by month or by week, each entry linking to its page;
//! the end actions left late; and the person's iCalendar subscription
//! link, created (shown once) and closed there. The staff see the
//! territory, a commune user their commune.
//!
//! What it must never do: show a commune user another commune's
//! deadline (the scope comes from the caller), show a feed's token again
//! after the page that created it, or need a script (CSP: none inline).

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Redirect, Response};
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;

use super::calendar::{self, Due, Scope};
use super::{feeds, today};
use crate::accounts::{Caller, CsrfForm, audit};
use crate::db::{Db, now_ms};
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// The range shown when none is asked: today and the next three months.
pub const DEFAULT_DAYS: u64 = 92;

#[derive(Deserialize)]
pub(super) struct RangeQuery {
    #[serde(default)]
    du: Option<String>,
    #[serde(default)]
    au: Option<String>,
    #[serde(default)]
    par: Option<String>,
}

/// One line of the page.
struct Entry {
    day: String,
    iso: String,
    commune: String,
    title: String,
    link: String,
}

/// A month's or a week's entries.
struct Group {
    heading: String,
    entries: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "agreements/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    scope: String,
    from: String,
    to: String,
    by_week: bool,
    range: String,
    late: Vec<Entry>,
    groups: Vec<Group>,
    /// The feed link just created: shown this once.
    new_feed: Option<String>,
    feed_since: Option<String>,
}

/// A day of the form, named by its field when wrong.
fn day_field(text: Option<&str>, field: &str, default: NaiveDate) -> Result<NaiveDate, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            AppError::BadRequest(format!(
                "« {field} » doit être une date au format AAAA-MM-JJ, pas « {} ».",
                text.chars().take(40).collect::<String>()
            ))
        }),
    }
}

/// `GET /calendrier?du=AAAA-MM-JJ&au=AAAA-MM-JJ&par=mois|semaine`.
pub(super) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RangeQuery>,
) -> Result<Response, AppError> {
    let today = today();
    let from = day_field(query.du.as_deref(), "du", today)?;
    let to = day_field(query.au.as_deref(), "au", from + Days::new(DEFAULT_DAYS))?;
    let by_week = query.par.as_deref() == Some("semaine");
    show(&state, &caller, from, to, by_week, None).await
}

async fn show(
    state: &AppState,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
    by_week: bool,
    new_feed: Option<String>,
) -> Result<Response, AppError> {
    let scope = Scope::of(caller);
    let dues = calendar::due(state, &scope, from, to).await?;
    let late = calendar::late(state, &scope, from).await?;
    let names = commune_names(&state.db, dues.iter().chain(&late)).await?;
    let entry = |due: &Due| Entry {
        day: fr::day_long(due.day),
        iso: due.day.to_string(),
        commune: due
            .commune
            .as_ref()
            .map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone()))
            .unwrap_or_else(|| "Territoire".to_owned()),
        title: due.title.clone(),
        link: due.link.clone(),
    };
    let mut groups: Vec<Group> = Vec::new();
    for due in &dues {
        let heading = if by_week {
            let monday = due.day - Days::new(u64::from(due.day.weekday().num_days_from_monday()));
            format!("Semaine {}", fr::day_range(monday, monday + Days::new(6)))
        } else {
            capitalised(&fr::month(due.day))
        };
        match groups.last_mut() {
            Some(group) if group.heading == heading => group.entries.push(entry(due)),
            _ => groups.push(Group {
                heading,
                entries: vec![entry(due)],
            }),
        }
    }
    let scope_text = match (&scope, &caller.commune) {
        (Scope::Territory, _) => "Toutes les communes du territoire".to_owned(),
        (Scope::Commune(code), _) => format!(
            "Commune de {}",
            names.get(code).cloned().unwrap_or_else(|| code.clone())
        ),
        (Scope::Nothing, _) => "Aucune commune".to_owned(),
    };
    let feed_since = feeds::active_since(&state.db, caller.user_id)
        .await?
        .map(fr::date_at);
    render(&CalendarPage {
        chrome: Chrome::new("Calendrier", Some(caller)),
        scope: scope_text,
        from: from.to_string(),
        to: to.to_string(),
        by_week,
        range: fr::day_range(from, to),
        late: late.iter().map(entry).collect(),
        groups,
        new_feed,
        feed_since,
    })
}

/// « Mars 2026 ».
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// `POST /calendrier/abonnement`: a new feed link, shown once.
pub(super) async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let token = feeds::create(&state.db, caller.user_id, now_ms()).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "calendar_feed_create",
        &format!("calendar feed of {}", caller.email),
    )
    .await;
    let link = format!("{}/calendrier/{token}.ics", state.settings.public_url);
    let from = today();
    show(
        &state,
        &caller,
        from,
        from + Days::new(DEFAULT_DAYS),
        false,
        Some(link),
    )
    .await
}

/// `POST /calendrier/abonnement/fermer`: the feed link stops working.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    _: CsrfForm,
) -> Result<Response, AppError> {
    if feeds::revoke(&state.db, caller.user_id, now_ms()).await? {
        audit(
            &state.db,
            Some(caller.user_id),
            "calendar_feed_revoke",
            &format!("calendar feed of {}", caller.email),
        )
        .await;
    }
    Ok(axum::response::IntoResponse::into_response(Redirect::to(
        "/calendrier#abonnement",
    )))
}

/// « Saint-Étienne (42218) » for each commune `dues` name.
pub(super) async fn commune_names<'a>(
    db: &Db,
    dues: impl IntoIterator<Item = &'a Due>,
) -> Result<HashMap<String, String>, AppError> {
    let codes: BTreeSet<&str> = dues
        .into_iter()
        .filter_map(|d| d.commune.as_deref())
        .collect();
    let mut names = HashMap::new();
    // One per commune with something due: bounded by the agreements read.
    for code in codes {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM communes WHERE code = $1")
            .bind(code)
            .fetch_optional(db.read())
            .await?;
        names.insert(
            code.to_owned(),
            name.map_or_else(|| code.to_owned(), |n| format!("{n} ({code})")),
        );
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_of_the_form() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
        assert_eq!(day_field(None, "du", today).ok(), Some(today));
        assert_eq!(day_field(Some(" "), "du", today).ok(), Some(today));
        assert_eq!(
            day_field(Some("2026-04-01"), "au", today).ok(),
            NaiveDate::from_ymd_opt(2026, 4, 1)
        );
        let error = day_field(Some("01/04/2026"), "au", today).err();
        assert!(
            matches!(&error, Some(AppError::BadRequest(m)) if m.contains("« au »")),
            "{error:?}"
        );
        assert_eq!(capitalised("mars 2026"), "Mars 2026");
    }
}
