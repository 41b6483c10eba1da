//! The probe's report for people: a French HTML page (and the same as a
//! fragment the observatory embeds), a PDF through the document engine,
//! and a short terminal summary. All three are built from one French view
//! of the `vigie.probe/1` document, so they never disagree: they open with
//! the ten most critical vulnerabilities (the action for the town hall,
//! the fix for the IT provider), then everything by host, then the scope
//! and the dates.
//!
//! What it must never do: show what the document does not say, reorder
//! the top ten the probe ranked, or let a text a scanned device sent become
//! markup (HTML templates escape everything; the PDF gets it as data).

mod french;
mod html;
mod pdf;
mod text;
mod view;

pub use french::{Counts, plain_action, severity_colour, severity_ink, severity_label};
pub use html::{html, html_fragment, html_fragment_named};
pub use pdf::{TEMPLATE, pdf, pdf_named};
pub use text::text;

/// Why the HTML report could not be rendered (a fault of this program,
/// not of the document: every document that deserialises renders).
#[derive(Debug, thiserror::Error)]
#[error("mise en page HTML du rapport impossible : {0}")]
pub struct HtmlError(String);
