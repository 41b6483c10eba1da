//! The little CSV that abuse.ch feeds (URLhaus, Feodo Tracker, ThreatFox,
//! SSLBL) need: fields quoted or not, `""` inside quotes, spaces around
//! separators (ThreatFox writes `", "`), and a header that is often a `#`
//! comment line. It finds which column holds the indicator.
//!
//! It does not unescape `""` (no indicator contains a quote) and never
//! allocates.

/// Header names of the column holding the indicator, best first: when a
/// header names several (ThreatFox has `ioc_value`; URLhaus has `url` and
/// also `urlhaus_link`, which is abuse.ch's own page), the earliest here wins.
const INDICATOR_COLUMNS: [&str; 16] = [
    "ioc_value",
    "ioc",
    "indicator",
    "dst_ip",
    "dstip",
    "ip_address",
    "ipaddress",
    "ip_addr",
    "ip",
    "cidr",
    "network",
    "url",
    "domain",
    "hostname",
    "host",
    "fqdn",
];

/// Iterates over the fields of one CSV line.
pub(crate) fn fields(line: &str) -> Fields<'_> {
    Fields { rest: Some(line) }
}

pub(crate) struct Fields<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let line = self.rest.take()?.trim_start();
        let Some(quoted) = line.strip_prefix('"') else {
            return Some(match line.split_once(',') {
                Some((field, rest)) => {
                    self.rest = Some(rest);
                    field.trim_end()
                }
                None => line.trim_end(),
            });
        };
        let close = closing_quote(quoted);
        let (field, after) = quoted.split_at_checked(close).unwrap_or((quoted, ""));
        // Whatever sits between the closing quote and the next comma is
        // dropped, as lenient CSV readers do.
        self.rest = after.split_once(',').map(|(_, rest)| rest);
        Some(field)
    }
}

/// Byte offset of the quote closing a quoted field (`""` is an escaped
/// quote), or the end of the text when it is never closed.
fn closing_quote(quoted: &str) -> usize {
    let bytes = quoted.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'"' {
            if bytes.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// When `line` is a CSV header (commented out or not), the index of the
/// column holding the indicator.
pub(crate) fn indicator_column(line: &str) -> Option<usize> {
    let line = line.trim_start_matches(['#', ';', ' ', '\t']);
    let mut best: Option<(usize, usize)> = None; // (rank, column)
    for (column, name) in fields(line).enumerate() {
        let name = name.trim_matches(|c: char| c == '"' || c.is_whitespace());
        let rank = INDICATOR_COLUMNS
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name));
        if let Some(rank) = rank
            && best.is_none_or(|(best_rank, _)| rank < best_rank)
        {
            best = Some((rank, column));
        }
    }
    best.map(|(_, column)| column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: &[&str]) {
        assert_eq!(fields(line).collect::<Vec<_>>(), expected, "line {line:?}");
    }

    #[test]
    fn splits_quoted_and_plain_fields() {
        check("a,b,,c", &["a", "b", "", "c"]);
        check(" a , b ", &["a", "b"]);
        check(
            r#""2021-01-17 07:44:46","51.75.144.59","443","online""#,
            &["2021-01-17 07:44:46", "51.75.144.59", "443", "online"],
        );
        check(
            r#""2023-06-01 10:33:13", "1112345", "45.95.147.236:80", "ip:port""#,
            &[
                "2023-06-01 10:33:13",
                "1112345",
                "45.95.147.236:80",
                "ip:port",
            ],
        );
        check(r#""32-bit,elf,mips",x"#, &["32-bit,elf,mips", "x"]);
        check(r#""say ""hi""",x"#, &[r#"say ""hi"""#, "x"]);
        check(r#""never closed"#, &["never closed"]);
        check("", &[""]);
    }

    #[test]
    fn finds_the_indicator_column() {
        let urlhaus = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter";
        assert_eq!(indicator_column(urlhaus), Some(2));
        let feodo = r#""first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware""#;
        assert_eq!(indicator_column(feodo), Some(1));
        let threatfox =
            r#"# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware""#;
        assert_eq!(indicator_column(threatfox), Some(2));
        assert_eq!(indicator_column("# Firstseen,DstIP,DstPort"), Some(1));
        assert_eq!(indicator_column("# Last updated: 2024-05-01, 10:00"), None);
    }
}
