//! The home directories an anonymous FTP server shows (issue 16): after
//! the anonymous login, the names (`NLST`, RFC 959 §4.1.3) of the root
//! and, when the root has a folder of home directories (`home`, a NAS's
//! `homes`, Windows' `Users`), of that folder. Its entries are the
//! accounts' names: reported to the host's board
//! (`credentials::revealed`), tried first on its login services, counted
//! in `ftp.home_directories`.
//!
//! What it must not do: read a file (`RETR`), list more than those two
//! folders, or open the data connection anywhere but the target's own
//! address: the address a `227` reply names is ignored (RFC 2577's bounce
//! attack; a server behind NAT names another one anyway).

use std::io;

use tokio::time::Instant;

use super::{Reply, command, read_reply_within};
use crate::credentials::revealed::{self, MAX_REVEALED};
use crate::protocols::remote::conn::{Connection, MAX_BUFFERED};
use crate::target::Target;

/// Folders whose entries are people's home directories: Linux's, a
/// Synology's or QNAP's shared folder, Windows', a French NAS's.
pub const HOME_FOLDERS: &[&str] = &["home", "homes", "users", "utilisateurs"];
/// Names read from one listing at most; a bigger folder is cut there.
pub const MAX_ENTRIES: usize = 256;
/// A name longer than this is no file name (ext4 and NTFS stop at 255).
const MAX_ENTRY_LEN: usize = 255;

/// The data port a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` or a
/// `229 Entering Extended Passive Mode (|||port|)` reply (RFC 2428) names;
/// the address part is ignored.
pub fn passive_port(reply: &Reply) -> Option<u16> {
    let text = reply.text();
    let port = match reply.code {
        227 => {
            // The six numbers may come without parentheses (RFC 1123
            // §4.1.2.6): the last run of digits and commas.
            let start = text.find(|c: char| c.is_ascii_digit())?;
            let run: String = text
                .get(start..)?
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == ',')
                .collect();
            let numbers: Vec<u16> = run
                .split(',')
                .map(|n| n.parse::<u8>().ok().map(u16::from))
                .collect::<Option<Vec<u16>>>()?;
            let [_, _, _, _, high, low] = numbers.as_slice() else {
                return None;
            };
            high * 256 + low
        }
        229 => {
            let inner = text.split_once('(')?.1.split_once(')')?.0;
            let delimiter = inner.chars().next()?;
            let fields: Vec<&str> = inner.split(delimiter).collect();
            match fields.as_slice() {
                ["", "", "", port, ""] => port.parse::<u16>().ok()?,
                _ => return None,
            }
        }
        _ => return None,
    };
    (port != 0).then_some(port)
}

/// The entries of an `NLST` answer: one a line, the last path segment of
/// each (servers answer `NLST home` with `home/jdupont`), `.` and `..`
/// left out; at most [`MAX_ENTRIES`].
pub fn names(listing: &[u8]) -> Vec<String> {
    listing
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty() && line.len() <= MAX_ENTRY_LEN)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .filter_map(|path| path.trim_end_matches('/').rsplit('/').next())
        .filter(|name| !name.is_empty() && *name != "." && *name != "..")
        .take(MAX_ENTRIES)
        .map(str::to_owned)
        .collect()
}

/// The accounts a listing of home directories shows: the plain account
/// names among its entries, at most [`MAX_REVEALED`].
pub fn accounts(entries: &[String]) -> Vec<String> {
    entries
        .iter()
        .filter_map(|entry| revealed::account_name(entry.as_bytes()))
        .take(MAX_REVEALED)
        .collect()
}

/// The home folder a root listing shows, as the server spells it.
pub fn home_folder(root: &[String]) -> Option<&str> {
    root.iter()
        .map(String::as_str)
        .find(|entry| HOME_FOLDERS.iter().any(|h| h.eq_ignore_ascii_case(entry)))
}

/// On a connection logged in anonymously: the home folder's entries, or
/// nothing when the root has none (or the server refuses to list).
pub async fn home_directories(conn: &mut Connection, target: &Target) -> Vec<String> {
    let Ok(root) = list(conn, target, None).await else {
        return Vec::new();
    };
    let Some(folder) = home_folder(&root) else {
        return Vec::new();
    };
    list(conn, target, Some(folder)).await.unwrap_or_default()
}

/// One `NLST` through a passive data connection to the target's address.
async fn list(
    conn: &mut Connection,
    target: &Target,
    folder: Option<&str>,
) -> io::Result<Vec<String>> {
    let passive = if target.addr.is_ipv4() {
        "PASV"
    } else {
        "EPSV"
    };
    let reply = command(conn, passive).await?;
    let port = passive_port(&reply).ok_or_else(|| invalid("no passive port"))?;
    let mut data = Connection::open(&Target::tcp(target.addr, port), conn.timeout()).await?;
    let line = match folder {
        Some(folder) => format!("NLST {folder}"),
        None => "NLST".to_owned(),
    };
    // The folder comes from HOME_FOLDERS (matched without case): no CR or
    // LF can ride along.
    conn.send(format!("{line}\r\n").as_bytes()).await?;
    let deadline = Instant::now() + conn.timeout();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match data.fill_within(left).await {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => break,
            // A listing bigger than the buffer is cut: its first entries
            // are enough.
            Err(_) if data.buffered().len() >= MAX_BUFFERED => break,
            Err(error) => return Err(error),
        }
    }
    let listing = data.buffered().to_vec();
    drop(data);
    // `150` (skipped) then `226` once the transfer is complete.
    let limit = conn.timeout();
    let done = read_reply_within(conn, limit).await?;
    if !matches!(done.code, 226 | 250) {
        return Err(invalid("listing refused"));
    }
    Ok(names(&listing))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code,
            lines: vec![text.to_owned()],
        }
    }

    #[test]
    fn passive_ports() {
        let check = |code, text: &str, expected: Option<u16>| {
            assert_eq!(passive_port(&reply(code, text)), expected, "{code} {text}");
        };
        // vsftpd 3.0.3.
        check(
            227,
            "Entering Passive Mode (10,66,80,11,156,64).",
            Some(40000),
        );
        check(227, "Entering Passive Mode 10,66,80,11,4,1", Some(1025));
        // The address is never used: another one changes nothing.
        check(227, "Entering Passive Mode (192,0,2,1,0,21).", Some(21));
        check(
            229,
            "Entering Extended Passive Mode (|||40001|)",
            Some(40001),
        );
        check(
            229,
            "Entering Extended Passive Mode (!!!40001!)",
            Some(40001),
        );
        check(227, "Entering Passive Mode (10,66,80,11,0,0).", None);
        check(227, "Entering Passive Mode (10,66,80,11,256,1).", None);
        check(227, "Entering Passive Mode (10,66,80,11,4).", None);
        check(229, "Entering Extended Passive Mode (|||70000|)", None);
        check(
            229,
            "Entering Extended Passive Mode (|1|10.0.0.1|21|)",
            None,
        );
        check(500, "Entering Passive Mode (10,66,80,11,4,1).", None);
        check(227, "", None);
    }

    #[test]
    fn listings_give_names_and_home_directories_accounts() {
        let root = names(b"pub\r\nhome\r\n.\r\n..\r\n");
        assert_eq!(root, ["pub", "home"]);
        assert_eq!(home_folder(&root), Some("home"));
        assert_eq!(home_folder(&names(b"Users\n")), Some("Users"));
        assert_eq!(home_folder(&names(b"pub\nhomework\n")), None);
        // vsftpd answers `NLST home` with the folder's path in front.
        let homes =
            names(b"home/etatcivil\r\nhome/jean.dupont\r\nhome/Public\r\nhome/lost+found\r\n");
        assert_eq!(accounts(&homes), ["etatcivil", "jean.dupont"]);
        assert_eq!(names(b"homes/urbanisme/\n"), ["urbanisme"]);
        let many: Vec<u8> = (0..1000)
            .flat_map(|i| format!("agent{i}\n").into_bytes())
            .collect();
        assert_eq!(names(&many).len(), MAX_ENTRIES);
        assert_eq!(accounts(&names(&many)).len(), MAX_REVEALED);
        assert!(names(&[0xff, b'\n', b'/', b'\n']).is_empty());
    }
}
