//! MySQL/MariaDB client/server protocol packets: framing, the server's
//! greeting (HandshakeV10), its replies (OK, ERR, AuthSwitchRequest,
//! AuthMoreData) and the client's HandshakeResponse41 (MySQL "Client/Server
//! Protocol", Connection Phase). Parsers are pure and never panic.

use crate::protocols::infra::cursor::{Cursor, ParseError};

/// Capability flags (MySQL `CLIENT_*`).
pub const CLIENT_LONG_PASSWORD: u32 = 0x0000_0001;
pub const CLIENT_PROTOCOL_41: u32 = 0x0000_0200;
pub const CLIENT_SECURE_CONNECTION: u32 = 0x0000_8000;
pub const CLIENT_PLUGIN_AUTH: u32 = 0x0008_0000;
pub const CLIENT_SSL: u32 = 0x0000_0800;
/// utf8mb3_general_ci, understood by every server version.
const CHARSET_UTF8: u8 = 33;
const MAX_PACKET: u32 = 16 * 1024 * 1024;

/// The server's first packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Greeting {
    pub protocol: u8,
    pub server_version: String,
    pub connection_id: u32,
    pub capabilities: u32,
    /// The 20-byte nonce the password scrambles use.
    pub scramble: Vec<u8>,
    pub auth_plugin: Option<String>,
}

impl Greeting {
    /// `MariaDB`/`MySQL` and the version, from the version string
    /// (`10.11.6-MariaDB-0+deb12u1`, `5.5.5-10.3.39-MariaDB`, `8.0.36`).
    pub fn product(&self) -> (String, String) {
        let text = self.server_version.as_str();
        if text.contains("MariaDB") {
            // MariaDB before 11 prefixes "5.5.5-" for old clients.
            let text = text.strip_prefix("5.5.5-").unwrap_or(text);
            let version = text.split('-').next().unwrap_or(text);
            ("MariaDB".to_owned(), version.to_owned())
        } else {
            let version = text.split('-').next().unwrap_or(text);
            ("MySQL".to_owned(), version.to_owned())
        }
    }

    pub fn supports_tls(&self) -> bool {
        self.capabilities & CLIENT_SSL != 0
    }
}

/// A server reply during authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Ok,
    Err { code: u16, message: String },
    AuthSwitch { plugin: String, data: Vec<u8> },
    MoreData(Vec<u8>),
}

/// Splits the first packet off `bytes`: (sequence id, payload, length).
pub fn split(bytes: &[u8]) -> Result<(u8, &[u8], usize), ParseError> {
    let mut cursor = Cursor::new(bytes, "MySQL packet");
    let header = cursor.array::<4>()?;
    let length = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let payload = cursor.take(length)?;
    Ok((header[3], payload, length + 4))
}

/// For `Conn::receive`: a packet is whole once its length is in.
pub fn complete_length(bytes: &[u8]) -> Option<usize> {
    match split(bytes) {
        Ok((_, _, length)) => Some(length),
        Err(ParseError::Truncated { .. }) => None,
        Err(ParseError::Invalid { .. }) => Some(bytes.len()),
    }
}

/// Parses a greeting payload; an ERR greeting ("Host is not allowed",
/// "Too many connections") is returned as the error's problem.
pub fn parse_greeting(payload: &[u8]) -> Result<Greeting, ParseError> {
    const WHAT: &str = "MySQL greeting";
    let mut cursor = Cursor::new(payload, WHAT);
    let protocol = cursor.u8()?;
    if protocol == 0xff {
        let reply = parse_reply(payload)?;
        return Err(ParseError::invalid(WHAT, format!("{reply:?}")));
    }
    if protocol != 10 {
        return Err(ParseError::invalid(WHAT, format!("protocol {protocol}")));
    }
    let server_version = String::from_utf8_lossy(cursor.cstr()?).into_owned();
    let connection_id = cursor.u32_le()?;
    let mut scramble = cursor.take(8)?.to_vec();
    cursor.u8()?;
    let mut capabilities = u32::from(cursor.u16_le()?);
    let mut auth_plugin = None;
    // Servers older than 4.1 stop here.
    if !cursor.is_empty() {
        let _charset = cursor.u8()?;
        let _status = cursor.u16_le()?;
        capabilities |= u32::from(cursor.u16_le()?) << 16;
        let data_length = usize::from(cursor.u8()?);
        cursor.take(10)?;
        if capabilities & CLIENT_SECURE_CONNECTION != 0 {
            let part2 = cursor.take(data_length.saturating_sub(8).max(13))?;
            scramble.extend_from_slice(part2);
            // The second part ends with a NUL that is not part of the nonce.
            if scramble.last() == Some(&0) {
                scramble.pop();
            }
        }
        if capabilities & CLIENT_PLUGIN_AUTH != 0 {
            // MySQL 5.5.7-5.5.9 omitted the final NUL.
            let name = cursor.cstr().unwrap_or_else(|_| cursor.rest());
            auth_plugin = Some(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(Greeting {
        protocol,
        server_version,
        connection_id,
        capabilities,
        scramble,
        auth_plugin,
    })
}

/// Parses a reply payload during authentication.
pub fn parse_reply(payload: &[u8]) -> Result<Reply, ParseError> {
    let mut cursor = Cursor::new(payload, "MySQL reply");
    match cursor.u8()? {
        0x00 => Ok(Reply::Ok),
        0xff => {
            let code = cursor.u16_le()?;
            let mut rest = cursor.rest();
            // Protocol 4.1: '#' and a five-character SQL state.
            if rest.first() == Some(&b'#') {
                rest = rest.get(6..).unwrap_or_default();
            }
            Ok(Reply::Err {
                code,
                message: String::from_utf8_lossy(rest).into_owned(),
            })
        }
        0xfe => {
            let plugin = String::from_utf8_lossy(cursor.cstr()?).into_owned();
            let mut data = cursor.rest().to_vec();
            if data.last() == Some(&0) {
                data.pop();
            }
            Ok(Reply::AuthSwitch { plugin, data })
        }
        0x01 => Ok(Reply::MoreData(cursor.rest().to_vec())),
        other => Err(cursor.invalid(format!("unexpected reply 0x{other:02x}"))),
    }
}

/// Frames a payload with its sequence id.
pub fn frame(sequence: u8, payload: &[u8]) -> Vec<u8> {
    let length = (payload.len() as u32).to_le_bytes();
    let mut out = vec![length[0], length[1], length[2], sequence];
    out.extend_from_slice(payload);
    out
}

/// HandshakeResponse41 for `user` with an auth response made by `plugin`.
pub fn handshake_response(user: &str, auth: &[u8], plugin: &str, server_caps: u32) -> Vec<u8> {
    let wanted =
        CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
    let capabilities = wanted & (server_caps | CLIENT_PROTOCOL_41);
    let mut out = capabilities.to_le_bytes().to_vec();
    out.extend_from_slice(&MAX_PACKET.to_le_bytes());
    out.push(CHARSET_UTF8);
    out.extend_from_slice(&[0u8; 23]);
    out.extend_from_slice(user.as_bytes());
    out.push(0);
    // Scrambles are 20 or 32 bytes: the one-byte length always fits.
    out.push(auth.len().min(255) as u8);
    out.extend_from_slice(auth.get(..auth.len().min(255)).unwrap_or_default());
    if capabilities & CLIENT_PLUGIN_AUTH != 0 {
        out.extend_from_slice(plugin.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A MariaDB 10.11 greeting payload, recorded from Debian 12's
    /// mariadb-server.
    pub const MARIADB_GREETING: &[u8] = b"\x0a\x35\x2e\x35\x2e\x35\x2d\x31\x30\x2e\x31\x31\x2e\x31\x39\x2d\x4d\x61\x72\x69\x61\x44\x42\x2d\x30\x2b\x64\x65\x62\x31\x32\x75\x31\x00\x03\x00\x00\x00\x65\x5b\x78\x6a\x2d\x3c\x29\x57\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00\x58\x38\x4e\x5c\x67\x6e\x72\x74\x6c\x45\x4f\x41\x00\x6d\x79\x73\x71\x6c\x5f\x6e\x61\x74\x69\x76\x65\x5f\x70\x61\x73\x73\x77\x6f\x72\x64\x00";

    #[test]
    fn parses_a_recorded_greeting() {
        let greeting = parse_greeting(MARIADB_GREETING).unwrap();
        assert_eq!(greeting.protocol, 10);
        assert_eq!(greeting.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
        assert_eq!(greeting.scramble.len(), 20);
        assert_eq!(
            greeting.auth_plugin.as_deref(),
            Some("mysql_native_password")
        );
        assert_eq!(
            greeting.product(),
            ("MariaDB".to_owned(), "10.11.19".to_owned())
        );
        assert!(!greeting.supports_tls());
    }

    #[test]
    fn names_products_from_version_strings() {
        let check = |version: &str, product: &str, number: &str| {
            let greeting = Greeting {
                protocol: 10,
                server_version: version.to_owned(),
                connection_id: 1,
                capabilities: 0,
                scramble: Vec::new(),
                auth_plugin: None,
            };
            assert_eq!(greeting.product(), (product.to_owned(), number.to_owned()));
        };
        check("5.5.5-10.3.39-MariaDB-0+deb10u1", "MariaDB", "10.3.39");
        check("8.0.36-0ubuntu0.22.04.1", "MySQL", "8.0.36");
        check("5.7.44", "MySQL", "5.7.44");
    }

    #[test]
    fn parses_replies() {
        assert_eq!(parse_reply(&[0, 0, 0, 2, 0, 0, 0]).unwrap(), Reply::Ok);
        let denied = b"\xff\x15\x04#28000Access denied for user 'root'@'localhost'";
        assert_eq!(
            parse_reply(denied).unwrap(),
            Reply::Err {
                code: 1045,
                message: "Access denied for user 'root'@'localhost'".to_owned()
            }
        );
        let switch = b"\xfemysql_native_password\x00abcdefghijklmnopqrst\x00";
        assert_eq!(
            parse_reply(switch).unwrap(),
            Reply::AuthSwitch {
                plugin: "mysql_native_password".to_owned(),
                data: b"abcdefghijklmnopqrst".to_vec()
            }
        );
        assert!(parse_reply(b"").is_err());
        assert!(parse_reply(b"\x42").is_err());
    }

    #[test]
    fn an_err_greeting_is_an_error_with_the_message() {
        let payload =
            b"\xff\x6a\x04Host '10.0.0.9' is not allowed to connect to this MariaDB server";
        let error = parse_greeting(payload).unwrap_err().to_string();
        assert!(error.contains("not allowed"), "{error}");
    }

    #[test]
    fn frames_and_splits_packets() {
        let packet = frame(3, b"abc");
        assert_eq!(packet, b"\x03\x00\x00\x03abc");
        assert_eq!(split(&packet).unwrap(), (3, &b"abc"[..], 7));
        assert_eq!(complete_length(&packet[..5]), None);
        assert!(parse_greeting(b"\x0a5.0").is_err());
        assert!(parse_greeting(b"SSH-2.0").is_err());
    }
}
