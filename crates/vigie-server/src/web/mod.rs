//! What every page shares: the layout's data ([`Chrome`]), the static
//! assets (one stylesheet, one small script; no CDN, no build step), and
//! rendering a template into a response.

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

pub mod body;
mod client;
mod clients;
pub mod compression;
pub mod csv;
pub mod errors;
pub mod flood;
pub mod headers;
pub mod routes;
pub mod serve;
pub mod trace;
pub mod upload;

pub use client::ClientAddr;
pub use routes::{Access, Routes};

use crate::AppError;
use crate::accounts::{Caller, Role};
use crate::territory::CommuneCode;

const CSS: &str = include_str!("../../static/vigie.css");
const JS: &str = include_str!("../../static/vigie.js");

/// The layout's data: page title and who is signed in.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub title: String,
    pub user_email: Option<String>,
    pub is_staff: bool,
    pub is_admin: bool,
    pub own_commune: Option<CommuneCode>,
    pub csrf: String,
}

impl Chrome {
    pub fn new(title: impl Into<String>, caller: Option<&Caller>) -> Self {
        Chrome {
            title: title.into(),
            user_email: caller.map(|c| c.email.clone()),
            is_staff: caller.is_some_and(Caller::is_staff),
            is_admin: caller.is_some_and(|c| c.role == Role::Admin),
            own_commune: caller
                .filter(|c| c.role == Role::Commune)
                .and_then(|c| c.commune),
            csrf: caller.and_then(|c| c.csrf.clone()).unwrap_or_default(),
        }
    }
}

/// A PDF shown in the browser, saved as `name` (`dossier-42218.pdf`).
pub fn pdf(bytes: Vec<u8>, name: &str) -> Response {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A signed scan's type from its first bytes: a PDF, a PNG or a JPEG;
/// `None` for anything else, whatever its name says.
pub fn scan_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Renders a page template; a rendering failure is an internal error.
pub fn render<T: Template>(page: &T) -> Result<Response, AppError> {
    page.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

pub fn router() -> Routes {
    Routes::new()
        .get("/static/vigie.css", Access::Public, || async {
            ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS)
        })
        .get("/static/vigie.js", Access::Public, || async {
            (
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                JS,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::CSS;
    use crate::cybermeteo::weather::Level;

    /// The colours moved out of inline styles (the Content-Security-Policy
    /// allows none) still match their Rust source.
    #[test]
    fn the_stylesheet_has_every_level_and_severity_colour() {
        for level in Level::ALL {
            let rule = format!(".map .{} {{ fill: {}; }}", level.css_class(), level.color());
            assert!(CSS.contains(&rule), "{rule}");
        }
        use vigie_core::Severity;
        for severity in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ] {
            let rule = format!(
                ".{} {{ background: {}; color: {}; }}",
                crate::probes::pages::severity_class(severity),
                vigie_docs::probe::severity_colour(severity),
                vigie_docs::probe::severity_ink(severity)
            );
            assert!(CSS.contains(&rule), "{rule}");
        }
    }
}
