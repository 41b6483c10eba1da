//! What the test compares: the observatory's incidents per (day, category)
//! for the commune against the offline report's daily counts, and, where
//! the box saw every packet and kept every detail, the incidents
//! themselves. Differences are printed as a table a person can read.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Days, Utc};
use serde_json::Value;

use super::observatory::{COMMUNE, Observatory};

/// (day, category) -> (inbound, outbound).
pub type DayCounts = BTreeMap<(String, String), (u64, u64)>;

/// Incidents as a multiset of their description.
pub type IncidentSet = BTreeMap<String, usize>;

/// The offline report's daily counts.
pub fn offline_counts(report: &Value) -> DayCounts {
    let mut counts = DayCounts::new();
    for row in report["daily"].as_array().into_iter().flatten() {
        let count = row["count"].as_u64().unwrap_or(0);
        let outbound = row["outbound"].as_u64().unwrap_or(0);
        add(&mut counts, row, count.saturating_sub(outbound), outbound);
    }
    counts
}

/// The observatory's counts for the commune, from yesterday to tomorrow
/// (UTC): Paris days of the test's run lie in there.
pub fn observatory_counts(observatory: &Observatory) -> Result<DayCounts, String> {
    let today = Utc::now().date_naive();
    let from = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let to = today.checked_add_days(Days::new(1)).unwrap_or(today);
    let rows = observatory.get(&format!(
        "/api/v1/communes/{COMMUNE}/days?from={from}&to={to}"
    ))?;
    let mut counts = DayCounts::new();
    for row in rows.as_array().ok_or("the days are not a JSON array")? {
        let inbound = row["inbound"].as_u64().unwrap_or(0);
        let outbound = row["outbound"].as_u64().unwrap_or(0);
        add(&mut counts, row, inbound, outbound);
    }
    Ok(counts)
}

fn add(counts: &mut DayCounts, row: &Value, inbound: u64, outbound: u64) {
    if inbound + outbound == 0 {
        return;
    }
    let day = row["day"].as_str().unwrap_or("?").to_owned();
    let category = row["category"].as_str().unwrap_or("?").to_owned();
    let slot = counts.entry((day, category)).or_default();
    slot.0 += inbound;
    slot.1 += outbound;
}

/// A table of the (day, category) rows where the two differ; None if equal.
pub fn diff_counts(observatory: &DayCounts, offline: &DayCounts) -> Option<String> {
    if observatory == offline {
        return None;
    }
    let mut text =
        String::from("day         category         observatory (in/out)   offline (in/out)\n");
    let keys: std::collections::BTreeSet<_> = observatory.keys().chain(offline.keys()).collect();
    for key in keys {
        let got = observatory.get(key).copied().unwrap_or_default();
        let want = offline.get(key).copied().unwrap_or_default();
        let mark = if got == want { " " } else { "≠" };
        let _ = writeln!(
            text,
            "{mark} {:<10} {:<16} {:>6}/{:<6}            {:>6}/{:<6}",
            key.0, key.1, got.0, got.1, want.0, want.1
        );
    }
    Some(text)
}

pub fn describe_counts(counts: &DayCounts) -> String {
    counts
        .iter()
        .map(|((day, category), (inbound, outbound))| {
            format!("{day} {category} {inbound}/{outbound}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What identifies an incident on both sides. Not the times: the API
/// gives milliseconds, the report nanoseconds.
fn describe_incident(incident: &Value) -> String {
    let text = |key: &str| match &incident[key] {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!(
        "{} {} {} from {} port {} events {}",
        text("direction"),
        text("category"),
        text("rule"),
        text("source"),
        text("target_port"),
        text("events")
    )
}

fn collect<'a>(incidents: impl Iterator<Item = &'a Value>) -> IncidentSet {
    let mut set = IncidentSet::new();
    for incident in incidents {
        *set.entry(describe_incident(incident)).or_default() += 1;
    }
    set
}

/// The incidents of one category.
pub fn of_category(set: IncidentSet, category: &str) -> IncidentSet {
    set.into_iter()
        .filter(|(key, _)| key.split(' ').nth(1) == Some(category))
        .collect()
}

pub fn offline_incidents(report: &Value) -> IncidentSet {
    collect(report["incidents"].as_array().into_iter().flatten())
}

/// The observatory's incidents of the commune on the days of `counts`.
pub fn observatory_incidents(
    observatory: &Observatory,
    counts: &DayCounts,
) -> Result<IncidentSet, String> {
    let days: std::collections::BTreeSet<&String> = counts.keys().map(|(day, _)| day).collect();
    let mut all = Vec::new();
    for day in days {
        let list = observatory.get(&format!("/api/v1/communes/{COMMUNE}/incidents?day={day}"))?;
        all.extend(list.as_array().cloned().unwrap_or_default());
    }
    Ok(collect(all.iter()))
}

/// The incidents found on one side only (with their multiplicity).
pub fn diff_incidents(observatory: &IncidentSet, offline: &IncidentSet) -> Option<String> {
    if observatory == offline {
        return None;
    }
    let mut text = String::new();
    let keys: std::collections::BTreeSet<_> = observatory.keys().chain(offline.keys()).collect();
    for key in keys {
        let got = observatory.get(key).copied().unwrap_or(0);
        let want = offline.get(key).copied().unwrap_or(0);
        if got != want {
            let _ = writeln!(text, "  {key}: observatory {got}, offline {want}");
        }
    }
    Some(text)
}
