//! The report as a PDF: the French view, the sentences the three
//! renderings share and the counts by severity, given to the
//! `rapport-sonde.typ` template of the document engine.

use serde::Serialize;
use vigie_core::Severity;
use vigie_core::probe::ProbeReport;

use super::french::{
    HOSTS_HEADING, LAB_BANNER, NO_FINDING, OBSERVE_ONLY, PARTIAL_BANNER, SCOPE_HEADING,
    TOP_HEADING, severity_colour, severity_label,
};
use super::view::View;
use crate::{DocError, Engine};

/// The template the report is set with (a territory may replace it).
pub const TEMPLATE: &str = "rapport-sonde.typ";

#[derive(Serialize)]
struct Data<'a> {
    report: &'a View,
    words: Words,
    /// « Analyse du … au … (heure de Paris, durée …). »
    dates: String,
    /// « 4 machines examinées · 11 vulnérabilités : … »
    summary: String,
    /// Findings by severity, most severe first, for the bar chart.
    severities: Vec<Bar>,
}

#[derive(Serialize)]
struct Words {
    top_heading: &'static str,
    hosts_heading: &'static str,
    scope_heading: &'static str,
    no_finding: &'static str,
    lab_banner: &'static str,
    partial_banner: &'static str,
    observe_only: &'static str,
}

#[derive(Serialize)]
struct Bar {
    label: &'static str,
    count: usize,
    colour: &'static str,
}

/// The whole report as PDF/A bytes (`%PDF-…`), dated when the scan ended.
pub fn pdf(engine: &Engine, report: &ProbeReport) -> Result<Vec<u8>, DocError> {
    pdf_named(engine, report, None)
}

/// [`pdf`], titled with the commune's name when the caller knows it (see
/// [`super::html_fragment_named`]).
pub fn pdf_named(
    engine: &Engine,
    report: &ProbeReport,
    commune_name: Option<&str>,
) -> Result<Vec<u8>, DocError> {
    let view = View::of(report, commune_name);
    let counts = view.counts;
    let severities = [
        (Severity::Critical, counts.critical),
        (Severity::High, counts.high),
        (Severity::Medium, counts.medium),
        (Severity::Low, counts.low),
    ]
    .into_iter()
    .map(|(severity, count)| Bar {
        label: severity_label(severity),
        count,
        colour: severity_colour(severity),
    })
    .collect();
    let data = Data {
        report: &view,
        words: Words {
            top_heading: TOP_HEADING,
            hosts_heading: HOSTS_HEADING,
            scope_heading: SCOPE_HEADING,
            no_finding: NO_FINDING,
            lab_banner: LAB_BANNER,
            partial_banner: PARTIAL_BANNER,
            observe_only: OBSERVE_ONLY,
        },
        dates: view.dates(),
        summary: view.summary(),
        severities,
    };
    engine.pdf(TEMPLATE, &data, report.finished_at)
}
