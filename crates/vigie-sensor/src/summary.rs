//! The report told to a person, in French: what was analysed, how many
//! attacks of each kind, and the most serious ones first.

use std::fmt::Write as _;

use vigie_core::{Category, Direction, Incident, LOCAL_TZ, Report};

/// How many incidents the detail table lists, most serious first.
const DETAIL_ROWS: usize = 25;

/// Renders `report` as a plain-text French summary; `origin` names what was
/// analysed (a capture file).
pub fn render(report: &Report, origin: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Vigie — analyse de {origin}");
    let _ = writeln!(
        out,
        "Paquets analysés : {} ({}), illisibles : {}",
        thousands(report.packets),
        bytes_fr(report.bytes),
        thousands(report.malformed)
    );
    if let (Some(first), Some(last)) = (report.first_seen, report.last_seen) {
        let fmt = "%d/%m/%Y %H:%M:%S";
        let _ = writeln!(
            out,
            "Période : du {} au {} (heure de Paris)",
            first.with_timezone(&LOCAL_TZ).format(fmt),
            last.with_timezone(&LOCAL_TZ).format(fmt)
        );
    }
    let _ = writeln!(out);
    if report.incidents.is_empty() {
        let _ = writeln!(out, "Aucune attaque qualifiée.");
        return out;
    }
    let _ = writeln!(
        out,
        "Attaques qualifiées : {}",
        thousands(report.incidents.len() as u64)
    );
    let _ = writeln!(
        out,
        "{:<32} {:>9} {:>9} {:>12}",
        "Catégorie", "Entrantes", "Sortantes", "Événements"
    );
    for category in Category::ALL {
        let of_kind: Vec<&Incident> = report
            .incidents
            .iter()
            .filter(|i| i.category == category)
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        let outbound = of_kind
            .iter()
            .filter(|i| i.direction == Direction::Outbound)
            .count();
        let events: u64 = of_kind.iter().map(|i| i.events).sum();
        let _ = writeln!(
            out,
            "{:<32} {:>9} {:>9} {:>12}",
            category.label_fr(),
            of_kind.len() - outbound,
            outbound,
            thousands(events)
        );
    }
    if report
        .incidents
        .iter()
        .any(|i| i.direction == Direction::Outbound)
    {
        let _ = writeln!(
            out,
            "\nATTENTION : une machine de la commune a contacté une adresse malveillante \
             ou a un comportement suspect (« Sortantes ») : elle est peut-être compromise."
        );
    }
    let mut serious: Vec<&Incident> = report.incidents.iter().collect();
    serious.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.events.cmp(&a.events)));
    let _ = writeln!(out, "\nLes plus graves :");
    let _ = writeln!(
        out,
        "{:<9} {:<24} {:<39} {:<9} {:>10}  Début (Paris)",
        "Gravité", "Règle", "Source", "Service", "Événements"
    );
    for incident in serious.iter().take(DETAIL_ROWS) {
        let source = match (&incident.source, &incident.internal_host) {
            (Some(ip), _) => ip.to_string(),
            (None, Some(host)) => format!("machine {host}"),
            (None, None) => "sources multiples".to_owned(),
        };
        let service = match (&incident.service, incident.target_port) {
            (Some(name), _) => name.clone(),
            (None, Some(port)) => port.to_string(),
            (None, None) => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<9} {:<24} {:<39} {:<9} {:>10}  {}",
            incident.severity.label_fr(),
            incident.rule,
            source,
            service,
            thousands(incident.events),
            incident
                .first_seen
                .with_timezone(&LOCAL_TZ)
                .format("%d/%m %H:%M:%S")
        );
    }
    if serious.len() > DETAIL_ROWS {
        let _ = writeln!(
            out,
            "… et {} autres (détail complet : --format json)",
            serious.len() - DETAIL_ROWS
        );
    }
    out
}

/// `1234567` → `1 234 567` (French grouping, with a narrow no-break space).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

fn bytes_fr(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["o", "Ko", "Mo", "Go", "To"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} o")
    } else {
        format!("{value:.1} {}", UNITS[unit]).replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1\u{202f}000");
        assert_eq!(thousands(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(bytes_fr(512), "512 o");
        assert_eq!(bytes_fr(2_500_000), "2,5 Mo");
    }

    #[test]
    fn empty_report_says_so() {
        let text = render(&Report::empty(), "test.pcap");
        assert!(text.contains("Aucune attaque qualifiée"), "{text}");
    }
}
