//! Request body limits (issue 14): a request whose declared length is over
//! its route's limit is refused with 413 before a byte of its body is
//! read; a body without a declared length is cut at the same limit by
//! axum's `DefaultBodyLimit` (64 KiB unless the route declares more).
//!
//! What it must never do: read a body it is about to refuse, or let an
//! anonymous client make the server buffer more than its route allows.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{audits, elearning, kit, lists, phishing, probes, risk, sensors};

/// Forms, and every route that declares no limit of its own: a sign-in or
/// settings form is a few hundred bytes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The most a request to `path` may carry: the routes that take more than
/// a form say so here and in their own `DefaultBodyLimit`.
pub fn limit_for(path: &str) -> usize {
    match path {
        "/api/v1/reports" => sensors::MAX_REPORT_BYTES,
        "/api/v1/sensors/heartbeat" => sensors::MAX_HEARTBEAT_BYTES,
        "/api/v1/probes" => probes::MAX_PROBE_BYTES,
        "/listes/depot" => lists::MAX_UPLOAD_BYTES,
        "/api/v1/campaigns" | "/campagnes" => phishing::MAX_REQUEST_BYTES,
        "/kit/fichiers" => kit::MAX_UPLOAD,
        // A commune's training link: anyone may post there, so less than a form.
        p if p.starts_with("/formation/") => elearning::MAX_ANSWER_BYTES,
        // The territory's public page (issue 15): anonymous, reads no body.
        p if p.starts_with("/public/") => risk::public_page::MAX_BODY_BYTES,
        // A pre-audit's file (`/audits/{audit}/fichiers`).
        p if p.starts_with("/audits/") && p.ends_with("/fichiers") => audits::MAX_UPLOAD,
        _ => MAX_FORM_BYTES,
    }
}

/// Middleware: 413 at once for a declared length over the route's limit;
/// any other 413 (a body cut while read) gets the same French text unless
/// its handler wrote its own JSON message.
pub async fn refuse_oversized(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let limit = limit_for(request.uri().path());
    let api = request.uri().path().starts_with("/api/");
    if declared.is_some_and(|length| length > limit as u64) {
        let mut response = too_large(limit, api);
        if request.version() < Version::HTTP_2 {
            // The body is left unread: this HTTP/1 connection cannot carry
            // another request (HTTP/2 resets just the stream).
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        return response;
    }
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        return too_large(limit, api);
    }
    response
}

/// The 413 answer in French: JSON under `/api/` like every API error, a
/// page elsewhere (`web::errors` renders the message it carries).
fn too_large(limit: usize, api: bool) -> Response {
    let message = format!("requête trop grosse : au plus {limit} octets pour cette adresse");
    if api {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({ "error": message })),
        )
            .into_response();
    }
    let text = format!("Envoi trop volumineux : au plus {} Kio.", limit / 1024);
    crate::error::ErrorPage::attach(StatusCode::PAYLOAD_TOO_LARGE.into_response(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_keep_their_own_limits_and_the_rest_gets_a_form_s() {
        assert_eq!(limit_for("/api/v1/reports"), 8 * 1024 * 1024);
        assert_eq!(limit_for("/api/v1/probes"), probes::MAX_PROBE_BYTES);
        assert_eq!(limit_for("/connexion"), MAX_FORM_BYTES);
        assert_eq!(limit_for("/nowhere"), MAX_FORM_BYTES);
        assert_eq!(limit_for("/kit/fichiers"), kit::MAX_UPLOAD);
        assert_eq!(limit_for("/formation/vgf_x/incident"), 4096);
        assert_eq!(limit_for("/public/territoire"), 0);
    }
}
