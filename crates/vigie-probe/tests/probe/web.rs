#![allow(clippy::unwrap_used)]
//! The web family against real services on 127.0.0.1: Debian's nginx
//! (plain HTTP with a basic-auth page, HTTPS with an expired self-signed
//! certificate, HTTPS accepting TLS 1.0/1.1 with a 1024-bit SHA-1
//! certificate), openssh-server with a weak and a strong account, and
//! servers that answer garbage, hang or flood.
//!
//! nginx runs as a child of the test on free high ports with a private
//! configuration; sshd and its accounts need root. A test without what it
//! needs prints why and passes.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support;
use vigie_core::probe::Finding;
use vigie_probe::protocols::web;
use vigie_probe::target::{Context, PortResult, Target};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn context(credentials: &[(&str, &str)], budget: usize) -> Context {
    support::context(
        Duration::from_secs(2),
        Duration::from_millis(50),
        3,
        budget,
        credentials,
    )
}

fn free_port() -> u16 {
    TcpListener::bind((LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ids(result: &PortResult) -> Vec<&str> {
    // Shown with --nocapture, and by a failing test.
    println!(
        "{}:{} {:?}",
        result.service.port, result.service.name, result.service
    );
    for finding in &result.findings {
        println!("  {} ({}) {}", finding.id, finding.cvss, finding.evidence);
    }
    result.findings.iter().map(|f| f.id.as_str()).collect()
}

fn finding<'a>(result: &'a PortResult, id: &str) -> &'a Finding {
    result
        .findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("{id} not in {:?}", ids(result)))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Waits until `port` accepts connections (the child started).
fn wait_listening(port: u16, child: &mut Child) {
    for _ in 0..100 {
        if std::net::TcpStream::connect((LOCALHOST, port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on {port}");
}

/// Kills the child it guards when the test ends, even on failure.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{program} {args:?}: {status}");
}

// --- nginx ----------------------------------------------------------------

struct Nginx {
    _guard: Guard,
    _dir: tempfile::TempDir,
    version: String,
    http: u16,
    expired: u16,
    legacy: u16,
}

fn start_nginx() -> Option<Nginx> {
    let nginx = Path::new("/usr/sbin/nginx");
    if !nginx.exists() || !Path::new("/usr/bin/openssl").exists() {
        println!("skipped: nginx or openssl missing (apt-get install nginx-light openssl)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    std::fs::create_dir(dir.path().join("www")).unwrap();
    std::fs::create_dir(dir.path().join("www/admin")).unwrap();
    std::fs::write(
        dir.path().join("www/index.html"),
        "<title>Mairie de Test</title>",
    )
    .unwrap();
    std::fs::write(dir.path().join("www/admin/index.html"), "admin").unwrap();
    std::fs::write(dir.path().join("htpasswd"), "admin:{PLAIN}azerty\n").unwrap();
    write_expired_certificate(dir.path());
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-sha1",
            "-days",
            "30",
            "-nodes",
            "-subj",
            "/CN=old.vigie.test",
            "-keyout",
            &format!("{d}/old.key"),
            "-out",
            &format!("{d}/old.pem"),
        ],
    );
    let (http, expired, legacy) = (free_port(), free_port(), free_port());
    let config = format!(
        r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    root {d}/www;
    server {{
        listen 127.0.0.1:{http};
        location /admin/ {{ auth_basic "Administration"; auth_basic_user_file {d}/htpasswd; }}
    }}
    server {{
        listen 127.0.0.1:{expired} ssl;
        ssl_certificate {d}/expired.pem;
        ssl_certificate_key {d}/expired.key;
    }}
    server {{
        listen 127.0.0.1:{legacy} ssl;
        ssl_certificate {d}/old.pem;
        ssl_certificate_key {d}/old.key;
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers DEFAULT:@SECLEVEL=0;
    }}
}}
"#
    );
    std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
    let child = Command::new(nginx)
        .args([
            "-e",
            &format!("{d}/error.log"),
            "-p",
            &d,
            "-c",
            &format!("{d}/nginx.conf"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    for port in [http, expired, legacy] {
        wait_listening(port, &mut guard.0);
    }
    let output = Command::new(nginx).arg("-v").output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr).to_string();
    let version = text.trim().rsplit('/').next().unwrap().to_owned();
    Some(Nginx {
        _guard: guard,
        _dir: dir,
        version,
        http,
        expired,
        legacy,
    })
}

/// A self-signed certificate that expired on 1 January 2021.
fn write_expired_certificate(dir: &Path) {
    let mut params = rcgen::CertificateParams::new(vec!["expired.vigie.test".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "expired.vigie.test");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("expired.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("expired.key"), key.serialize_pem()).unwrap();
}

#[tokio::test]
async fn nginx_in_clear_shows_its_admin_page_and_weak_password() {
    let Some(nginx) = start_nginx() else { return };
    let target = Target::tcp(LOCALHOST, nginx.http);
    let ctx = context(
        &[("admin", "admin"), ("admin", "azerty"), ("admin", "1234")],
        3,
    );
    let result = web::examine(&target, &ctx).await.unwrap();
    assert_eq!(result.service.name, "http");
    assert_eq!(result.service.product.as_deref(), Some("nginx"));
    assert_eq!(
        result.service.version.as_deref(),
        Some(nginx.version.as_str())
    );
    assert!(!result.service.tls);
    assert!(
        result
            .service
            .banner
            .as_deref()
            .unwrap()
            .contains("Mairie de Test")
    );
    let admin = finding(&result, "http.admin_cleartext");
    assert!(admin.evidence.contains("/admin/"), "{}", admin.evidence);
    let weak = finding(&result, "password.http_basic");
    assert!(weak.evidence.contains("« admin »"), "{}", weak.evidence);
    assert!(weak.evidence.contains("essai 2 sur 3"), "{}", weak.evidence);
    assert!(!weak.evidence.contains("azerty"));
    assert_eq!(weak.port, Some(nginx.http));

    // Beyond the budget, the right password is never tried.
    let ctx = context(
        &[("admin", "admin"), ("admin", "1234"), ("admin", "azerty")],
        2,
    );
    let result = web::examine(&target, &ctx).await.unwrap();
    assert!(
        !ids(&result).contains(&"password.http_basic"),
        "{:?}",
        ids(&result)
    );
    // Trials off: none.
    let ctx = Context {
        try_passwords: false,
        ..context(&[("admin", "azerty")], 3)
    };
    let result = web::examine(&target, &ctx).await.unwrap();
    assert!(!ids(&result).contains(&"password.http_basic"));
}

#[tokio::test]
async fn nginx_with_an_expired_self_signed_certificate() {
    let Some(nginx) = start_nginx() else { return };
    let target = Target::tcp(LOCALHOST, nginx.expired);
    let result = web::examine(&target, &context(&[], 3)).await.unwrap();
    assert_eq!(result.service.name, "https");
    assert!(result.service.tls);
    assert_eq!(result.service.product.as_deref(), Some("nginx"));
    assert_eq!(
        result.service.version.as_deref(),
        Some(nginx.version.as_str())
    );
    let expired = finding(&result, "tls.expired");
    assert!(
        expired.evidence.contains("01/01/2021"),
        "{}",
        expired.evidence
    );
    finding(&result, "tls.self_signed");
    let found = ids(&result);
    for absent in [
        "tls.legacy_versions",
        "tls.weak_key",
        "tls.weak_signature",
        "http.admin_cleartext",
    ] {
        assert!(!found.contains(&absent), "{absent} in {found:?}");
    }
    assert!(
        result.names.contains(&"expired.vigie.test".to_owned()),
        "{:?}",
        result.names
    );
}

#[tokio::test]
async fn nginx_accepting_old_tls_with_a_weak_certificate() {
    let Some(nginx) = start_nginx() else { return };
    let target = Target::tcp(LOCALHOST, nginx.legacy);
    let result = web::examine(&target, &context(&[], 3)).await.unwrap();
    let legacy = finding(&result, "tls.legacy_versions");
    assert!(legacy.evidence.contains("TLS 1.0"), "{}", legacy.evidence);
    assert!(legacy.evidence.contains("TLS 1.1"), "{}", legacy.evidence);
    assert!(!legacy.evidence.contains("SSLv3"), "{}", legacy.evidence);
    assert!(
        finding(&result, "tls.weak_key")
            .evidence
            .contains("RSA 1024")
    );
    finding(&result, "tls.weak_signature");
    finding(&result, "tls.self_signed");
    assert!(!ids(&result).contains(&"tls.expired"));
}

// --- sshd -------------------------------------------------------------------

/// A local account made for the test and removed when it ends.
struct Account(String);

impl Account {
    fn create(name: &str, password: &str) -> Account {
        let _ = Command::new("userdel")
            .arg(name)
            .stderr(Stdio::null())
            .status();
        run(
            "useradd",
            &["--no-create-home", "--shell", "/bin/false", name],
        );
        let account = Account(name.to_owned());
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(chpasswd.stdin.take().unwrap(), "{name}:{password}").unwrap();
        assert!(chpasswd.wait().unwrap().success());
        account
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.0).status();
    }
}

const STRONG_PASSWORD: &str = "k8#Vq2!rT9zL-mairie-4xW";

#[tokio::test]
async fn sshd_with_a_weak_and_a_strong_account() {
    let sshd = Path::new("/usr/sbin/sshd");
    if !is_root() || !sshd.exists() || !Path::new("/usr/bin/ssh-keygen").exists() {
        println!("skipped: needs root and openssh-server (test accounts and sshd on a high port)");
        return;
    }
    let suffix = std::process::id() % 100_000;
    let weak = Account::create(&format!("vigieweak{suffix}"), "azerty");
    let strong = Account::create(&format!("vigiestrong{suffix}"), STRONG_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &format!("{d}/host_ed25519"),
        ],
    );
    std::fs::create_dir_all("/run/sshd").unwrap();
    let port = free_port();
    // ForceCommand /bin/false: even a session would run nothing.
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\n\
         UsePAM yes\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
         PermitRootLogin no\nAllowUsers {} {}\nAuthorizedKeysFile none\nForceCommand /bin/false\n",
        weak.0, strong.0
    );
    std::fs::write(dir.path().join("sshd_config"), config).unwrap();
    let child = Command::new(sshd)
        .args(["-D", "-e", "-f", &format!("{d}/sshd_config")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    wait_listening(port, &mut guard.0);
    let target = Target::tcp(LOCALHOST, port);

    // Accounts that do not exist are tried at the same time (three at
    // once): each on connections of its own, none in the way of the others.
    let ctx = context(
        &[
            ("vigie-nosuch1", "123456"),
            ("vigie-nosuch2", "123456"),
            (&weak.0, "123456"),
            ("vigie-nosuch1", "azerty"),
            (&weak.0, "azerty"),
            (&weak.0, "password"),
            ("vigie-nosuch2", "azerty"),
        ],
        3,
    );
    let result = web::examine(&target, &ctx).await.unwrap();
    assert_eq!(result.service.name, "ssh");
    assert_eq!(result.service.product.as_deref(), Some("OpenSSH"));
    let banner = result.service.banner.clone().unwrap();
    assert!(banner.starts_with("SSH-2.0-OpenSSH_"), "{banner}");
    assert_eq!(result.os.as_deref(), Some("Debian"));
    let found = finding(&result, "password.ssh");
    assert!(found.evidence.contains(&weak.0), "{}", found.evidence);
    assert!(
        found.evidence.contains("essai 2 sur 3"),
        "{}",
        found.evidence
    );
    assert!(!found.evidence.contains("azerty"));
    // Debian 12's fixed build (DSA-5724-1) is not reported for regreSSHion.
    if banner.contains("Debian-2+deb12u") {
        assert!(!ids(&result).contains(&"cve.openssh_regresshion"));
    }

    // The strong account's password comes after the budget: never tried.
    let ctx = context(
        &[
            (&strong.0, "123456"),
            (&strong.0, "azerty"),
            (&strong.0, "password"),
            (&strong.0, STRONG_PASSWORD),
        ],
        3,
    );
    let result = web::examine(&target, &ctx).await.unwrap();
    assert!(
        !ids(&result).contains(&"password.ssh"),
        "{:?}",
        ids(&result)
    );
    drop(guard);
}

// --- misbehaving servers ----------------------------------------------------

/// A server on a free port answering each connection with `behaviour`.
fn serve(behaviour: fn(std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind((LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    port
}

fn garbage(mut stream: std::net::TcpStream) {
    use std::io::Write;
    let _ = stream.write_all(b"\x16\x03\x01\xff\xff\x00garbage\r\n\r\n\x15\x03");
}

fn hang(stream: std::net::TcpStream) {
    std::thread::sleep(Duration::from_secs(30));
    drop(stream);
}

fn flood(mut stream: std::net::TcpStream) {
    use std::io::Write;
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n<title>");
    let chunk = [b'a'; 16 * 1024];
    for _ in 0..1024 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
    }
}

fn odd_ssh(mut stream: std::net::TcpStream) {
    use std::io::Write;
    let _ = stream.write_all(b"SSH-2.0-\xff\xfe_\r\n");
}

#[tokio::test]
async fn misbehaving_servers_give_no_panic() {
    let ctx = Context {
        timeout: Duration::from_millis(300),
        ..context(&[("admin", "admin")], 1)
    };
    for (name, behaviour) in [("garbage", garbage as fn(_)), ("hang", hang)] {
        let target = Target::tcp(LOCALHOST, serve(behaviour));
        assert_eq!(web::examine(&target, &ctx).await, None, "{name}");
    }
    let target = Target::tcp(LOCALHOST, serve(flood));
    let result = web::examine(&target, &ctx).await.unwrap();
    assert_eq!(result.service.name, "http");
    let target = Target::tcp(LOCALHOST, serve(odd_ssh));
    let result = web::examine(&target, &ctx).await.unwrap();
    assert_eq!(result.service.name, "ssh");
    assert!(result.findings.is_empty());
    // Nothing listens: nothing found.
    let target = Target::tcp(LOCALHOST, free_port());
    assert_eq!(web::examine(&target, &ctx).await, None);
}
