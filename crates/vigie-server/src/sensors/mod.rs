//! Sensors: the boxes installed in the communes, and what they send.
//!
//! The staff creates a sensor for a commune ([`add_sensor`], or the
//! `/capteurs` page) and gets a one-time enrolment code; the box exchanges
//! it for its own secret token (`POST /api/v1/sensors/enroll`), then sends
//! its batches (`POST /api/v1/reports`), each stored once and whole
//! ([`ingest`]), and every minute a heartbeat on its health
//! (`POST /api/v1/sensors/heartbeat`, the last one kept: `heartbeat`).
//! The pages show each sensor's state, reporting, late or silent from its
//! last report or heartbeat ([`state`]), and its health in plain French.
//!
//! What this module must never do: store a code or a token in clear, store
//! any part of a refused batch, count a batch twice, or show a commune's
//! sensors to another commune's users.

pub mod alerts;
mod enroll;
mod heartbeat;
pub(crate) mod ingest;
mod pages;
mod queries;
mod rows;
mod state;
mod verdict;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::AppError;
use crate::web::{Access, Routes};

pub use enroll::{CODE_LIFETIME_MS, NewSensor, add_sensor, revoke_sensor};
pub use heartbeat::MAX_HEARTBEAT_BYTES;
pub use ingest::{MAX_AGE_DAYS, MAX_AHEAD_MS, MAX_REPORT_BYTES};

/// What the observatory makes of a report batch's bytes received at `now`
/// (Unix ms): the number of incidents it would store, or the refusal the
/// sensor would read. The ingest's checks without the database, for the
/// fuzz target `server_inputs`.
pub fn check_report(body: &[u8], now: i64) -> Result<usize, String> {
    ingest::parse(body, now).map(|batch| batch.incidents.len())
}

/// The same for a heartbeat's bytes.
pub fn check_heartbeat(body: &[u8]) -> Result<(), String> {
    heartbeat::parse(body).map(|_| ())
}
pub use state::{
    REPORTING_WINDOW_MS, SensorState, commune_sensing, commune_sensor_state, commune_sensor_states,
    last_sign_of_life, state,
};

/// How long the agreement with a commune runs from the installation.
pub const AGREEMENT_YEARS: i32 = 3;

/// Why a sensor could not be created or changed. The messages are read by
/// the person at the terminal or in the browser.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    #[error("commune inconnue : « {0} » (code INSEE d'une commune du territoire attendu)")]
    UnknownCommune(String),
    #[error("erreur de la base de données : {0}")]
    Db(#[from] sqlx::Error),
}

impl From<SensorError> for AppError {
    fn from(error: SensorError) -> Self {
        match error {
            SensorError::UnknownCommune(_) => AppError::BadRequest(error.to_string()),
            SensorError::Db(e) => e.into(),
        }
    }
}

/// The sensors' API answers: a refusal with its status and a message that
/// says what is wrong (`{"error": "..."}`), or an error of the server.
pub(crate) enum ApiError {
    Refused(StatusCode, String),
    App(AppError),
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::App(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Refused(status, message) => {
                (status, Json(serde_json::json!({ "error": message }))).into_response()
            }
            ApiError::App(error) => error.into_response(),
        }
    }
}

/// The sensors' API and pages.
pub fn router() -> Routes {
    Routes::new()
        // The one-time enrolment code is the credential, checked by the handler.
        .post("/api/v1/sensors/enroll", Access::Public, enroll::enroll)
        .method(
            Method::POST,
            "/api/v1/reports",
            Access::Sensor,
            post(ingest::receive).layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)),
        )
        .method(
            Method::POST,
            "/api/v1/sensors/heartbeat",
            Access::Sensor,
            post(heartbeat::receive).layer(DefaultBodyLimit::max(MAX_HEARTBEAT_BYTES)),
        )
        .get("/capteurs", Access::SignedIn, pages::list)
        .post("/capteurs", Access::Staff, pages::create)
        .get("/capteurs/{sensor}", Access::Visible, pages::detail)
        .post("/capteurs/{sensor}/revoquer", Access::Staff, pages::revoke)
        .get(
            "/capteurs/{sensor}/attestation",
            Access::Visible,
            pages::attestation,
        )
}
