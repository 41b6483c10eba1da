//! HTTP/1.x request decoding (RFC 9112 §3 request line, §5 field lines)
//! from one TCP segment, borrowing it.
//!
//! It must not allocate, panic on any input, or reassemble segments: a
//! request cut by the end of the segment yields what is complete. It is
//! lenient where a strict server would answer 400 but an attack is still
//! worth seeing (bare LF line endings, spaces inside the target), and skips
//! field lines it cannot read rather than failing the whole request.

use std::fmt;

/// Header fields kept per request; later ones are skipped (not an error).
pub const MAX_HEADERS: usize = 64;
/// Longest request line accepted, without its line ending. RFC 9112 §3
/// recommends supporting at least 8000 octets.
pub const MAX_REQUEST_LINE: usize = 8192;

/// Methods [`looks_like_request`] recognizes (RFC 9110 §9, RFC 5789 PATCH,
/// RFC 4918 PROPFIND).
const METHODS: [&[u8]; 10] = [
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
];

/// One header field line, borrowing the segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header<'a> {
    pub name: &'a [u8],
    /// The field value with leading and trailing whitespace (OWS) removed.
    pub value: &'a [u8],
}

/// An HTTP/1.x request head, borrowing the segment it was read from.
#[derive(Clone)]
pub struct Request<'a> {
    pub method: &'a [u8],
    pub target: &'a [u8],
    /// The `x` of `HTTP/1.x`.
    pub version_minor: u8,
    headers: [Header<'a>; MAX_HEADERS],
    header_count: usize,
    /// Field lines skipped because they are not `token ":" value` (including
    /// obsolete line folding, RFC 9112 §5.2): a server would refuse them.
    pub malformed_lines: usize,
    /// What follows the blank line in this segment; empty when the head is
    /// not complete.
    pub body: &'a [u8],
    /// The blank line ending the header section was seen in this segment.
    pub headers_complete: bool,
}

impl<'a> Request<'a> {
    /// The header fields kept, in order (at most [`MAX_HEADERS`]).
    pub fn headers(&self) -> &[Header<'a>] {
        self.headers.get(..self.header_count).unwrap_or(&[])
    }

    /// The value of the first field named `name`, compared
    /// case-insensitively (RFC 9110 §5.1).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|header| header.value)
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method.escape_ascii().to_string())
            .field("target", &self.target.escape_ascii().to_string())
            .field("version_minor", &self.version_minor)
            .field("headers", &self.headers())
            .field("malformed_lines", &self.malformed_lines)
            .field("body_len", &self.body.len())
            .field("headers_complete", &self.headers_complete)
            .finish()
    }
}

/// Why a segment could not be read as an HTTP/1.x request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("segment ends inside the HTTP request line")]
    Truncated,
    #[error("HTTP request line longer than {MAX_REQUEST_LINE} bytes")]
    RequestLineTooLong,
    #[error("bad HTTP request line: {0}")]
    BadRequestLine(&'static str),
}

/// Cheap first check on a TCP payload: a known method then a space.
pub fn looks_like_request(payload: &[u8]) -> bool {
    METHODS.iter().any(|method| {
        payload
            .strip_prefix(*method)
            .is_some_and(|rest| rest.first() == Some(&b' '))
    })
}

/// Reads the request line and the complete field lines of a segment.
pub fn parse_request(payload: &[u8]) -> Result<Request<'_>, HttpError> {
    let payload = skip_empty_lines(payload);
    // Room for the longest line plus CRLF: if no LF is in there, the line is
    // too long or the segment ends first.
    let window = payload.get(..MAX_REQUEST_LINE + 2).unwrap_or(payload);
    let Some((line, rest)) = split_line(window) else {
        return Err(if window.len() == MAX_REQUEST_LINE + 2 {
            HttpError::RequestLineTooLong
        } else {
            HttpError::Truncated
        });
    };
    if line.len() > MAX_REQUEST_LINE {
        return Err(HttpError::RequestLineTooLong);
    }
    // `rest` ends with the window: take the whole remainder of the segment.
    let rest = payload.get(window.len() - rest.len()..).unwrap_or(&[]);
    let (method, target, version_minor) = parse_request_line(line)?;
    let mut request = Request {
        method,
        target,
        version_minor,
        headers: [Header::default(); MAX_HEADERS],
        header_count: 0,
        malformed_lines: 0,
        body: &[],
        headers_complete: false,
    };
    read_fields(rest, &mut request);
    Ok(request)
}

/// RFC 9112 §2.2: a server SHOULD ignore empty lines before the request line.
fn skip_empty_lines(mut payload: &[u8]) -> &[u8] {
    while let Some(rest) = payload
        .strip_prefix(b"\r\n")
        .or_else(|| payload.strip_prefix(b"\n"))
    {
        payload = rest;
    }
    payload
}

/// Splits off the first line, without its CRLF or bare LF (RFC 9112 §2.2
/// lets a recipient accept a bare LF). `None` if no line ending is present.
fn split_line(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = data.iter().position(|&b| b == b'\n')?;
    let (line, rest) = data.split_at_checked(end)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, rest.get(1..).unwrap_or(&[])))
}

/// `method SP request-target SP HTTP-version` (RFC 9112 §3). The target is
/// everything between the first and the last space, so a target holding
/// spaces (seen in attacks, refused by strict servers) is still read.
fn parse_request_line(line: &[u8]) -> Result<(&[u8], &[u8], u8), HttpError> {
    let bad = HttpError::BadRequestLine;
    let first = line
        .iter()
        .position(|&b| b == b' ')
        .ok_or(bad("no space"))?;
    let last = line
        .iter()
        .rposition(|&b| b == b' ')
        .ok_or(bad("no space"))?;
    let method = line.get(..first).unwrap_or(&[]);
    if !is_token(method) {
        return Err(bad("method is not a token"));
    }
    let target = line.get(first + 1..last).unwrap_or(&[]);
    if target.is_empty() {
        return Err(bad("missing request target or version"));
    }
    // HTTP-version is case-sensitive (RFC 9112 §2.3).
    match line.get(last + 1..) {
        Some(
            &[
                b'H',
                b'T',
                b'T',
                b'P',
                b'/',
                b'1',
                b'.',
                minor @ b'0'..=b'9',
            ],
        ) => Ok((method, target, minor - b'0')),
        _ => Err(bad("version is not HTTP/1.x")),
    }
}

/// Reads field lines until the blank line or the end of the segment (a
/// partial last line is dropped). Past [`MAX_HEADERS`] lines are still
/// scanned, so that `body` and `headers_complete` stay right.
fn read_fields<'a>(mut rest: &'a [u8], request: &mut Request<'a>) {
    while let Some((line, after)) = split_line(rest) {
        rest = after;
        if line.is_empty() {
            request.headers_complete = true;
            request.body = after;
            return;
        }
        let Some(slot) = request.headers.get_mut(request.header_count) else {
            continue;
        };
        match parse_field(line) {
            Some(header) => {
                *slot = header;
                request.header_count += 1;
            }
            None => request.malformed_lines += 1,
        }
    }
}

/// `field-name ":" OWS field-value OWS` (RFC 9112 §5). No whitespace is
/// allowed before the colon (§5.1), which also rejects folded lines.
fn parse_field(line: &[u8]) -> Option<Header<'_>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = line.split_at_checked(colon)?;
    if !is_token(name) {
        return None;
    }
    let value = value.get(1..).unwrap_or(&[]);
    Some(Header {
        name,
        value: trim_ows(value),
    })
}

fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

/// A non-empty `token` (RFC 9110 §5.6.2).
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests;
