//! The real Debian services on 127.0.0.1, each started by the test on a
//! free loopback port with a private configuration in a temporary
//! directory, and stopped (with the test account removed) at the end.
//! They need root (a daemon that switches users, accounts for the
//! password trials) and the packages `samba`, `vsftpd`,
//! `inetutils-telnetd`, `openbsd-inetd` and `tigervnc-standalone-server`:
//! without them each test says why it skips.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use vigie_probe::protocols::remote::{self, ftp, smb, telnet, vnc};

use super::{assert_catalogued, context, finding, ids, target};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// Whether the test can run; prints the reason when it cannot.
fn can_run(test: &str, binaries: &[&str]) -> bool {
    if !is_root() {
        println!("{test}: skipped, needs root to run the daemons and create the test account");
        return false;
    }
    if let Some(missing) = binaries.iter().find(|b| !Path::new(b).exists()) {
        println!("{test}: skipped, {missing} is not installed");
        return false;
    }
    true
}

/// A free loopback port (the daemons bind it right after).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A daemon started by the test, killed (by its own id) when dropped.
struct Daemon(Child);

impl Daemon {
    /// Starts `program` and waits until it listens on `port` (each of them).
    fn start(program: &str, args: &[&str], port: impl AsRef<[u16]>) -> Daemon {
        // A process group of its own: smbd, stopping, signals its whole
        // group, which must not be the test's.
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let daemon = Daemon(child);
        for port in port.as_ref() {
            let listening = (0..100).any(|_| {
                let up = TcpStream::connect(("127.0.0.1", *port)).is_ok();
                if !up {
                    std::thread::sleep(Duration::from_millis(100));
                }
                up
            });
            assert!(listening, "{program} did not listen on 127.0.0.1:{port}");
        }
        daemon
    }
}

impl Drop for Daemon {
    /// SIGTERM first, so that the daemon removes what it leaves in /tmp
    /// (Xvnc's display lock); SIGKILL after 3 s.
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..30 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A local account with a weak password and a home (vsftpd wants one),
/// removed with its home when dropped.
struct Account(&'static str);

impl Account {
    fn create(name: &'static str, password: &str) -> Account {
        let _ = Command::new("userdel").args(["-r", name]).output();
        let status = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", name])
            .status()
            .unwrap();
        assert!(status.success(), "useradd {name}");
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = chpasswd.stdin.take().unwrap();
        writeln!(stdin, "{name}:{password}").unwrap();
        drop(stdin);
        assert!(chpasswd.wait().unwrap().success());
        Account(name)
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        let _ = Command::new("userdel").args(["-r", self.0]).output();
    }
}

fn samba_conf(dir: &Path, ports: &str, min_protocol: &str) -> String {
    let d = dir.display();
    format!(
        "[global]\nworkgroup = MAIRIE\nnetbios name = SECRETARIAT\nserver role = standalone server\n\
         server min protocol = {min_protocol}\nsmb ports = {ports}\ninterfaces = 127.0.0.1\n\
         bind interfaces only = yes\ndisable netbios = yes\nprivate dir = {d}/private\n\
         lock directory = {d}/lock\nstate directory = {d}/state\ncache directory = {d}/cache\n\
         pid directory = {d}/pid\nncalrpc dir = {d}/ncalrpc\n\
         passdb backend = tdbsam:{d}/private/passdb.tdb\nlog file = {d}/log.%m\n\
         load printers = no\nprinting = bsd\nprintcap name = /dev/null\n"
    )
}

fn start_samba(dir: &Path, min_protocol: &str) -> (Daemon, u16) {
    let port = free_port();
    (start_samba_on(dir, &[port], min_protocol), port)
}

fn start_samba_on(dir: &Path, ports: &[u16], min_protocol: &str) -> Daemon {
    for sub in ["private", "lock", "state", "cache", "pid", "ncalrpc"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let conf = dir.join("smb.conf");
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    std::fs::write(&conf, samba_conf(dir, &list.join(" "), min_protocol)).unwrap();
    let config = format!("--configfile={}", conf.display());
    Daemon::start(
        "/usr/sbin/smbd",
        &["--foreground", "--no-process-group", &config],
        ports,
    )
}

#[tokio::test]
async fn live_samba_with_and_without_smb1() {
    if !can_run("live_samba_with_and_without_smb1", &["/usr/sbin/smbd"]) {
        return;
    }
    let ctx = context(5, &[]);
    let dir = tempfile::tempdir().unwrap();
    let (daemon, port) = start_samba(&dir.path().join("nt1"), "NT1");
    let result = smb::examine(&target(port), &ctx).await.unwrap();
    drop(daemon);
    assert_eq!(result.service.name, "smb");
    assert_eq!(result.service.product.as_deref(), Some("Samba"));
    assert!(result.service.version.as_deref().unwrap().starts_with('4'));
    assert!(
        result
            .names
            .iter()
            .any(|n| n.eq_ignore_ascii_case("secretariat")),
        "{:?}",
        result.names
    );
    assert_eq!(result.os, None);
    assert_eq!(ids(&result), ["smb.signing_not_required", "smb.v1"]);
    assert!(
        finding(&result, "smb.signing_not_required")
            .evidence
            .contains("SMB1")
    );
    assert_catalogued(&result);

    let (daemon, port) = start_samba(&dir.path().join("smb2"), "SMB2_02");
    let result = smb::examine(&target(port), &ctx).await.unwrap();
    drop(daemon);
    assert_eq!(result.service.name, "smb");
    assert!(
        result
            .service
            .banner
            .as_deref()
            .unwrap()
            .contains("SMB 3.1.1")
    );
    assert_eq!(ids(&result), ["smb.signing_not_required"]);
}

/// A Samba moved to an unusual port says nothing first: the whole scan,
/// once HTTP and TLS got no answer there, still asks it in SMB and finds
/// SMB1.
#[tokio::test]
async fn live_samba_on_an_unusual_port_is_still_smb() {
    if !can_run(
        "live_samba_on_an_unusual_port_is_still_smb",
        &["/usr/sbin/smbd"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (daemon, port) = start_samba(&dir.path().join("odd"), "NT1");
    assert!(remote::Protocol::by_port(port).is_none());
    let scope = crate::scan::lab_scope("\"127.0.0.1\"", "");
    let settings = crate::scan::settings(&scope, vec![port], vec![port]);
    let report = crate::scan::run(&scope, settings).await;
    drop(daemon);
    let services: Vec<_> = report.hosts.iter().flat_map(|h| &h.services).collect();
    assert_eq!(services.len(), 1, "{services:?}");
    assert_eq!(services[0].name, "smb", "{services:?}");
    assert_eq!(services[0].product.as_deref(), Some("Samba"));
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.id == "smb.v1" && f.port == Some(port)),
        "{:?}",
        report.findings
    );
}

/// The NetBIOS session service path (port 139), alone and beside 445,
/// where the findings go to 445 only. Needs 127.0.0.1:139 and :445 free.
#[tokio::test]
async fn live_samba_on_the_netbios_port() {
    if !can_run("live_samba_on_the_netbios_port", &["/usr/sbin/smbd"]) {
        return;
    }
    let free = |port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    if !free(139) || !free(445) {
        println!("live_samba_on_the_netbios_port: skipped, 127.0.0.1:139 or :445 is taken");
        return;
    }
    let ctx = context(5, &[]);
    let dir = tempfile::tempdir().unwrap();
    let daemon = start_samba_on(&dir.path().join("nbt"), &[139], "NT1");
    let alone = smb::examine(&target(139), &ctx).await.unwrap();
    drop(daemon);
    assert_eq!(alone.service.product.as_deref(), Some("Samba"));
    assert_eq!(ids(&alone), ["smb.signing_not_required", "smb.v1"]);

    let daemon = start_samba_on(&dir.path().join("both"), &[445, 139], "NT1");
    let netbios = smb::examine(&target(139), &ctx).await.unwrap();
    let direct = smb::examine(&target(445), &ctx).await.unwrap();
    drop(daemon);
    assert_eq!(netbios.service.name, "smb");
    assert!(ids(&netbios).is_empty());
    assert_eq!(ids(&direct), ["smb.signing_not_required", "smb.v1"]);
}

/// vsftpd on a free loopback port, anonymous read-only (its root holding
/// `home/NAME` for each of `homes`) and local accounts allowed.
fn start_vsftpd(dir: &Path, homes: &[&str]) -> (Daemon, u16) {
    let chmod = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    for sub in ["anon", "empty"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
        chmod(&dir.join(sub));
    }
    chmod(dir);
    for home in homes {
        let path = dir.join("anon/home").join(home);
        std::fs::create_dir_all(&path).unwrap();
        chmod(&path);
        chmod(&dir.join("anon/home"));
    }
    let port = free_port();
    let conf = dir.join("vsftpd.conf");
    std::fs::write(
        &conf,
        format!(
            "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\n\
             background=NO\nanonymous_enable=YES\nanon_root={}\nlocal_enable=YES\n\
             write_enable=NO\npam_service_name=vsftpd\nsecure_chroot_dir={}\nssl_enable=NO\n\
             seccomp_sandbox=NO\n",
            dir.join("anon").display(),
            dir.join("empty").display()
        ),
    )
    .unwrap();
    let daemon = Daemon::start("/usr/sbin/vsftpd", &[conf.to_str().unwrap()], [port]);
    (daemon, port)
}

#[tokio::test]
async fn live_vsftpd_anonymous_and_weak_password() {
    if !can_run(
        "live_vsftpd_anonymous_and_weak_password",
        &["/usr/sbin/vsftpd"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _account = Account::create("vigieftp", "soleil2024");
    let (daemon, port) = start_vsftpd(dir.path(), &[]);
    let ctx = context(5, &[("vigieftp", "123456"), ("vigieftp", "soleil2024")]);
    let result = ftp::examine(&target(port), &ctx).await.unwrap();
    drop(daemon);
    assert_eq!(result.service.product.as_deref(), Some("vsftpd"));
    assert!(result.service.version.is_some());
    assert_eq!(
        ids(&result),
        ["ftp.anonymous", "ftp.cleartext", "password.ftp"]
    );
    assert!(
        finding(&result, "password.ftp")
            .evidence
            .contains("vigieftp")
    );
    assert_catalogued(&result);
}

/// Issue 16: an account no candidate names, whose home directory the
/// anonymous login lists (PASV and NLST through the real vsftpd), is
/// tried with its likely passwords and found.
#[tokio::test]
async fn live_vsftpd_home_directories_reveal_an_account() {
    if !can_run(
        "live_vsftpd_home_directories_reveal_an_account",
        &["/usr/sbin/vsftpd"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _account = Account::create("vigiehome", "azerty");
    let (daemon, port) = start_vsftpd(dir.path(), &["vigiehome", "Public"]);
    let ctx = context(5, &[("admin", "admin")]);
    let result = ftp::examine(&target(port), &ctx).await.unwrap();
    drop(daemon);
    assert_eq!(
        ids(&result),
        [
            "ftp.anonymous",
            "ftp.cleartext",
            "ftp.home_directories",
            "password.ftp"
        ]
    );
    assert!(
        finding(&result, "password.ftp")
            .evidence
            .contains("vigiehome")
    );
    assert_catalogued(&result);
}

#[tokio::test]
async fn live_telnetd_weak_password() {
    if !can_run(
        "live_telnetd_weak_password",
        &["/usr/sbin/inetd", "/usr/sbin/telnetd", "/bin/login"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("inetd.conf");
    std::fs::write(
        &conf,
        format!("127.0.0.1:{port} stream tcp nowait root /usr/sbin/telnetd telnetd\n"),
    )
    .unwrap();
    let _account = Account::create("vigietel", "azerty");
    let daemon = Daemon::start("/usr/sbin/inetd", &["-d", conf.to_str().unwrap()], [port]);
    let ctx = context(5, &[("vigietel", "123456"), ("vigietel", "azerty")]);
    let result = telnet::examine(&target(port), &ctx).await.unwrap();
    drop(daemon);
    assert_eq!(result.service.name, "telnet");
    assert!(result.service.banner.as_deref().unwrap().contains("login"));
    assert_eq!(ids(&result), ["password.telnet", "telnet.cleartext"]);
    assert!(
        finding(&result, "password.telnet")
            .evidence
            .contains("vigietel")
    );
    assert_catalogued(&result);
}

/// An X display number nobody uses, for Xvnc. A lock left by a server
/// that no longer runs (killed before it could clean up) does not count:
/// it is removed, with its socket.
fn free_display() -> u16 {
    (60..100)
        .find(|n| {
            let lock = format!("/tmp/.X{n}-lock");
            let socket = format!("/tmp/.X11-unix/X{n}");
            if let Ok(text) = std::fs::read_to_string(&lock) {
                let alive = text
                    .trim()
                    .parse::<u32>()
                    .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                if alive {
                    return false;
                }
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(&socket);
            }
            !Path::new(&socket).exists()
        })
        .unwrap()
}

#[tokio::test]
async fn live_tigervnc_with_and_without_password() {
    if !can_run(
        "live_tigervnc_with_and_without_password",
        &["/usr/bin/Xtigervnc"],
    ) {
        return;
    }
    let ctx = context(5, &[]);
    // TLSNone is offered behind VeNCrypt only: encrypted, and no password.
    for (security, expected) in [
        ("None", "vnc.no_auth"),
        ("VncAuth", "vnc.exposed"),
        ("TLSNone", "vnc.no_auth"),
        ("TLSVnc,VncAuth", "vnc.exposed"),
    ] {
        let port = free_port();
        let display = format!(":{}", free_display());
        let rfb_port = port.to_string();
        let daemon = Daemon::start(
            "/usr/bin/Xtigervnc",
            &[
                &display,
                "-rfbport",
                &rfb_port,
                "-SecurityTypes",
                security,
                "-localhost",
                "-nolisten",
                "tcp",
            ],
            [port],
        );
        let by_family = remote::examine(&target(port), &ctx).await.unwrap();
        let result = vnc::examine(&target(port), &ctx).await.unwrap();
        drop(daemon);
        assert_eq!(by_family, result);
        assert_eq!(result.service.name, "vnc");
        assert_eq!(result.service.version.as_deref(), Some("3.8"));
        assert_eq!(ids(&result), [expected], "{security}: {result:?}");
        if security == "TLSNone" {
            let evidence = &finding(&result, "vnc.no_auth").evidence;
            assert!(
                evidence.contains("VeNCrypt") && evidence.contains("TLSNone"),
                "{evidence}"
            );
        }
        assert_catalogued(&result);
    }
}
