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
        "{:>13} {:>11} {:>11} {:>11} {:>8} {:>7} {:>9}",
        "débit demandé", "obtenu Mb/s", "envoyés", "vus", "pertes", "CPU %", "RSS (Mo)"
    );
}

pub fn print_row(row: &Row) {
    println!(
        "{:>13} {:>11.0} {:>11} {:>11} {:>8} {:>7.0} {:>9}",
        row.rate.label(),
        row.sent.mbps,
        row.sent.packets,
        row.seen,
        row.kernel_drops,
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
    let describe = |rows: &[Row]| match best(rows) {
        Some(row) => {
            let ceiling = if rows.iter().all(Row::clean) {
                " (plafond du rejeu, aucune perte)"
            } else {
                ""
            };
            format!(
                "{:.0} Mbit/s, {:.0} paquets/s{ceiling}",
                row.sent.mbps,
                row.sent.packets as f64 / row.sent.seconds.max(1e-9)
            )
        }
        None => "aucun (pertes dès le premier débit)".to_owned(),
    };
    println!(
        "plus haut débit sans perte, tcpdump : {}",
        describe(reference)
    );
    let Some(sensor) = sensor else {
        return;
    };
    println!("plus haut débit sans perte, vigie   : {}", describe(sensor));
    if let (Some(ours), Some(theirs)) = (best(sensor), best(reference)) {
        println!(
            "rapport vigie / tcpdump : {:.2} ; CPU de vigie : {:.2} s par Gbit ({:.0} % d'un cœur), \
             tcpdump : {:.2} s par Gbit",
            ours.sent.mbps / theirs.sent.mbps,
            cpu_per_gbit(ours),
            cpu_percent(ours),
            cpu_per_gbit(theirs)
        );
    }
    if let Some(memory) = memory {
        println!(
            "mémoire de vigie avec une liste de {entries} entrées : {} Mo au repos, \
             pic {} Mo (VmHWM, objectif < 128 Mo)",
            memory.rest_kib / 1024,
            memory.peak_kib / 1024
        );
        if let (Some(ours), Some(theirs)) = (best(sensor), best(reference)) {
            println!(
                "\npour le README :\n{}",
                readme_row(ours, theirs, memory, entries)
            );
        }
    }
}

/// The line of the README's table of measures (in English, like the README).
fn readme_row(ours: &Row, theirs: &Row, memory: Memory, entries: u32) -> String {
    format!(
        "| live sensor (`vigie sensor --config`, {entries}-entry threat list from its observatory), \
         mixed traffic replayed by tcpreplay onto a veth at increasing rates, vs `tcpdump -w /dev/null` \
         on the same interface | `sudo vigie bench live` | highest rate with zero kernel drops \
         **{:.0} Mbit/s** ({:.0} packets/s), tcpdump {:.0} Mbit/s: **ratio {:.2}**; \
         CPU {:.2} s per Gbit ({:.0} % of a core at that rate); RSS {} MB at rest, \
         **peak {} MB** (target < 128 MB) |",
        ours.sent.mbps,
        ours.sent.packets as f64 / ours.sent.seconds.max(1e-9),
        theirs.sent.mbps,
        ours.sent.mbps / theirs.sent.mbps,
        cpu_per_gbit(ours),
        cpu_percent(ours),
        memory.rest_kib / 1024,
        memory.peak_kib / 1024
    )
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
}
