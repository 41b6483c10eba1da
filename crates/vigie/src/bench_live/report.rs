//! What `vigie bench live` prints: a table per capture (one line per
//! rate), then the summary and the line for the README.
//!
//! It must not measure anything: it only formats the rows it is given.

use super::Row;

/// The sensor's memory: at rest with the list loaded, and at its peak.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub rest_kib: u64,
    pub peak_kib: u64,
}

pub fn print_header() {
    println!(
        "{:>13} {:>11} {:>11} {:>11} {:>12} {:>11} {:>6} {:>8}",
        "débit demandé",
        "obtenu Mb/s",
        "envoyés",
        "lus",
        "pertes noyau",
        "pertes veth",
        "CPU %",
        "RSS (Mo)"
    );
}

pub fn print_row(row: &Row) {
    println!(
        "{:>13} {:>11.0} {:>11} {:>11} {:>12} {:>11} {:>6.0} {:>8}",
        row.rate.label(),
        row.sent.mbps,
        row.sent.packets,
        row.seen,
        row.kernel_drops,
        row.veth_drops,
        cpu_percent(row),
        row.rss_kib / 1024
    );
}

/// The highest rate reached with nothing lost, and the row that reached it.
fn best(rows: &[Row]) -> Option<&Row> {
    rows.iter()
        .take_while(|row| row.clean())
        .max_by(|a, b| a.sent.mbps.total_cmp(&b.sent.mbps))
}

pub fn summary(reference: &[Row], sensor: Option<&[Row]>, memory: Option<Memory>, entries: u32) {
    println!();
    println!(
        "plus haut débit sans perte, tcpdump : {}",
        describe(reference)
    );
    let Some(sensor) = sensor else {
        return;
    };
    println!("plus haut débit sans perte, vigie   : {}", describe(sensor));
    let (Some(ours), Some(theirs)) = (best(sensor), best(reference)) else {
        return;
    };
    println!(
        "rapport des débits vigie / tcpdump : {}",
        rate_ratio(sensor, reference)
    );
    println!(
        "CPU par Gbit : vigie {:.3} s ({:.0} % d'un cœur à {:.0} Mbit/s), tcpdump {:.3} s : \
         rapport {:.2} (hors travail du noyau, compté à l'émetteur)",
        cpu_per_gbit(ours),
        cpu_percent(ours),
        ours.sent.mbps,
        cpu_per_gbit(theirs),
        cpu_per_gbit(ours) / cpu_per_gbit(theirs).max(1e-9)
    );
    if let Some(memory) = memory {
        println!(
            "mémoire de vigie avec une liste de {entries} entrées : {} Mo au repos, \
             pic {} Mo (VmHWM, objectif < 128 Mo)",
            memory.rest_kib / 1024,
            memory.peak_kib / 1024
        );
        println!(
            "\npour le README :\n{}",
            readme_row(sensor, reference, memory, entries)
        );
    }
}

/// The highest rate with nothing lost, or why there is none.
fn describe(rows: &[Row]) -> String {
    match best(rows) {
        Some(row) => format!(
            "{:.0} Mbit/s, {:.0} paquets/s{}",
            row.sent.mbps,
            packets_per_sec(row),
            if at_ceiling(rows) {
                " (plafond du rejeu : aucune perte à aucun débit)"
            } else {
                ""
            }
        ),
        None => "aucun (pertes dès le premier débit)".to_owned(),
    }
}

/// The ratio of the highest rates, said as what it is: a capture that
/// lost nothing up to the replay's ceiling was not pushed to its limit.
fn rate_ratio(sensor: &[Row], reference: &[Row]) -> String {
    let (Some(ours), Some(theirs)) = (best(sensor), best(reference)) else {
        return "non mesurable".to_owned();
    };
    let ratio = ours.sent.mbps / theirs.sent.mbps.max(1e-9);
    match (at_ceiling(sensor), at_ceiling(reference)) {
        (true, true) => format!(
            "non mesurable ici ({ratio:.2} entre les plafonds du rejeu) : \
             aucune des deux captures n'a perdu de paquet"
        ),
        (true, false) => format!("≥ {ratio:.2} (vigie n'a perdu aucun paquet)"),
        (false, true) => format!("≤ {ratio:.2} (tcpdump n'a perdu aucun paquet)"),
        (false, false) => format!("{ratio:.2}"),
    }
}

/// Whether no rate lost anything: the replay, not the capture, set the limit.
fn at_ceiling(rows: &[Row]) -> bool {
    !rows.is_empty() && rows.iter().all(Row::clean)
}

/// The line of the README's table of measures (in English, like the README).
fn readme_row(sensor: &[Row], reference: &[Row], memory: Memory, entries: u32) -> String {
    let (Some(ours), Some(theirs)) = (best(sensor), best(reference)) else {
        return String::new();
    };
    let ceiling = |rows: &[Row]| {
        if at_ceiling(rows) {
            "no kernel drop at any rate up to the replay's ceiling, "
        } else {
            "highest rate with zero kernel drops "
        }
    };
    format!(
        "| live sensor (`vigie sensor --config`, {}-entry threat list from its \
         observatory), mixed traffic replayed by tcpreplay onto a veth at increasing rates, vs \
         `tcpdump -w /dev/null` on the same interface | `sudo vigie bench live` | {}**{:.0} Mbit/s** \
         ({} packets/s); tcpdump: {}{:.0} Mbit/s; CPU **{:.3} s per Gbit** ({:.0} % of a core \
         at that rate), tcpdump {:.3} s: ratio {:.2}; RSS {} MB at rest, **peak {} MB** \
         (target < 128 MB) |",
        thousands(u64::from(entries)),
        ceiling(sensor),
        ours.sent.mbps,
        thousands(packets_per_sec(ours).round() as u64),
        ceiling(reference),
        theirs.sent.mbps,
        cpu_per_gbit(ours),
        cpu_percent(ours),
        cpu_per_gbit(theirs),
        cpu_per_gbit(ours) / cpu_per_gbit(theirs).max(1e-9),
        memory.rest_kib / 1024,
        memory.peak_kib / 1024
    )
}

/// `1234567` as `1,234,567`, the README's way.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn packets_per_sec(row: &Row) -> f64 {
    row.sent.packets as f64 / row.sent.seconds.max(1e-9)
}

fn cpu_percent(row: &Row) -> f64 {
    100.0 * row.cpu_secs / row.sent.seconds.max(1e-9)
}

fn cpu_per_gbit(row: &Row) -> f64 {
    row.cpu_secs / (row.sent.bytes as f64 * 8.0 / 1e9).max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::super::tests::row;
    use super::*;

    #[test]
    fn the_best_rate_is_the_last_clean_one() {
        let rows = [
            row(250.0, 100, 100, 0),
            row(498.0, 200, 200, 0),
            row(990.0, 400, 390, 3),
        ];
        assert_eq!(best(&rows).map(|r| r.sent.mbps), Some(498.0));
        // A packet missing without a kernel drop is a loss too.
        let rows = [row(250.0, 100, 99, 0)];
        assert!(best(&rows).is_none());
    }

    #[test]
    fn cpu_figures() {
        let r = row(560.0, 1_000_000, 1_000_000, 0);
        assert!((cpu_percent(&r) - 20.0).abs() < 1e-9);
        // 700 MB = 5.6 Gbit for 2 s of CPU.
        assert!((cpu_per_gbit(&r) - 2.0 / 5.6).abs() < 1e-9);
    }

    #[test]
    fn the_ratio_says_when_the_replay_was_the_limit() {
        let clean = [row(250.0, 100, 100, 0), row(1000.0, 400, 400, 0)];
        let lossy = [row(250.0, 100, 100, 0), row(1000.0, 400, 380, 20)];
        assert!(rate_ratio(&clean, &clean).starts_with("non mesurable ici (1.00"));
        assert_eq!(
            rate_ratio(&clean, &lossy),
            "≥ 4.00 (vigie n'a perdu aucun paquet)"
        );
        assert_eq!(
            rate_ratio(&lossy, &clean),
            "≤ 0.25 (tcpdump n'a perdu aucun paquet)"
        );
        assert_eq!(rate_ratio(&lossy, &lossy), "1.00");
        assert_eq!(rate_ratio(&lossy[1..], &clean), "non mesurable");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(255_947), "255,947");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
