//! Error pages: the one place that decides how an error reaches a person.
//! Outside `/api/`, every error answer (4xx, 5xx) that is not already a
//! page becomes a French page in the site's layout, with a way back: the
//! handlers' [`AppError`](crate::AppError)s, the 413, 429 and 408 of the
//! layers in front of them, axum's own refusals (unknown page, wrong
//! method, malformed form). Under `/api/` answers pass untouched (JSON
//! `{"error": "…"}`). The status and every header (`Retry-After`,
//! `Connection`…) are kept; only the body and its type change. A form
//! refused (400, 409, 413 or 422 to a POST sent from one of the site's pages)
//! leads back to that form, and says that the browser's « Précédent »
//! keeps what was typed.
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
    back_href: String,
    back_label: &'static str,
    /// Said under a refused form's way back.
    hint: Option<&'static str>,
}

/// What a refused form's page says under its way back.
const FORM_HINT: &str = "Avec le bouton « Précédent » de votre navigateur, vous retrouvez le \
    formulaire avec ce que vous aviez saisi : corrigez-le et envoyez-le à nouveau.";

/// Middleware (outside every other layer but the security headers).
pub async fn pages(mut request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let form = (request.method() == axum::http::Method::POST)
        .then(|| form_page(&request))
        .flatten();
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
    // What a person can mend by changing what they typed: not a session
    // or a right (401, 403), not a page that is not there (404).
    let form = form.filter(|_| matches!(status.as_u16(), 400 | 409 | 413 | 422));
    let html = page_html(status, message, slot.0.get(), form);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(html))
}

/// The site's page a form was posted from (its path and query), read
/// from the `Referer` when it names this very host: nothing else is ever
/// linked.
fn form_page(request: &Request) -> Option<String> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    let referer: axum::http::Uri = request
        .headers()
        .get(header::REFERER)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    if !matches!(referer.scheme_str(), Some("http" | "https"))
        || !referer
            .authority()
            .is_some_and(|a| a.as_str().eq_ignore_ascii_case(host))
    {
        return None;
    }
    let path = referer.path_and_query()?.as_str();
    // A browser reads `/\host` as `//host`: another site.
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    local.then(|| path.to_owned())
}

/// The page for `status` saying `message`; `form`: the page of the form
/// refused.
fn page_html(
    status: StatusCode,
    message: String,
    caller: Option<&Caller>,
    form: Option<String>,
) -> String {
    let (back_href, back_label, hint) = match form {
        _ if status == StatusCode::UNAUTHORIZED => ("/connexion".to_owned(), "Se connecter", None),
        Some(path) => (path, "Revenir au formulaire", Some(FORM_HINT)),
        None => ("/".to_owned(), "Retour à l'accueil", None),
    };
    let page = ErrorTemplate {
        chrome: Chrome::new(title(status), caller),
        message,
        back_href,
        back_label,
        hint,
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
            let html = page_html(status, default_message(status).to_owned(), None, None);
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

    fn posted(host: &str, referer: &str) -> Option<String> {
        let request = Request::builder()
            .method("POST")
            .uri("/crise/prets")
            .header(header::HOST, host)
            .header(header::REFERER, referer)
            .body(Body::empty())
            .ok()?;
        form_page(&request)
    }

    #[test]
    fn a_refused_form_leads_back_to_its_own_page_only() {
        let here = "vigie.loire.fr";
        assert_eq!(
            posted(here, "https://vigie.loire.fr/crise?commune=42218").as_deref(),
            Some("/crise?commune=42218")
        );
        assert_eq!(
            posted(
                "127.0.0.1:8080",
                "http://127.0.0.1:8080/conventions/nouvelle"
            )
            .as_deref(),
            Some("/conventions/nouvelle")
        );
        for elsewhere in [
            "https://evil.example/crise",
            "https://vigie.loire.fr.evil.example/crise",
            "javascript:alert(1)",
            "/crise",
            "ftp://vigie.loire.fr/crise",
            "https://vigie.loire.fr/\\evil.example/",
            "not a uri",
        ] {
            assert_eq!(posted(here, elsewhere), None, "{elsewhere}");
        }
        let status = StatusCode::BAD_REQUEST;
        let html = page_html(
            status,
            "« Retour prévu le » : date invalide.".to_owned(),
            None,
            Some("/crise?a=1&b=2".to_owned()),
        );
        assert!(html.contains("href=\"/crise?a=1&#38;b=2\""), "{html}");
        assert!(html.contains("Revenir au formulaire"), "{html}");
        assert!(html.contains("« Précédent »"), "{html}");
    }
}
