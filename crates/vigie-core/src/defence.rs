//! The territory list's changes as the observatory sends them to a box
//! (`GET /api/v1/sensors/defence?since=N`, issue 16): a small text format
//! that both sides use, the observatory to write it, the box to read it.
//!
//! ```text
//! vigie.defence/1 changes 1842
//! + 203.0.113.7 1768519800
//! + 198.51.100.9 0
//! - 192.0.2.44
//! ```
//!
//! The first line names the format, whether the body is a whole `snapshot`
//! (the box drops every entry it held) or the `changes` after the cursor it
//! sent, and the new cursor. Then one line per entry: `+` an address listed
//! until a Unix time in seconds (`0`: pinned by the staff, until removed),
//! `-` an address no longer listed. The box sends the cursor back as
//! `since`; nothing new is a `304 Not Modified`.
//!
//! What it must not do: panic, allocate beyond [`MAX_BODY_BYTES`] and
//! [`MAX_ENTRIES`] whatever the bytes received, or accept an address it
//! cannot format back exactly (`IpAddr` parses, nothing else).

use std::fmt::Write as _;
use std::net::IpAddr;

/// Where a box asks for the territory list's changes.
pub const DEFENCE_PATH: &str = "/api/v1/sensors/defence";
/// The first word of every body.
pub const DEFENCE_SCHEMA: &str = "vigie.defence/1";
/// Most entries one body holds: a box's nftables set holds as many
/// (`vigie_sensor::live::filter::MAX_BLOCKED`).
pub const MAX_ENTRIES: usize = 65_536;
/// Largest body read: an IPv6 line with its time is under 64 bytes.
pub const MAX_BODY_BYTES: usize = 64 + MAX_ENTRIES * 64;

/// Whether a body replaces what the box holds or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every entry listed now: the box forgets the others.
    Snapshot,
    /// What changed after the cursor the box sent, oldest first.
    Changes,
}

/// One line of a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Listed until this Unix time in seconds; 0: until removed.
    Add {
        ip: IpAddr,
        until: i64,
    },
    Remove {
        ip: IpAddr,
    },
}

/// One body, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    pub kind: Kind,
    /// What the box sends back as `since`.
    pub cursor: i64,
    pub changes: Vec<Change>,
}

/// Why a body was refused: what and which line (1-based).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DefenceError {
    #[error("{0} bytes, at most {MAX_BODY_BYTES}")]
    TooLarge(usize),
    #[error("more than {MAX_ENTRIES} entries")]
    TooMany,
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: &'static str },
}

/// Reads a body; any malformed line refuses the whole of it (a partial
/// update would leave the box's set different from the observatory's).
pub fn parse(body: &[u8]) -> Result<Update, DefenceError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(DefenceError::TooLarge(body.len()));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad(1, "not UTF-8"))?;
    let mut lines = text.lines();
    let header = lines.next().ok_or(bad(1, "empty body"))?;
    let mut words = header.split(' ');
    if words.next() != Some(DEFENCE_SCHEMA) {
        return Err(bad(1, "unknown format"));
    }
    let kind = match words.next() {
        Some("snapshot") => Kind::Snapshot,
        Some("changes") => Kind::Changes,
        _ => return Err(bad(1, "neither snapshot nor changes")),
    };
    let cursor = number(words.next()).ok_or(bad(1, "bad cursor"))?;
    if words.next().is_some() {
        return Err(bad(1, "trailing words"));
    }
    let mut changes = Vec::new();
    for (index, line) in lines.enumerate() {
        let line_no = index + 2;
        if changes.len() >= MAX_ENTRIES {
            return Err(DefenceError::TooMany);
        }
        let mut words = line.split(' ');
        let op = words.next();
        let ip: IpAddr = words
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or(bad(line_no, "bad address"))?;
        let change = match op {
            Some("+") => Change::Add {
                ip,
                until: number(words.next()).ok_or(bad(line_no, "bad time"))?,
            },
            Some("-") => Change::Remove { ip },
            _ => return Err(bad(line_no, "neither + nor -")),
        };
        if words.next().is_some() {
            return Err(bad(line_no, "trailing words"));
        }
        changes.push(change);
    }
    Ok(Update {
        kind,
        cursor,
        changes,
    })
}

/// Writes a body [`parse`] reads back.
pub fn write(update: &Update) -> String {
    let kind = match update.kind {
        Kind::Snapshot => "snapshot",
        Kind::Changes => "changes",
    };
    let mut text = format!("{DEFENCE_SCHEMA} {kind} {}\n", update.cursor);
    for change in &update.changes {
        // Writing to a String cannot fail.
        let _ = match change {
            Change::Add { ip, until } => writeln!(text, "+ {ip} {until}"),
            Change::Remove { ip } => writeln!(text, "- {ip}"),
        };
    }
    text
}

/// A non-negative decimal of at most 18 digits (no sign, no overflow).
fn number(word: Option<&str>) -> Option<i64> {
    let word = word?;
    if word.is_empty() || word.len() > 18 || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok()
}

fn bad(line: usize, problem: &'static str) -> DefenceError {
    DefenceError::Line { line, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str, expected: Result<usize, &str>) {
        let got = parse(body.as_bytes());
        match expected {
            Ok(count) => assert_eq!(got.map(|u| u.changes.len()), Ok(count), "{body:?}"),
            Err(message) => assert_eq!(got.unwrap_err().to_string(), message, "{body:?}"),
        }
    }

    #[test]
    fn reads_what_it_writes() {
        let update = Update {
            kind: Kind::Changes,
            cursor: 1842,
            changes: vec![
                Change::Add {
                    ip: "203.0.113.7".parse().unwrap(),
                    until: 1_768_519_800,
                },
                Change::Add {
                    ip: "2001:db8::7".parse().unwrap(),
                    until: 0,
                },
                Change::Remove {
                    ip: "192.0.2.44".parse().unwrap(),
                },
            ],
        };
        assert_eq!(parse(write(&update).as_bytes()), Ok(update));
    }

    #[test]
    fn refuses_malformed_bodies() {
        check("vigie.defence/1 snapshot 0\n", Ok(0));
        check("vigie.defence/1 changes 7\r\n+ 1.2.3.4 5\r\n", Ok(1));
        check("", Err("line 1: empty body"));
        check("vigie.defence/2 changes 1", Err("line 1: unknown format"));
        check(
            "vigie.defence/1 all 1",
            Err("line 1: neither snapshot nor changes"),
        );
        check("vigie.defence/1 changes -1", Err("line 1: bad cursor"));
        check("vigie.defence/1 changes 1 x", Err("line 1: trailing words"));
        check(
            "vigie.defence/1 changes 1\n+ 1.2.3 5",
            Err("line 2: bad address"),
        );
        check(
            "vigie.defence/1 changes 1\n+ 1.2.3.4",
            Err("line 2: bad time"),
        );
        check(
            "vigie.defence/1 changes 1\n+ 1.2.3.4 99999999999999999999",
            Err("line 2: bad time"),
        );
        check(
            "vigie.defence/1 changes 1\n* 1.2.3.4 5",
            Err("line 2: neither + nor -"),
        );
        check(
            "vigie.defence/1 changes 1\n- 1.2.3.4 5",
            Err("line 2: trailing words"),
        );
        let big = vec![b'x'; MAX_BODY_BYTES + 1];
        assert_eq!(parse(&big), Err(DefenceError::TooLarge(big.len())));
    }
}
