//! RESP2, the Redis serialization protocol (redis.io/docs/reference/
//! protocol-spec): the encoder of the few commands the probe sends and a
//! parser of replies. The parser is pure and bounded; it never panics.

use crate::protocols::infra::cursor::ParseError;

/// Nesting limit: the replies we read are flat; a deep one is hostile.
pub const MAX_DEPTH: usize = 8;
/// Element limit of an array reply (INFO and PING never send arrays).
pub const MAX_ELEMENTS: usize = 1024;
/// Length limit of a single line (simple strings, errors, integers).
pub const MAX_LINE: usize = 4096;

const WHAT: &str = "RESP reply";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Value>>),
}

/// A command as a RESP array of bulk strings.
pub fn command(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for part in parts {
        out.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses one reply at the start of `bytes`; returns it and the number of
/// bytes it took. An incomplete reply is [`ParseError::Truncated`].
pub fn parse(bytes: &[u8]) -> Result<(Value, usize), ParseError> {
    let mut position = 0;
    let value = parse_at(bytes, &mut position, 0)?;
    Ok((value, position))
}

/// For [`crate::protocols::infra::wire::Conn::receive`]: the length of the
/// first whole reply, or all of it when it is not RESP at all.
pub fn complete_length(bytes: &[u8]) -> Option<usize> {
    match parse(bytes) {
        Ok((_, length)) => Some(length),
        Err(ParseError::Truncated { .. }) => None,
        Err(ParseError::Invalid { .. }) => Some(bytes.len()),
    }
}

fn line<'a>(bytes: &'a [u8], position: &mut usize) -> Result<&'a [u8], ParseError> {
    let rest = bytes.get(*position..).unwrap_or_default();
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(end) if end <= MAX_LINE => {
            *position += end + 2;
            Ok(rest.get(..end).unwrap_or_default())
        }
        Some(_) => Err(ParseError::invalid(WHAT, "line too long")),
        None if rest.len() > MAX_LINE => Err(ParseError::invalid(WHAT, "line too long")),
        None => Err(ParseError::Truncated {
            what: WHAT,
            needed: 2,
            available: 0,
        }),
    }
}

fn number(text: &[u8]) -> Result<i64, ParseError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ParseError::invalid(WHAT, "invalid number"))
}

fn parse_at(bytes: &[u8], position: &mut usize, depth: usize) -> Result<Value, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::invalid(WHAT, "nested too deep"));
    }
    let kind = *bytes.get(*position).ok_or(ParseError::Truncated {
        what: WHAT,
        needed: 1,
        available: 0,
    })?;
    *position += 1;
    let head = line(bytes, position)?;
    let text = || String::from_utf8_lossy(head).into_owned();
    match kind {
        b'+' => Ok(Value::Simple(text())),
        b'-' => Ok(Value::Error(text())),
        b':' => Ok(Value::Integer(number(head)?)),
        b'$' => {
            let length = number(head)?;
            if length < 0 {
                return Ok(Value::Bulk(None));
            }
            let length = usize::try_from(length)
                .map_err(|_| ParseError::invalid(WHAT, "bulk length out of range"))?;
            let end = position
                .checked_add(length)
                .and_then(|end| end.checked_add(2))
                .ok_or_else(|| ParseError::invalid(WHAT, "bulk length out of range"))?;
            let available = bytes.len().saturating_sub(*position);
            let body = bytes.get(*position..end).ok_or(ParseError::Truncated {
                what: WHAT,
                needed: length.saturating_add(2),
                available,
            })?;
            if !body.ends_with(b"\r\n") {
                return Err(ParseError::invalid(WHAT, "bulk string without its CRLF"));
            }
            *position = end;
            Ok(Value::Bulk(Some(
                body.get(..length).unwrap_or_default().to_vec(),
            )))
        }
        b'*' => {
            let count = number(head)?;
            if count < 0 {
                return Ok(Value::Array(None));
            }
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            if count > MAX_ELEMENTS {
                return Err(ParseError::invalid(WHAT, "array too long"));
            }
            let mut items = Vec::with_capacity(count.min(64));
            for _ in 0..count {
                items.push(parse_at(bytes, position, depth + 1)?);
            }
            Ok(Value::Array(Some(items)))
        }
        other => Err(ParseError::invalid(
            WHAT,
            format!("unknown type byte 0x{other:02x}"),
        )),
    }
}

/// Fields of `INFO server` (`key:value` lines): the value of `key`.
pub fn info_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == key).then_some(value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], expected: Value) {
        let (value, length) = parse(input).unwrap();
        assert_eq!(value, expected);
        assert_eq!(length, input.len());
    }

    #[test]
    fn parses_every_reply_type() {
        check(b"+PONG\r\n", Value::Simple("PONG".into()));
        check(
            b"-NOAUTH Authentication required.\r\n",
            Value::Error("NOAUTH Authentication required.".into()),
        );
        check(b":42\r\n", Value::Integer(42));
        check(b"$3\r\nabc\r\n", Value::Bulk(Some(b"abc".to_vec())));
        check(b"$-1\r\n", Value::Bulk(None));
        check(
            b"*2\r\n+a\r\n:1\r\n",
            Value::Array(Some(vec![Value::Simple("a".into()), Value::Integer(1)])),
        );
    }

    #[test]
    fn incomplete_and_hostile_replies_are_errors() {
        assert!(matches!(
            parse(b"$10\r\nabc"),
            Err(ParseError::Truncated { .. })
        ));
        assert!(matches!(parse(b"+PON"), Err(ParseError::Truncated { .. })));
        assert!(parse(b"$9223372036854775807\r\n").is_err());
        assert!(parse(b"*99999999\r\n").is_err());
        assert!(parse(b"$3\r\nabcde").is_err());
        assert!(parse(b"HTTP/1.1 400\r\n").is_err());
        let deep = b"*1\r\n".repeat(20);
        assert!(parse(&deep).is_err());
        assert_eq!(complete_length(b"SSH-2.0-x\r\n"), Some(11));
        assert_eq!(complete_length(b"+PONG\r\n+x"), Some(7));
    }

    #[test]
    fn reads_a_recorded_info_server_reply() {
        // Recorded from Debian 12's redis-server 7.0.15.
        let reply = b"$574\r\n# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:ae4d7c971a948f0\r\nredis_mode:standalone\r\nos:Linux 6.18.44-fc-v769 x86_64\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:12.2.0\r\nprocess_id:23538\r\nprocess_supervised:no\r\nrun_id:8a4979d86712e96a8a4fa4ddb0e6fb4f023d60e2\r\ntcp_port:16379\r\nserver_time_usec:1795348318989939\r\nuptime_in_seconds:1\r\nuptime_in_days:0\r\nhz:10\r\nconfigured_hz:10\r\nlru_clock:186206\r\nexecutable:/tmp/redis-server\r\nconfig_file:\r\nio_threads_active:0\r\n\r\n";
        assert_eq!(complete_length(reply), Some(reply.len()));
        assert_eq!(complete_length(&reply[..300]), None);
        let (Value::Bulk(Some(body)), _) = parse(reply).unwrap() else {
            panic!("not a bulk string");
        };
        let info = String::from_utf8(body).unwrap();
        assert_eq!(info_field(&info, "redis_version"), Some("7.0.15"));
        assert_eq!(
            info_field(&info, "os"),
            Some("Linux 6.18.44-fc-v769 x86_64")
        );
        assert_eq!(info_field(&info, "absent"), None);
    }

    #[test]
    fn encodes_commands_as_bulk_arrays() {
        assert_eq!(
            command(&[b"INFO", b"server"]),
            b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"
        );
    }
}
