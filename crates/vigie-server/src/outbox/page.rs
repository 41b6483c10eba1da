//! `/courriels`: the staff's view of the outbox, the messages waiting,
//! sent and failed, and whether a relay is configured at all.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::Queued;
use crate::accounts::Staff;
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

/// Messages the page lists.
const SHOWN: i64 = 200;

/// A message's line.
struct Line {
    recipient: String,
    subject: String,
    kind: String,
    status: &'static str,
    failed: bool,
    attempts: i64,
    created: String,
    /// When it was sent, or when the next attempt comes.
    when: String,
    error: String,
}

#[derive(Template)]
#[template(path = "mail/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    relay: Option<String>,
    queued: usize,
    failed: usize,
    lines: Vec<Line>,
}

/// `GET /courriels`: administrators and operators.
pub(super) async fn page(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let messages = super::recent(&state.db, SHOWN).await?;
    let lines: Vec<Line> = messages.iter().map(line).collect();
    let relay = state
        .settings
        .smtp
        .as_ref()
        .map(|smtp| format!("{}:{}", smtp.host, smtp.port));
    web::render(&OutboxPage {
        chrome: Chrome::new("Courriels", Some(&caller)),
        relay,
        queued: messages.iter().filter(|m| m.status == "queued").count(),
        failed: messages.iter().filter(|m| m.status == "failed").count(),
        lines,
    })
}

fn line(message: &Queued) -> Line {
    let (status, when) = match message.status.as_str() {
        "sent" => (
            "envoyé",
            message
                .sent_at
                .map(crate::fr::date_time)
                .unwrap_or_default(),
        ),
        "failed" => ("échec définitif", String::new()),
        _ => ("en attente", crate::fr::date_time(message.next_attempt_at)),
    };
    Line {
        recipient: message.recipient.clone(),
        subject: message.subject.clone(),
        kind: message.kind.clone(),
        status,
        failed: message.status == "failed",
        attempts: message.attempts,
        created: crate::fr::date_time(message.created_at),
        when,
        error: message.last_error.clone().unwrap_or_default(),
    }
}
