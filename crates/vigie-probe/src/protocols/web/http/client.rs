//! A minimal HTTP/1.1 client for the survey: one `GET` per connection
//! (`Connection: close`), in clear or over TLS, to the target only.
//! Redirects are followed only when they stay on the same address, port
//! and scheme; any other `Location` is left alone.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::parse::{ParseError, Response, parse_head, parse_response};
use crate::protocols::web::conn;
use crate::target::{Context, Target};

/// Redirects followed from one request (`/owa/` → `/owa/auth/logon.aspx`).
pub const MAX_REDIRECTS: usize = 2;

/// In clear, or over TLS with this configuration.
#[derive(Clone, Debug)]
pub enum Scheme {
    Plain,
    Tls(Arc<rustls::ClientConfig>),
}

impl Scheme {
    pub fn is_tls(&self) -> bool {
        matches!(self, Scheme::Tls(_))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    /// Not HTTP; the bytes are kept so the caller can tell what it is.
    #[error("not an HTTP answer: {error}")]
    NotHttp { error: ParseError, raw: Vec<u8> },
}

/// `GET path` and the answer, without following redirects.
pub async fn get(
    target: &Target,
    ctx: &Context,
    scheme: &Scheme,
    path: &str,
    authorization: Option<&str>,
) -> Result<Response, HttpError> {
    let request = request(target, path, authorization);
    let raw = match scheme {
        Scheme::Plain => {
            let mut stream = conn::tcp(target, ctx.timeout).await?;
            exchange(&mut stream, &request, ctx).await?
        }
        Scheme::Tls(config) => {
            let mut stream = conn::tls(target, config.clone(), ctx.timeout).await?;
            exchange(&mut stream, &request, ctx).await?
        }
    };
    parse_response(&raw).map_err(|error| HttpError::NotHttp { error, raw })
}

/// `GET path`, following same-target redirects; returns the final path
/// and its answer.
pub async fn get_following(
    target: &Target,
    ctx: &Context,
    scheme: &Scheme,
    path: &str,
) -> Result<(String, Response), HttpError> {
    let mut path = path.to_owned();
    let mut response = get(target, ctx, scheme, &path, None).await?;
    for _ in 0..MAX_REDIRECTS {
        if !(300..400).contains(&response.head.status) {
            break;
        }
        let next = response
            .head
            .header("location")
            .and_then(|location| same_target_path(location, target, scheme.is_tls()));
        let Some(next) = next else {
            break;
        };
        path = next;
        response = get(target, ctx, scheme, &path, None).await?;
    }
    Ok((path, response))
}

fn request(target: &Target, path: &str, authorization: Option<&str>) -> Vec<u8> {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Mozilla/5.0 (compatible; vigie-probe)\r\nAccept: text/html,*/*\r\nConnection: close\r\n",
        authority(target)
    );
    if let Some(authorization) = authorization {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    request.into_bytes()
}

async fn exchange<S>(stream: &mut S, request: &[u8], ctx: &Context) -> io::Result<Vec<u8>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    conn::send(stream, request, ctx.timeout).await?;
    let answer = conn::receive(stream, ctx.timeout, ctx.timeout * 2, is_complete).await;
    let _ = tokio::time::timeout(ctx.timeout, stream.shutdown()).await;
    answer
}

/// Whether a response is whole, so a server ignoring `Connection: close`
/// does not keep us waiting. Unknown length: until the server closes.
pub fn is_complete(bytes: &[u8]) -> bool {
    let Ok(head) = parse_head(bytes) else {
        // Not HTTP at all: nothing more will make it so.
        return !bytes.starts_with(b"HTTP/") && bytes.len() >= 5;
    };
    if matches!(head.status, 100..=199 | 204 | 304) {
        return true;
    }
    let body = bytes.len().saturating_sub(head.len);
    if let Some(length) = head
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        return body >= length;
    }
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    chunked && bytes.ends_with(b"0\r\n\r\n")
}

/// `Host` as RFC 9110 §7.2 writes it: the address (IPv6 in brackets) and
/// the port when it is not the scheme's default.
fn authority(target: &Target) -> String {
    let host = match target.addr {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
    };
    if matches!(target.port, 80 | 443) {
        host
    } else {
        format!("{host}:{}", target.port)
    }
}

/// The path a `Location` leads to if it stays on the target (same
/// address, port and scheme), else `None`.
pub fn same_target_path(location: &str, target: &Target, tls: bool) -> Option<String> {
    let location = location.trim();
    if location.starts_with('/') && !location.starts_with("//") {
        return Some(location.to_owned());
    }
    let (scheme, rest) = location.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" if !tls => 80,
        "https" if tls => 443,
        _ => return None,
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
            (host, port.parse::<u16>().ok()?)
        }
        _ => (host_port, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr: std::net::IpAddr = host.parse().ok()?;
    if addr != target.addr || port != target.port {
        return None;
    }
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_target() {
        let target = Target::tcp("10.66.0.5".parse().unwrap(), 443);
        let check = |location: &str, expected: Option<&str>| {
            assert_eq!(
                same_target_path(location, &target, true).as_deref(),
                expected,
                "{location}"
            );
        };
        check("/owa/auth/logon.aspx", Some("/owa/auth/logon.aspx"));
        check(
            "https://10.66.0.5/owa/auth/logon.aspx?url=x",
            Some("/owa/auth/logon.aspx?url=x"),
        );
        check("https://10.66.0.5:443", Some("/"));
        check("https://10.66.0.5?a", Some("/?a"));
        check("http://10.66.0.5/owa/", None);
        check("https://10.66.0.6/owa/", None);
        check("https://10.66.0.5:8443/", None);
        check("https://mail.example.org/owa/", None);
        check("//10.66.0.6/", None);
        check("https://user@10.66.0.5/x", Some("/x"));
        let v6 = Target::tcp("fd00::5".parse().unwrap(), 8080);
        assert_eq!(
            same_target_path("http://[fd00::5]:8080/a", &v6, false).as_deref(),
            Some("/a")
        );
        assert_eq!(same_target_path("http://[fd00::5]/a", &v6, false), None);
    }

    #[test]
    fn requests_name_the_target_as_host() {
        let target = Target::tcp("10.66.0.5".parse().unwrap(), 8080);
        let text = String::from_utf8(request(&target, "/", Some("Basic eDp5"))).unwrap();
        assert!(text.starts_with("GET / HTTP/1.1\r\nHost: 10.66.0.5:8080\r\n"));
        assert!(text.ends_with("Authorization: Basic eDp5\r\n\r\n"));
    }

    #[test]
    fn completeness_follows_the_announced_length() {
        assert!(!is_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"
        ));
        assert!(is_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde"
        ));
        assert!(is_complete(b"HTTP/1.1 304 Not Modified\r\n\r\n"));
        assert!(!is_complete(b"HTTP/1.1 200 OK\r\n\r\nabc"));
        assert!(is_complete(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
        ));
        assert!(is_complete(b"SSH-2.0-OpenSSH_9.2p1\r\n"));
        assert!(!is_complete(b"HTTP/1.1 200"));
    }
}
