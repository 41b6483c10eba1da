//! The little HTTP/1.0 the family needs (Elasticsearch's `GET /`, IPP's
//! `POST`): a request writer and a response parser. HTTP/1.0 with
//! `Connection: close` keeps replies unchunked and ended by the close
//! (RFC 9112 §6.3), so reading to the end gives the whole response.

use crate::protocols::infra::cursor::ParseError;

/// Header count limit; real servers send a dozen or two.
pub const MAX_HEADERS: usize = 100;
const WHAT: &str = "HTTP response";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response<'a> {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl Response<'_> {
    /// A header's value; names compare case-insensitively (RFC 9110 §5.1).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request to `host` (the target's address, written as the Host header).
pub fn request(
    method: &str,
    path: &str,
    host: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: vigie-probe\r\nAccept: */*\r\nConnection: close\r\n"
    );
    if let Some(content_type) = content_type {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// For `Conn::receive`: a response is whole once its headers and the
/// Content-Length they announce are in; without one, at the close.
pub fn complete_length(bytes: &[u8]) -> Option<usize> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())?;
    let total = end.checked_add(length)?;
    (bytes.len() >= total).then_some(total)
}

/// Parses a whole response: status line, headers, body (cut at
/// Content-Length when it is given and shorter than what arrived).
pub fn parse_response(bytes: &[u8]) -> Result<Response<'_>, ParseError> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(ParseError::Truncated {
            what: WHAT,
            needed: 4,
            available: 0,
        })?;
    let head = String::from_utf8_lossy(bytes.get(..end).unwrap_or_default());
    let mut body = bytes.get(end + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(ParseError::invalid(WHAT, "not an HTTP/1 status line"));
    }
    let status = parts
        .next()
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..600).contains(code))
        .ok_or_else(|| ParseError::invalid(WHAT, "invalid status code"))?;
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() >= MAX_HEADERS {
            return Err(ParseError::invalid(WHAT, "too many headers"));
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let response = Response {
        status,
        headers,
        body,
    };
    if let Some(length) = response
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        body = body.get(..length).unwrap_or(body);
    }
    Ok(Response { body, ..response })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_headers_and_body() {
        let response = parse_response(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"security\"\r\ncontent-length: 2\r\n\r\n{}xx",
        )
        .unwrap();
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("www-authenticate"),
            Some("Basic realm=\"security\"")
        );
        assert_eq!(response.body, b"{}");
    }

    #[test]
    fn a_response_is_complete_at_its_content_length() {
        let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(complete_length(bytes), Some(bytes.len()));
        assert_eq!(complete_length(&bytes[..bytes.len() - 1]), None);
        assert_eq!(complete_length(b"HTTP/1.0 200 OK\r\n\r\nbody"), None);
        assert_eq!(
            complete_length(b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n"),
            None
        );
    }

    #[test]
    fn rejects_what_is_not_http() {
        assert!(parse_response(b"+PONG\r\n").is_err());
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 9999 x\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\nab").is_ok());
    }

    #[test]
    fn writes_a_request_with_its_length() {
        let bytes = request(
            "POST",
            "/ipp/print",
            "10.0.0.1:631",
            Some("application/ipp"),
            b"ab",
        );
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("POST /ipp/print HTTP/1.0\r\nHost: 10.0.0.1:631\r\n"));
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.ends_with("\r\n\r\nab"));
    }
}
