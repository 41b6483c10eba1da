//! Pure parsers of what an HTTP/1.x server answers (RFC 9112): the status
//! line and header fields, the body (content-length or chunked), the page
//! title, an authentication challenge (RFC 9110 §11.6.1) and the product
//! of a `Server` field. They never panic and never allocate past the
//! bounds below, whatever the bytes.

/// A head larger than this is not a server we want to understand (nginx
/// and Apache refuse request heads of 8 KiB by default).
pub const MAX_HEAD_LEN: usize = 16 * 1024;
/// Header fields kept from one response.
pub const MAX_HEADERS: usize = 100;
/// Characters of a page title kept.
pub const MAX_TITLE_CHARS: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("response head incomplete (no blank line)")]
    Incomplete,
    #[error("response head longer than {MAX_HEAD_LEN} bytes")]
    HeadTooLong,
    #[error("not an HTTP/1.x status line")]
    NotHttp,
    #[error("invalid status code")]
    Status,
    #[error("more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
    #[error("header line without a colon")]
    HeaderLine,
}

/// The status line and header fields of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    /// Names lower-cased, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    /// Bytes of the head, blank line included.
    pub len: usize,
}

impl ResponseHead {
    /// The first field called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A whole response as far as it was received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub head: ResponseHead,
    pub body: Vec<u8>,
}

impl Response {
    pub fn title(&self) -> Option<String> {
        title(&self.body)
    }

    /// A password field: the page is a login form (HTML 5 `input
    /// type=password`, quoted or not).
    pub fn has_password_input(&self) -> bool {
        let body = String::from_utf8_lossy(&self.body).to_ascii_lowercase();
        let squeezed: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        ["type=\"password\"", "type='password'", "type=password"]
            .iter()
            .any(|needle| squeezed.contains(needle))
    }

    /// The challenge of a 401 answer, if it has one.
    pub fn challenge(&self) -> Option<Challenge> {
        if self.head.status != 401 {
            return None;
        }
        self.head.header("www-authenticate").and_then(challenge)
    }
}

/// Parses the head of a response (the fuzzed entry point with
/// [`parse_response`]).
pub fn parse_head(bytes: &[u8]) -> Result<ResponseHead, ParseError> {
    let end = find(bytes, b"\r\n\r\n")
        .map(|at| at + 4)
        .or_else(|| find(bytes, b"\n\n").map(|at| at + 2));
    let Some(len) = end else {
        return Err(if bytes.len() > MAX_HEAD_LEN {
            ParseError::HeadTooLong
        } else {
            ParseError::Incomplete
        });
    };
    if len > MAX_HEAD_LEN {
        return Err(ParseError::HeadTooLong);
    }
    let text = String::from_utf8_lossy(bytes.get(..len).unwrap_or_default());
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let (status, reason) = status_line(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        // Obsolete line folding (RFC 9112 §5.2) is rare; such a line is
        // dropped rather than joined.
        if line.starts_with([' ', '\t']) {
            continue;
        }
        if headers.len() == MAX_HEADERS {
            return Err(ParseError::TooManyHeaders);
        }
        let (name, value) = line.split_once(':').ok_or(ParseError::HeaderLine)?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(ResponseHead {
        status,
        reason,
        headers,
        len,
    })
}

/// Parses a response received up to the end of the connection: the body
/// is de-chunked if it says so, cut at its length if it gives one, and
/// kept as received otherwise (a truncated body is still read).
pub fn parse_response(bytes: &[u8]) -> Result<Response, ParseError> {
    let head = parse_head(bytes)?;
    let raw = bytes.get(head.len..).unwrap_or_default();
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(raw)
    } else if let Some(length) = head
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        raw.get(..length.min(raw.len()))
            .unwrap_or_default()
            .to_vec()
    } else {
        raw.to_vec()
    };
    Ok(Response { head, body })
}

fn status_line(line: &str) -> Result<(u16, String), ParseError> {
    let rest = line.strip_prefix("HTTP/1.").ok_or(ParseError::NotHttp)?;
    let mut words = rest.splitn(3, ' ');
    let _minor = words.next();
    let code = words.next().unwrap_or_default();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Status);
    }
    let status = code.parse::<u16>().map_err(|_| ParseError::Status)?;
    Ok((status, words.next().unwrap_or_default().trim().to_owned()))
}

/// The chunks' data (RFC 9112 §7.1), as far as they arrived.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = find(raw, b"\n") {
        let line = String::from_utf8_lossy(raw.get(..line_end).unwrap_or_default());
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        let data = raw.get(line_end + 1..).unwrap_or_default();
        let taken = size.min(data.len());
        body.extend_from_slice(data.get(..taken).unwrap_or_default());
        // Skip the data and its CRLF.
        let next = data.get(taken..).unwrap_or_default();
        raw = next
            .strip_prefix(b"\r\n")
            .or_else(|| next.strip_prefix(b"\n"))
            .unwrap_or(next);
        if taken < size {
            break;
        }
    }
    body
}

/// The text of the page's `<title>`, entities decoded, whitespace squeezed.
pub fn title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower.get(open..)?.find('>')? + 1;
    let end = start + lower.get(start..)?.find("</title")?;
    let raw = text.get(start..end)?;
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    let squeezed: String = decoded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE_CHARS)
        .collect();
    (!squeezed.is_empty()).then_some(squeezed)
}

/// An authentication challenge: the scheme and its realm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Lower case: `basic`, `digest`, `ntlm`, `negotiate`...
    pub scheme: String,
    pub realm: Option<String>,
}

/// Parses a `WWW-Authenticate` value (its first challenge).
pub fn challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, params) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.is_empty() {
        return None;
    }
    let lower = params.to_ascii_lowercase();
    let realm = lower.find("realm=").and_then(|at| {
        let rest = params.get(at + "realm=".len()..)?;
        let realm = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next()?,
            None => rest.split([',', ' ']).next()?,
        };
        Some(realm.chars().take(MAX_TITLE_CHARS).collect())
    });
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        realm,
    })
}

/// The product and version of a `Server` field, named as nmap names them
/// so reports agree: `nginx/1.22.1` → (`nginx`, `1.22.1`), `Apache/2.4.57
/// (Debian)` → (`Apache httpd`, `2.4.57`), `Microsoft-IIS/10.0` →
/// (`Microsoft IIS httpd`, `10.0`).
pub fn server_product(server: &str) -> (String, Option<String>) {
    let first = server.split_whitespace().next().unwrap_or_default();
    let (name, version) = match first.split_once('/') {
        Some((name, version)) if !version.is_empty() => (name, Some(version.to_owned())),
        _ => (first, None),
    };
    let product = match name.to_ascii_lowercase().as_str() {
        "apache" => "Apache httpd".to_owned(),
        "microsoft-iis" => "Microsoft IIS httpd".to_owned(),
        "nginx" => "nginx".to_owned(),
        _ if name.is_empty() => server.trim().to_owned(),
        _ => name.to_owned(),
    };
    (product, version)
}

/// The operating system a `Server` field names in its comment.
pub fn server_os(server: &str) -> Option<String> {
    let lower = server.to_ascii_lowercase();
    [
        ("debian", "Debian"),
        ("ubuntu", "Ubuntu"),
        ("raspbian", "Raspbian"),
        ("centos", "CentOS"),
        ("red hat", "Red Hat Enterprise Linux"),
        ("freebsd", "FreeBSD"),
        ("win64", "Windows"),
        ("win32", "Windows"),
        ("microsoft-iis", "Windows"),
    ]
    .iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, os)| (*os).to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from Debian 12's nginx-light (1.22.1), `GET /`.
    const NGINX: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 11:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 71\r\nLast-Modified: Sun, 22 Nov 2026 10:00:00 GMT\r\nConnection: close\r\nETag: \"1-47\"\r\nAccept-Ranges: bytes\r\n\r\n<html><head><title>Welcome to nginx!</title></head><body></body></html>\n";

    #[test]
    fn a_recorded_nginx_answer_parses() {
        let response = parse_response(NGINX).unwrap();
        assert_eq!(response.head.status, 200);
        assert_eq!(response.head.header("server"), Some("nginx/1.22.1"));
        assert_eq!(response.body.len(), 71);
        assert_eq!(response.title().as_deref(), Some("Welcome to nginx!"));
        assert!(!response.has_password_input());
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n<title>\r\n9;x=y\r\nRouteur &\r\na\r\namp; Box</\r\n7\r\ntitle>\n\r\n0\r\n\r\n";
        let response = parse_response(raw).unwrap();
        assert_eq!(response.title().as_deref(), Some("Routeur & Box"));
    }

    #[test]
    fn challenges_and_login_forms_are_seen() {
        let raw = b"HTTP/1.0 401 Unauthorized\nWWW-Authenticate: Basic realm=\"Tomcat Manager Application\"\n\n<input name=p TYPE = 'password'>";
        let response = parse_response(raw).unwrap();
        let challenge = response.challenge().unwrap();
        assert_eq!(challenge.scheme, "basic");
        assert_eq!(
            challenge.realm.as_deref(),
            Some("Tomcat Manager Application")
        );
        assert!(response.has_password_input());
        assert_eq!(
            challenge_of("Digest realm=box, nonce=\"x\""),
            Some("box".to_owned())
        );
        assert_eq!(challenge_of("NTLM"), None);
    }

    fn challenge_of(value: &str) -> Option<String> {
        challenge(value).and_then(|c| c.realm)
    }

    #[test]
    fn server_fields_name_products_as_nmap_does() {
        let check = |server: &str, product: &str, version: Option<&str>| {
            let (p, v) = server_product(server);
            assert_eq!((p.as_str(), v.as_deref()), (product, version), "{server}");
        };
        check("nginx/1.22.1", "nginx", Some("1.22.1"));
        check("Apache/2.4.57 (Debian)", "Apache httpd", Some("2.4.57"));
        check("Microsoft-IIS/10.0", "Microsoft IIS httpd", Some("10.0"));
        check("lighttpd/1.4.69", "lighttpd", Some("1.4.69"));
        check("Apache", "Apache httpd", None);
        check("  ", "", None);
        assert_eq!(
            server_os("Apache/2.4.57 (Debian)").as_deref(),
            Some("Debian")
        );
        assert_eq!(server_os("nginx"), None);
    }

    #[test]
    fn malformed_heads_are_errors() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\n"),
            Err(ParseError::Incomplete)
        );
        assert_eq!(
            parse_head(b"SSH-2.0-OpenSSH_9.2p1\r\n\r\n"),
            Err(ParseError::NotHttp)
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 2000 OK\r\n\r\n"),
            Err(ParseError::Status)
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n"),
            Err(ParseError::HeaderLine)
        );
        let long = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &[b'a'; MAX_HEAD_LEN]].concat();
        assert_eq!(parse_head(&long), Err(ParseError::HeadTooLong));
        assert_eq!(title(b"<title>unterminated"), None);
        assert_eq!(title(b"<TITLE lang=fr>  \n </title>"), None);
    }
}
