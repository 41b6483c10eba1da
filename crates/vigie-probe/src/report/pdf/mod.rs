//! The report as a PDF, in the same order as the HTML page: the title and
//! the banners, the ten most critical vulnerabilities, everything by host,
//! then the scope and the dates. Pure Rust (printpdf), the font embedded:
//! nothing to install on the machine that prints it.

mod fonts;
mod layout;

use printpdf::{OffsetDateTime, PdfDocument, PdfSaveOptions};
use vigie_core::probe::ProbeReport;

use self::fonts::Weight;
use self::layout::{INK, Layout, MUTED};
use super::ReportError;
use super::french::{
    HOSTS_HEADING, LAB_BANNER, NO_FINDING, OBSERVE_ONLY, PARTIAL_BANNER, SCOPE_HEADING,
    TOP_HEADING, plural,
};
use super::view::{HostSection, TopLine, View};

const TITLE: f32 = 18.0;
const HEADING: f32 = 14.0;
const SUBHEADING: f32 = 12.0;
const BODY: f32 = 10.0;
const SMALL: f32 = 8.5;

/// The whole report as PDF bytes (`%PDF-…`).
pub fn pdf(report: &ProbeReport) -> Result<Vec<u8>, ReportError> {
    let view = View::of(report);
    let mut doc = PdfDocument::new(&view.title);
    doc.metadata.info.author = "Vigie".to_owned();
    doc.metadata.info.creator = "vigie probe".to_owned();
    doc.metadata.info.subject = TOP_HEADING.to_owned();
    if let Ok(at) = OffsetDateTime::from_unix_timestamp(report.finished_at.timestamp()) {
        doc.metadata.info.creation_date = at;
        doc.metadata.info.modification_date = at;
        doc.metadata.info.metadata_date = at;
    }
    let mut page = Layout::new(&mut doc)?;
    opening(&mut page, &view);
    top_ten(&mut page, &view);
    hosts(&mut page, &view);
    scope(&mut page, &view);
    let footer = view.title.clone();
    let pages = page.finish(&footer);
    let mut warnings = Vec::new();
    let bytes = doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    if !warnings.is_empty() {
        tracing::debug!(count = warnings.len(), "PDF writer warnings");
    }
    Ok(bytes)
}

fn opening(page: &mut Layout, view: &View) {
    page.paragraph(&[(Weight::Bold, &view.title)], TITLE, INK, 0.0);
    page.space(4.0);
    if view.lab {
        page.start_bar("#1f5fa8");
        page.paragraph(&[(Weight::Bold, LAB_BANNER)], BODY, "#1f5fa8", 0.0);
        page.end_bar();
        page.space(4.0);
    }
    if view.interrupted {
        page.start_bar("#a4161a");
        page.paragraph(&[(Weight::Bold, PARTIAL_BANNER)], BODY, "#a4161a", 0.0);
        page.end_bar();
        page.space(4.0);
    }
    let dates = format!(
        "Analyse du {} au {} (heure de Paris, durée {}).",
        view.started, view.finished, view.duration
    );
    page.paragraph(&[(Weight::Regular, &dates)], BODY, MUTED, 0.0);
    let summary = format!(
        "{} examinée{} · {}.",
        plural(view.host_count, "machine", "machines"),
        if view.host_count > 1 { "s" } else { "" },
        view.counts.sentence()
    );
    page.paragraph(&[(Weight::Regular, &summary)], BODY, MUTED, 0.0);
    page.space(10.0);
}

fn top_ten(page: &mut Layout, view: &View) {
    page.heading(TOP_HEADING, HEADING);
    if view.top.is_empty() {
        page.paragraph(&[(Weight::Bold, NO_FINDING)], SUBHEADING, "#2f6f3e", 0.0);
        return;
    }
    for line in &view.top {
        top_item(page, line);
    }
}

fn top_item(page: &mut Layout, line: &TopLine) {
    let title = format!("{}. {}", line.rank, line.title);
    let hosts = line.hosts.join(" ; ");
    let mut blocks: Vec<[(Weight, &str); 2]> = vec![
        [
            (Weight::Bold, "Machines concernées :"),
            (Weight::Regular, &hosts),
        ],
        [
            (Weight::Bold, "Que faire :"),
            (Weight::Regular, line.action),
        ],
        [
            (Weight::Bold, "Pour le prestataire informatique :"),
            (Weight::Regular, &line.recommendation),
        ],
    ];
    if let Some(impact) = &line.impact {
        blocks.insert(
            1,
            [
                (Weight::Bold, "Ce que cela signifie :"),
                (Weight::Regular, impact),
            ],
        );
    }
    // Keep a finding on one page when it fits on one.
    let height = page.height(&[(Weight::Bold, &title)], SUBHEADING, 0.0)
        + BODY * 2.0
        + blocks
            .iter()
            .map(|runs| page.height(runs, BODY, 0.0) + 2.0)
            .sum::<f32>();
    page.ensure(height.min(600.0));
    page.start_bar(line.badge.colour);
    page.paragraph(&[(Weight::Bold, &title)], SUBHEADING, INK, 0.0);
    page.badge(
        &line.badge,
        &format!("score CVSS {} sur 10", line.cvss),
        BODY,
        0.0,
    );
    for runs in &blocks {
        page.space(2.0);
        page.paragraph(runs, BODY, INK, 0.0);
    }
    page.end_bar();
    page.space(9.0);
}

fn hosts(page: &mut Layout, view: &View) {
    page.space(8.0);
    page.heading(HOSTS_HEADING, HEADING);
    if view.hosts.is_empty() {
        page.paragraph(
            &[(
                Weight::Regular,
                "Aucune machine n'a répondu dans le périmètre.",
            )],
            BODY,
            INK,
            0.0,
        );
    }
    for host in &view.hosts {
        host_section(page, host);
    }
}

fn host_section(page: &mut Layout, host: &HostSection) {
    let name = if host.names.is_empty() {
        host.address.clone()
    } else {
        format!("{} — {}", host.address, host.names)
    };
    page.ensure(80.0);
    page.space(6.0);
    page.paragraph(&[(Weight::Bold, &name)], SUBHEADING, INK, 0.0);
    if let Some(os) = &host.os {
        page.paragraph(
            &[(Weight::Regular, &format!("Système : {os}"))],
            BODY,
            MUTED,
            0.0,
        );
    }
    if host.services.is_empty() {
        page.paragraph(
            &[(Weight::Regular, "Aucun service ouvert relevé.")],
            BODY,
            INK,
            0.0,
        );
    }
    for service in &host.services {
        let mut what = service.name.clone();
        if !service.product.is_empty() {
            what.push_str(" — ");
            what.push_str(&service.product);
        }
        if service.tls {
            what.push_str(" (chiffré)");
        }
        page.paragraph(
            &[
                (Weight::Bold, &format!("Port {}", service.port)),
                (Weight::Regular, &what),
            ],
            BODY,
            INK,
            8.0,
        );
        if let Some(banner) = &service.banner {
            page.paragraph(&[(Weight::Regular, banner)], SMALL, MUTED, 16.0);
        }
    }
    page.space(4.0);
    if host.findings.is_empty() {
        page.paragraph(
            &[(
                Weight::Bold,
                "Aucune vulnérabilité trouvée sur cette machine.",
            )],
            BODY,
            "#2f6f3e",
            0.0,
        );
    }
    for finding in &host.findings {
        let mut facts = format!("score CVSS {}", finding.cvss);
        if let Some(port) = &finding.port {
            facts.push_str(&format!(" · port {port}"));
        }
        if !finding.cves.is_empty() {
            facts.push_str(&format!(" · {}", finding.cves));
        }
        page.ensure(70.0);
        page.start_bar(finding.badge.colour);
        page.paragraph(&[(Weight::Bold, &finding.title)], BODY + 0.5, INK, 0.0);
        page.badge(&finding.badge, &facts, BODY, 0.0);
        for runs in [
            [
                (Weight::Bold, "Ce que cela signifie :"),
                (Weight::Regular, &finding.impact),
            ],
            [
                (Weight::Bold, "Pour le prestataire informatique :"),
                (Weight::Regular, &finding.recommendation),
            ],
            [
                (Weight::Bold, "Constat :"),
                (Weight::Regular, &finding.evidence),
            ],
        ] {
            page.space(1.5);
            page.paragraph(&runs, BODY, INK, 0.0);
        }
        let reference = format!("{} · {}", finding.id, finding.vector);
        page.paragraph(&[(Weight::Regular, &reference)], SMALL, MUTED, 0.0);
        page.end_bar();
        page.space(7.0);
    }
}

fn scope(page: &mut Layout, view: &View) {
    page.space(8.0);
    page.heading(SCOPE_HEADING, HEADING);
    let excluded = if view.excluded.is_empty() {
        "aucune".to_owned()
    } else {
        view.excluded.join(", ")
    };
    let mode = if view.lab {
        "laboratoire (hors convention, pour essai)"
    } else {
        "convention (jours ouvrés, 8 h – 18 h)"
    };
    let end = if view.interrupted {
        format!("{} (interrompue)", view.finished)
    } else {
        view.finished.clone()
    };
    let commune = view.commune.as_deref().unwrap_or("non précisée");
    let networks = view.networks.join(", ");
    for (label, value) in [
        ("Commune :", commune),
        ("Réseaux autorisés :", &networks),
        ("Exclusions :", &excluded),
        ("Intensité :", &view.intensity),
        ("Début :", &view.started),
        ("Fin :", &end),
        ("Mode :", mode),
    ] {
        page.paragraph(
            &[(Weight::Bold, label), (Weight::Regular, value)],
            BODY,
            INK,
            0.0,
        );
    }
    page.space(6.0);
    page.paragraph(&[(Weight::Regular, OBSERVE_ONLY)], SMALL, MUTED, 0.0);
}
