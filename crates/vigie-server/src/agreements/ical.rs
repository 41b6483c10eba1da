//! iCalendar (RFC 5545) as the calendar feeds write it: one all-day
//! `VEVENT` per deadline, with a stable `UID`, a `DTSTAMP`, text escaped
//! (§3.3.11), lines ended by CRLF and folded at 75 octets without
//! splitting a character (§3.1).
//!
//! What it must never do: let a text become a property (every text is
//! escaped, a newline included), or write a line longer than 75 octets.

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};

/// The longest line, in octets, CRLF excluded (RFC 5545 §3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// One all-day event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Stable across reads: the same deadline keeps its UID.
    pub uid: String,
    pub day: NaiveDate,
    pub summary: String,
    pub description: String,
    /// An absolute URL (written as is: a URI value is not escaped).
    pub url: String,
}

/// A whole `VCALENDAR` named `name`, made at `stamp`.
pub fn calendar(name: &str, events: &[Event], stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    let stamp = stamp.format("%Y%m%dT%H%M%SZ").to_string();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Vigie//Calendrier des conventions//FR");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for event in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape(&event.uid)));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(
            &mut out,
            &format!("DTSTART;VALUE=DATE:{}", event.day.format("%Y%m%d")),
        );
        // An all-day event ends the next day, exclusive (§3.6.1).
        let next = event.day.succ_opt().unwrap_or(event.day);
        line(
            &mut out,
            &format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")),
        );
        line(&mut out, &format!("SUMMARY:{}", escape(&event.summary)));
        if !event.description.is_empty() {
            line(
                &mut out,
                &format!("DESCRIPTION:{}", escape(&event.description)),
            );
        }
        if !event.url.is_empty() && !event.url.contains(['\r', '\n']) {
            line(&mut out, &format!("URL:{}", event.url));
        }
        line(&mut out, "TRANSP:TRANSPARENT");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// TEXT escaped (§3.3.11): `\`, `;`, `,` and newlines; other control
/// characters dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `content` folded (§3.1): at most 75 octets a line, the next
/// ones starting with a space, never inside a UTF-8 character.
fn line(out: &mut String, content: &str) {
    let mut used = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if used + len > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            // The space counts in the continuation line.
            used = 1;
        }
        out.push(c);
        used += len;
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        assert_eq!(escape(text), expected, "{text:?}");
    }

    #[test]
    fn text_is_escaped() {
        check("a;b,c\\d", "a\\;b\\,c\\\\d");
        check("ligne 1\nligne 2", "ligne 1\\nligne 2");
        check("sans\u{7}cloche", "sanscloche");
        check("Étape 2 : réunion", "Étape 2 : réunion");
    }

    fn event(summary: &str) -> Event {
        Event {
            uid: "abc@vigie.example.fr".to_owned(),
            day: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
            summary: summary.to_owned(),
            description: "Saint-Étienne (42218)".to_owned(),
            url: "https://vigie.example.fr/conventions/ab12".to_owned(),
        }
    }

    fn stamp() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
    }

    #[test]
    fn a_calendar_has_its_parts_and_crlf_lines() {
        let text = calendar("Vigie, Loire", &[event("Fin")], stamp());
        assert!(
            text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{text}"
        );
        assert!(text.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"), "{text}");
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
        for needle in [
            "X-WR-CALNAME:Vigie\\, Loire\r\n",
            "UID:abc@vigie.example.fr\r\n",
            "DTSTAMP:20260101T000000Z\r\n",
            "DTSTART;VALUE=DATE:20261231\r\n",
            "DTEND;VALUE=DATE:20270101\r\n",
            "SUMMARY:Fin\r\n",
            "URL:https://vigie.example.fr/conventions/ab12\r\n",
        ] {
            assert!(text.contains(needle), "{needle:?} in {text}");
        }
    }

    #[test]
    fn long_lines_are_folded_at_75_octets_between_characters() {
        let summary = "Parcours de cybersécurité — Étape 2 : réunion de suivi avec la \
                       commune, au plus tard ce jour ; à préparer avec le référent";
        let text = calendar("V", &[event(summary)], stamp());
        for line in text.split("\r\n") {
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "{} octets: {line}",
                line.len()
            );
        }
        // Unfolding (§3.1: remove CRLF followed by one space) gives the
        // line back.
        let unfolded = text.replace("\r\n ", "");
        assert!(
            unfolded.contains(&format!("SUMMARY:{}\r\n", escape(summary))),
            "{unfolded}"
        );
        assert!(text.split("\r\n").any(|l| l.starts_with(' ')), "not folded");
    }
}
