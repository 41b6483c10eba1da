//! The territory's observed attacking sources over a range of days, for
//! the regional CSIRT (issue 15, "Sharing"): each external address the
//! sensors named as an incident's source, with its categories, its first
//! and last sighting, its incidents and how many communes it reached.
//! Read from the stored incidents, one grouped query for the range.
//!
//! What it must never do: carry which communes an address reached (only
//! how many), an internal host's hash, or an address that is not an
//! Internet address: private, shared (CGNAT), loopback, link-local,
//! multicast, reserved ranges and their IPv6 forms are left out here,
//! whatever a sensor sent (`lists::classify_address`, the same ranges a
//! list URL may not reach). Documentation ranges stay: they are no one's
//! home network, and the demo and tests attack from them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use chrono::{Duration, NaiveDate};

use crate::cybermeteo::{parse_day, parse_range_end};
use crate::lists::{AddressKind, classify_address};
use crate::{AppError, Db};

/// The longest range one export covers (the incidents' detail is kept
/// 400 days by default).
pub const MAX_DAYS: i64 = 366;
/// The range when `from` is not given: the last 30 days.
pub const DEFAULT_DAYS: i64 = 30;

/// One external address as the territory's sensors saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub address: IpAddr,
    /// Incidents by category (the API's words: `scan`, `brute_force`…).
    pub categories: BTreeMap<String, i64>,
    pub incidents: i64,
    /// Of which outbound: a commune machine contacted this address.
    pub outbound: i64,
    /// Distinct communes whose sensor saw it.
    pub communes: usize,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// Whether `ip` may leave in an export: an Internet address, or one of
/// the documentation ranges (see the module's comment).
pub fn is_external(ip: IpAddr) -> bool {
    matches!(
        classify_address(ip),
        None | Some(AddressKind::Documentation)
    )
}

/// The range of `from`/`to` (`YYYY-MM-DD`): `to` defaults to today (a day
/// after today reads as today), `from` to 30 days before `to`; refused
/// in French when reversed or longer than [`MAX_DAYS`].
pub fn range(from: Option<&str>, to: Option<&str>) -> Result<(NaiveDate, NaiveDate), AppError> {
    let to = parse_range_end(to)?;
    let from = match from.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => parse_day(Some(text), "from")?,
        None => to - Duration::days(DEFAULT_DAYS - 1),
    };
    if from > to || (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::BadRequest(format!(
            "« from » doit précéder « to », sur {MAX_DAYS} jours au plus."
        )));
    }
    Ok((from, to))
}

/// Every external source of the incidents of `from..=to` (Paris days),
/// the most active first, then by address.
pub async fn observed(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<Vec<Source>, AppError> {
    let rows: Vec<(String, String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT source, category, direction, commune, CAST(MIN(first_seen) AS BIGINT), \
           CAST(MAX(last_seen) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM incidents WHERE source IS NOT NULL AND day >= $1 AND day <= $2 \
         GROUP BY source, category, direction, commune",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(db.read())
    .await?;
    Ok(fold(rows.into_iter().filter_map(|row| {
        let address = row.0.parse::<IpAddr>().ok().filter(|ip| is_external(*ip))?;
        Some(Row {
            address,
            category: row.1,
            outbound: row.2 == "outbound",
            commune: row.3,
            first_seen_ms: row.4,
            last_seen_ms: row.5,
            incidents: row.6,
        })
    })))
}

/// One (address, category, direction, commune) group of the query.
struct Row {
    address: IpAddr,
    category: String,
    outbound: bool,
    commune: String,
    first_seen_ms: i64,
    last_seen_ms: i64,
    incidents: i64,
}

/// The query's groups folded per address; the communes are counted, then
/// forgotten.
fn fold(rows: impl Iterator<Item = Row>) -> Vec<Source> {
    let mut by_address: HashMap<IpAddr, (Source, BTreeSet<String>)> = HashMap::new();
    for row in rows {
        let (source, communes) = by_address.entry(row.address).or_insert_with(|| {
            let source = Source {
                address: row.address,
                categories: BTreeMap::new(),
                incidents: 0,
                outbound: 0,
                communes: 0,
                first_seen_ms: row.first_seen_ms,
                last_seen_ms: row.last_seen_ms,
            };
            (source, BTreeSet::new())
        });
        *source.categories.entry(row.category).or_default() += row.incidents;
        source.incidents = source.incidents.saturating_add(row.incidents);
        if row.outbound {
            source.outbound = source.outbound.saturating_add(row.incidents);
        }
        source.first_seen_ms = source.first_seen_ms.min(row.first_seen_ms);
        source.last_seen_ms = source.last_seen_ms.max(row.last_seen_ms);
        communes.insert(row.commune);
    }
    let mut out: Vec<Source> = by_address
        .into_values()
        .map(|(mut source, communes)| {
            source.communes = communes.len();
            source
        })
        .collect();
    out.sort_by(|a, b| {
        (b.communes, b.incidents)
            .cmp(&(a.communes, a.incidents))
            .then(a.address.cmp(&b.address))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(address: &str, external: bool) {
        let ip: IpAddr = address.parse().unwrap();
        assert_eq!(is_external(ip), external, "{address}");
    }

    #[test]
    fn only_internet_addresses_leave() {
        check("45.155.205.233", true);
        check("2a01:4f8::1", true);
        check("203.0.113.7", true);
        check("10.1.2.3", false);
        check("192.168.1.10", false);
        check("172.20.0.1", false);
        check("100.64.3.4", false);
        check("127.0.0.1", false);
        check("169.254.1.1", false);
        check("fd12:3456::1", false);
        check("fe80::1", false);
        check("::ffff:192.168.0.1", false);
        check("224.0.0.251", false);
    }

    fn row(address: &str, category: &str, commune: &str, first: i64, last: i64) -> Row {
        Row {
            address: address.parse().unwrap(),
            category: category.to_owned(),
            outbound: category == "reputation",
            commune: commune.to_owned(),
            first_seen_ms: first,
            last_seen_ms: last,
            incidents: 2,
        }
    }

    #[test]
    fn groups_fold_per_address_and_count_communes() {
        let sources = fold(
            [
                row("45.155.205.233", "scan", "42218", 50, 60),
                row("45.155.205.233", "scan", "42095", 40, 70),
                row("45.155.205.233", "reputation", "42095", 45, 55),
                row("8.8.8.8", "brute_force", "42218", 10, 20),
            ]
            .into_iter(),
        );
        assert_eq!(sources.len(), 2);
        let first = &sources[0];
        assert_eq!(first.address.to_string(), "45.155.205.233");
        assert_eq!((first.communes, first.incidents, first.outbound), (2, 6, 2));
        assert_eq!((first.first_seen_ms, first.last_seen_ms), (40, 70));
        assert_eq!(first.categories.get("scan"), Some(&4));
        assert_eq!(sources[1].communes, 1);
    }
}
