//! The probe's pages: a commune's scans with their trend and the latest
//! top ten (`/communes/{code}/sonde`), one whole report (`/sondes/{id}`)
//! and its PDF (`/sondes/{id}.pdf`). Seen by the commune's users and the
//! staff; anyone else gets the 404 of a page that does not exist.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::Response;
use vigie_core::probe::TopFinding;

use super::scan::{ScanSummary, trend};
use super::store;
use crate::accounts::{Caller, VisibleCommune};
use crate::territory::{self, Commune};
use crate::web::{Chrome, render};
use crate::{AppError, AppState};

/// One line of the history table.
struct HistoryRow {
    scan: ScanSummary,
    trend: String,
}

/// One line of the latest scan's top ten.
struct TopRow {
    title: String,
    label: &'static str,
    /// The severity's class in vigie.css (colour and ink).
    class: &'static str,
    cvss: String,
    hosts: String,
    recommendation: String,
}

#[derive(Template)]
#[template(path = "probes/history.html")]
struct HistoryPage {
    chrome: Chrome,
    /// The staff get the link to the prefilled scope file.
    staff: bool,
    commune: Commune,
    rows: Vec<HistoryRow>,
    latest: Option<ScanSummary>,
    top: Vec<TopRow>,
}

#[derive(Template)]
#[template(path = "probes/report.html")]
struct ReportPage {
    chrome: Chrome,
    commune: Commune,
    scan: ScanSummary,
    report: String,
}

/// The commune, if the caller may see its details; otherwise the same 404
/// as for a commune that does not exist.
async fn visible_commune(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> Result<Commune, AppError> {
    if !caller.can_see_commune(code) {
        return Err(AppError::NotFound);
    }
    territory::commune(&state.db, code)
        .await?
        .ok_or(AppError::NotFound)
}

pub(super) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let scans = store::history(&state.db, &commune.code).await?;
    let rows = scans
        .iter()
        .enumerate()
        .map(|(index, scan)| HistoryRow {
            scan: scan.clone(),
            trend: trend(
                &scan.counts,
                scans.get(index + 1).map(|older| &older.counts),
            ),
        })
        .collect();
    let latest = scans.first().cloned();
    let top = match &latest {
        Some(scan) => store::top_ten(&state.db, scan.id)
            .await?
            .iter()
            .map(top_row)
            .collect(),
        None => Vec::new(),
    };
    let page = HistoryPage {
        chrome: Chrome::new(format!("Sonde réseau — {}", commune.name), Some(&caller)),
        staff: caller.is_staff(),
        commune,
        rows,
        latest,
        top,
    };
    render(&page)
}

fn top_row(top: &TopFinding) -> TopRow {
    use vigie_docs::probe::severity_label;
    TopRow {
        title: top.title.clone(),
        label: severity_label(top.severity),
        class: severity_class(top.severity),
        cvss: format!("{:.1}", top.cvss).replace('.', ","),
        hosts: top
            .hosts
            .iter()
            .map(|hp| match hp.port {
                Some(port) => format!("{}:{port}", hp.host),
                None => hp.host.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        recommendation: top.recommendation.clone(),
    }
}

/// The class vigie.css colours a severity's badge with (the colours of
/// `vigie_docs::probe::severity_colour`, checked by a test).
pub(crate) fn severity_class(severity: vigie_core::Severity) -> &'static str {
    use vigie_core::Severity;
    match severity {
        Severity::Critical => "sev-critical",
        Severity::High => "sev-high",
        Severity::Medium => "sev-medium",
        Severity::Low => "sev-low",
    }
}

/// `/sondes/{id}` (the report in the site's page) or `/sondes/{id}.pdf`.
pub(super) async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (number, as_pdf) = match id.strip_suffix(".pdf") {
        Some(number) => (number, true),
        None => (id.as_str(), false),
    };
    let number: i64 = number.parse().map_err(|_| AppError::NotFound)?;
    let scan = store::scan(&state.db, number)
        .await?
        .ok_or(AppError::NotFound)?;
    let commune = visible_commune(&state, &caller, &scan.commune).await?;
    let document = store::document(&state.db, number).await?;
    if as_pdf {
        // Laying out a long report takes a while: off the async threads.
        let documents = state.settings.documents.clone();
        let name = commune.name.clone();
        let bytes = state
            .render_with(move || vigie_docs::probe::pdf_named(&documents, &document, Some(&name)))
            .await?;
        return Ok(crate::web::pdf(
            bytes,
            &format!("sonde-{}-{}.pdf", commune.code, scan.day()),
        ));
    }
    let report = vigie_docs::probe::html_fragment_named(&document, Some(&commune.name))
        .map_err(|e| AppError::Internal(format!("report: {e}")))?;
    let page = ReportPage {
        chrome: Chrome::new(
            format!("Sonde réseau — {} — {}", commune.name, scan.date_fr()),
            Some(&caller),
        ),
        commune,
        scan,
        report,
    };
    let mut response = render(&page)?;
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(crate::web::headers::REPORT_CONTENT_SECURITY_POLICY),
    );
    Ok(response)
}
