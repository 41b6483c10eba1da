//! Reads the text of one list, line by line, whatever its format: plain
//! one-per-line lists (FireHOL, Feodo Tracker, Tor exits, hosts files),
//! Spamhaus DROP in text (`CIDR ; SBLnnn`) and JSON-lines form, and abuse.ch
//! CSV exports. The format is recognised per line, so a file mixing them
//! still loads.
//!
//! It hands each indicator to a sink and counts bad lines; it never fails
//! and never panics on any text.

use serde::Deserialize;

use super::indicator::{self, Indicator};
use super::{ListStats, csv};

/// Addresses that hosts-file blocklists (`0.0.0.0 evil.com`) point names to.
const HOSTS_SINKS: [&str; 4] = ["0.0.0.0", "127.0.0.1", "::", "::1"];

/// What one line held.
enum Line<'a> {
    /// Comment, blank line, header or metadata.
    Skip,
    Found(Indicator<'a>),
    Bad(&'static str),
}

impl<'a> From<Result<Indicator<'a>, &'static str>> for Line<'a> {
    fn from(parsed: Result<Indicator<'a>, &'static str>) -> Self {
        match parsed {
            Ok(found) => Line::Found(found),
            Err(reason) => Line::Bad(reason),
        }
    }
}

/// Reads every line of `text`, calling `sink` with each indicator found;
/// hashes and malformed lines are counted in `stats`.
pub(crate) fn read(
    text: &str,
    stats: &mut ListStats,
    sink: &mut dyn FnMut(Indicator<'_>, &mut ListStats),
) {
    let mut column: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches('\u{feff}').trim();
        let json_value: Option<String>;
        let outcome = if line.is_empty() {
            Line::Skip
        } else if line.starts_with(['#', ';']) || line.starts_with("//") {
            // abuse.ch writes the CSV header as a comment.
            if let Some(found) = csv::indicator_column(line) {
                column = Some(found);
            }
            Line::Skip
        } else if line.starts_with('{') {
            match json_indicator(line) {
                Ok(value) => {
                    json_value = value;
                    json_value
                        .as_deref()
                        .map_or(Line::Skip, |value| indicator::parse(value).into())
                }
                Err(reason) => Line::Bad(reason),
            }
        } else if is_csv(line) {
            match column
                .is_none()
                .then(|| csv::indicator_column(line))
                .flatten()
            {
                Some(found) => {
                    column = Some(found);
                    Line::Skip
                }
                None => csv_row(line, column),
            }
        } else {
            plain_line(line)
        };
        match outcome {
            Line::Skip => {}
            Line::Found(Indicator::Hash) => stats.unsupported += 1,
            Line::Found(found) => sink(found, stats),
            Line::Bad(reason) => stats.malformed_line(index.saturating_add(1), reason, line),
        }
    }
}

/// A comma before any comment sign: a CSV row. (`1.2.3.0/24 ; SBL1, x` is
/// a DROP line with a comment, not CSV.)
fn is_csv(line: &str) -> bool {
    match (line.find(','), line.find(['#', ';'])) {
        (Some(comma), Some(comment)) => comma < comment,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn csv_row(line: &str, column: Option<usize>) -> Line<'_> {
    if let Some(column) = column {
        return match csv::fields(line).nth(column) {
            Some(field) => indicator::parse(field).into(),
            None => Line::Bad("row too short for the indicator column of the header"),
        };
    }
    // No header: prefer a field that is an address (or a URL to one) over
    // one that is merely shaped like a domain, such as a malware family
    // name `win.mirai`.
    let mut fallback = None;
    for field in csv::fields(line) {
        match indicator::parse(field) {
            Ok(found @ (Indicator::Domain(_) | Indicator::Hash)) => {
                if !matches!(fallback, Some(Indicator::Domain(_))) {
                    fallback = Some(found);
                }
            }
            Ok(found) => return Line::Found(found),
            Err(_) => {}
        }
    }
    fallback.map_or(
        Line::Bad("no IP address, CIDR, URL or domain in this row"),
        Line::Found,
    )
}

fn plain_line(line: &str) -> Line<'_> {
    let content = line.split(['#', ';']).next().unwrap_or_default().trim();
    let mut tokens = content.split_whitespace();
    let Some(first) = tokens.next() else {
        return Line::Skip;
    };
    match tokens.next() {
        Some(name) if HOSTS_SINKS.contains(&first) => {
            // Hosts files also name the machine itself (localhost,
            // ip6-loopback...): dotless names are local, not indicators.
            if !name.contains('.') || name.eq_ignore_ascii_case("localhost.localdomain") {
                Line::Skip
            } else {
                indicator::parse(name).into()
            }
        }
        // Anything after the first token is a comment without a sign.
        _ => indicator::parse(first).into(),
    }
}

/// One JSON-lines object, as Spamhaus publishes DROP (`{"cidr": ...}` then
/// a `{"type":"metadata", ...}` trailer). Unknown fields are ignored.
#[derive(Deserialize)]
struct JsonEntry {
    #[serde(rename = "type")]
    kind: Option<String>,
    cidr: Option<String>,
    ip: Option<String>,
    ip_address: Option<String>,
    ioc_value: Option<String>,
    ioc: Option<String>,
    indicator: Option<String>,
    url: Option<String>,
    domain: Option<String>,
    host: Option<String>,
}

/// The indicator text of a JSON line; `None` for the metadata trailer.
fn json_indicator(line: &str) -> Result<Option<String>, &'static str> {
    let entry: JsonEntry =
        serde_json::from_str(line).map_err(|_| "invalid JSON object on this line")?;
    if entry.kind.as_deref() == Some("metadata") {
        return Ok(None);
    }
    [
        entry.cidr,
        entry.ip,
        entry.ip_address,
        entry.ioc_value,
        entry.ioc,
        entry.indicator,
        entry.url,
        entry.domain,
        entry.host,
    ]
    .into_iter()
    .flatten()
    .next()
    .map(Some)
    .ok_or("no address, CIDR, URL or domain field in this JSON object")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::Net;

    /// Reads `text` and renders what it found, one string per indicator.
    fn found(text: &str) -> (Vec<String>, ListStats) {
        let mut out = Vec::new();
        let mut stats = ListStats::new("test", false);
        read(text, &mut stats, &mut |found, _| {
            out.push(match found {
                Indicator::Ip(Net::V4(a, _)) => std::net::Ipv4Addr::from(a).to_string(),
                Indicator::Ip(Net::V6(a, _)) => std::net::Ipv6Addr::from(a).to_string(),
                Indicator::Block(Net::V4(a, b)) => format!(
                    "{}-{}",
                    std::net::Ipv4Addr::from(a),
                    std::net::Ipv4Addr::from(b)
                ),
                Indicator::Block(Net::V6(a, b)) => format!(
                    "{}-{}",
                    std::net::Ipv6Addr::from(a),
                    std::net::Ipv6Addr::from(b)
                ),
                Indicator::Domain(d) => d.to_owned(),
                Indicator::Hash => "hash".to_owned(),
            });
        });
        (out, stats)
    }

    fn check(text: &str, expected: &[&str], malformed: usize) {
        let (out, stats) = found(text);
        assert_eq!(out, expected, "text {text:?}");
        assert_eq!(stats.malformed, malformed, "problems {:?}", stats.problems);
    }

    #[test]
    fn plain_lists_with_comments() {
        check(
            "# FireHOL level1\n\n1.10.16.0/20\n  5.188.10.0/23  # trailing\n\
             185.220.101.1 ; tor\n2a0e:1c80::/29\nevil.example.\n",
            &[
                "1.10.16.0-1.10.31.255",
                "5.188.10.0-5.188.11.255",
                "185.220.101.1",
                "2a0e:1c80::-2a0e:1c87:ffff:ffff:ffff:ffff:ffff:ffff",
                "evil.example",
            ],
            0,
        );
    }

    #[test]
    fn hosts_file_lines() {
        check(
            "127.0.0.1 localhost\n::1 ip6-localhost\n0.0.0.0 ads.tracker-evil.com\n",
            &["ads.tracker-evil.com"],
            0,
        );
    }

    #[test]
    fn spamhaus_json_lines_skip_metadata() {
        check(
            "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}\n\
             {\"cidr\":\"2001:db8:4000::/36\",\"sblid\":\"SBL1\",\"rir\":\"ripencc\"}\n\
             {\"type\":\"metadata\",\"timestamp\":1685549897,\"size\":77312,\"records\":2}\n\
             {\"cidr\": 12}\n{\"asn\":1}\n{not json\n",
            &[
                "1.10.16.0-1.10.31.255",
                "2001:db8:4000::-2001:db8:4fff:ffff:ffff:ffff:ffff:ffff",
            ],
            3,
        );
    }

    #[test]
    fn headerless_csv_prefers_addresses() {
        check(
            "2023-05-30 07:22:49,45.61.136.130,443\nwin.mirai,QakBot,103.10.0.1:80\n\
             id,only,words\n",
            &["45.61.136.130", "103.10.0.1"],
            1,
        );
    }

    #[test]
    fn bad_lines_are_numbered() {
        let (_, stats) = found("1.2.3.4\nnot an address\n\n1.2.3.999\n");
        assert_eq!(stats.malformed, 2);
        assert_eq!(stats.problems[0].line, 2);
        assert_eq!(stats.problems[0].excerpt, "not an address");
        assert_eq!(stats.problems[1].line, 4);
        assert_eq!(
            stats.problems[1].reason,
            "not an IP address, CIDR, URL or domain name"
        );
    }
}
