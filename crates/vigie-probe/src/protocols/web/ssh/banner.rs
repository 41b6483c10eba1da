//! The SSH identification string (RFC 4253 §4.2):
//! `SSH-protoversion-softwareversion SP comments CR LF`, possibly after
//! other lines, at most 255 characters. Pure; never panics.

/// RFC 4253 §4.2: the identification line is at most 255 characters,
/// CR LF included.
pub const MAX_LINE_LEN: usize = 255;
/// Servers may send lines before the identification (RFC 4253 §4.2); more
/// bytes than this and it is not an SSH server we can talk to.
pub const MAX_PREAMBLE: usize = 8 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BannerError {
    #[error("no complete identification line yet")]
    Incomplete,
    #[error("no SSH identification line in the first {MAX_PREAMBLE} bytes")]
    NotSsh,
    #[error("identification line longer than {MAX_LINE_LEN} characters")]
    TooLong,
    #[error("identification line without software version")]
    Malformed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banner {
    /// `2.0`, `1.99` (both 1 and 2) or `1.5`.
    pub protocol: String,
    /// `OpenSSH_9.2p1`.
    pub software: String,
    /// `Debian-2+deb12u3`.
    pub comments: Option<String>,
    /// The whole line, without CR LF.
    pub line: String,
}

impl Banner {
    /// The product and version, named as nmap names them:
    /// `OpenSSH_9.2p1` → (`OpenSSH`, `9.2p1`), `dropbear_2022.83` →
    /// (`Dropbear sshd`, `2022.83`).
    pub fn product(&self) -> (String, Option<String>) {
        let software = self.software.as_str();
        let split = software
            .split_once('_')
            .or_else(|| software.split_once('-'))
            .filter(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()));
        let (name, version) = match split {
            Some((name, version)) => (name, Some(version.to_owned())),
            None => (software, None),
        };
        let product = match name.to_ascii_lowercase().as_str() {
            "openssh" => "OpenSSH",
            "dropbear" => "Dropbear sshd",
            _ => name,
        };
        (product.to_owned(), version)
    }

    /// The operating system the comments name (`Debian-…`, `Ubuntu-…`).
    pub fn os(&self) -> Option<String> {
        let comments = self.comments.as_deref()?.to_ascii_lowercase();
        [
            ("debian", "Debian"),
            ("ubuntu", "Ubuntu"),
            ("raspbian", "Raspbian"),
            ("freebsd", "FreeBSD"),
        ]
        .iter()
        .find(|(needle, _)| comments.starts_with(needle))
        .map(|(_, os)| (*os).to_owned())
    }
}

/// Finds and parses the identification line (the fuzzed entry point).
pub fn parse_banner(bytes: &[u8]) -> Result<Banner, BannerError> {
    let mut rest = bytes;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            if rest.starts_with(b"SSH-") && rest.len() > MAX_LINE_LEN {
                return Err(BannerError::TooLong);
            }
            return Err(if bytes.len() > MAX_PREAMBLE {
                BannerError::NotSsh
            } else {
                BannerError::Incomplete
            });
        };
        let line = rest.get(..end).unwrap_or_default();
        if line.starts_with(b"SSH-") {
            return identification(line);
        }
        if bytes.len() - rest.len() + end > MAX_PREAMBLE {
            return Err(BannerError::NotSsh);
        }
        rest = rest.get(end + 1..).unwrap_or_default();
    }
}

fn identification(line: &[u8]) -> Result<Banner, BannerError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() + 2 > MAX_LINE_LEN {
        return Err(BannerError::TooLong);
    }
    // Only printable US-ASCII is allowed (RFC 4253 §4.2); anything else is
    // shown replaced rather than refused.
    let text: String = String::from_utf8_lossy(line)
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    let rest = text.strip_prefix("SSH-").ok_or(BannerError::Malformed)?;
    let (protocol, after) = rest.split_once('-').ok_or(BannerError::Malformed)?;
    let (software, comments) = match after.split_once(' ') {
        Some((software, comments)) => (software, Some(comments.trim().to_owned())),
        None => (after, None),
    };
    if protocol.is_empty() || software.is_empty() {
        return Err(BannerError::Malformed);
    }
    Ok(Banner {
        protocol: protocol.to_owned(),
        software: software.to_owned(),
        comments: comments.filter(|c| !c.is_empty()),
        line: text.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from Debian 12's openssh-server.
    const DEBIAN: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

    #[test]
    fn a_recorded_debian_banner_parses() {
        let banner = parse_banner(DEBIAN).unwrap();
        assert_eq!(banner.protocol, "2.0");
        assert_eq!(banner.software, "OpenSSH_9.2p1");
        assert_eq!(banner.comments.as_deref(), Some("Debian-2+deb12u3"));
        assert_eq!(banner.line, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
        assert_eq!(
            banner.product(),
            ("OpenSSH".to_owned(), Some("9.2p1".to_owned()))
        );
        assert_eq!(banner.os().as_deref(), Some("Debian"));
    }

    #[test]
    fn other_servers_and_preambles() {
        let check = |bytes: &[u8], product: &str, version: Option<&str>| {
            let (p, v) = parse_banner(bytes).unwrap().product();
            assert_eq!((p.as_str(), v.as_deref()), (product, version));
        };
        check(
            b"SSH-2.0-dropbear_2022.83\r\n",
            "Dropbear sshd",
            Some("2022.83"),
        );
        check(b"SSH-2.0-Cisco-1.25\n", "Cisco", Some("1.25"));
        check(b"SSH-1.99-OpenSSH_3.9p1\r\n", "OpenSSH", Some("3.9p1"));
        check(
            b"Welcome\r\nmotd line\r\nSSH-2.0-RomSShell_5.40\r\n",
            "RomSShell",
            Some("5.40"),
        );
        check(b"SSH-2.0-libssh\r\n", "libssh", None);
    }

    #[test]
    fn incomplete_and_garbage() {
        assert_eq!(parse_banner(b"SSH-2.0-Open"), Err(BannerError::Incomplete));
        assert_eq!(
            parse_banner(b"HTTP/1.1 400 Bad\r\n\r\n"),
            Err(BannerError::Incomplete)
        );
        assert_eq!(parse_banner(b"SSH-2.0\r\n"), Err(BannerError::Malformed));
        assert_eq!(parse_banner(b"SSH-2.0-\r\n"), Err(BannerError::Malformed));
        let long = [b"SSH-2.0-".as_slice(), &[b'a'; 300], b"\r\n"].concat();
        assert_eq!(parse_banner(&long), Err(BannerError::TooLong));
        assert_eq!(
            parse_banner(&[b'x'; MAX_PREAMBLE + 1]),
            Err(BannerError::NotSsh)
        );
        let lines = b"a\n".repeat(MAX_PREAMBLE);
        assert_eq!(parse_banner(&lines), Err(BannerError::NotSsh));
        let odd = parse_banner(b"SSH-2.0-X_1\x01\xff \r\n").unwrap();
        assert_eq!(odd.software, "X_1??");
    }
}
