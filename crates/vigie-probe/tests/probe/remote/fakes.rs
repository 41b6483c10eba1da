//! Fake FTP, Telnet, VNC and RDP servers that record what the probe
//! sends, and servers that answer garbage or nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use vigie_probe::protocols::remote::{self, ftp, rdp, smb, telnet, vnc};

use super::{assert_catalogued, context, finding, ids, target};

/// Binds 127.0.0.1:0 and runs `handle` on each connection.
pub(super) async fn serve<F, Fut>(handle: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handle(stream));
        }
    });
    port
}

/// Waits for a fake server's connection to end and record it (the
/// probe has returned by then; the server task may not have run yet).
async fn wait_until(done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What a fake FTP server saw.
#[derive(Default, Debug)]
struct FtpLog {
    passwords_by_user: HashMap<String, usize>,
    verbs: Vec<String>,
    /// Accounts refused at `USER`, before any password.
    refused_at_user: Vec<String>,
}

/// Which logins a fake FTP server takes.
#[derive(Clone, Copy)]
enum Logins {
    /// This (account, password), and anonymous when `true`.
    Accounts(Option<(&'static str, &'static str)>, bool),
    /// Anonymous only: any other account is refused at `USER` (vsftpd
    /// with `local_enable=NO`).
    AnonymousOnly,
}

async fn fake_ftp(
    accepted: Option<(&'static str, &'static str)>,
    tls: bool,
    anonymous: bool,
) -> (u16, Arc<Mutex<FtpLog>>) {
    fake_ftp_taking(Logins::Accounts(accepted, anonymous), tls).await
}

async fn fake_ftp_taking(logins: Logins, tls: bool) -> (u16, Arc<Mutex<FtpLog>>) {
    let log = Arc::new(Mutex::new(FtpLog::default()));
    let shared = log.clone();
    let port = serve(move |stream| {
        let log = shared.clone();
        async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 (vsFTPd 3.0.3)\r\n").await.unwrap();
            let mut user = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
                log.lock().unwrap().verbs.push(verb.to_owned());
                let reply: &[u8] = match verb {
                    "FEAT" if tls => b"211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n",
                    "FEAT" => b"211-Features:\r\n EPSV\r\n PASV\r\n211 End\r\n",
                    "USER" if arg != "anonymous" && matches!(logins, Logins::AnonymousOnly) => {
                        log.lock().unwrap().refused_at_user.push(arg.to_owned());
                        b"530 This FTP server is anonymous only.\r\n"
                    }
                    "USER" => {
                        user = arg.to_owned();
                        b"331 Please specify the password.\r\n"
                    }
                    "PASS" => {
                        *log.lock()
                            .unwrap()
                            .passwords_by_user
                            .entry(user.clone())
                            .or_default() += 1;
                        let ok = match logins {
                            Logins::AnonymousOnly => user == "anonymous",
                            Logins::Accounts(accepted, anonymous) => {
                                (user == "anonymous" && anonymous)
                                    || accepted == Some((user.as_str(), arg))
                            }
                        };
                        if ok {
                            b"230 Login successful.\r\n"
                        } else {
                            b"530 Login incorrect.\r\n"
                        }
                    }
                    "QUIT" => {
                        let _ = write.write_all(b"221 Goodbye.\r\n").await;
                        return;
                    }
                    _ => b"500 Unknown command.\r\n",
                };
                if write.write_all(reply).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (port, log)
}

#[tokio::test]
async fn ftp_trials_stay_within_the_budget_per_account() {
    let (port, log) = fake_ftp(None, false, false).await;
    let ctx = context(
        2,
        &[
            ("admin", "admin"),
            ("admin", "1234"),
            ("root", "root"),
            ("admin", "password"),
            ("ftp", "ftp"),
            ("root", "toor"),
            ("root", "123456"),
            ("admin", "azerty"),
        ],
    );
    let result = ftp::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(result.service.name, "ftp");
    assert_eq!(result.service.product.as_deref(), Some("vsftpd"));
    assert_eq!(result.service.version.as_deref(), Some("3.0.3"));
    assert_eq!(ids(&result), ["ftp.cleartext"]);
    assert_catalogued(&result);
    let log = log.lock().unwrap();
    assert_eq!(log.passwords_by_user.get("admin"), Some(&2));
    assert_eq!(log.passwords_by_user.get("root"), Some(&2));
    // `ftp` is an anonymous account: only the anonymous check used it.
    assert_eq!(log.passwords_by_user.get("ftp"), None);
    assert_eq!(log.passwords_by_user.get("anonymous"), Some(&1));
    assert!(
        log.verbs
            .iter()
            .all(|v| ["FEAT", "USER", "PASS", "QUIT"].contains(&v.as_str())),
        "{:?}",
        log.verbs
    );
}

#[tokio::test]
async fn ftp_weak_password_named_by_account_only() {
    let (port, log) = fake_ftp(Some(("mairie", "mairie2024")), true, true).await;
    let mut ctx = context(
        5,
        &[
            ("admin", "admin"),
            ("mairie", "1234"),
            ("mairie", "mairie2024"),
            ("zorro", "x"),
        ],
    );
    // One account at a time, so that "zorro" comes strictly after the
    // success (with two at once it may start when "admin" is done).
    ctx.accounts_at_once = 1;
    let result = ftp::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["ftp.anonymous", "password.ftp"]);
    let weak = finding(&result, "password.ftp");
    assert!(weak.evidence.contains("mairie"));
    assert!(!weak.evidence.contains("mairie2024"));
    // Stopped at the first success.
    assert_eq!(log.lock().unwrap().passwords_by_user.get("zorro"), None);

    let (port, log) = fake_ftp(Some(("mairie", "mairie2024")), true, false).await;
    ctx.try_passwords = false;
    let result = ftp::examine(&target(port), &ctx).await.unwrap();
    assert!(ids(&result).is_empty());
    let log = log.lock().unwrap();
    assert_eq!(
        log.passwords_by_user.keys().collect::<Vec<_>>(),
        ["anonymous"]
    );
}

/// A server that takes no account but anonymous refuses each at `USER`,
/// before any password (vsftpd with `local_enable=NO`): each account is
/// tried once, its other passwords are not.
#[tokio::test]
async fn ftp_accounts_refused_at_user_are_tried_once() {
    let (port, log) = fake_ftp_taking(Logins::AnonymousOnly, false).await;
    let ctx = context(
        5,
        &[
            ("admin", "admin"),
            ("admin", "1234"),
            ("root", "root"),
            ("admin", "password"),
            ("root", "toor"),
        ],
    );
    let result = ftp::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["ftp.anonymous", "ftp.cleartext"]);
    let log = log.lock().unwrap();
    let mut users = log.refused_at_user.clone();
    users.sort();
    assert_eq!(users, ["admin", "root"]);
    // The anonymous login's password only.
    assert_eq!(
        log.passwords_by_user.iter().collect::<Vec<_>>(),
        [(&"anonymous".to_owned(), &1)]
    );
}

/// What a fake telnet server saw.
#[derive(Default, Debug)]
struct TelnetLog {
    attempts_by_user: HashMap<String, usize>,
    refusals: Vec<[u8; 3]>,
    /// What was typed after a successful login, once that connection ended.
    typed_after_login: Option<Vec<u8>>,
}

async fn fake_telnet(accepted: (&'static str, &'static str)) -> (u16, Arc<Mutex<TelnetLog>>) {
    let log = Arc::new(Mutex::new(TelnetLog::default()));
    let shared = log.clone();
    let port = serve(move |mut stream| {
        let log = shared.clone();
        async move {
            // DO TERMINAL-TYPE, WILL ECHO, then the prompt.
            let greeting = [&[255u8, 253, 24, 255, 251, 1][..], b"\r\nfake login: "].concat();
            stream.write_all(&greeting).await.unwrap();
            let Some(user) = read_line(&mut stream, &log).await else {
                return;
            };
            stream.write_all(b"Password: ").await.unwrap();
            let Some(password) = read_line(&mut stream, &log).await else {
                return;
            };
            *log.lock()
                .unwrap()
                .attempts_by_user
                .entry(user.clone())
                .or_default() += 1;
            if (user.as_str(), password.as_str()) == accepted {
                stream.write_all(b"\r\nLinux fake\r\n$ ").await.unwrap();
                let mut rest = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest))
                    .await;
                log.lock().unwrap().typed_after_login = Some(rest);
            } else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _ = stream
                    .write_all(b"\r\nLogin incorrect\r\nfake login: ")
                    .await;
            }
        }
    })
    .await;
    (port, log)
}

/// A line typed by the client; option answers are recorded apart.
async fn read_line(stream: &mut TcpStream, log: &Arc<Mutex<TelnetLog>>) -> Option<String> {
    let mut line = Vec::new();
    loop {
        let byte = stream.read_u8().await.ok()?;
        if byte == 255 {
            let command = [
                255,
                stream.read_u8().await.ok()?,
                stream.read_u8().await.ok()?,
            ];
            log.lock().unwrap().refusals.push(command);
            continue;
        }
        match byte {
            b'\n' => {
                return Some(
                    String::from_utf8_lossy(&line)
                        .trim_end_matches('\r')
                        .to_owned(),
                );
            }
            other => line.push(other),
        }
    }
}

#[tokio::test]
async fn telnet_refuses_options_and_honours_the_budget() {
    let (port, log) = fake_telnet(("root", "nope-not-in-list")).await;
    let ctx = context(
        3,
        &[
            ("root", "root"),
            ("root", "toor"),
            ("admin", "admin"),
            ("root", "1234"),
            ("root", "x"),
            ("root", "y"),
        ],
    );
    let result = telnet::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(result.service.name, "telnet");
    assert_eq!(ids(&result), ["telnet.cleartext"]);
    assert_catalogued(&result);
    let log = log.lock().unwrap();
    assert_eq!(log.attempts_by_user.get("root"), Some(&3));
    assert_eq!(log.attempts_by_user.get("admin"), Some(&1));
    // WONT TERMINAL-TYPE, DONT ECHO.
    assert!(log.refusals.contains(&[255, 252, 24]), "{:?}", log.refusals);
    assert!(log.refusals.contains(&[255, 254, 1]), "{:?}", log.refusals);
}

#[tokio::test]
async fn telnet_weak_password_found_and_nothing_typed_after() {
    let (port, log) = fake_telnet(("admin", "admin")).await;
    let ctx = context(
        5,
        &[("root", "root"), ("admin", "admin"), ("admin", "1234")],
    );
    let result = telnet::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["password.telnet", "telnet.cleartext"]);
    let weak = finding(&result, "password.telnet");
    assert!(weak.evidence.contains("« admin »"), "{}", weak.evidence);
    wait_until(|| log.lock().unwrap().typed_after_login.is_some()).await;
    let log = log.lock().unwrap();
    assert_eq!(log.attempts_by_user.get("admin"), Some(&1));
    assert_eq!(log.typed_after_login.as_deref(), Some(&[][..]));
}

/// A VNC server's start: RFB 3.8 announced, the client's 3.8 read, then
/// the security `types` offered.
async fn rfb_offer(stream: &mut TcpStream, types: &[u8]) {
    stream.write_all(b"RFB 003.008\n").await.unwrap();
    let mut version = [0u8; 12];
    stream.read_exact(&mut version).await.unwrap();
    assert_eq!(&version, b"RFB 003.008\n");
    stream
        .write_all(&[&[types.len() as u8][..], types].concat())
        .await
        .unwrap();
}

/// A VNC server offering `types` under RFB 3.8; records what the client
/// sends after its version.
async fn fake_vnc(types: &'static [u8]) -> (u16, Arc<Mutex<Option<Vec<u8>>>>) {
    let extra = Arc::new(Mutex::new(None));
    let shared = extra.clone();
    let port = serve(move |mut stream| {
        let extra = shared.clone();
        async move {
            rfb_offer(&mut stream, types).await;
            let mut rest = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
            *extra.lock().unwrap() = Some(rest);
        }
    })
    .await;
    (port, extra)
}

#[tokio::test]
async fn vnc_without_password_and_with() {
    let ctx = context(5, &[]);
    let (port, extra) = fake_vnc(&[1, 2]).await;
    let result = vnc::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(result.service.name, "vnc");
    assert_eq!(result.service.version.as_deref(), Some("3.8"));
    assert_eq!(ids(&result), ["vnc.no_auth"]);
    assert_catalogued(&result);
    wait_until(|| extra.lock().unwrap().is_some()).await;
    assert_eq!(
        extra.lock().unwrap().as_deref(),
        Some(&[][..]),
        "the probe chose a security type"
    );

    let (port, _) = fake_vnc(&[19, 2]).await;
    let result = vnc::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["vnc.exposed"]);
    assert!(
        finding(&result, "vnc.exposed")
            .evidence
            .contains("VNC Authentication")
    );

    // Found by its banner on a port the family does not claim.
    let (port, _) = fake_vnc(&[2]).await;
    let result = remote::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(result.service.name, "vnc");
}

/// A VNC server offering VeNCrypt alone, whose sub-types are `subtypes`;
/// records what the client sends after the sub-types.
async fn fake_vencrypt(subtypes: &'static [u32]) -> (u16, Arc<Mutex<Option<Vec<u8>>>>) {
    let extra = Arc::new(Mutex::new(None));
    let shared = extra.clone();
    let port = serve(move |mut stream| {
        let extra = shared.clone();
        async move {
            rfb_offer(&mut stream, &[19]).await;
            let mut choice = [0u8; 1];
            stream.read_exact(&mut choice).await.unwrap();
            assert_eq!(choice, [19]);
            stream.write_all(&[0, 2]).await.unwrap();
            let mut agreed = [0u8; 2];
            stream.read_exact(&mut agreed).await.unwrap();
            assert_eq!(agreed, [0, 2]);
            let mut list = vec![0, subtypes.len() as u8];
            subtypes
                .iter()
                .for_each(|s| list.extend_from_slice(&s.to_be_bytes()));
            stream.write_all(&list).await.unwrap();
            let mut rest = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
            *extra.lock().unwrap() = Some(rest);
        }
    })
    .await;
    (port, extra)
}

/// Behind VeNCrypt, TLSNone or X509None means no password; the probe reads
/// the list and chooses no sub-type.
#[tokio::test]
async fn vnc_vencrypt_subtypes_without_password_and_with() {
    let ctx = context(5, &[]);
    let (port, extra) = fake_vencrypt(&[260, 261]).await;
    let result = vnc::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["vnc.no_auth"]);
    let evidence = &finding(&result, "vnc.no_auth").evidence;
    assert!(evidence.contains("X509None"), "{evidence}");
    wait_until(|| extra.lock().unwrap().is_some()).await;
    assert_eq!(
        extra.lock().unwrap().as_deref(),
        Some(&[][..]),
        "the probe chose a sub-type"
    );

    let (port, _) = fake_vencrypt(&[258, 262]).await;
    let result = vnc::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["vnc.exposed"]);
}

/// A TightVNC server offering type Tight alone, with `tunnels` then
/// `auths` behind it; records what the client sent after its version.
async fn fake_tight(
    tunnels: &'static [u32],
    auths: &'static [u32],
) -> (u16, Arc<Mutex<Option<Vec<u8>>>>) {
    let capabilities = |codes: &[u32]| {
        let mut list = (codes.len() as u32).to_be_bytes().to_vec();
        for code in codes {
            list.extend_from_slice(&code.to_be_bytes());
            list.extend_from_slice(b"TGHTNAME_XYZ");
        }
        list
    };
    let extra = Arc::new(Mutex::new(None));
    let shared = extra.clone();
    let port = serve(move |mut stream| {
        let extra = shared.clone();
        async move {
            rfb_offer(&mut stream, &[16]).await;
            let mut sent = vec![0u8; 1];
            stream.read_exact(&mut sent).await.unwrap();
            assert_eq!(sent, [16]);
            stream.write_all(&capabilities(tunnels)).await.unwrap();
            if !tunnels.is_empty() {
                let mut tunnel = [0u8; 4];
                stream.read_exact(&mut tunnel).await.unwrap();
                sent.extend_from_slice(&tunnel);
            }
            stream.write_all(&capabilities(auths)).await.unwrap();
            let mut rest = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
            sent.extend_from_slice(&rest);
            *extra.lock().unwrap() = Some(sent);
        }
    })
    .await;
    (port, extra)
}

/// TightVNC's own security type: no authentication behind it (an empty
/// list, or None offered) is a VNC without password; the probe asks for no
/// tunnel and chooses no authentication.
#[tokio::test]
async fn vnc_tight_without_password_and_with() {
    let ctx = context(5, &[]);
    for (tunnels, auths, expected) in [
        (&[0u32][..], &[][..], "vnc.no_auth"),
        (&[][..], &[2u32, 1][..], "vnc.no_auth"),
        (&[0u32][..], &[2u32][..], "vnc.exposed"),
    ] {
        let (port, sent) = fake_tight(tunnels, auths).await;
        let result = vnc::examine(&target(port), &ctx).await.unwrap();
        assert_eq!(ids(&result), [expected], "{tunnels:?} {auths:?}");
        let evidence = &result.findings[0].evidence;
        assert!(evidence.contains("Tight"), "{evidence}");
        wait_until(|| sent.lock().unwrap().is_some()).await;
        let expected_sent: Vec<u8> = if tunnels.is_empty() {
            vec![16]
        } else {
            vec![16, 0, 0, 0, 0]
        };
        assert_eq!(
            sent.lock().unwrap().as_deref(),
            Some(&expected_sent[..]),
            "the probe chose an authentication"
        );
    }
}

/// An RDP server answering each Connection Request according to the
/// protocols requested; records them.
async fn fake_rdp(answer: fn(u32) -> Vec<u8>) -> (u16, Arc<Mutex<Vec<u32>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let shared = requests.clone();
    let port = serve(move |mut stream| {
        let requests = shared.clone();
        async move {
            let mut request = [0u8; 19];
            if stream.read_exact(&mut request).await.is_err() {
                return;
            }
            let protocols = u32::from_le_bytes(request[15..19].try_into().unwrap());
            requests.lock().unwrap().push(protocols);
            let _ = stream.write_all(&answer(protocols)).await;
        }
    })
    .await;
    (port, requests)
}

fn confirm(kind: u8, value: u32) -> Vec<u8> {
    let mut bytes = vec![3, 0, 0, 19, 14, 0xD0, 0, 0, 0x12, 0x34, 0, kind, 0, 8, 0];
    bytes.extend_from_slice(&value.to_le_bytes());
    bytes
}

#[tokio::test]
async fn rdp_nla_enforced_or_not() {
    let ctx = context(5, &[]);
    let (port, requests) = fake_rdp(|_| confirm(3, rdp::HYBRID_REQUIRED_BY_SERVER)).await;
    let result = rdp::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(result.service.name, "rdp");
    assert_eq!(ids(&result), ["rdp.exposed"]);
    assert_eq!(*requests.lock().unwrap(), [rdp::PROTOCOL_RDP]);

    let (port, _) = fake_rdp(|_| confirm(2, rdp::PROTOCOL_RDP)).await;
    let result = rdp::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["rdp.exposed", "rdp.no_nla"]);
    assert_catalogued(&result);

    // TLS required, then TLS accepted without NLA.
    let (port, requests) = fake_rdp(|asked| match asked {
        rdp::PROTOCOL_SSL => confirm(2, rdp::PROTOCOL_SSL),
        _ => confirm(3, rdp::SSL_REQUIRED_BY_SERVER),
    })
    .await;
    let result = rdp::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["rdp.exposed", "rdp.no_nla"]);
    assert_eq!(
        *requests.lock().unwrap(),
        [rdp::PROTOCOL_RDP, rdp::PROTOCOL_SSL]
    );
}

#[tokio::test]
async fn garbage_and_silence_are_not_services() {
    let mut ctx = context(5, &[("admin", "admin")]);
    ctx.timeout = Duration::from_millis(500);
    let garbage = serve(|mut stream| async move {
        let _ = stream.write_all(&[0x42; 300]).await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut sink)).await;
    })
    .await;
    let silent = serve(|mut stream| async move {
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut sink)).await;
    })
    .await;
    for port in [garbage, silent] {
        let target = target(port);
        assert!(ftp::examine(&target, &ctx).await.is_none(), "ftp on {port}");
        assert!(vnc::examine(&target, &ctx).await.is_none(), "vnc on {port}");
        assert!(rdp::examine(&target, &ctx).await.is_none(), "rdp on {port}");
        assert!(smb::examine(&target, &ctx).await.is_none(), "smb on {port}");
        assert!(
            remote::examine(&target, &ctx).await.is_none(),
            "family on {port}"
        );
    }
    assert!(telnet::examine(&target(silent), &ctx).await.is_none());
    // A closed port.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    assert!(remote::examine(&target(closed), &ctx).await.is_none());
}
