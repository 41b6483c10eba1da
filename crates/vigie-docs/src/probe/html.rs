//! The report as HTML: a self-contained French page (inline CSS, no
//! script, no outside resource, printable on A4), and the same content as
//! a fragment the observatory puts inside its own pages.
//!
//! Every text from the document is escaped by the templates: a banner or a
//! page title a scanned device sent must never become markup.

use askama::Template;
use vigie_core::probe::ProbeReport;

use super::HtmlError;
use super::view::View;

#[derive(Template)]
#[template(path = "report/page.html")]
struct Page<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "report/body.html")]
struct Fragment<'a> {
    v: &'a View,
}

/// The whole report as a standalone HTML page: it opens with the ten most
/// critical vulnerabilities, then everything by host, then the scope.
pub fn html(report: &ProbeReport) -> Result<String, HtmlError> {
    let view = View::of(report, None);
    Page { v: &view }
        .render()
        .map_err(|e| HtmlError(e.to_string()))
}

/// The same report as an HTML fragment (its `<style>` scoped to
/// `.vigie-rapport`, then an `<article>`), to embed in another page.
pub fn html_fragment(report: &ProbeReport) -> Result<String, HtmlError> {
    html_fragment_named(report, None)
}

/// [`html_fragment`], titled with the commune's name when the caller knows
/// it (« Rapport de la sonde réseau — Saint-Étienne (42218) »): the
/// document carries only the INSEE code.
pub fn html_fragment_named(
    report: &ProbeReport,
    commune_name: Option<&str>,
) -> Result<String, HtmlError> {
    let view = View::of(report, commune_name);
    Fragment { v: &view }
        .render()
        .map_err(|e| HtmlError(e.to_string()))
}
