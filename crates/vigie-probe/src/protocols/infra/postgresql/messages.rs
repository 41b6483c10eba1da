//! PostgreSQL frontend/backend protocol 3.0 messages (PostgreSQL docs,
//! "Message Formats"): the few the probe sends (SSLRequest, StartupMessage,
//! PasswordMessage, SASL responses, Terminate) and a parser of backend
//! messages (Authentication*, ErrorResponse, ParameterStatus). Pure; never
//! panics.

use crate::protocols::infra::cursor::{Cursor, ParseError};

/// SSLRequest's magic version number (1234.5679).
const SSL_REQUEST_CODE: u32 = 80_877_103;
/// Protocol 3.0.
const PROTOCOL_3: u32 = 196_608;
/// A backend message is small before authentication; bigger is hostile.
pub const MAX_MESSAGE: usize = 16 * 1024;
const WHAT: &str = "PostgreSQL message";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `R` with its code: 0 ok, 3 cleartext, 5 md5 (salt), 10 SASL...
    Authentication(Auth),
    /// `E`: the SQLSTATE code and message.
    Error { code: String, message: String },
    /// `S`: a run-time parameter, `server_version` among them.
    Parameter { name: String, value: String },
    /// Any other message type, by its type byte.
    Other(u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    Ok,
    Cleartext,
    Md5 {
        salt: [u8; 4],
    },
    Sasl {
        mechanisms: Vec<String>,
    },
    SaslContinue(Vec<u8>),
    SaslFinal(Vec<u8>),
    /// Kerberos, GSSAPI, SSPI...: methods the probe does not speak.
    Other(i32),
}

impl Auth {
    /// The method's name, for the service banner.
    pub fn method(&self) -> String {
        match self {
            Auth::Ok => "trust".to_owned(),
            Auth::Cleartext => "password".to_owned(),
            Auth::Md5 { .. } => "md5".to_owned(),
            Auth::Sasl { mechanisms } => mechanisms.join(" "),
            Auth::SaslContinue(_) | Auth::SaslFinal(_) => "SASL".to_owned(),
            Auth::Other(code) => format!("code {code}"),
        }
    }
}

pub fn ssl_request() -> Vec<u8> {
    let mut out = 8u32.to_be_bytes().to_vec();
    out.extend_from_slice(&SSL_REQUEST_CODE.to_be_bytes());
    out
}

pub fn startup(user: &str, database: &str) -> Vec<u8> {
    let mut body = PROTOCOL_3.to_be_bytes().to_vec();
    for (key, value) in [
        ("user", user),
        ("database", database),
        ("application_name", "vigie-probe"),
    ] {
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// A frontend message: type byte, length, body.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// PasswordMessage (`p`) with a NUL-terminated password or md5 hash.
pub fn password(text: &str) -> Vec<u8> {
    let mut body = text.as_bytes().to_vec();
    body.push(0);
    message(b'p', &body)
}

/// SASLInitialResponse (`p`): mechanism, then the client-first message.
pub fn sasl_initial(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut body = mechanism.as_bytes().to_vec();
    body.push(0);
    body.extend_from_slice(&(data.len() as u32).to_be_bytes());
    body.extend_from_slice(data);
    message(b'p', &body)
}

pub fn terminate() -> Vec<u8> {
    message(b'X', &[])
}

/// Splits the first backend message off `bytes`: (type, body, length).
pub fn split(bytes: &[u8]) -> Result<(u8, &[u8], usize), ParseError> {
    let mut cursor = Cursor::new(bytes, WHAT);
    let kind = cursor.u8()?;
    let length = cursor.u32_be()? as usize;
    if !(4..=MAX_MESSAGE).contains(&length) {
        return Err(cursor.invalid(format!("invalid length {length}")));
    }
    let body = cursor.take(length - 4)?;
    Ok((kind, body, length + 1))
}

/// For `Conn::receive`: a message is whole once its length is in.
pub fn complete_length(bytes: &[u8]) -> Option<usize> {
    match split(bytes) {
        Ok((_, _, length)) => Some(length),
        Err(ParseError::Truncated { .. }) => None,
        Err(ParseError::Invalid { .. }) => Some(bytes.len()),
    }
}

/// Parses the first backend message of `bytes`; returns it and its length.
pub fn parse(bytes: &[u8]) -> Result<(Backend, usize), ParseError> {
    let (kind, body, length) = split(bytes)?;
    let mut cursor = Cursor::new(body, WHAT);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let message = match kind {
        b'R' => Backend::Authentication(authentication(&mut cursor)?),
        b'E' => {
            let (mut code, mut message) = (String::new(), String::new());
            loop {
                let field = cursor.u8()?;
                if field == 0 {
                    break;
                }
                let value = text(cursor.cstr()?);
                match field {
                    b'C' => code = value,
                    b'M' => message = value,
                    _ => {}
                }
            }
            Backend::Error { code, message }
        }
        b'S' => Backend::Parameter {
            name: text(cursor.cstr()?),
            value: text(cursor.cstr()?),
        },
        other => Backend::Other(other),
    };
    Ok((message, length))
}

fn authentication(cursor: &mut Cursor) -> Result<Auth, ParseError> {
    Ok(match cursor.i32_be()? {
        0 => Auth::Ok,
        3 => Auth::Cleartext,
        5 => Auth::Md5 {
            salt: cursor.array()?,
        },
        10 => {
            let mut mechanisms = Vec::new();
            loop {
                let name = cursor.cstr()?;
                if name.is_empty() {
                    break;
                }
                mechanisms.push(String::from_utf8_lossy(name).into_owned());
            }
            Auth::Sasl { mechanisms }
        }
        11 => Auth::SaslContinue(cursor.rest().to_vec()),
        12 => Auth::SaslFinal(cursor.rest().to_vec()),
        other => Auth::Other(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], expected: Backend) {
        let (message, length) = parse(bytes).unwrap();
        assert_eq!(message, expected);
        assert_eq!(length, bytes.len());
    }

    #[test]
    fn parses_authentication_requests() {
        check(
            b"R\x00\x00\x00\x08\x00\x00\x00\x00",
            Backend::Authentication(Auth::Ok),
        );
        check(
            b"R\x00\x00\x00\x0c\x00\x00\x00\x05\x01\x02\x03\x04",
            Backend::Authentication(Auth::Md5 { salt: [1, 2, 3, 4] }),
        );
        // Recorded from PostgreSQL 15 with scram-sha-256 in pg_hba.conf.
        check(
            b"R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00",
            Backend::Authentication(Auth::Sasl {
                mechanisms: vec!["SCRAM-SHA-256".into()],
            }),
        );
    }

    #[test]
    fn parses_an_error_response() {
        let body = b"SFATAL\x00VFATAL\x00C28P01\x00Mpassword authentication failed for user \"postgres\"\x00Fauth.c\x00\x00";
        let mut bytes = vec![b'E'];
        bytes.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        bytes.extend_from_slice(body);
        check(
            &bytes,
            Backend::Error {
                code: "28P01".into(),
                message: "password authentication failed for user \"postgres\"".into(),
            },
        );
    }

    #[test]
    fn rejects_malformed_messages() {
        assert!(parse(b"R\x00\x00\x00\x02").is_err());
        assert!(parse(b"R\xff\xff\xff\xff").is_err());
        assert!(parse(b"R\x00\x00\x00\x08\x00\x00").is_err());
        assert!(parse(b"R\x00\x00\x00\x06\x00\x00").is_err());
        assert!(parse(b"E\x00\x00\x00\x06Sx").is_err());
        assert_eq!(complete_length(b"R\x00\x00\x00\x08\x00"), None);
    }

    #[test]
    fn writes_startup_and_ssl_request() {
        assert_eq!(ssl_request(), b"\x00\x00\x00\x08\x04\xd2\x16\x2f");
        let startup = startup("postgres", "postgres");
        assert_eq!(
            startup.len() as u32,
            u32::from_be_bytes(startup[..4].try_into().unwrap())
        );
        assert!(startup.ends_with(b"vigie-probe\x00\x00"));
    }
}
