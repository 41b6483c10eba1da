//! The upload client against a small local HTTP responder: the document
//! and the token sent, the observatory's refusals explained, and nothing
//! sent that should not be (no commune, an invalid document, a token in
//! clear to another machine). The report for people is tested in
//! `vigie-docs`.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use vigie_core::probe::{
    Finding, HostPort, PROBE_SCHEMA, ProbeReport, ScopeSummary, TopFinding, Transport, severity_of,
};
use vigie_probe::upload::{self, Trust, UploadError};

/// A commune's network with three findings, the top ten being those three.
fn sample() -> ProbeReport {
    let findings: Vec<Finding> = [
        ("smb.v1", "Partage de fichiers en SMBv1", 9.8, 445),
        (
            "rdp.no_nla",
            "Bureau à distance sans authentification préalable",
            8.1,
            3389,
        ),
        ("smb.signing", "Signature SMB non exigée", 5.9, 445),
    ]
    .into_iter()
    .map(|(id, title, cvss, port)| Finding {
        id: id.to_owned(),
        host: "192.168.1.10".parse().unwrap(),
        port: Some(port),
        transport: Some(Transport::Tcp),
        cvss,
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned(),
        severity: severity_of(cvss),
        cves: Vec::new(),
        title: title.to_owned(),
        impact: format!("Impact de {id}."),
        recommendation: format!("Recommandation {id}."),
        evidence: format!("Constat {id}."),
    })
    .collect();
    let top = findings
        .iter()
        .map(|f| TopFinding {
            id: f.id.clone(),
            title: f.title.clone(),
            cvss: f.cvss,
            severity: f.severity,
            recommendation: f.recommendation.clone(),
            hosts: vec![HostPort {
                host: f.host,
                port: f.port,
            }],
        })
        .collect();
    ProbeReport {
        schema: PROBE_SCHEMA.to_owned(),
        commune: Some("42218".to_owned()),
        started_at: "2025-03-12T08:14:00Z".parse().unwrap(),
        finished_at: "2025-03-12T10:02:00Z".parse().unwrap(),
        lab: false,
        interrupted: false,
        scope: ScopeSummary {
            networks: vec!["192.168.1.0/24".to_owned()],
            excluded: vec![],
            intensity: "polite".to_owned(),
        },
        hosts: vec![],
        findings,
        top,
    }
}

/// Serves one HTTP request on 127.0.0.1 with `status` and `body`; returns
/// the address and a handle giving back the request's head and body.
fn responder(status: &str, body: &str) -> (String, std::thread::JoinHandle<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        reader.get_mut().write_all(answer.as_bytes()).unwrap();
        (head, body)
    });
    (address, handle)
}

#[test]
fn upload_sends_the_document_with_the_token() {
    let (url, request) = responder(
        "201 Created",
        r#"{"status":"stored","id":7,"page":"/sondes/7"}"#,
    );
    let answer = upload::upload(&url, "vgt_secret", &sample(), &Trust::PublicRoots).unwrap();
    assert_eq!(answer.status, "stored");
    assert_eq!(answer.id, 7);
    assert_eq!(answer.page, format!("{url}/sondes/7"));
    let (head, body) = request.join().unwrap();
    assert!(
        head.starts_with("POST /api/v1/probes HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer vgt_secret\r\n")
    );
    let sent: ProbeReport = serde_json::from_slice(&body).unwrap();
    assert_eq!(sent, sample());
}

#[test]
fn upload_reports_the_observatory_refusal() {
    let (url, request) = responder(
        "400 Bad Request",
        r#"{"error":"champ « findings[0].cvss » : 12 n'est pas entre 0 et 10"}"#,
    );
    let error = upload::upload(&url, "vgt_x", &sample(), &Trust::PublicRoots).unwrap_err();
    request.join().unwrap();
    assert!(
        matches!(&error, UploadError::Refused { status: 400, message } if message.contains("findings[0].cvss")),
        "{error}"
    );
    let (url, request) = responder("401 Unauthorized", r#"{"error":"Connexion nécessaire."}"#);
    let error = upload::upload(&url, "vgt_x", &sample(), &Trust::PublicRoots).unwrap_err();
    request.join().unwrap();
    assert!(matches!(error, UploadError::Unauthorized), "{error}");
    assert!(error.to_string().contains("jeton refusé"));
}

#[test]
fn upload_checks_before_sending() {
    // A closed port: a clear message, and the reminder that a retry is safe.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let error = upload::upload(&url, "vgt_x", &sample(), &Trust::PublicRoots).unwrap_err();
    assert!(matches!(error, UploadError::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains("renvoyé sans risque"));
    // No commune, no upload; an invalid document is not sent either.
    let mut nameless = sample();
    nameless.commune = None;
    let error = upload::upload(&url, "vgt_x", &nameless, &Trust::PublicRoots).unwrap_err();
    assert!(error.to_string().contains("commune"), "{error}");
    let mut wrong = sample();
    wrong.findings[2].cvss = 12.0;
    let error = upload::upload(&url, "vgt_x", &wrong, &Trust::PublicRoots).unwrap_err();
    assert!(error.to_string().contains("findings[2]"), "{error}");
    // The token never travels in clear to another machine.
    let error = upload::upload(
        "http://vigie.example.fr",
        "vgt_x",
        &sample(),
        &Trust::PublicRoots,
    )
    .unwrap_err();
    assert!(matches!(error, UploadError::Url { .. }), "{error}");
    let error = upload::upload(&url, "vgt x\n", &sample(), &Trust::PublicRoots).unwrap_err();
    assert!(matches!(error, UploadError::Token(_)), "{error}");
    let missing = Trust::CaFile("/nonexistent/ca.pem".into());
    let error = upload::upload("https://127.0.0.1:1", "vgt_x", &sample(), &missing).unwrap_err();
    assert!(matches!(error, UploadError::Trust(_)), "{error}");
}
