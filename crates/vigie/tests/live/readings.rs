//! What the lists' and filter mode's tests read of the box: whether an
//! address of the attacker's namespace reaches the town hall through the
//! router, the box's nftables set in the router's namespace, its last
//! heartbeat as the observatory stored it, and what the observatory holds
//! of reputation incidents and blocked addresses.
//!
//! It only reads: it changes neither the lab's firewall nor the database.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use vigie_core::ListVersion;

use super::counts::observatory_counts;
use super::lab::{Lab, progress, wait_until};
use super::observatory::{COMMUNE, Observatory};
use super::sensor::Sensor;

/// The box's nftables table (the configuration's default).
pub const TABLE: [&str; 2] = ["inet", "vigie"];

/// One TCP connection from `source` (an address of the attacker's
/// namespace) to the town hall's web server, routed through the router:
/// true when the page came back.
pub fn connects(lab: &Lab, source: &str) -> bool {
    let url = format!("http://{}/", lab.fact("VIC_IP"));
    let args = [
        "-s",
        "-o",
        "/dev/null",
        "--connect-timeout",
        "3",
        "--max-time",
        "5",
        "--interface",
        source,
        &url,
    ];
    lab.run(lab.ns_att(), 15, "curl", &args).0
}

/// The box's last heartbeat as the observatory stored it.
#[derive(Debug)]
pub struct Beat {
    pub mode: String,
    /// Unix milliseconds: changes when the process restarts.
    pub started_at: i64,
    pub kernel_drops: i64,
    pub blocked_now: i64,
    pub lists: Vec<(String, String)>,
}

/// The box's last heartbeat; `None` before its first.
pub fn heartbeat(observatory: &Observatory) -> Option<Beat> {
    // One row read at once: a heartbeat arriving meanwhile cannot mix two.
    let row: String = observatory.value(
        "SELECT COALESCE((SELECT mode || '|' || started_at || '|' || kernel_drops || '|' \
         || blocked_now || '|' || lists FROM sensor_heartbeats), '')",
    );
    let mut fields = row.splitn(5, '|');
    let mode = fields.next().filter(|m| !m.is_empty())?.to_owned();
    let mut number = || fields.next().and_then(|n| n.parse::<i64>().ok());
    let (started_at, kernel_drops, blocked_now) = (number()?, number()?, number()?);
    let lists: Vec<ListVersion> = serde_json::from_str(fields.next()?).ok()?;
    Some(Beat {
        mode,
        started_at,
        kernel_drops,
        blocked_now,
        lists: lists.into_iter().map(|l| (l.name, l.version)).collect(),
    })
}

/// Waits until the box's heartbeat satisfies `ready`; the last one seen.
pub fn wait_heartbeat(
    observatory: &Observatory,
    sensor: &Sensor,
    what: &str,
    mut ready: impl FnMut(&Beat) -> bool,
) -> Beat {
    let mut last = None;
    let seen = wait_until(what, Duration::from_secs(60), || {
        last = heartbeat(observatory);
        last.as_ref().is_some_and(&mut ready)
    });
    assert!(
        seen,
        "never saw {what}; last heartbeat: {last:?}\n{}\n{}",
        sensor.log_tail(),
        observatory.log_tail()
    );
    last.expect("a heartbeat")
}

/// Waits until the heartbeat names exactly `lists` (name, version).
pub fn wait_lists(observatory: &Observatory, sensor: &Sensor, lists: &[(&str, &str)]) -> Beat {
    let want: Vec<(String, String)> = lists
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    let what = format!("the box to load {lists:?}");
    let beat = wait_heartbeat(observatory, sensor, &what, |beat| beat.lists == want);
    progress(&format!("heartbeat: the box holds {lists:?}"));
    beat
}

/// The reputation incidents the observatory holds for the commune, as
/// (source, list), sorted.
pub fn reputation_incidents(observatory: &Observatory) -> Result<Vec<(String, String)>, String> {
    let counts = observatory_counts(observatory)?;
    let days: BTreeSet<&String> = counts
        .keys()
        .filter(|(_, category)| category == "reputation")
        .map(|(day, _)| day)
        .collect();
    let mut found = Vec::new();
    for day in days {
        let list = observatory.get(&format!("/api/v1/communes/{COMMUNE}/incidents?day={day}"))?;
        for incident in list.as_array().into_iter().flatten() {
            if incident["category"] == "reputation" {
                let text = |key: &str| incident[key].as_str().unwrap_or("-").to_owned();
                found.push((text("source"), text("label")));
            }
        }
    }
    let counted: u64 = counts
        .iter()
        .filter(|((_, category), _)| category == "reputation")
        .map(|(_, (inbound, outbound))| inbound + outbound)
        .sum();
    if counted != found.len() as u64 {
        return Err(format!(
            "{counted} reputation incidents counted, {} listed",
            found.len()
        ));
    }
    found.sort();
    Ok(found)
}

/// The IPv4 addresses in the box's nftables set, in the router's namespace.
pub fn blocked_set(lab: &Lab) -> Vec<String> {
    let (ok, out) = lab.run(
        lab.ns_rtr(),
        10,
        "nft",
        &["-j", "list", "set", TABLE[0], TABLE[1], "blocked_v4"],
    );
    assert!(ok, "nft cannot list the box's set: {out}");
    let json: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("nft's answer is not JSON ({e}): {out}"));
    let set = json["nftables"]
        .as_array()
        .and_then(|items| items.iter().find_map(|item| item.get("set")))
        .unwrap_or_else(|| panic!("no set in nft's answer: {out}"));
    let mut addresses: Vec<String> = set["elem"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|elem| {
            // An element with a timeout is an object, a bare one a string.
            elem.as_str()
                .or_else(|| elem["elem"]["val"].as_str())
                .map(str::to_owned)
        })
        .collect();
    addresses.sort();
    addresses
}

/// Addresses the observatory counts as blocked for reputation today
/// (Europe/Paris), in `blocked_counts`.
pub fn blocked_for_reputation_today(observatory: &Observatory) -> i64 {
    let day = vigie_core::local_day(Utc::now());
    observatory.scalar(&format!(
        "SELECT COALESCE(SUM(addresses), 0) FROM blocked_counts \
         WHERE commune = '{COMMUNE}' AND category = 'reputation' AND day = '{day}'"
    ))
}
