//! Mail protocol replies: SMTP's numbered multi-line replies (RFC 5321
//! §4.2), POP3's `+OK`/`-ERR` and CAPA list (RFC 1939, RFC 2449), IMAP's
//! greeting and CAPABILITY (RFC 9051 §7.2.2), and the product a greeting
//! names. Pure, bounded, never panic.

use crate::protocols::infra::cursor::{ParseError, printable};

/// More reply lines than any EHLO or CAPA answer has.
pub const MAX_LINES: usize = 128;

/// A complete SMTP reply: its code and the text of each line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl SmtpReply {
    /// EHLO keywords (the lines after the greeting line), upper-cased.
    pub fn extensions(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .map(|l| l.to_ascii_uppercase())
            .collect()
    }
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Parses the first SMTP reply of `bytes`; returns it and its length.
/// A reply whose last line has not arrived is `Truncated`.
pub fn parse_smtp(bytes: &[u8]) -> Result<(SmtpReply, usize), ParseError> {
    const WHAT: &str = "SMTP reply";
    let mut position = 0;
    let mut reply = SmtpReply {
        code: 0,
        lines: Vec::new(),
    };
    while let Some(end) = bytes
        .get(position..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let line = bytes.get(position..position + end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        position += end + 1;
        let code = line
            .get(..3)
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| digits.parse::<u16>().ok())
            .filter(|code| (200..600).contains(code))
            .ok_or_else(|| ParseError::invalid(WHAT, "line without a reply code"))?;
        if reply.code != 0 && code != reply.code {
            return Err(ParseError::invalid(WHAT, "reply code changes mid-reply"));
        }
        reply.code = code;
        if reply.lines.len() >= MAX_LINES {
            return Err(ParseError::invalid(WHAT, "too many lines"));
        }
        reply
            .lines
            .push(printable(line.get(4..).unwrap_or_default(), 200));
        match line.get(3) {
            Some(b'-') => continue,
            None | Some(b' ') => return Ok((reply, position)),
            Some(_) => return Err(ParseError::invalid(WHAT, "invalid separator")),
        }
    }
    Err(ParseError::Truncated {
        what: WHAT,
        needed: 1,
        available: 0,
    })
}

/// For `Conn::receive`: the length of the first whole SMTP reply.
pub fn smtp_complete(bytes: &[u8]) -> Option<usize> {
    match parse_smtp(bytes) {
        Ok((_, length)) => Some(length),
        Err(ParseError::Truncated { .. }) => None,
        Err(ParseError::Invalid { .. }) => Some(bytes.len()),
    }
}

/// A POP3 CAPA answer: the capability names, or an error for `-ERR`
/// (servers that predate RFC 2449) and unfinished lists.
pub fn parse_pop_capa(bytes: &[u8]) -> Result<Vec<String>, ParseError> {
    const WHAT: &str = "POP3 CAPA reply";
    let mut iter = lines(bytes);
    let status = iter.next().unwrap_or_default();
    if !status.starts_with(b"+OK") {
        return Err(ParseError::invalid(WHAT, "CAPA refused"));
    }
    let mut capabilities = Vec::new();
    for line in iter {
        if line == b"." {
            return Ok(capabilities);
        }
        if capabilities.len() >= MAX_LINES {
            return Err(ParseError::invalid(WHAT, "too many lines"));
        }
        capabilities.push(printable(line, 200).to_ascii_uppercase());
    }
    Err(ParseError::Truncated {
        what: WHAT,
        needed: 3,
        available: 0,
    })
}

/// For `Conn::receive`: a CAPA answer ends with `.` alone or is one `-ERR` line.
pub fn pop_capa_complete(bytes: &[u8]) -> Option<usize> {
    if !bytes.contains(&b'\n') {
        return None;
    }
    match parse_pop_capa(bytes) {
        Err(ParseError::Truncated { .. }) => None,
        _ => Some(bytes.len()),
    }
}

/// IMAP capabilities from untagged `* CAPABILITY` lines and `[CAPABILITY
/// ...]` response codes (in the greeting or a tagged OK), upper-cased.
pub fn imap_capabilities(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for line in lines(bytes).take(MAX_LINES) {
        let text = String::from_utf8_lossy(line).to_ascii_uppercase();
        let list = if let Some(rest) = text.strip_prefix("* CAPABILITY ") {
            rest.to_owned()
        } else if let Some((_, rest)) = text.split_once("[CAPABILITY ") {
            rest.split(']').next().unwrap_or_default().to_owned()
        } else {
            continue;
        };
        found.extend(list.split_whitespace().take(MAX_LINES).map(str::to_owned));
    }
    found
}

/// For `Conn::receive`: complete once the line tagged `tag` is in.
pub fn imap_tagged_complete(tag: &str) -> impl Fn(&[u8]) -> Option<usize> + '_ {
    move |bytes: &[u8]| {
        let done = lines(bytes).any(|l| l.starts_with(tag.as_bytes()) && l.len() > tag.len());
        (done && bytes.ends_with(b"\n")).then_some(bytes.len())
    }
}

/// The mail server product and version a greeting names.
pub fn product(greeting: &str) -> (Option<String>, Option<String>) {
    const KNOWN: &[(&str, &str)] = &[
        ("Postfix", "Postfix"),
        ("Exim", "Exim"),
        ("Sendmail", "Sendmail"),
        ("Microsoft ESMTP", "Microsoft Exchange"),
        ("Microsoft Exchange", "Microsoft Exchange"),
        ("OpenSMTPD", "OpenSMTPD"),
        ("Dovecot", "Dovecot"),
        ("Courier", "Courier"),
        ("Cyrus", "Cyrus"),
        ("Zimbra", "Zimbra"),
        ("qmail", "qmail"),
    ];
    let Some((word, name)) = KNOWN.iter().find(|(word, _)| greeting.contains(word)) else {
        return (None, None);
    };
    // "Exim 4.96", "Sendmail 8.17.1/8.17.1", "Cyrus IMAP v3.6.1": the
    // token after the name, when it starts with a digit.
    let version = greeting
        .split_once(word)
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(|token| token.trim_start_matches('v'))
        .filter(|token| token.starts_with(|c: char| c.is_ascii_digit()))
        .map(|token| {
            token
                .split(['/', ';', ','])
                .next()
                .unwrap_or(token)
                .to_owned()
        });
    (Some((*name).to_owned()), version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_ehlo_reply() {
        // Recorded from Postfix 3.7 (Debian 12), STARTTLS not configured.
        let bytes = b"250-mail.mairie.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n";
        let (reply, length) = parse_smtp(bytes).unwrap();
        assert_eq!(length, bytes.len());
        assert_eq!(reply.code, 250);
        assert!(reply.extensions().contains(&"AUTH PLAIN LOGIN".to_owned()));
        assert_eq!(reply.lines[0], "mail.mairie.test");
    }

    #[test]
    fn smtp_replies_need_their_last_line() {
        assert!(matches!(
            parse_smtp(b"250-a\r\n250-b\r\n"),
            Err(ParseError::Truncated { .. })
        ));
        assert_eq!(smtp_complete(b"220 ok\r\n250"), Some(8));
        assert!(parse_smtp(b"220-a\r\n250 b\r\n").is_err());
        assert!(parse_smtp(b"SSH-2.0-x\r\n").is_err());
        assert!(parse_smtp(b"220").is_err());
        let (bare, _) = parse_smtp(b"220\r\n").unwrap();
        assert_eq!(bare.code, 220);
    }

    #[test]
    fn reads_pop_and_imap_capabilities() {
        let capa = b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nSTLS\r\nUSER\r\n.\r\n";
        assert!(parse_pop_capa(capa).unwrap().contains(&"STLS".to_owned()));
        assert!(parse_pop_capa(b"-ERR unknown command\r\n").is_err());
        assert_eq!(pop_capa_complete(b"+OK\r\nTOP\r\n"), None);
        let imap = b"* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS AUTH=PLAIN\r\na1 OK done\r\n";
        assert!(imap_capabilities(imap).contains(&"STARTTLS".to_owned()));
        let greeting =
            b"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED STARTTLS] Dovecot (Debian) ready.\r\n";
        assert!(imap_capabilities(greeting).contains(&"LOGINDISABLED".to_owned()));
        assert_eq!(imap_tagged_complete("a1")(imap), Some(imap.len()));
        assert_eq!(imap_tagged_complete("a1")(b"* CAPABILITY X\r\n"), None);
    }

    #[test]
    fn names_products() {
        let check = |greeting: &str, name: Option<&str>, version: Option<&str>| {
            let (n, v) = product(greeting);
            assert_eq!((n.as_deref(), v.as_deref()), (name, version), "{greeting}");
        };
        check(
            "mail.mairie.test ESMTP Postfix (Debian/GNU)",
            Some("Postfix"),
            None,
        );
        check(
            "mx ESMTP Exim 4.96 Mon, 3 Jun 2024",
            Some("Exim"),
            Some("4.96"),
        );
        check(
            "host ESMTP Sendmail 8.17.1/8.17.1; Mon",
            Some("Sendmail"),
            Some("8.17.1"),
        );
        check(
            "srv Microsoft ESMTP MAIL Service ready",
            Some("Microsoft Exchange"),
            None,
        );
        check("Dovecot (Debian) ready.", Some("Dovecot"), None);
        check("hello", None, None);
    }
}
