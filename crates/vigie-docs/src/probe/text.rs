//! The report as a short French text for the terminal, once the scan is
//! over: what was looked at, the counts by severity, and the ten most
//! critical vulnerabilities with the hosts and the fix. The whole detail
//! is in the HTML and PDF reports.

use std::fmt::Write as _;

use vigie_core::probe::ProbeReport;

use super::french::{LAB_BANNER, NO_FINDING, PARTIAL_BANNER, TOP_HEADING};
use super::view::View;

/// The terminal summary, lines ending with `\n`.
pub fn text(report: &ProbeReport) -> String {
    let view = View::of(report, None);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{}", view.title);
    let _ = writeln!(out, "{}", view.dates());
    if view.lab {
        let _ = writeln!(out, "{LAB_BANNER}");
    }
    if view.interrupted {
        let _ = writeln!(out, "{}", PARTIAL_BANNER.to_uppercase());
    }
    let _ = writeln!(out, "{}", view.summary());
    let _ = writeln!(out, "\n{TOP_HEADING}");
    if view.top.is_empty() {
        let _ = writeln!(out, "  {NO_FINDING}");
    }
    for line in &view.top {
        let _ = writeln!(
            out,
            "{:>3}. {} [{}, CVSS {}]",
            line.rank, line.title, line.badge.label, line.cvss
        );
        let _ = writeln!(out, "     Machines : {}", line.hosts.join(" ; "));
        let _ = writeln!(out, "     Que faire : {}", line.action);
        let _ = writeln!(out, "     Prestataire : {}", line.recommendation);
    }
    out
}
