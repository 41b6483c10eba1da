//! The observatory (`vigie serve`): receives the sensors' reports, turns
//! them into each commune's daily cyber weather, and shows the territory as
//! a map. One module per capability, each with its routes, queries and
//! templates; only `db` knows SQLite from PostgreSQL.
//!
//! What it must never do: show a commune's details (incidents, sources,
//! sensors, exports) to anyone but that commune's users and the territory's
//! staff; keep state only in one process's memory that other replicas need.

pub mod accounts;
pub mod agreements;
pub mod audits;
pub mod config;
pub mod crisis;
pub mod cybermeteo;
pub mod db;
pub mod defence;
pub mod elearning;
pub mod error;
pub mod fr;
pub mod jobs;
pub mod kit;
pub mod lists;
pub mod outbox;
pub mod phishing;
pub mod probes;
pub mod risk;
pub mod sensors;
pub mod state;
pub mod territory;
pub mod tls;
pub mod web;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{Router, middleware};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

pub use db::Db;
pub use error::AppError;
pub use state::{AppState, ConnectionLimits, FloodLimits, ServerSettings};
pub use web::serve::{serve, serve_until};

/// The whole application, every capability's routes merged, behind the
/// layers every answer goes through (outermost first): a tracing span per
/// request (method, route, status), security headers, gzip for large
/// answers (the map of France is megabytes of SVG), error pages
/// (`web::errors`: French HTML outside `/api/`), the flood limit, body
/// limits, the per-request timeout.
pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let flood = Arc::new(web::flood::Flood::new(
        &settings.flood,
        settings.trusted_proxies.clone(),
    ));
    routes()
        .into_router()
        .fallback(web::errors::not_found)
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.connections.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(web::body::MAX_FORM_BYTES))
        .layer(middleware::from_fn(web::body::refuse_oversized))
        .layer(middleware::from_fn_with_state(flood, web::flood::limit))
        .layer(middleware::from_fn(web::errors::pages))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .compress_when(web::compression::predicate()),
        )
        .layer(middleware::map_response(web::headers::secure))
        .layer(middleware::from_fn(web::trace::request_span))
}

/// Every capability's routes, declared with who may use them
/// (`web::routes`).
pub fn routes() -> web::Routes {
    web::Routes::new()
        .merge(accounts::router())
        .merge(sensors::router())
        .merge(lists::router())
        .merge(defence::router())
        .merge(territory::router())
        .merge(cybermeteo::router())
        .merge(probes::router())
        .merge(audits::router())
        .merge(outbox::router())
        .merge(phishing::router())
        .merge(elearning::router())
        .merge(kit::router())
        .merge(agreements::router())
        .merge(crisis::router())
        .merge(risk::router())
        .merge(web::router())
}

/// Resolves on Ctrl-C or SIGTERM (what systemd sends to stop a service).
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
