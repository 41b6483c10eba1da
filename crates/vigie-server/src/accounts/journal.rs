//! The audit log: sign-ins (and failed ones), sign-outs, password changes,
//! account and token creation, and the administrative actions of the other
//! modules, which call [`audit`]. The administrator reads it at `/journal`.
//! Never a password or a token in it.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::TimeZone;
use sqlx::Row;

use super::Admin;
use crate::db::{Db, now_ms};
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

/// Entries per page of `/journal`.
const PAGE_SIZE: i64 = 100;

/// Longest detail kept: details may quote what a stranger typed.
const MAX_DETAIL_CHARS: usize = 500;

/// Records an action in the audit log. Never fails the request: an error is
/// logged as a warning and the action goes on.
pub async fn audit(db: &Db, user_id: Option<i64>, action: &str, detail: &str) {
    let detail: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
    let result =
        sqlx::query("INSERT INTO audit_log (at, user_id, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now_ms())
            .bind(user_id)
            .bind(action)
            .bind(&detail)
            .execute(&db.pool)
            .await;
    if let Err(e) = result {
        tracing::warn!(action, "cannot write to the audit log: {e}");
    }
}

#[derive(serde::Deserialize)]
pub struct JournalQuery {
    #[serde(default)]
    page: Option<String>,
}

struct Entry {
    at: String,
    who: String,
    action: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "accounts/journal.html")]
struct JournalPage {
    chrome: Chrome,
    entries: Vec<Entry>,
    page: i64,
    has_next: bool,
}

/// `GET /journal?page=N`: newest first, for the administrator only.
pub async fn page(
    Admin(caller): Admin,
    State(state): State<AppState>,
    Query(query): Query<JournalQuery>,
) -> Result<Response, AppError> {
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let rows = sqlx::query(
        "SELECT a.at, a.action, a.detail, u.email FROM audit_log a LEFT JOIN users u ON u.id = a.user_id \
         ORDER BY a.id DESC LIMIT $1 OFFSET $2",
    )
    .bind(PAGE_SIZE + 1)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(state.db.read())
    .await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows.iter().take(PAGE_SIZE as usize) {
        let action: String = row.try_get("action")?;
        entries.push(Entry {
            at: paris_time(row.try_get("at")?),
            who: row
                .try_get::<Option<String>, _>("email")?
                .unwrap_or_else(|| "—".to_owned()),
            action: action_label_fr(&action)
                .map(str::to_owned)
                .unwrap_or(action),
            detail: row.try_get("detail")?,
        });
    }
    web::render(&JournalPage {
        chrome: Chrome::new("Journal", Some(&caller)),
        entries,
        page,
        has_next,
    })
}

/// What the administrator reads for this module's actions; the other
/// modules' actions are shown as recorded.
fn action_label_fr(action: &str) -> Option<&'static str> {
    Some(match action {
        "login" => "connexion",
        "login_failed" => "échec de connexion",
        "login_blocked" => "connexion bloquée (trop d'échecs)",
        "logout" => "déconnexion",
        "password_change" => "changement de mot de passe",
        "user_add" => "création de compte",
        "token_create" => "création de jeton d'API",
        "token_revoke" => "révocation de jeton d'API",
        _ => return None,
    })
}

/// A Unix-milliseconds time as Paris local time, to the second.
fn paris_time(ms: i64) -> String {
    match chrono_tz::Europe::Paris.timestamp_millis_opt(ms).single() {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_paris_local() {
        // 2024-07-01T10:00:00Z is noon in Paris (summer time).
        assert_eq!(paris_time(1_719_828_000_000), "2024-07-01 12:00:00");
        // 2024-01-15T23:30:00Z is already the 16th in Paris.
        assert_eq!(paris_time(1_705_361_400_000), "2024-01-16 00:30:00");
    }

    #[test]
    fn unknown_actions_keep_their_name() {
        assert_eq!(action_label_fr("login"), Some("connexion"));
        assert_eq!(action_label_fr("sensor_add"), None);
    }
}
