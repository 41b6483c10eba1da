//! The observatory (`vigie serve`): receives the sensors' reports, turns
//! them into each commune's daily cyber weather, and shows the territory as
//! a map. One module per capability, each with its routes, queries and
//! templates; only `db` knows SQLite from PostgreSQL.
//!
//! What it must never do: show a commune's details (incidents, sources,
//! sensors, exports) to anyone but that commune's users and the territory's
//! staff; keep state only in one process's memory that other replicas need.

pub mod accounts;
pub mod cybermeteo;
pub mod db;
pub mod error;
pub mod fr;
pub mod lists;
pub mod probes;
pub mod sensors;
pub mod state;
pub mod territory;
pub mod tls;
pub mod web;

use std::net::SocketAddr;

use axum::Router;

pub use db::Db;
pub use error::AppError;
pub use state::{AppState, ServerSettings};

/// The whole application, every capability's routes merged.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(accounts::router())
        .merge(sensors::router())
        .merge(lists::router())
        .merge(territory::router())
        .merge(cybermeteo::router())
        .merge(probes::router())
        .merge(web::router())
        .with_state(state)
}

/// Serves until the process is stopped (Ctrl-C or SIGTERM).
pub async fn serve(state: AppState, listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
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
