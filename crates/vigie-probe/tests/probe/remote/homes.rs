//! A fake anonymous FTP server whose listing shows home directories
//! (issue 16): the accounts it reveals are counted, never named, in a
//! finding, and tried first on its own login.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use vigie_probe::protocols::remote::ftp;

use super::fakes::serve;
use super::{assert_catalogued, context, finding, ids, target};

/// What the fake saw: every verb, and the account of every `USER`.
#[derive(Default, Debug)]
struct HomesLog {
    verbs: Vec<String>,
    users: Vec<String>,
}

/// A fake anonymous FTP server that lists a `home` folder over PASV,
/// naming a foreign address in its `227` (the probe must ignore it), and
/// accepts `etatcivil` / `azerty`; it logs every verb and account tried.
async fn fake_ftp_with_homes() -> (u16, Arc<Mutex<HomesLog>>) {
    let log = Arc::new(Mutex::new(HomesLog::default()));
    let shared = log.clone();
    let port = serve(move |stream| {
        let log = shared.clone();
        async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 (vsFTPd 3.0.3)\r\n").await.unwrap();
            let (mut user, mut data) = (String::new(), None);
            while let Ok(Some(line)) = lines.next_line().await {
                let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
                log.lock().unwrap().verbs.push(verb.to_owned());
                let reply: Vec<u8> = match verb {
                    "USER" => {
                        user = arg.to_owned();
                        log.lock().unwrap().users.push(user.clone());
                        b"331 Please specify the password.\r\n".to_vec()
                    }
                    "PASS" if user == "anonymous" || (user == "etatcivil" && arg == "azerty") => {
                        b"230 Login successful.\r\n".to_vec()
                    }
                    "PASS" => b"530 Login incorrect.\r\n".to_vec(),
                    "PASV" => {
                        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                        let port = listener.local_addr().unwrap().port();
                        data = Some(listener);
                        format!(
                            "227 Entering Passive Mode (192,0,2,1,{},{}).\r\n",
                            port / 256,
                            port % 256
                        )
                        .into_bytes()
                    }
                    "NLST" => {
                        let Some(listener) = data.take() else { return };
                        write
                            .write_all(b"150 Here comes the directory listing.\r\n")
                            .await
                            .unwrap();
                        let (mut stream, _) = listener.accept().await.unwrap();
                        let listing: &[u8] = if arg == "home" {
                            b"home/etatcivil\r\nhome/Public\r\nhome/jean.dupont\r\n"
                        } else {
                            b"pub\r\nhome\r\n"
                        };
                        stream.write_all(listing).await.unwrap();
                        drop(stream);
                        b"226 Directory send OK.\r\n".to_vec()
                    }
                    "QUIT" => {
                        let _ = write.write_all(b"221 Goodbye.\r\n").await;
                        return;
                    }
                    _ => b"500 Unknown command.\r\n".to_vec(),
                };
                if write.write_all(&reply).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (port, log)
}

/// Issue 16: the home directories an anonymous FTP server lists are its
/// accounts: counted in a finding that names none, and tried first, with
/// their likely passwords, on the server's own login.
#[tokio::test]
async fn ftp_home_directories_are_tried_first() {
    let (port, log) = fake_ftp_with_homes().await;
    let mut ctx = context(5, &[("admin", "admin"), ("mairie", "mairie")]);
    ctx.accounts_at_once = 1;
    let result = ftp::examine(&target(port), &ctx).await.unwrap();
    assert_eq!(
        ids(&result),
        [
            "ftp.anonymous",
            "ftp.cleartext",
            "ftp.home_directories",
            "password.ftp"
        ]
    );
    assert_catalogued(&result);
    let listed = finding(&result, "ftp.home_directories");
    assert!(
        listed.evidence.contains("3 dossiers"),
        "{}",
        listed.evidence
    );
    assert!(!listed.evidence.contains("etatcivil"));
    assert!(
        finding(&result, "password.ftp")
            .evidence
            .contains("etatcivil")
    );
    let log = log.lock().unwrap();
    // Anonymous first, then the revealed account, found on its third try
    // (etatcivil, 123456, azerty) before any other account.
    assert_eq!(
        log.users,
        ["anonymous", "etatcivil", "etatcivil", "etatcivil"]
    );
    let verbs: Vec<&str> = log.verbs.iter().map(String::as_str).collect();
    assert_eq!(verbs.iter().filter(|v| **v == "NLST").count(), 2);
    assert!(
        verbs
            .iter()
            .all(|v| ["FEAT", "USER", "PASS", "PASV", "NLST", "QUIT"].contains(v)),
        "{verbs:?}"
    );
}
