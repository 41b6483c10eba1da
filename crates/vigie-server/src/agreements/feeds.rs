//! Each person's iCalendar feed (issue 12): a secret link
//! (`/calendrier/{token}.ics`, 160 random bits) that a calendar
//! application subscribes to, showing what that person may see (the
//! territory's deadlines for the staff, their commune's for a commune
//! user). Created, shown once and revoked from the calendar page; one
//! link per person (a new one closes the old).
//!
//! What it must never do: keep the token itself (only its BLAKE3 hash, as
//! the other links), answer for a revoked link or a disabled account, or
//! tell a wrong token from a revoked one (404 both, counted as a guess by
//! the flood limit).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Days;

use super::calendar::{self, Scope};
use super::ical::{self, Event};
use super::today;
use crate::db::{Db, random_hex, token_hash};
use crate::{AppError, AppState};

/// The tokens' prefix, so that a link pasted somewhere is recognised.
pub const PREFIX: &str = "vgc_";
/// How far back and ahead a feed reaches, in days.
pub const FEED_PAST_DAYS: u64 = 90;
pub const FEED_AHEAD_DAYS: u64 = 2 * 366;

/// A new feed for `user`, closing any other: its token, to show once.
pub async fn create(db: &Db, user: i64, now: i64) -> Result<String, sqlx::Error> {
    let token = format!("{PREFIX}{}", random_hex(20));
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
        .bind(user)
        .bind(token_hash(&token))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// Closes `user`'s feed; whether there was one.
pub async fn revoke(db: &Db, user: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// When `user`'s open feed was created, if one is.
pub async fn active_since(db: &Db, user: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(created_at) FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user)
    .fetch_one(db.read())
    .await
}

/// What the owner of an open feed may see; `None` for a token that is
/// not one (unknown, revoked, or its account disabled).
pub async fn scope_of(db: &Db, token: &str) -> Result<Option<Scope>, sqlx::Error> {
    if token.len() > 64 || !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let owner: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT u.role, u.commune FROM calendar_feeds f JOIN users u ON u.id = f.user_id \
         WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND u.disabled = 0",
    )
    .bind(token_hash(token))
    .fetch_optional(db.read())
    .await?;
    Ok(owner.map(|(role, commune)| match (role.as_str(), commune) {
        ("admin" | "operator", _) => Scope::Territory,
        ("commune", Some(code)) => Scope::Commune(code),
        _ => Scope::Nothing,
    }))
}

/// `GET /calendrier/{token}.ics`: the feed, public (the token is the key).
pub(super) async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let scope = scope_of(&state.db, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = today();
    let from = today - Days::new(FEED_PAST_DAYS);
    let to = today + Days::new(FEED_AHEAD_DAYS);
    let mut dues = calendar::due(&state, &scope, from, to).await?;
    dues.extend(calendar::late(&state, &scope, from).await?);
    let names = super::calendar_page::commune_names(&state.db, &dues).await?;
    let public_url = &state.settings.public_url;
    let host = host_of(public_url);
    let events: Vec<Event> = dues
        .iter()
        .map(|due| Event {
            uid: format!(
                "{}@{host}",
                token_hash(&due.key()).chars().take(32).collect::<String>()
            ),
            day: due.day,
            summary: due.title.clone(),
            description: due
                .commune
                .as_ref()
                .and_then(|code| names.get(code))
                .map_or_else(String::new, |name| format!("Commune : {name}")),
            url: format!("{public_url}{}", due.link),
        })
        .collect();
    let territory = crate::territory::territory_name(&state.db).await?;
    let body = ical::calendar(
        &format!("Vigie — échéances, {territory}"),
        &events,
        chrono::Utc::now(),
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"vigie.ics\"",
            ),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response())
}

/// The host of the public URL, for UIDs (`…@observatoire.example.fr`).
fn host_of(public_url: &str) -> &str {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    match rest.split(['/', ':']).next() {
        Some(host) if !host.is_empty() => host,
        _ => "vigie.invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_carry_the_public_host() {
        assert_eq!(host_of("https://vigie.loire.fr"), "vigie.loire.fr");
        assert_eq!(host_of("http://127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(host_of(""), "vigie.invalid");
    }
}
