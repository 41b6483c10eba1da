//! The `vigie.report/1` wire format: what a sensor tells the observatory.
//!
//! It is the only thing that ever leaves a commune's box, so it carries
//! counts, categories, the *external* party's address and the targeted
//! service, and nothing else: no payload, no URI, no header, no internal
//! address (a keyed hash where an internal host must be told apart), no
//! domain unless it is on a threat list. `docs/report-schema.md` documents
//! every field; change both together and bump the schema for breaking changes.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The schema identifier carried by every report.
pub const REPORT_SCHEMA: &str = "vigie.report/1";

/// Upper bounds a receiver enforces on one report, so one batch cannot
/// exhaust the observatory. A sensor splits larger batches.
pub const MAX_INCIDENTS: usize = 100_000;
pub const MAX_DAILY: usize = 10_000;
pub const MAX_RULE_LEN: usize = 64;
pub const MAX_LABEL_LEN: usize = 128;
pub const MAX_INDICATOR_LEN: usize = 253; // RFC 1035 §2.3.4: longest domain name
pub const MAX_HOST_HASH_LEN: usize = 64;

/// The most packets a box can see in one batch's period: a saturated
/// 10 Gbit/s link carries 14.9 million minimal frames a second, so 2^48
/// is more than six months of it, and far above a one-minute batch. A
/// count above what a box can see is a forgery or a bug; refused, it
/// cannot wrap a sum or fake a commune's weather (issue 14).
pub const MAX_PACKETS: u64 = 1 << 48;
/// The most bytes: 2^56 is more than two years of a saturated 10 Gbit/s link.
pub const MAX_BYTES: u64 = 1 << 56;
/// The most events one incident can count (each is at least a packet).
pub const MAX_EVENTS: u64 = MAX_PACKETS;
/// The most incidents whose detail a spool dropped, and the most addresses
/// a filter blocked, in one batch: a spool of a few hundred MiB holds far
/// fewer incidents, and a filter's set far fewer addresses.
pub const MAX_DROPPED: u64 = 1 << 32;
pub const MAX_BLOCKED: u64 = 1 << 32;

/// What kind of attack an incident is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Scan,
    Sweep,
    BruteForce,
    WebExploit,
    Flood,
    Reputation,
    SuspiciousDns,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Scan,
        Category::Sweep,
        Category::BruteForce,
        Category::WebExploit,
        Category::Flood,
        Category::Reputation,
        Category::SuspiciousDns,
    ];

    /// The wire name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Scan => "scan",
            Category::Sweep => "sweep",
            Category::BruteForce => "brute_force",
            Category::WebExploit => "web_exploit",
            Category::Flood => "flood",
            Category::Reputation => "reputation",
            Category::SuspiciousDns => "suspicious_dns",
        }
    }

    /// What a mayor reads.
    pub fn label_fr(self) -> &'static str {
        match self {
            Category::Scan => "Balayage de ports",
            Category::Sweep => "Recherche de machines",
            Category::BruteForce => "Essais de mots de passe",
            Category::WebExploit => "Attaque de site web",
            Category::Flood => "Inondation (déni de service)",
            Category::Reputation => "Adresse malveillante connue",
            Category::SuspiciousDns => "Requêtes DNS suspectes",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Severity::Low => "faible",
            Severity::Medium => "moyenne",
            Severity::High => "élevée",
            Severity::Critical => "critique",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity {other:?} (expected low, medium, high or critical)"
            )),
        }
    }
}

/// Which way the attack goes relative to the commune.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From outside towards the commune.
    Inbound,
    /// From a machine of the commune towards outside: the serious case, it
    /// can mean a compromised machine.
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// One qualified attack: one scan of 1,000 ports is one incident whose
/// `events` is 1,000.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub category: Category,
    /// The detector rule that qualified it, e.g. `scan.syn`, `web.log4shell`.
    pub rule: String,
    /// The threat list's label for `reputation` incidents, else null.
    pub label: Option<String>,
    pub severity: Severity,
    /// The external party's address; null when there is none to tell (a
    /// flood from many spoofed sources, a DNS pattern seen on an internal
    /// resolver).
    pub source: Option<IpAddr>,
    pub direction: Direction,
    pub target_port: Option<u16>,
    pub service: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Probes, attempts, requests, packets or queries, by category (see the
    /// schema documentation).
    pub events: u64,
    /// The listed domain that matched, for `reputation` incidents on a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// A keyed hash telling apart the commune machine involved in an
    /// outbound incident, never its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_host: Option<String>,
}

/// Incidents of one category that started on one Europe/Paris local day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    pub day: NaiveDate,
    pub category: Category,
    /// All incidents of that category that day.
    pub count: u64,
    /// The part of `count` that is outbound.
    #[serde(default)]
    pub outbound: u64,
}

/// One report: what a sensor saw over a period (a capture file, or one
/// batch of a live sensor, which adds its sequence number).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    /// Batch sequence number of a live sensor; absent for an offline analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub packets: u64,
    pub bytes: u64,
    /// Packets that could not be decoded and were skipped.
    #[serde(default)]
    pub malformed: u64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub incidents: Vec<Incident>,
    pub daily: Vec<DailyCount>,
    /// Incidents whose detail a live sensor dropped because its spool was
    /// full; they are still counted in `daily`, which is then the reference.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
    /// Addresses a sensor in filter mode started blocking, per day and the
    /// category of the attack that got them blocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<BlockedCount>,
    /// Attacks a sensor in filter mode blocked on one day because their
    /// source was already on the territory list (issue 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defended: Vec<DefendedCount>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Remote addresses a filtering sensor blocked on one Europe/Paris day
/// because of attacks of one category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedCount {
    pub day: NaiveDate,
    pub category: Category,
    pub addresses: u64,
}

/// Attacks a filtering sensor blocked on one Europe/Paris day thanks to
/// the other communes: incidents whose source the territory list already
/// held when they opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefendedCount {
    pub day: NaiveDate,
    pub attacks: u64,
}

/// Why a received report is refused; the message says what and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("schema is {found:?}, expected {REPORT_SCHEMA:?}")]
    Schema { found: String },
    #[error("{what}: {count} entries, at most {max} allowed in one report")]
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("incidents[{index}]: {problem}")]
    Incident { index: usize, problem: String },
    #[error("daily[{index}]: {problem}")]
    Daily { index: usize, problem: String },
    #[error("first_seen is after last_seen")]
    Period,
    #[error("{field} is {value}, more than a sensor can see in one batch (at most {max})")]
    TooLarge { field: String, value: u64, max: u64 },
}

impl Report {
    /// An empty report of the current schema.
    pub fn empty() -> Self {
        Report {
            schema: REPORT_SCHEMA.to_owned(),
            seq: None,
            packets: 0,
            bytes: 0,
            malformed: 0,
            first_seen: None,
            last_seen: None,
            incidents: Vec::new(),
            daily: Vec::new(),
            dropped: 0,
            blocked: Vec::new(),
            defended: Vec::new(),
        }
    }

    /// Checks what serde cannot: sizes, orderings, bounds. A receiver calls
    /// it before storing anything.
    pub fn validate(&self) -> Result<(), ReportError> {
        if self.schema != REPORT_SCHEMA {
            return Err(ReportError::Schema {
                found: self.schema.clone(),
            });
        }
        if self.incidents.len() > MAX_INCIDENTS {
            return Err(ReportError::TooMany {
                what: "incidents",
                count: self.incidents.len(),
                max: MAX_INCIDENTS,
            });
        }
        if self.daily.len() > MAX_DAILY {
            return Err(ReportError::TooMany {
                what: "daily",
                count: self.daily.len(),
                max: MAX_DAILY,
            });
        }
        if self.blocked.len() > MAX_DAILY {
            return Err(ReportError::TooMany {
                what: "blocked",
                count: self.blocked.len(),
                max: MAX_DAILY,
            });
        }
        if self.defended.len() > MAX_DAILY {
            return Err(ReportError::TooMany {
                what: "defended",
                count: self.defended.len(),
                max: MAX_DAILY,
            });
        }
        for (index, defended) in self.defended.iter().enumerate() {
            bounded(
                format!("defended[{index}].attacks"),
                defended.attacks,
                MAX_BLOCKED,
            )?;
        }
        if let (Some(first), Some(last)) = (self.first_seen, self.last_seen)
            && first > last
        {
            return Err(ReportError::Period);
        }
        for (field, value, max) in [
            ("packets", self.packets, MAX_PACKETS),
            ("bytes", self.bytes, MAX_BYTES),
            ("malformed", self.malformed, MAX_PACKETS),
            ("dropped", self.dropped, MAX_DROPPED),
        ] {
            bounded(field.to_owned(), value, max)?;
        }
        for (index, blocked) in self.blocked.iter().enumerate() {
            bounded(
                format!("blocked[{index}].addresses"),
                blocked.addresses,
                MAX_BLOCKED,
            )?;
        }
        for (index, incident) in self.incidents.iter().enumerate() {
            bounded(
                format!("incidents[{index}].events"),
                incident.events,
                MAX_EVENTS,
            )?;
            incident
                .check()
                .map_err(|problem| ReportError::Incident { index, problem })?;
        }
        // A day's counts cover at most the batch's incidents and dropped ones.
        let max_daily = MAX_INCIDENTS as u64 + MAX_DROPPED;
        for (index, daily) in self.daily.iter().enumerate() {
            bounded(format!("daily[{index}].count"), daily.count, max_daily)?;
            if daily.outbound > daily.count {
                return Err(ReportError::Daily {
                    index,
                    problem: format!(
                        "outbound ({}) is larger than count ({})",
                        daily.outbound, daily.count
                    ),
                });
            }
        }
        Ok(())
    }
}

fn bounded(field: String, value: u64, max: u64) -> Result<(), ReportError> {
    if value > max {
        Err(ReportError::TooLarge { field, value, max })
    } else {
        Ok(())
    }
}

impl Incident {
    fn check(&self) -> Result<(), String> {
        if self.rule.is_empty() || self.rule.len() > MAX_RULE_LEN {
            return Err(format!(
                "rule must have 1 to {MAX_RULE_LEN} characters, it has {}",
                self.rule.len()
            ));
        }
        if !self.rule.starts_with(rule_prefix(self.category)) {
            return Err(format!(
                "rule {:?} does not belong to category {}",
                self.rule, self.category
            ));
        }
        check_len("label", self.label.as_deref(), MAX_LABEL_LEN)?;
        check_len("indicator", self.indicator.as_deref(), MAX_INDICATOR_LEN)?;
        check_len(
            "internal_host",
            self.internal_host.as_deref(),
            MAX_HOST_HASH_LEN,
        )?;
        if self.first_seen > self.last_seen {
            return Err("first_seen is after last_seen".to_owned());
        }
        if self.events == 0 {
            return Err("events must be at least 1".to_owned());
        }
        Ok(())
    }
}

/// Every rule name starts with its category's family, so a report cannot
/// file a `web.sqli` under `flood`.
pub fn rule_prefix(category: Category) -> &'static str {
    match category {
        Category::Scan => "scan.",
        Category::Sweep => "sweep.",
        Category::BruteForce => "brute_force.",
        Category::WebExploit => "web.",
        Category::Flood => "flood.",
        Category::Reputation => "reputation.",
        Category::SuspiciousDns => "dns.",
    }
}

fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    match value {
        Some(v) if v.len() > max => Err(format!(
            "{field} has {} characters, at most {max} allowed",
            v.len()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> Incident {
        Incident {
            category: Category::Scan,
            rule: "scan.syn".into(),
            label: None,
            severity: Severity::Medium,
            source: Some("203.0.113.9".parse().unwrap()),
            direction: Direction::Inbound,
            target_port: None,
            service: None,
            first_seen: "2026-11-22T08:00:00Z".parse().unwrap(),
            last_seen: "2026-11-22T08:01:00Z".parse().unwrap(),
            events: 1000,
            indicator: None,
            internal_host: None,
        }
    }

    #[test]
    fn wire_shape_is_the_documented_one() {
        let mut report = Report::empty();
        report.incidents.push(incident());
        report.daily.push(DailyCount {
            day: "2026-11-22".parse().unwrap(),
            category: Category::Scan,
            count: 1,
            outbound: 0,
        });
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["schema"], "vigie.report/1");
        assert_eq!(json["incidents"][0]["category"], "scan");
        assert_eq!(json["incidents"][0]["label"], serde_json::Value::Null);
        assert_eq!(json["incidents"][0]["first_seen"], "2026-11-22T08:00:00Z");
        assert_eq!(json["incidents"][0]["direction"], "inbound");
        assert!(json["incidents"][0].get("indicator").is_none());
        assert_eq!(json["daily"][0]["day"], "2026-11-22");
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
        back.validate().unwrap();
    }

    #[test]
    fn validation_says_what_is_wrong_and_where() {
        let mut report = Report::empty();
        report.incidents.push(incident());
        report.incidents.push(Incident {
            events: 0,
            ..incident()
        });
        assert_eq!(
            report.validate().unwrap_err().to_string(),
            "incidents[1]: events must be at least 1"
        );
        report.incidents[1] = Incident {
            rule: "web.sqli".into(),
            ..incident()
        };
        assert!(
            report
                .validate()
                .unwrap_err()
                .to_string()
                .contains("does not belong")
        );
        report.incidents.truncate(1);
        report.schema = "vigie.report/9".into();
        assert!(matches!(report.validate(), Err(ReportError::Schema { .. })));
    }

    #[test]
    fn counts_beyond_what_a_box_can_see_are_refused() {
        let mut report = Report::empty();
        report.incidents.push(incident());
        report.packets = MAX_PACKETS;
        report.validate().unwrap();
        report.packets = 1 << 62;
        assert_eq!(
            report.validate().unwrap_err().to_string(),
            format!(
                "packets is {}, more than a sensor can see in one batch (at most {MAX_PACKETS})",
                1u64 << 62
            )
        );
        report.packets = 0;
        report.incidents[0].events = i64::MAX as u64;
        assert!(matches!(
            report.validate(),
            Err(ReportError::TooLarge { field, .. }) if field == "incidents[0].events"
        ));
        report.incidents[0].events = 3;
        report.dropped = 1 << 62;
        assert!(matches!(
            report.validate(),
            Err(ReportError::TooLarge { .. })
        ));
        report.dropped = 0;
        report.daily.push(DailyCount {
            day: "2026-11-22".parse().unwrap(),
            category: Category::Scan,
            count: 1 << 62,
            outbound: 0,
        });
        assert!(matches!(
            report.validate(),
            Err(ReportError::TooLarge { field, .. }) if field == "daily[0].count"
        ));
    }

    #[test]
    fn unknown_category_is_refused_by_the_parser() {
        let text = serde_json::to_string(&incident())
            .unwrap()
            .replace("\"scan\"", "\"ddos\"");
        let err = serde_json::from_str::<Incident>(&text).unwrap_err();
        assert!(err.to_string().contains("unknown variant `ddos`"), "{err}");
    }
}
