//! Issue 14, "Hardening the observatory": what an attacker on the network
//! tried, driven over raw TCP where a client library would be too polite.
//! Slow headers are cut, one client cannot take every connection, a huge
//! body is refused before it is read, every answer carries the security
//! headers, and enrolment codes cannot be guessed fast.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use vigie_server::{ConnectionLimits, FloodLimits, ServerSettings};

use crate::common::TestServer;

/// Small limits, so that the tests reach them quickly.
fn settings(header_read_timeout: Duration) -> ServerSettings {
    ServerSettings {
        connections: ConnectionLimits {
            per_client: 4,
            header_read_timeout,
            ..ConnectionLimits::default()
        },
        flood: FloodLimits {
            guess_burst: 5,
            guess_every: Duration::from_secs(60),
            ..FloodLimits::default()
        },
        ..ServerSettings::default()
    }
}

/// A connection to the server from `local` (127.0.0.1, or 127.0.0.2 as
/// another client on the same loopback).
async fn connect_from(local: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(local.parse().unwrap(), 0))
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// Whether the server closed the connection within `within` (end of file
/// or reset); false when it is still open, waiting for more.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends `head` (and `body`), reads the answer until the server closes or
/// 10 s pass: the answer's text so far.
async fn exchange(server: SocketAddr, head: &str, body: &[u8]) -> String {
    let mut stream = connect_from("127.0.0.1", server).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Ok(read)) = tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..read]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slow_headers_are_cut() {
    let server = TestServer::start_with(settings(Duration::from_secs(1))).await;
    let mut slow = connect_from("127.0.0.1", server.addr).await;
    slow.write_all(b"GET /connexion HT").await.unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(30)).await,
        "a half request line is kept open"
    );
    // A connection that sends nothing at all, too.
    let mut silent = connect_from("127.0.0.1", server.addr).await;
    assert!(closed_within(&mut silent, Duration::from_secs(30)).await);
    // And a keep-alive connection left idle after its answer: hyper arms
    // the header timer again while it waits for the next request.
    let mut idle = connect_from("127.0.0.1", server.addr).await;
    idle.write_all(b"GET /static/vigie.css HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 16];
    idle.read_exact(&mut buffer).await.unwrap();
    assert!(buffer.starts_with(b"HTTP/1.1 200"));
    assert!(closed_within(&mut idle, Duration::from_secs(30)).await);
}

#[tokio::test]
async fn one_client_cannot_take_every_connection() {
    let server = TestServer::start_with(settings(Duration::from_secs(60))).await;
    let mut held = Vec::new();
    for _ in 0..10 {
        let mut stream = connect_from("127.0.0.1", server.addr).await;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    let mut closed = 0;
    for stream in &mut held {
        if closed_within(stream, Duration::from_secs(2)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 6, "beyond the cap of 4 the connections are closed");

    // Another client is still served, while the first one holds its share.
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    let response = other
        .get(server.at("/static/vigie.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The first client gets nothing more until it lets go.
    let mut more = connect_from("127.0.0.1", server.addr).await;
    assert!(closed_within(&mut more, Duration::from_secs(2)).await);
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let response = reqwest::get(server.at("/static/vigie.css")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_huge_body_is_refused_early() {
    let server = TestServer::start().await;
    let routes = [
        ("/connexion", "application/x-www-form-urlencoded"),
        ("/api/v1/reports", "application/json"),
        ("/api/v1/sensors/enroll", "application/json"),
        ("/nowhere", "text/plain"),
    ];
    for (path, content_type) in routes {
        // 100 MB declared, 1 KiB sent: an answer means nothing more was
        // waited for.
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\
             Authorization: Bearer vgt_unknown\r\nContent-Length: 100000000\r\n\r\n"
        );
        let answer = exchange(server.addr, &head, &[b'a'; 1024]).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer:?}");
    }
    // A form a little over its limit, honestly sent whole, is refused too.
    let form = vec![b'a'; 65 * 1024];
    let head = format!(
        "POST /connexion HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        form.len()
    );
    let answer = exchange(server.addr, &head, &form).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    // The server is still there.
    let response = reqwest::get(server.at("/connexion")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_answer_carries_security_headers() {
    let server = TestServer::start().await;
    let client = server.browser();
    let answers = [
        ("page", client.get(server.at("/connexion"))),
        ("API", client.get(server.at("/api/v1/communes"))),
        ("static", client.get(server.at("/static/vigie.js"))),
        ("404", client.get(server.at("/nowhere"))),
        ("redirect", client.get(server.at("/compte"))),
        ("401", client.get(server.at("/api/v1/me"))),
    ];
    for (what, request) in answers {
        let response = request.send().await.unwrap();
        let headers = response.headers();
        let get = |name: &str| {
            headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let policy = get("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{what}: {policy:?}");
        }
        assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
        assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(get("x-frame-options"), "DENY", "{what}");
        assert_eq!(get("referrer-policy"), "same-origin", "{what}");
        // Plain HTTP (behind a proxy): the proxy decides about HSTS.
        assert_eq!(get("strict-transport-security"), "", "{what}");
        if what == "redirect" {
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        }
        if what == "404" {
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
        }
    }
}

#[tokio::test]
async fn enrolment_codes_cannot_be_guessed_fast() {
    let server = TestServer::start_with(settings(Duration::from_secs(10))).await;
    let guess = |client: reqwest::Client, code: &'static str| {
        let url = server.at("/api/v1/sensors/enroll");
        async move {
            client
                .post(url)
                .json(&serde_json::json!({ "code": code }))
                .send()
                .await
                .unwrap()
        }
    };
    let attacker = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            guess(attacker.clone(), "AAAA-AAAA-AAAA-AAAA")
                .await
                .status(),
        );
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses[7], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    let refused = guess(attacker.clone(), "AAAA-AAAA-AAAA-AAAA").await;
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("Trop de requêtes"),
        "{body}"
    );

    // Another client enrols its sensor meanwhile.
    crate::common::commune(&server.db, "42218", "Saint-Étienne").await;
    let sensor = vigie_server::sensors::add_sensor(&server.db, "42218")
        .await
        .unwrap();
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    let response = other
        .post(server.at("/api/v1/sensors/enroll"))
        .json(&serde_json::json!({ "code": sensor.code }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn refused_tokens_count_as_guesses() {
    let server = TestServer::start_with(settings(Duration::from_secs(10))).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, _) =
            crate::common::post_as_machine(&server, "/api/v1/reports", "vgt_guess", b"{}".to_vec())
                .await;
        statuses.push(status);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses[7], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

/// Issue 9: large pages go out compressed to a browser that accepts it
/// (the map of France is megabytes of SVG), small API answers as they are.
#[tokio::test]
async fn large_pages_are_compressed() {
    use std::io::Read;
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (browser, _) = crate::common::sign_in_as(
        &server,
        "admin@loire.fr",
        vigie_server::accounts::Role::Admin,
        None,
    )
    .await;
    let map = browser
        .get(server.at("/carte"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(map.status(), StatusCode::OK);
    assert_eq!(map.headers()["content-encoding"], "gzip");
    let compressed = map.bytes().await.unwrap();
    let mut page = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut page)
        .unwrap();
    assert!(page.contains("<svg"), "{page}");
    assert!(
        compressed.len() * 3 < page.len(),
        "{} -> {}",
        page.len(),
        compressed.len()
    );
    // Without Accept-Encoding, or for a small answer: as it is.
    let plain = browser.get(server.at("/carte")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let me = browser
        .get(server.at("/api/v1/me"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(me.headers().get("content-encoding").is_none());
}
