//! The handlers behind the exercise mails' links (public: the token is
//! the key). See [`super::track`] for what is counted and what is never
//! kept.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::scenarios::MailVars;
use super::track::{Event, Known, is_scanner};
use crate::db::now_ms;
use crate::web::compression::Uncompressed;
use crate::web::headers::EXERCISE_CONTENT_SECURITY_POLICY;
use crate::{AppError, AppState};

/// The smallest transparent GIF (43 bytes): the opening's image.
const PIXEL: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// `GET /o/{token}`: the mail was opened (its images shown).
pub(super) async fn image(
    State(state): State<AppState>,
    method: Method,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let known = known(&state, &token).await?;
    // A HEAD only checks the image exists: nobody saw it.
    if method != Method::HEAD {
        counted(&state, &known, Event::Open);
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        PIXEL,
    )
        .into_response())
}

/// `GET /c/{token}`: the link was followed; the scenario's sign-in page.
pub(super) async fn click(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let known = known(&state, &token).await?;
    let window = i64::from(state.settings.campaigns.scanner_window_seconds) * 1000;
    let event = if is_scanner(&method, &headers, known.sent_at, now_ms(), window) {
        Event::ScannerClick
    } else {
        Event::Click
    };
    counted(&state, &known, event);
    let scenario = state
        .settings
        .scenarios
        .get(&known.scenario)
        .ok_or(AppError::NotFound)?;
    let action = format!("/c/{token}");
    let mut page = exercise_page(scenario.landing_page(&known.commune_name, &action));
    // Some 2.5 KB, asked by a whole town hall at once: gzip would cost
    // more than the 1.5 KB it saves (a quarter of the server's CPU under
    // `vigie bench campaigns`).
    page.extensions_mut().insert(Uncompressed);
    Ok(page)
}

/// `POST /c/{token}`: the form was sent. Its body is never read: the
/// fields have no name, and this handler has no body extractor.
pub(super) async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let known = known(&state, &token).await?;
    let now = now_ms();
    // A submission is a person's: the click that led to it too, even if
    // a scanner fetched the link first.
    state.tracker.record(known.target, Event::Click, now);
    counted(&state, &known, Event::Submit);
    Ok(Redirect::to(&format!("/c/{token}/exercice")).into_response())
}

/// `GET /c/{token}/exercice`: "this was an exercise", and the clues on the
/// mail itself. Counts nothing.
pub(super) async fn exercise(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let known = known(&state, &token).await?;
    let scenario = state
        .settings
        .scenarios
        .get(&known.scenario)
        .ok_or(AppError::NotFound)?;
    let sent_on = known
        .sent_at
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(crate::cybermeteo::today, vigie_core::local_day);
    let vars = MailVars {
        commune: &known.commune_name,
        first_name: None,
        sent_on,
        link: "#",
        image: "",
    };
    let domain = state.settings.campaigns.domain(
        state.settings.smtp.as_ref().map(|s| s.from.as_str()),
        &state.settings.public_url,
    );
    // The page comes after the form: the redirect of a submission.
    Ok(exercise_page(super::scenarios::awareness_page(
        scenario,
        &vars,
        &domain,
        super::scenarios::Reached::Form,
    )?))
}

async fn known(state: &AppState, token: &str) -> Result<Known, AppError> {
    state
        .tracker
        .lookup(&state.db, token)
        .await?
        .ok_or(AppError::NotFound)
}

/// Counts the event, and writes the waiting ones if a second has passed.
fn counted(state: &AppState, known: &Known, event: Event) {
    let now = now_ms();
    state.tracker.record(known.target, event, now);
    if state.tracker.flush_due(now) {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(error) = state.tracker.flush(&state.db, now).await {
                tracing::warn!(%error, "campaign events not written yet: kept for the next try");
            }
        });
    }
}

/// A page of the exercise: its own styles allowed, nothing else loaded,
/// nothing cached, no referrer sent on.
fn exercise_page(html: String) -> Response {
    let mut response = (StatusCode::OK, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(EXERCISE_CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
