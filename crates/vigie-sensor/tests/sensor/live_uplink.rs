//! The box's link to its observatory against a real HTTPS server on
//! 127.0.0.1 (rustls, certificates made by rcgen): trust by CA file and by
//! pin, the classification of the observatory's answers, conditional GETs,
//! enrolment writing its files, and the configuration file's checks.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use vigie_sensor::live::box_config::{BoxConfig, Mode};
use vigie_sensor::live::uplink::{
    Delivery, EnrollError, EnrollOptions, ErrorKind, Fetched, Trust, Uplink, enroll_box,
    fingerprint, pin_hex,
};

const TIMEOUT: Duration = Duration::from_secs(20);

/// An authority and the certificate it issued for 127.0.0.1.
struct Pki {
    ca_pem: String,
    leaf: CertificateDer<'static>,
    leaf_key: PrivateKeyDer<'static>,
}

fn pki(name: &str) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, name);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    Pki {
        ca_pem: ca.pem(),
        leaf: leaf.der().clone(),
        leaf_key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
    }
}

/// What the test server saw of one request.
#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Status, extra headers, body.
type Reply = (u16, Vec<(&'static str, String)>, String);
type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn seen(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

/// An HTTPS/1.1 server answering each request with `handler`, one
/// connection at a time, until the test process ends.
fn serve(pki: &Pki, handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.leaf.clone()], pki.leaf_key.clone_key())
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Handler = Arc::new(handler);
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A refused handshake is part of some tests: just the next one.
            let _ = answer(stream, config.clone(), &handler, &log);
        }
    });
    Server { addr, seen }
}

fn answer(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    handler: &Handler,
    log: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(TIMEOUT))?;
    let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let request = read_request(&mut tls)?;
    log.lock().unwrap().push(request.clone());
    let (status, headers, body) = handler(&request);
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    tls.write_all(head.as_bytes())?;
    tls.write_all(body.as_bytes())?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn read_request(stream: &mut impl Read) -> std::io::Result<Request> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Request {
        method,
        path,
        headers,
        body,
    })
}

fn json(status: u16, body: &str) -> Reply {
    (
        status,
        vec![("Content-Type", "application/json".to_owned())],
        body.to_owned(),
    )
}

fn ok(_: &Request) -> Reply {
    json(200, r#"{"status":"ok"}"#)
}

fn ca_file(dir: &Path, pki: &Pki) -> PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &pki.ca_pem).unwrap();
    path
}

fn heartbeat() -> vigie_core::Heartbeat {
    vigie_core::Heartbeat {
        schema: vigie_core::HEARTBEAT_SCHEMA.to_owned(),
        version: "0.1.0".to_owned(),
        mode: "observe".to_owned(),
        started_at: chrono::Utc::now(),
        uptime_secs: 61,
        packets: 1000,
        bytes: 64000,
        kernel_drops: 0,
        interface_drops: 0,
        incidents: 3,
        open_incidents: 1,
        spool_batches: 0,
        spool_bytes: 0,
        dropped_incidents: 0,
        blocked_now: 0,
        lists: vec![],
    }
}

#[test]
fn a_ca_file_trusts_its_own_authority_only() {
    let dir = tempfile::tempdir().unwrap();
    let ours = pki("Département");
    let server = serve(&ours, ok);
    let trust = Trust::CaFile(ca_file(dir.path(), &ours));
    let uplink = Uplink::new(&server.url(), &trust, Some("tok".into()), TIMEOUT).unwrap();
    uplink.heartbeat(&heartbeat()).unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/api/v1/sensors/heartbeat");
    assert_eq!(seen[0].headers["authorization"], "Bearer tok");
    let sent: vigie_core::Heartbeat = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(sent.packets, 1000);

    let other_dir = tempfile::tempdir().unwrap();
    let other = Trust::CaFile(ca_file(other_dir.path(), &pki("Ailleurs")));
    let uplink = Uplink::new(&server.url(), &other, None, TIMEOUT).unwrap();
    let err = uplink.heartbeat(&heartbeat()).unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Retryable);
    assert_eq!(
        server.seen().len(),
        1,
        "no request may pass a refused handshake"
    );
}

#[test]
fn a_pin_accepts_exactly_that_certificate() {
    let ours = pki("Département");
    let server = serve(&ours, ok);
    let pin = Trust::PinnedSha256(fingerprint(&ours.leaf));
    // The pin replaces the name check: "localhost" and the address both work.
    for url in [
        server.url(),
        format!("https://localhost:{}", server.addr.port()),
    ] {
        let uplink = Uplink::new(&url, &pin, None, TIMEOUT).unwrap();
        uplink.heartbeat(&heartbeat()).unwrap();
    }
    let mut wrong = fingerprint(&ours.leaf);
    wrong[0] ^= 1;
    let uplink = Uplink::new(&server.url(), &Trust::PinnedSha256(wrong), None, TIMEOUT).unwrap();
    let err = uplink.heartbeat(&heartbeat()).unwrap_err().to_string();
    let expected = format!(
        "the certificate's SHA-256 is {}, not the pinned {}",
        pin_hex(&fingerprint(&ours.leaf)),
        pin_hex(&wrong)
    );
    assert!(err.contains(&expected), "{err}");
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn plain_http_needs_allow_plain_http() {
    let err = Uplink::new("http://127.0.0.1:1", &Trust::SystemRoots, None, TIMEOUT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Setup);
    assert!(err.to_string().contains("https://"), "{err}");

    let path = Path::new("/etc/vigie/sensor.toml");
    let text =
        "[observatory]\nurl = \"http://127.0.0.1:8080\"\n[capture]\ninterfaces = [\"eth1\"]\n";
    let err = BoxConfig::from_toml(text, path).unwrap_err().to_string();
    assert!(err.contains("/etc/vigie/sensor.toml"), "{err}");
    assert!(err.contains("[observatory] url"), "{err}");
    assert!(err.contains("allow_plain_http"), "{err}");
    let allowed = text.replace("[capture]", "allow_plain_http = true\n[capture]");
    let config = BoxConfig::from_toml(&allowed, path).unwrap();
    assert_eq!(config.observatory.url, "http://127.0.0.1:8080");
    assert!(config.observatory.uplink(None).is_ok());
}

#[test]
fn report_answers_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let ours = pki("Département");
    let server = serve(&ours, |request| match request.body.as_slice() {
        b"stored" => json(200, r#"{"status":"stored","incidents":3}"#),
        b"again" => json(200, r#"{"status":"duplicate"}"#),
        b"bad" => json(400, r#"{"error":"incidents[3].category: inconnue"}"#),
        b"revoked" => json(401, r#"{"error":"jeton inconnu ou révoqué"}"#),
        b"huge" => (413, vec![], "length limit exceeded".to_owned()),
        _ => (503, vec![], String::new()),
    });
    let trust = Trust::CaFile(ca_file(dir.path(), &ours));
    let uplink = Uplink::new(&server.url(), &trust, Some("s3cret".into()), TIMEOUT).unwrap();
    assert_eq!(uplink.send_report(b"stored").unwrap(), Delivery::Stored);
    assert_eq!(uplink.send_report(b"again").unwrap(), Delivery::Duplicate);

    let bad = uplink.send_report(b"bad").unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Rejected);
    assert!(!bad.is_retryable());
    assert!(
        bad.to_string().contains("incidents[3].category: inconnue"),
        "{bad}"
    );
    let revoked = uplink.send_report(b"revoked").unwrap_err();
    assert_eq!(revoked.kind(), ErrorKind::Unauthorized);
    assert_eq!(revoked.status(), Some(401));
    assert!(revoked.to_string().contains("jeton inconnu"), "{revoked}");
    let huge = uplink.send_report(b"huge").unwrap_err();
    assert_eq!(
        (huge.kind(), huge.status()),
        (ErrorKind::Rejected, Some(413))
    );
    assert!(huge.to_string().contains("length limit exceeded"), "{huge}");
    let busy = uplink.send_report(b"busy").unwrap_err();
    assert!(busy.is_retryable(), "{busy}");
    assert_eq!(busy.status(), Some(503));

    let seen = server.seen();
    assert!(seen.iter().all(|r| r.path == "/api/v1/reports"));
    assert!(
        seen.iter()
            .all(|r| r.headers["authorization"] == "Bearer s3cret")
    );
    assert!(
        seen.iter()
            .all(|r| r.headers["content-type"] == "application/json")
    );
}

#[test]
fn a_refused_connection_is_retried() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}");
    let uplink = Uplink::new(&url, &Trust::PinnedSha256([7; 32]), None, TIMEOUT).unwrap();
    let err = uplink.send_report(b"{}").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Retryable, "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn lists_are_fetched_again_only_when_changed() {
    let ours = pki("Département");
    let server = serve(&ours, |request| {
        if request.headers.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
            (304, vec![], String::new())
        } else {
            (
                200,
                vec![("ETag", "\"v1\"".to_owned())],
                "192.0.2.1\n".to_owned(),
            )
        }
    });
    let pin = Trust::PinnedSha256(fingerprint(&ours.leaf));
    let uplink = Uplink::new(&server.url(), &pin, Some("t".into()), TIMEOUT).unwrap();
    let first = uplink.get("/api/v1/lists/firehol", None).unwrap();
    let Fetched::Body { bytes, etag } = first else {
        panic!("expected a body, got {first:?}");
    };
    assert_eq!(bytes, b"192.0.2.1\n");
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    let again = uplink.get("api/v1/lists/firehol", etag.as_deref()).unwrap();
    assert_eq!(again, Fetched::NotModified);
    let seen = server.seen();
    assert!(
        seen.iter()
            .all(|r| r.method == "GET" && r.path == "/api/v1/lists/firehol")
    );
    assert!(
        seen.iter()
            .all(|r| r.headers["authorization"] == "Bearer t")
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn enroll_server(ours: &Pki) -> Server {
    serve(ours, |request| {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        if request.path != "/api/v1/sensors/enroll" {
            json(404, r#"{"error":"?"}"#)
        } else if body["code"] == "K7QM-3XWA-PD9T-HN4E" {
            json(200, r#"{"sensor_id":"cap-0a1b2c3d","token":"f00dcafe"}"#)
        } else if body["code"] == "WITH-COMMUNE" {
            json(
                200,
                r#"{"sensor_id":"cap-1","token":"t","commune":"42059"}"#,
            )
        } else {
            json(
                401,
                r#"{"error":"code d'enrôlement inconnu ou déjà utilisé"}"#,
            )
        }
    })
}

#[test]
fn enrolment_writes_config_token_and_host_key() {
    let dir = tempfile::tempdir().unwrap();
    let ours = pki("Département");
    let server = enroll_server(&ours);
    let config_path = dir.path().join("etc/sensor.toml");
    let mut options = EnrollOptions {
        server: server.url() + "/",
        trust: Some(Trust::CaFile(ca_file(dir.path(), &ours))),
        code: "K7QM-3XWA-PD9T-HN4E".to_owned(),
        config_path: config_path.clone(),
        commune: Some("42218".to_owned()),
        interfaces: vec![],
        state_dir: Some(dir.path().join("state")),
        allow_plain_http: false,
    };
    let err = enroll_box(&options).unwrap_err();
    assert!(matches!(err, EnrollError::NoInterface { .. }), "{err}");
    assert!(
        server.seen().is_empty(),
        "the code must not be spent on a mistake"
    );

    options.interfaces = vec!["eth1".to_owned()];
    let done = enroll_box(&options).unwrap();
    assert_eq!(done.sensor_id, "cap-0a1b2c3d");
    assert!(done.created_config);
    let config = BoxConfig::load(&config_path).unwrap();
    assert_eq!(config, done.config);
    assert_eq!(config.observatory.url, server.url());
    assert_eq!(config.commune.as_deref(), Some("42218"));
    assert_eq!(config.capture.interfaces, ["eth1"]);
    assert_eq!(config.observatory.token_file, dir.path().join("etc/token"));
    assert_eq!(config.token().unwrap(), "f00dcafe");
    let key = std::fs::read_to_string(config.host_key_path()).unwrap();
    assert_eq!(key.trim().len(), 64);
    for file in [
        &config_path,
        &config.observatory.token_file,
        &config.host_key_path(),
    ] {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    let written = std::fs::read_to_string(&config_path).unwrap();
    assert!(
        written.contains("# The observatory's address."),
        "comments kept"
    );

    // Again with a spent code, over a config the installer edited: the
    // edit, the host key and the trust stay; the observatory's reason shows.
    let edited = written
        .replace("# bpf = \"not host 192.168.1.2\"", "bpf = \"not port 22\"")
        .replace("user = \"vigie\"", "user = \"nobody\"");
    std::fs::write(&config_path, edited).unwrap();
    options.code = "SPENT".to_owned();
    options.interfaces.clear();
    options.trust = None;
    let err = enroll_box(&options).unwrap_err();
    assert!(err.to_string().contains("inconnu ou déjà utilisé"), "{err}");
    let config = BoxConfig::load(&config_path).unwrap();
    assert_eq!(config.capture.bpf.as_deref(), Some("not port 22"));
    assert_eq!(config.observatory.trust, done.config.observatory.trust);
    assert_eq!(
        std::fs::read_to_string(config.host_key_path()).unwrap(),
        key
    );
    // As root, the state is handed to the user the daemon becomes.
    let nobody = nix::unistd::User::from_name("nobody").unwrap();
    if let (true, Some(nobody)) = (nix::unistd::geteuid().is_root(), nobody) {
        use std::os::unix::fs::MetadataExt;
        for path in [&config.storage.state_dir, &config.host_key_path()] {
            assert_eq!(std::fs::metadata(path).unwrap().uid(), nobody.uid.as_raw());
        }
    } else {
        println!("not root or no user nobody: skipping the ownership check");
    }
}

#[test]
fn enrolment_takes_the_commune_the_observatory_names() {
    let dir = tempfile::tempdir().unwrap();
    let ours = pki("Département");
    let server = enroll_server(&ours);
    let options = EnrollOptions {
        server: server.url(),
        trust: Some(Trust::PinnedSha256(fingerprint(&ours.leaf))),
        code: "WITH-COMMUNE".to_owned(),
        config_path: dir.path().join("sensor.toml"),
        commune: None,
        interfaces: vec!["br0".to_owned()],
        state_dir: Some(dir.path().join("state")),
        allow_plain_http: false,
    };
    let done = enroll_box(&options).unwrap();
    assert_eq!(done.config.commune.as_deref(), Some("42059"));
    let config = BoxConfig::load(&options.config_path).unwrap();
    assert_eq!(config.commune.as_deref(), Some("42059"));
    assert_eq!(
        config.observatory.trust,
        Trust::PinnedSha256(fingerprint(&ours.leaf))
    );
    assert_eq!(config.token().unwrap(), "t");
}

#[test]
fn the_example_config_loads_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sensor.toml");
    let text = vigie_sensor::live::box_config::EXAMPLE_TOML
        .replace(
            "# ca_file = \"/etc/vigie/observatoire-ca.pem\"",
            "ca_file = \"ca.pem\"",
        )
        .replace(
            "# [detection.scan]\n# min_ports = 20",
            "[detection.scan]\nmin_ports = 20",
        );
    std::fs::write(&path, text).unwrap();
    let config = BoxConfig::load(&path).unwrap();
    assert_eq!(config.mode, Mode::Observe);
    assert_eq!(config.commune, None);
    assert_eq!(
        config.observatory.trust,
        Trust::CaFile(dir.path().join("ca.pem"))
    );
    assert_eq!(config.observatory.batch_interval(), Duration::from_secs(60));
    assert_eq!(config.observatory.lists_interval_secs, 1800);
    assert_eq!(config.observatory.retry_max_secs, 300);
    assert_eq!(config.storage.spool_max_bytes(), 64 * 1024 * 1024);
    assert_eq!(config.storage.spool_dir, Path::new("/var/lib/vigie/spool"));
    assert_eq!(config.filter.brute_force_secs, 0);
    assert_eq!(config.filter.reputation_secs, 3600);
    assert_eq!(config.network.home_nets.len(), 5);
    assert_eq!(config.detection.scan.min_ports, 20);
    assert_eq!(
        config.detection.scan.window, 60,
        "other thresholds keep their defaults"
    );

    let copy = dir.path().join("copy.toml");
    config.write(&copy).unwrap();
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(BoxConfig::load(&copy).unwrap(), config);
}

#[test]
fn mistakes_in_the_config_are_named() {
    let path = Path::new("/etc/vigie/sensor.toml");
    let base =
        "[observatory]\nurl = \"https://obs.example.fr\"\n[capture]\ninterfaces = [\"eth1\"]\n";
    let check = |extra: &str, expected: &[&str]| {
        let text = format!("{base}{extra}");
        let err = BoxConfig::from_toml(&text, path).unwrap_err().to_string();
        assert!(err.contains("/etc/vigie/sensor.toml"), "{err}");
        for part in expected {
            assert!(err.contains(part), "{extra:?}: {err}");
        }
    };
    check(
        "[storage]\nspool_max = 3\n",
        &["unknown field `spool_max`", "line 6"],
    );
    check(
        "[filter]\nfamily = \"ip\"\n",
        &["unknown variant `ip`", "inet", "bridge"],
    );
    check(
        "[network]\nhome_nets = [\"10.0.0.0/8\", \"10.1.2.3/8\"]\n",
        &["home_nets[1]", "host bits"],
    );
    check(
        "[detection.scan]\nmin_ports = 0\n",
        &["[detection]", "scan.min_ports must be at least 1"],
    );
    check(
        "[detection.scan]\nmin_port = 3\n",
        &["[detection]", "min_port"],
    );
    check(
        "[storage]\nspool_max_mib = -1\n",
        &["spool_max_mib", "line 6"],
    );
    let text = "[observatory]\nurl = \"https://o.fr\"\nretry_max_secs = 0\n";
    let err = BoxConfig::from_toml(text, path).unwrap_err().to_string();
    assert!(err.contains("retry_max_secs: must be at least 1"), "{err}");
    let both = "[observatory]\nurl = \"https://o.fr\"\nca_file = \"a.pem\"\npin_sha256 = \"ab\"\n";
    let err = BoxConfig::from_toml(both, path).unwrap_err().to_string();
    assert!(err.contains("ca_file and pin_sha256"), "{err}");
    let err = BoxConfig::from_toml(
        "commune = \"4221\"\n[observatory]\nurl = \"https://o.fr\"\n",
        path,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("commune") && err.contains("INSEE"), "{err}");
    let err = BoxConfig::from_toml("mode = \"watch\"\n", path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown variant `watch`") && err.contains("line 1"),
        "{err}"
    );
    let err = BoxConfig::from_toml("commune = \"42218\"\n", path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `observatory`"), "{err}");
}
