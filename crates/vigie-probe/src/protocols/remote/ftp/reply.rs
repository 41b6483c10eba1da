//! FTP replies (RFC 959 §4.2): a three-digit code, single-line
//! (`220 text`) or multi-line (`211-first` ... `211 last`), and the
//! product and version a `220` greeting announces. Pure functions over
//! received bytes; they never panic.

use crate::protocols::remote::wire::ParseError;

/// A reply longer than this is not an FTP server talking: a FEAT list or
/// a greeting is a few hundred bytes.
pub const MAX_REPLY_LEN: usize = 16 * 1024;

/// One complete reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// 100 to 599 (RFC 959 §4.2: the first digit is 1 to 5).
    pub code: u16,
    /// The text of each line, code and separator removed from the first
    /// and last; intermediate lines as sent.
    pub lines: Vec<String>,
}

impl Reply {
    /// All lines joined by spaces.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// The first complete reply at the start of `bytes` and how many bytes it
/// used, or `None` if more bytes are needed.
pub fn parse_reply(bytes: &[u8]) -> Result<Option<(Reply, usize)>, ParseError> {
    let mut lines = Vec::new();
    let mut code = None;
    let mut start = 0;
    while let Some(newline) = bytes
        .get(start..)
        .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
    {
        let end = start + newline + 1;
        check_length(end)?;
        let line = trim_eol(bytes.get(start..end).unwrap_or_default());
        start = end;
        match code {
            None => {
                let (first_code, multi, text) = reply_line(line)?;
                lines.push(text);
                if !multi {
                    return Ok(Some((
                        Reply {
                            code: first_code,
                            lines,
                        },
                        start,
                    )));
                }
                code = Some(first_code);
            }
            Some(code) => {
                // The last line repeats the code followed by a space
                // (or ends right after it).
                let closes = line.len() >= 3
                    && line.get(..3) == Some(code_digits(code).as_slice())
                    && matches!(line.get(3), None | Some(b' '));
                let text = if closes { line.get(4..) } else { Some(line) };
                lines.push(String::from_utf8_lossy(text.unwrap_or_default()).into_owned());
                if closes {
                    return Ok(Some((Reply { code, lines }, start)));
                }
            }
        }
    }
    check_length(bytes.len())?;
    if code.is_none() && bytes.len() >= 4 {
        // Refuse early what cannot become a reply (a binary greeting).
        reply_line(bytes.get(..4).unwrap_or_default())?;
    }
    Ok(None)
}

/// The product and version a greeting announces, for the servers a
/// commune meets: `(vsFTPd 3.0.3)`, `ProFTPD 1.3.8 Server`,
/// `FileZilla Server version 0.9.41 beta`, `Pure-FTPd`, IIS.
pub fn product(greeting: &str) -> Option<(String, Option<String>)> {
    const KNOWN: &[(&str, &str)] = &[
        ("vsftpd", "vsftpd"),
        ("proftpd", "ProFTPD"),
        ("filezilla server", "FileZilla Server"),
        ("pure-ftpd", "Pure-FTPd"),
        ("microsoft ftp service", "Microsoft FTP Service"),
    ];
    let lower = greeting.to_ascii_lowercase();
    KNOWN.iter().find_map(|(marker, name)| {
        let at = lower.find(marker)?;
        let after = greeting.get(at + marker.len()..).unwrap_or_default();
        Some(((*name).to_owned(), version_after(after)))
    })
}

/// The version token right after a product name, skipping the word
/// `version`: starts with a digit, keeps letters, digits, dots, dashes.
fn version_after(text: &str) -> Option<String> {
    let mut words = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',' || c == '[')
        .filter(|w| !w.is_empty());
    let mut word = words.next()?;
    if word.eq_ignore_ascii_case("version") {
        word = words.next()?;
    }
    let version: String = word
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == '_')
        .collect();
    let starts_with_digit = version.chars().next().is_some_and(|c| c.is_ascii_digit());
    (starts_with_digit && version.len() <= 32).then_some(version)
}

/// Parses `ddd text`, `ddd-text` or `ddd`: (code, multi-line, text).
fn reply_line(line: &[u8]) -> Result<(u16, bool, String), ParseError> {
    let digits = line
        .get(..3)
        .ok_or_else(|| ParseError::invalid("FTP reply", "line shorter than a code"))?;
    let valid = digits.iter().all(u8::is_ascii_digit) && (b'1'..=b'5').contains(&digits[0]);
    if !valid {
        return Err(ParseError::invalid(
            "FTP reply",
            format!("{:?} is not a reply code", String::from_utf8_lossy(digits)),
        ));
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    let multi = match line.get(3) {
        None | Some(b' ') => false,
        Some(b'-') => true,
        Some(other) => {
            return Err(ParseError::invalid(
                "FTP reply",
                format!("unexpected byte {other:#04x} after the code"),
            ));
        }
    };
    let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned();
    Ok((code, multi, text))
}

fn code_digits(code: u16) -> [u8; 3] {
    // `code` is 100..=599 from `reply_line`, so each digit fits.
    [
        b'0' + (code / 100 % 10) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ]
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn check_length(length: usize) -> Result<(), ParseError> {
    if length > MAX_REPLY_LEN {
        return Err(ParseError::invalid(
            "FTP reply",
            format!("longer than {MAX_REPLY_LEN} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(bytes: &[u8]) -> (Reply, usize) {
        parse_reply(bytes).unwrap().unwrap()
    }

    #[test]
    fn single_line_replies() {
        // Recorded from vsftpd 3.0.3 (Debian 12).
        let (reply, used) = complete(b"220 (vsFTPd 3.0.3)\r\n331 Please");
        assert_eq!(reply.code, 220);
        assert_eq!(reply.lines, ["(vsFTPd 3.0.3)"]);
        assert_eq!(used, 20);
        assert_eq!(complete(b"230\n").0.code, 230);
    }

    #[test]
    fn multi_line_replies_end_on_the_code_and_a_space() {
        // Recorded from vsftpd 3.0.3 with ssl_enable=NO.
        let feat = b"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n";
        let (reply, used) = complete(feat);
        assert_eq!(reply.code, 211);
        assert_eq!(used, feat.len());
        assert_eq!(reply.lines.first().unwrap(), "Features:");
        assert!(reply.lines.contains(&" EPSV".to_owned()));
        assert_eq!(reply.lines.last().unwrap(), "End");
        // A line starting with another code or the code and a dash does
        // not close it (RFC 959 §4.2).
        let (reply, _) = complete(b"220-Hello\r\n221 no\r\n220-still\r\n220 done\r\n");
        assert_eq!(reply.lines.len(), 4);
    }

    #[test]
    fn incomplete_and_invalid() {
        assert_eq!(parse_reply(b"").unwrap(), None);
        assert_eq!(parse_reply(b"22").unwrap(), None);
        assert_eq!(
            parse_reply(b"211-Features:\r\n AUTH TLS\r\n").unwrap(),
            None
        );
        assert!(parse_reply(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(parse_reply(b"\x16\x03\x01\x00").is_err());
        assert!(parse_reply(b"650 nope\r\n").is_err());
        assert!(parse_reply(b"220x\r\n").is_err());
        let endless = [b"220-a\r\n".as_slice(), &[b'x'; MAX_REPLY_LEN]].concat();
        assert!(parse_reply(&endless).is_err());
    }

    #[test]
    fn products_from_greetings() {
        let check = |greeting: &str, expected: Option<(&str, Option<&str>)>| {
            let found = product(greeting);
            let found = found.as_ref().map(|(p, v)| (p.as_str(), v.as_deref()));
            assert_eq!(found, expected, "{greeting}");
        };
        check("(vsFTPd 3.0.3)", Some(("vsftpd", Some("3.0.3"))));
        check(
            "ProFTPD 1.3.8 Server (Debian) [::ffff:10.66.0.3]",
            Some(("ProFTPD", Some("1.3.8"))),
        );
        check(
            "FileZilla Server version 0.9.41 beta",
            Some(("FileZilla Server", Some("0.9.41"))),
        );
        check(
            "FileZilla Server 1.8.0",
            Some(("FileZilla Server", Some("1.8.0"))),
        );
        check(
            "---------- Welcome to Pure-FTPd [privsep] [TLS] ----------",
            Some(("Pure-FTPd", None)),
        );
        check(
            "Microsoft FTP Service",
            Some(("Microsoft FTP Service", None)),
        );
        check("Bienvenue sur le serveur de la mairie", None);
    }
}
