//! The probe's report for people, and its way to the observatory: a French
//! HTML page and a PDF that open with the ten most critical
//! vulnerabilities (the action to take for the town hall, the fix for the
//! IT provider), then everything by host, the scope and the dates; a short
//! terminal summary; and the upload of the `vigie.probe/1` document.
//!
//! What it must never do: show what the document does not say, let a text
//! a scanned device sent become markup (the templates escape everything),
//! or send the personal token anywhere but to the observatory named, over
//! HTTPS (plain HTTP only to this machine, for tests).

mod french;
mod html;
mod pdf;
mod text;
mod trust;
mod upload;
mod view;

pub use french::{Counts, plain_action, severity_colour, severity_ink, severity_label};
pub use html::{html, html_fragment};
pub use pdf::pdf;
pub use text::text;
pub use trust::Trust;
pub use upload::{ENDPOINT, UploadAnswer, UploadError, upload};

/// Why a report could not be rendered (a fault of this program, not of
/// the document: every document that deserialises renders).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("mise en page HTML du rapport impossible : {0}")]
    Html(String),
    #[error("police intégrée {0} illisible : le programme est endommagé")]
    Font(&'static str),
}
