//! One error type for every handler: it maps to a status and a plain French
//! message; the technical cause is logged, never shown.
//!
//! An error answers JSON (`{"error": "…"}`) and carries its French message
//! in an [`ErrorPage`] extension: `web::errors::pages`, the one place that
//! decides, turns it into an HTML page in the site's layout for every
//! request outside `/api/`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What a 503 asks the client to wait, in seconds.
pub const BUSY_RETRY_AFTER: axum::http::HeaderValue = axum::http::HeaderValue::from_static("2");

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// A form whose CSRF token is missing or is not the session's.
    #[error("forbidden: CSRF token refused")]
    CsrfRefused,
    #[error("not found")]
    NotFound,
    /// Bad input: the message (French) says what is wrong and where.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Well-formed but unusable content (a targets file with bad lines):
    /// the message (French) names each problem and its line.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    #[error("too many requests")]
    TooManyRequests,
    /// Too much work already waiting (password hashing): try again shortly.
    #[error("busy")]
    Busy,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CsrfRefused => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the person reads.
    pub fn message_fr(&self) -> String {
        match self {
            AppError::Unauthorized => "Connexion nécessaire.".to_owned(),
            AppError::Forbidden => "Vous n'avez pas accès à cette page.".to_owned(),
            AppError::CsrfRefused => "Ce formulaire a expiré ou ne vient pas de ce site : \
                                      rechargez la page et envoyez-le de nouveau."
                .to_owned(),
            AppError::NotFound => "Page introuvable.".to_owned(),
            AppError::BadRequest(message)
            | AppError::Conflict(message)
            | AppError::Unprocessable(message) => message.clone(),
            AppError::TooManyRequests => {
                "Trop de tentatives : réessayez dans quelques minutes.".to_owned()
            }
            AppError::Busy => {
                "Le service est très sollicité : réessayez dans quelques secondes.".to_owned()
            }
            AppError::Internal(_) => "Erreur interne : l'équipe technique est prévenue.".to_owned(),
        }
    }
}

/// What an error page says, carried by an error answer for the layer that
/// renders pages (`web::errors::pages`); an answer without it gets the
/// default text of its status.
#[derive(Clone, Debug)]
pub struct ErrorPage {
    pub message: String,
}

impl ErrorPage {
    /// Attaches `message` to `response`, for the page a browser will see.
    pub fn attach(mut response: Response, message: impl Into<String>) -> Response {
        response.extensions_mut().insert(ErrorPage {
            message: message.into(),
        });
        response
    }
}

impl From<crate::accounts::PasswordError> for AppError {
    fn from(error: crate::accounts::PasswordError) -> Self {
        match error {
            crate::accounts::PasswordError::Busy => AppError::Busy,
            crate::accounts::PasswordError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Internal(format!("database: {error}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let message = self.message_fr();
        let body = serde_json::json!({ "error": message });
        let mut response =
            ErrorPage::attach((self.status(), axum::Json(body)).into_response(), message);
        if let AppError::Busy = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, BUSY_RETRY_AFTER);
        }
        response
    }
}
