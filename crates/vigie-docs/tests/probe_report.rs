//! The probe's report for people, on a handcrafted `vigie.probe/1`
//! document: the top ten first and in order, French labels, the lab and
//! partial banners, the PDF through the document engine read back with
//! `pdftotext`, and the terminal summary.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use vigie_core::Severity;
use vigie_core::probe::{
    Finding, Host, HostPort, PROBE_SCHEMA, ProbeReport, ScopeSummary, Service, TopFinding,
    Transport, severity_of,
};
use vigie_docs::Engine;
use vigie_docs::probe as report;
use vigie_docs::read_back::pdf_text;

/// (id, title, cvss, host, port): eleven checks, the first ten ranked.
const CHECKS: [(&str, &str, f32, &str, u16); 11] = [
    (
        "smb.v1",
        "Partage de fichiers en SMBv1 (WannaCry)",
        9.8,
        "192.168.1.10",
        445,
    ),
    (
        "redis.noauth",
        "Base Redis ouverte sans mot de passe",
        9.8,
        "192.168.1.20",
        6379,
    ),
    (
        "password.ssh",
        "Mot de passe trivial sur un accès SSH",
        8.8,
        "192.168.1.20",
        22,
    ),
    (
        "rdp.no_nla",
        "Bureau à distance sans authentification préalable",
        8.1,
        "192.168.1.10",
        3389,
    ),
    (
        "ftp.anonymous",
        "Serveur FTP ouvert à tous",
        7.5,
        "192.168.1.20",
        21,
    ),
    (
        "snmp.public",
        "Équipement administrable avec la communauté public",
        7.5,
        "192.168.1.1",
        161,
    ),
    (
        "telnet.clear",
        "Telnet : mots de passe en clair",
        6.5,
        "192.168.1.1",
        23,
    ),
    (
        "smb.signing",
        "Signature SMB non exigée",
        5.9,
        "192.168.1.10",
        445,
    ),
    (
        "tls.self_signed",
        "Certificat auto-signé",
        5.3,
        "192.168.1.1",
        443,
    ),
    (
        "http.admin_clear",
        "Page d'administration en HTTP non chiffré",
        4.3,
        "192.168.1.1",
        80,
    ),
    (
        "tls.v1_0",
        "Ancien chiffrement TLS 1.0 accepté",
        3.7,
        "192.168.1.1",
        443,
    ),
];

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn finding(id: &str, title: &str, cvss: f32, host: &str, port: u16) -> Finding {
    Finding {
        id: id.to_owned(),
        host: ip(host),
        port: Some(port),
        transport: Some(Transport::Tcp),
        cvss,
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned(),
        severity: severity_of(cvss),
        cves: if id == "smb.v1" {
            vec!["CVE-2017-0144".to_owned()]
        } else {
            Vec::new()
        },
        title: title.to_owned(),
        impact: format!("Impact de {id} pour la mairie."),
        recommendation: format!("Recommandation {id} pour le prestataire."),
        evidence: format!("Constat {id} : réponse observée."),
    }
}

fn service(port: u16, name: &str, product: Option<&str>, version: Option<&str>) -> Service {
    Service {
        port,
        transport: if port == 161 {
            Transport::Udp
        } else {
            Transport::Tcp
        },
        name: name.to_owned(),
        product: product.map(str::to_owned),
        version: version.map(str::to_owned),
        tls: port == 443,
        banner: None,
    }
}

/// A commune's network: a router, a town-hall PC, a server; eleven findings.
fn sample() -> ProbeReport {
    let findings: Vec<Finding> = CHECKS
        .iter()
        .map(|(id, title, cvss, host, port)| finding(id, title, *cvss, host, *port))
        .collect();
    let top = findings
        .iter()
        .take(10)
        .map(|f| TopFinding {
            id: f.id.clone(),
            title: f.title.clone(),
            cvss: f.cvss,
            severity: f.severity,
            recommendation: f.recommendation.clone(),
            hosts: vec![HostPort {
                host: f.host,
                port: f.port,
            }],
        })
        .collect();
    let mut ssh = service(22, "ssh", Some("OpenSSH"), Some("9.2p1"));
    ssh.banner = Some("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".to_owned());
    ProbeReport {
        schema: PROBE_SCHEMA.to_owned(),
        commune: Some("42218".to_owned()),
        started_at: at("2025-03-12T08:14:00Z"),
        finished_at: at("2025-03-12T10:02:00Z"),
        lab: false,
        interrupted: false,
        scope: ScopeSummary {
            networks: vec!["192.168.1.0/24".to_owned()],
            excluded: vec!["192.168.1.254".to_owned()],
            intensity: "polite".to_owned(),
        },
        hosts: vec![
            Host {
                address: ip("192.168.1.20"),
                names: vec!["SERVEUR".to_owned()],
                os: Some("Debian 12".to_owned()),
                services: vec![
                    service(21, "ftp", Some("vsftpd"), Some("3.0.3")),
                    ssh,
                    service(6379, "redis", Some("Redis"), Some("7.0.15")),
                ],
            },
            Host {
                address: ip("192.168.1.1"),
                names: vec![],
                os: None,
                services: vec![
                    service(23, "telnet", None, None),
                    service(80, "http", Some("lighttpd"), None),
                    service(161, "snmp", None, None),
                    service(443, "https", Some("lighttpd"), None),
                ],
            },
            Host {
                address: ip("192.168.1.10"),
                names: vec!["SECRETARIAT".to_owned()],
                os: Some("Windows 7 Professional 7601 Service Pack 1".to_owned()),
                services: vec![
                    service(445, "smb", Some("Windows SMB"), None),
                    service(3389, "rdp", None, None),
                ],
            },
            Host {
                address: ip("192.168.1.30"),
                names: vec![],
                os: None,
                services: vec![],
            },
        ],
        findings,
        top,
    }
}

fn empty() -> ProbeReport {
    ProbeReport {
        hosts: vec![],
        findings: vec![],
        top: vec![],
        ..sample()
    }
}

/// Where each of `needles` first appears in `haystack`, failing on a missing one.
fn positions(haystack: &str, needles: &[&str]) -> Vec<usize> {
    needles
        .iter()
        .map(|needle| {
            haystack
                .find(needle)
                .unwrap_or_else(|| panic!("{needle:?} missing"))
        })
        .collect()
}

fn assert_increasing(positions: &[usize], what: &str) {
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{what} out of order: {positions:?}"
    );
}

/// The headings and the top ten's titles, in the order a reader meets them.
fn reading_order() -> Vec<&'static str> {
    let mut order = vec!["Les 10 vulnérabilités les plus critiques"];
    order.extend(CHECKS.iter().take(10).map(|check| check.1));
    order.push("Détail par machine");
    order.push("Périmètre et dates");
    order
}

#[test]
fn the_html_report_opens_with_the_top_ten_in_order() {
    let html = report::html(&sample()).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<html lang=\"fr\">"));
    let first_section = html.find("<h2>").unwrap();
    assert!(html[first_section..].starts_with("<h2>Les 10 vulnérabilités les plus critiques</h2>"));
    // Apostrophes come escaped in HTML.
    let order: Vec<String> = reading_order()
        .iter()
        .map(|t| t.replace('\'', "&#39;"))
        .collect();
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    assert_increasing(&positions(&html, &order), "HTML");
    // The eleventh check is not in the top ten: it only shows by host.
    let eleventh = html.find("Ancien chiffrement TLS 1.0 accepté").unwrap();
    assert!(eleventh > html.find("Détail par machine").unwrap());
    // Ranks 1 to 10, in order.
    let ranks: Vec<String> = (1..=10).map(|rank| format!("\">{rank}. ")).collect();
    let ranks: Vec<&str> = ranks.iter().map(String::as_str).collect();
    assert_increasing(&positions(&html, &ranks), "ranks");
    assert!(!html.contains("\">11. "));
}

#[test]
fn the_html_report_speaks_french_to_both_readers() {
    let html = report::html(&sample()).unwrap();
    for words in [
        "Critique",
        "Élevée",
        "Moyenne",
        "Faible",
        "score CVSS 9,8 sur 10",
        "Machines concernées :",
        "SECRETARIAT (192.168.1.10), port 445",
        "Ce que cela signifie :</span> Impact de smb.v1 pour la mairie.",
        "Que faire :</span> À traiter en urgence : appelez votre prestataire informatique aujourd&#39;hui.",
        "Pour le prestataire informatique :</span> Recommandation smb.v1 pour le prestataire.",
        "Constat :",
        "CVE-2017-0144",
        "OpenSSH 9.2p1",
        "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
        "161/udp",
        "Windows 7 Professional",
        "11 vulnérabilités : 2 critiques, 4 élevées, 4 moyennes, 1 faible",
        "Analyse du 12/03/2025 à 09:14 au 12/03/2025 à 11:02",
        "192.168.1.0/24",
        "192.168.1.254",
        "Aucune vulnérabilité trouvée sur cette machine.",
    ] {
        assert!(html.contains(words), "{words:?} missing");
    }
    // Severity colours: critical red, medium amber.
    assert!(html.contains("background:#a4161a"));
    assert!(html.contains("background:#f5b400"));
    assert!(!html.contains("Mode laboratoire"));
    assert!(!html.contains("résultats partiels"));
}

#[test]
fn lab_and_interrupted_runs_say_so() {
    let mut run = sample();
    run.lab = true;
    run.interrupted = true;
    let html = report::html(&run).unwrap();
    assert!(html.contains("Mode laboratoire"));
    assert!(html.contains("Analyse interrompue : résultats partiels"));
    let text = report::text(&run);
    assert!(text.contains("Mode laboratoire"));
    assert!(text.contains("ANALYSE INTERROMPUE : RÉSULTATS PARTIELS"));
    if let Some(pdf) = pdf_text(&report::pdf(&engine(), &run).unwrap()) {
        assert!(pdf.contains("Mode laboratoire"), "{pdf}");
        assert!(
            pdf.contains("Analyse interrompue : résultats partiels"),
            "{pdf}"
        );
    }
}

#[test]
fn what_devices_send_is_escaped() {
    let mut run = sample();
    run.hosts[0].services[0].banner = Some("<script>alert('x')</script>".to_owned());
    run.findings[0].evidence = "<img src=x onerror=alert(1)>".to_owned();
    let html = report::html(&run).unwrap();
    // The text is there, but not as markup.
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<img"));
    assert!(html.contains("alert(") && html.contains("onerror=alert(1)"));
    let fragment = report::html_fragment(&run).unwrap();
    assert!(fragment.starts_with("<style>"));
    assert!(fragment.contains("<article class=\"vigie-rapport\">"));
    assert!(!fragment.contains("<html"));
}

#[test]
fn a_clean_network_reads_aucune_vulnerabilite() {
    let html = report::html(&empty()).unwrap();
    assert!(html.contains("Aucune vulnérabilité trouvée."));
    assert!(!html.contains("Critique"));
    let text = report::text(&empty());
    assert!(text.contains("Aucune vulnérabilité trouvée"), "{text}");
    if let Some(pdf) = pdf_text(&report::pdf(&engine(), &empty()).unwrap()) {
        assert!(pdf.contains("Aucune vulnérabilité trouvée"), "{pdf}");
    }
}

/// The engine with Vigie's own branding and templates.
fn engine() -> Engine {
    Engine::built_in()
}

/// What the PDF says it is: PDF/A-2u in its XMP metadata.
fn assert_pdf_a(bytes: &[u8]) {
    assert!(bytes.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.contains("<pdfaid:part>2</pdfaid:part>"),
        "no PDF/A part"
    );
    assert!(
        text.contains("<pdfaid:conformance>U</pdfaid:conformance>"),
        "not PDF/A-2u"
    );
    assert!(text.trim_end().ends_with("%%EOF"));
}

#[test]
fn the_pdf_is_pdf_a_with_the_same_order() {
    let bytes = report::pdf(&engine(), &sample()).unwrap();
    assert_pdf_a(&bytes);
    let Some(text) = pdf_text(&bytes) else { return };
    assert!(
        text.contains("1. Partage de fichiers en SMBv1 (WannaCry)"),
        "{text}"
    );
    assert_increasing(&positions(&text, &reading_order()), "PDF");
    for words in [
        "Critique",
        "Élevée",
        "score CVSS 9,8 sur 10",
        "SECRETARIAT (192.168.1.10), port 445",
        "Pour le prestataire informatique :",
        "Constat :",
        "CVE-2017-0144",
        "Windows 7 Professional",
        "11 vulnérabilités : 2 critiques, 4 élevées, 4 moyennes, 1 faible",
        "Analyse du 12/03/2025 à 09:14 au 12/03/2025 à 11:02",
        "Aucune vulnérabilité trouvée sur cette machine.",
        "page 1 sur ",
    ] {
        assert!(text.contains(words), "{words:?} missing from {text}");
    }
    // The territory heads every page.
    assert!(text.starts_with("Vigie"), "{text}");
}

#[test]
fn the_pdf_survives_long_and_strange_texts() {
    let mut run = sample();
    run.findings[0].evidence = format!("{}\u{7}中文 é", "x".repeat(5000));
    run.hosts[0].names = vec!["名前".to_owned()];
    run.hosts[0].services[0].banner =
        Some("#set page(width: 1cm) $x$ [*gras*] <script>".to_owned());
    for _ in 0..3 {
        run.findings.extend(run.findings.clone());
    }
    let bytes = report::pdf(&engine(), &run).unwrap();
    assert_pdf_a(&bytes);
    let Some(text) = pdf_text(&bytes) else { return };
    assert!(text.contains("page 2 sur "), "several pages expected");
    // What a device sent is printed as it came, never read as markup; what
    // no embedded font can draw becomes « ? ».
    assert!(
        text.contains("#set page(width: 1cm) $x$ [*gras*] <script>"),
        "{text}"
    );
    assert!(text.contains("??"), "{text}");
}

#[test]
fn the_terminal_summary_has_the_counts_and_the_top_ten() {
    let text = report::text(&sample());
    assert!(text.starts_with("Rapport de la sonde réseau — commune 42218\n"));
    assert!(text.contains("4 machines examinées · 11 vulnérabilités : 2 critiques"));
    let titles: Vec<&str> = CHECKS.iter().take(10).map(|check| check.1).collect();
    assert_increasing(&positions(&text, &titles), "summary");
    assert!(text.contains("  1. Partage de fichiers en SMBv1 (WannaCry) [Critique, CVSS 9,8]"));
    assert!(text.contains(" 10. Page d'administration en HTTP non chiffré [Moyenne, CVSS 4,3]"));
    assert!(!text.contains("Ancien chiffrement TLS 1.0"));
}

#[test]
fn the_observatory_titles_the_report_with_the_commune_name() {
    let named = "Rapport de la sonde réseau — Saint-Étienne (42218)";
    let html = report::html_fragment_named(&sample(), Some("Saint-Étienne")).unwrap();
    assert!(html.contains(&format!("<h1>{named}</h1>")), "{html}");
    assert!(html.contains("<td>Saint-Étienne (42218)</td>"), "{html}");
    assert!(!html.contains("commune 42218"));
    // Without a name, the code as the document says it (the CLI's output).
    let unnamed = report::html_fragment_named(&sample(), None).unwrap();
    assert_eq!(unnamed, report::html_fragment(&sample()).unwrap());
    assert!(unnamed.contains("<h1>Rapport de la sonde réseau — commune 42218</h1>"));
    // A name is text, never markup.
    let odd = report::html_fragment_named(&sample(), Some("<b>Ville</b>")).unwrap();
    assert!(
        odd.contains("&#60;b&#62;Ville&#60;/b&#62; (42218)"),
        "{odd}"
    );
    assert!(!odd.contains("<b>Ville"), "{odd}");
    let bytes = report::pdf_named(&engine(), &sample(), Some("Saint-Étienne")).unwrap();
    assert_pdf_a(&bytes);
    if let Some(text) = pdf_text(&bytes) {
        assert!(text.contains(named), "{text}");
        assert!(text.contains("Saint-Étienne (42218)"), "{text}");
    }
}

#[test]
fn severity_labels_and_colours_are_public_for_the_observatory() {
    assert_eq!(report::severity_label(Severity::High), "Élevée");
    assert_eq!(report::severity_colour(Severity::Critical), "#a4161a");
}
