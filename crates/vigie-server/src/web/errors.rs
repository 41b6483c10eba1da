//! Error pages: the one place that decides how an error reaches a person.
//! Outside `/api/`, every error answer (4xx, 5xx) that is not already a
//! page becomes a French page in the site's layout, with a way back: the
//! handlers' [`AppError`](crate::AppError)s, the 413, 429 and 408 of the
//! layers in front of them, axum's own refusals (unknown page, wrong
//! method, malformed form). Under `/api/` answers pass untouched (JSON
//! `{"error": "…"}`). The status and every header (`Retry-After`,
//! `Connection`…) are kept; only the body and its type change.
//!
//! What it must never do: show a technical cause (the text of an error
//! page is the French message the error carries, or its status's), or
//! replace a page that a handler rendered itself (a form shown again with
//! its error).

use std::sync::{Arc, OnceLock};

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Chrome;
use crate::accounts::Caller;
use crate::error::ErrorPage;

/// Where the request's caller is left by the `Caller` extractor, so that
/// an error page shows the layout of the person signed in without asking
/// the database again.
#[derive(Clone, Default)]
pub struct CallerSlot(Arc<OnceLock<Caller>>);

impl CallerSlot {
    pub fn fill(&self, caller: &Caller) {
        let _ = self.0.set(caller.clone());
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    chrome: Chrome,
    message: String,
    back_href: &'static str,
    back_label: &'static str,
}

/// Middleware (outside every other layer but the security headers).
pub async fn pages(mut request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if is_page {
        return response;
    }
    let message = response.extensions().get::<ErrorPage>().map_or_else(
        || default_message(status).to_owned(),
        |page| page.message.clone(),
    );
    let (mut parts, _) = response.into_parts();
    let html = page_html(status, message, slot.0.get());
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(html))
}

/// The page for `status` saying `message`.
fn page_html(status: StatusCode, message: String, caller: Option<&Caller>) -> String {
    let (back_href, back_label) = if status == StatusCode::UNAUTHORIZED {
        ("/connexion", "Se connecter")
    } else {
        ("/", "Retour à l'accueil")
    };
    let page = ErrorTemplate {
        chrome: Chrome::new(title(status), caller),
        message,
        back_href,
        back_label,
    };
    page.render().unwrap_or_else(|error| {
        tracing::error!(%error, "error page template");
        format!("{}\n", page.message)
    })
}

/// The page's title.
fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 | 415 => "Demande incorrecte",
        401 => "Connexion nécessaire",
        403 => "Accès refusé",
        404 => "Page introuvable",
        405 => "Action impossible",
        408 => "Délai dépassé",
        409 => "Conflit",
        413 => "Envoi trop volumineux",
        429 => "Trop de requêtes",
        503 => "Service très sollicité",
        500..=599 => "Erreur interne",
        _ => "Erreur",
    }
}

/// What an error says when its answer carries no message of its own.
fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 415 | 422 => "La demande est mal formée : rechargez la page et réessayez.",
        401 => "Connexion nécessaire.",
        403 => "Vous n'avez pas accès à cette page.",
        404 => "Page introuvable.",
        405 => "Cette adresse ne s'utilise pas de cette façon.",
        408 => "La demande a pris trop de temps : réessayez.",
        413 => "Envoi trop volumineux pour cette adresse.",
        429 => "Trop de requêtes : réessayez dans quelques instants.",
        503 => "Le service est très sollicité : réessayez dans quelques secondes.",
        500..=599 => "Erreur interne : l'équipe technique est prévenue.",
        _ => "La demande n'a pas abouti.",
    }
}

/// The answer of an unknown page: axum's fallback gives an empty 404,
/// which [`pages`] turns into the page (and `/api/` into JSON).
pub async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return crate::AppError::NotFound.into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_page_has_a_way_back_and_no_cause() {
        for code in [400u16, 401, 403, 404, 405, 408, 413, 429, 500, 503] {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT);
            let html = page_html(status, default_message(status).to_owned(), None);
            assert!(html.contains("<html lang=\"fr\">"), "{code}");
            assert!(html.contains(title(status)), "{code}");
            let back = if code == 401 {
                "href=\"/connexion\""
            } else {
                "href=\"/\""
            };
            assert!(html.contains(back), "{code}: {html}");
        }
    }
}
