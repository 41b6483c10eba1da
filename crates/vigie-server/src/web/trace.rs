//! A tracing span per request: method, route (the pattern, `/communes/{code}`,
//! so that logs group by route and hold no commune code or token from the
//! path), and the status and duration once answered. Errors logged while
//! handling the request carry the span; `VIGIE_LOG=info` shows one line per
//! request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The middleware: runs the request inside its span and records the answer.
pub async fn request_span(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(aucune route)", MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        status = tracing::field::Empty,
        ms = tracing::field::Empty,
    );
    let start = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    span.record("status", response.status().as_u16());
    span.record("ms", start.elapsed().as_millis() as u64);
    span.in_scope(|| tracing::info!("answered"));
    response
}
