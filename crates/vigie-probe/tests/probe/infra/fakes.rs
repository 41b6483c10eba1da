//! The family against scripted fake servers: what it finds, and what it
//! must never send.

use std::time::Duration;

use vigie_probe::protocols::infra::{self, Protocol, mongodb, postgresql};

use super::servers::{tcp_fake, udp_fake};
use super::{assert_catalogued, context, finding, ids, tcp, udp};

/// A bound on a whole test step, so a hang fails instead of blocking.
async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .unwrap_or_else(|_| panic!("the probe did not finish"))
}

fn smtp_script(request: &[u8]) -> Option<Vec<u8>> {
    if request.starts_with(b"EHLO") {
        Some(
            b"250-mail.mairie.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                .to_vec(),
        )
    } else if request.starts_with(b"QUIT") {
        Some(b"221 2.0.0 Bye\r\n".to_vec())
    } else {
        Some(b"502 5.5.2 Error\r\n".to_vec())
    }
}

#[tokio::test]
async fn smtp_auth_without_starttls_is_found_and_no_mail_is_sent() {
    let (port, mut sessions) = tcp_fake(
        Some(b"220 mail.mairie.test ESMTP Postfix (Debian/GNU)\r\n"),
        smtp_script,
    )
    .await;
    let ctx = context(5, &[]);
    // Not port 25: routed by its greeting.
    let result = bounded(infra::examine(&tcp(port), &ctx)).await.unwrap();
    assert_eq!(result.service.name, "smtp");
    assert_eq!(result.service.product.as_deref(), Some("Postfix"));
    assert!(
        finding(&result, "smtp.cleartext_auth")
            .evidence
            .contains("AUTH PLAIN LOGIN")
    );
    assert_catalogued(&result, &ctx);
    // The greeting was read on a first connection that sent nothing.
    let mut sent = vec![
        String::from_utf8(sessions.recv().await.unwrap()).unwrap(),
        String::from_utf8(sessions.recv().await.unwrap()).unwrap(),
    ];
    sent.sort();
    assert_eq!(sent, ["", "EHLO vigie-probe.invalid\r\nQUIT\r\n"]);
}

#[tokio::test]
async fn a_greeting_on_an_unusual_port_is_routed() {
    let (port, _sessions) = tcp_fake(
        Some(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
        |r| {
            r.starts_with(b"a1")
                .then(|| b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n".to_vec())
        },
    )
    .await;
    let ctx = context(5, &[]);
    assert!(infra::claims_banner(
        b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"
    ));
    let result = bounded(infra::examine(&tcp(port), &ctx)).await.unwrap();
    assert_eq!(result.service.name, "imap");
    assert!(result.findings.is_empty(), "{:?}", ids(&result));
}

#[tokio::test]
async fn pop3_without_stls_is_cleartext() {
    let (port, mut sessions) = tcp_fake(Some(b"+OK Dovecot (Debian) ready.\r\n"), |r| {
        r.starts_with(b"CAPA")
            .then(|| b"+OK\r\nCAPA\r\nTOP\r\nUSER\r\nUIDL\r\n.\r\n".to_vec())
    })
    .await;
    let ctx = context(5, &[]);
    let result = bounded(infra::run(Protocol::Pop3, &tcp(port), &ctx))
        .await
        .unwrap();
    assert_eq!(result.service.product.as_deref(), Some("Dovecot"));
    assert_eq!(ids(&result), ["mail.cleartext"]);
    let sent = sessions.recv().await.unwrap();
    assert_eq!(sent, b"CAPA\r\nQUIT\r\n");
}

#[tokio::test]
async fn a_raw_printer_port_never_receives_a_byte() {
    let (port, mut sessions) = tcp_fake(None, |_| None).await;
    let ctx = context(5, &[]);
    let target = tcp(port);
    for protocol in [Protocol::JetDirect, Protocol::Lpd] {
        let result = bounded(infra::run(protocol, &target, &ctx)).await.unwrap();
        assert_eq!(ids(&result), ["printer.exposed"]);
        assert_catalogued(&result, &ctx);
        let sent = bounded(sessions.recv()).await.unwrap();
        assert!(sent.is_empty(), "{protocol:?} sent {sent:?}");
    }
}

fn redis_locked(request: &[u8]) -> Option<Vec<u8>> {
    if request.windows(4).any(|w| w == b"PING") {
        Some(b"-NOAUTH Authentication required.\r\n".to_vec())
    } else {
        Some(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n".to_vec())
    }
}

#[tokio::test]
async fn redis_auth_trials_stay_within_the_budget() {
    let (port, mut sessions) = tcp_fake(None, redis_locked).await;
    let words = [
        ("admin", "admin"),
        ("", "a1"),
        ("", "a2"),
        ("", "a3"),
        ("", "a4"),
    ];
    let ctx = context(3, &words);
    let result = bounded(infra::run(Protocol::Redis, &tcp(port), &ctx))
        .await
        .unwrap();
    assert_eq!(result.service.name, "redis");
    assert!(result.findings.is_empty());
    let sent = String::from_utf8(sessions.recv().await.unwrap()).unwrap();
    assert_eq!(sent.matches("AUTH").count(), 3, "{sent}");
    for command in ["CONFIG", "FLUSH", "SET", "DEL", "SAVE", "SHUTDOWN"] {
        assert!(!sent.contains(command), "{command} sent: {sent}");
    }
}

fn mongo_script(request: &[u8]) -> Option<Vec<u8>> {
    use mongodb::bson::{Document, Value};
    let text = String::from_utf8_lossy(request);
    let body = if text.contains("buildInfo") {
        Document(vec![
            ("version".into(), Value::String("4.4.29".into())),
            ("ok".into(), Value::Double(1.0)),
        ])
    } else {
        Document(vec![
            (
                "databases".into(),
                Value::Array(vec![Value::Null, Value::Null]),
            ),
            ("ok".into(), Value::Double(1.0)),
        ])
    };
    Some(mongodb::op_msg(99, &body))
}

#[tokio::test]
async fn an_open_mongodb_is_found() {
    let (port, _sessions) = tcp_fake(None, mongo_script).await;
    let ctx = context(5, &[]);
    let result = bounded(infra::run(Protocol::MongoDb, &tcp(port), &ctx))
        .await
        .unwrap();
    assert_eq!(result.service.version.as_deref(), Some("4.4.29"));
    assert!(
        finding(&result, "mongodb.no_auth")
            .evidence
            .contains("2 bases")
    );
}

#[tokio::test]
async fn an_open_elasticsearch_is_found() {
    let (port, mut sessions) = tcp_fake(None, |_| {
        Some(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 88\r\n\r\n{\"cluster_name\":\"mairie\",\"version\":{\"number\":\"7.17.9\"},\"tagline\":\"You Know, for Search\"}".to_vec())
    })
    .await;
    let ctx = context(5, &[]);
    // The fake does not close: the probe stops at Content-Length.
    let result = bounded(infra::run(Protocol::Elasticsearch, &tcp(port), &ctx))
        .await
        .unwrap();
    assert_eq!(result.service.version.as_deref(), Some("7.17.9"));
    assert_eq!(ids(&result), ["elasticsearch.no_auth"]);
    let sent = String::from_utf8(sessions.recv().await.unwrap()).unwrap();
    assert!(sent.starts_with("GET / HTTP/1.0\r\n"), "{sent}");
}

/// A PostgreSQL that asks for md5 and accepts only mairie / 1234.
fn postgres_md5(request: &[u8]) -> Option<Vec<u8>> {
    if request == postgresql::messages::ssl_request() {
        return Some(b"N".to_vec());
    }
    if request.get(4..8) == Some(&[0, 3, 0, 0]) {
        return Some(b"R\x00\x00\x00\x0c\x00\x00\x00\x05\x01\x02\x03\x04".to_vec());
    }
    if request.first() == Some(&b'p') {
        let good = postgresql::scram::md5_password("mairie", "1234", &[1, 2, 3, 4]);
        return Some(
            if request.windows(good.len()).any(|w| w == good.as_bytes()) {
                b"R\x00\x00\x00\x08\x00\x00\x00\x00".to_vec()
            } else {
                b"E\x00\x00\x00\x0cC28P01\x00\x00".to_vec()
            },
        );
    }
    None
}

#[tokio::test]
async fn postgresql_md5_trials_find_the_weak_account_within_budget() {
    let (port, mut sessions) = tcp_fake(None, postgres_md5).await;
    let words = [
        ("postgres", "postgres"),
        ("mairie", "mairie"),
        ("mairie", "1234"),
    ];
    let ctx = context(3, &words);
    let result = bounded(infra::run(Protocol::PostgreSql, &tcp(port), &ctx))
        .await
        .unwrap();
    assert!(!result.service.tls);
    assert_eq!(
        result.service.banner.as_deref(),
        Some("authentification : md5")
    );
    let weak = finding(&result, "password.postgresql");
    assert!(weak.evidence.contains("« mairie »"), "{}", weak.evidence);
    assert_catalogued(&result, &ctx);
    // SSLRequest, identification, then 3 trials on postgres, 2 on mairie.
    let mut trials = 0;
    for _ in 0..7 {
        let sent = bounded(sessions.recv()).await.unwrap();
        trials += usize::from(sent.windows(3).any(|w| w == b"md5"));
    }
    assert_eq!(trials, 5);
}

#[tokio::test]
async fn udp_services_are_identified() {
    let dns = udp_fake(|query| {
        let mut answer = query.to_vec();
        answer.get_mut(2..4)?.copy_from_slice(&[0x81, 0x80]);
        answer.get_mut(6..8)?.copy_from_slice(&[0, 13]);
        Some(answer)
    })
    .await;
    let ntp = udp_fake(|request| {
        if request.first()? & 7 == 7 {
            let mut answer = b"\x97\x00\x03\x2a\x00\x01\x00\x48".to_vec();
            answer.extend_from_slice(&[0; 72]);
            return Some(answer);
        }
        let mut answer = vec![0u8; 48];
        answer[0] = 0x24;
        answer[1] = 2;
        answer[24..32].copy_from_slice(request.get(40..48)?);
        Some(answer)
    })
    .await;
    let ctx = context(5, &[]);
    let result = bounded(infra::run(Protocol::Dns, &udp(dns), &ctx))
        .await
        .unwrap();
    assert_eq!(ids(&result), ["dns.open_resolver"]);
    let result = bounded(infra::run(Protocol::Ntp, &udp(ntp), &ctx))
        .await
        .unwrap();
    assert_eq!(result.service.version.as_deref(), Some("v4"));
    assert_eq!(ids(&result), ["ntp.monlist"]);
}

fn garbage(_: &[u8]) -> Option<Vec<u8>> {
    Some(b"\xff\xfe\x00garbage \x1b[31m\r\n\x00\x00\x00\x01R\xff".repeat(40))
}

const ALL: &[Protocol] = &[
    Protocol::Redis,
    Protocol::MongoDb,
    Protocol::Elasticsearch,
    Protocol::MySql,
    Protocol::PostgreSql,
    Protocol::Dns,
    Protocol::Ipp,
    Protocol::Smtp,
    Protocol::Pop3,
    Protocol::Imap,
];

#[tokio::test]
async fn garbage_and_silence_give_nothing_and_no_panic() {
    let mut ctx = context(2, &[("root", "root")]);
    ctx.timeout = Duration::from_millis(300);
    let (chatty, _a) = tcp_fake(Some(b"\x00\x01garbage\xff\r\n"), garbage).await;
    let (silent, _b) = tcp_fake(None, |_| None).await;
    for port in [chatty, silent] {
        for protocol in ALL {
            let result = bounded(infra::run(*protocol, &tcp(port), &ctx)).await;
            assert!(result.is_none(), "{protocol:?} on {port}: {result:?}");
        }
    }
    let udp_garbage = udp_fake(garbage).await;
    let udp_silent = udp_fake(|_| None).await;
    for port in [udp_garbage, udp_silent] {
        for protocol in [Protocol::Snmp, Protocol::Dns, Protocol::Ntp] {
            let result = bounded(infra::run(protocol, &udp(port), &ctx)).await;
            assert!(result.is_none(), "{protocol:?} on {port}: {result:?}");
        }
    }
}

/// A closed SNMP port (the host answers ICMP port unreachable) ends the
/// examination at once: no community is tried on it, and the host's login
/// services do not wait for it (issue 16).
#[tokio::test]
async fn a_closed_snmp_port_ends_at_once() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let ctx = context(5, &[("admin", "admin")]);
    let started = std::time::Instant::now();
    let result = bounded(infra::run(Protocol::Snmp, &udp(port), &ctx)).await;
    assert!(result.is_none());
    assert!(started.elapsed() < ctx.timeout, "{:?}", started.elapsed());
}
