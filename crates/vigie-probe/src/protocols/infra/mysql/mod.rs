//! MySQL and MariaDB: the greeting gives the product and version; `root`
//! with an empty password accepted is a database open to anyone
//! (`mysql.no_auth`); then the dictionary's passwords, within the budget
//! (`password.mysql`). Each trial is one complete handshake (an
//! interrupted one counts towards the server's `max_connect_errors` host
//! ban); after a success the session ends with COM_QUIT, no query sent.

pub mod packet;

use sha1::{Digest, Sha1};
use sha2::Sha256;
use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::printable;
use crate::protocols::infra::trials::{self, Outcome};
use crate::protocols::infra::wire::Conn;
use crate::target::{Context, PortResult, Target};

use packet::{Greeting, Reply};

pub const PORTS: &[u16] = &[3306];

/// The account every server has.
const ROOT: &str = "root";
/// COM_QUIT (Text protocol).
const COM_QUIT: u8 = 0x01;
const NATIVE: &str = "mysql_native_password";
const CACHING_SHA2: &str = "caching_sha2_password";
/// MySQL error codes meaning "wrong credentials" (1045 ER_ACCESS_DENIED,
/// 1698 ER_ACCESS_DENIED_NO_PASSWORD); any other error stops the trials.
const DENIED: &[u16] = &[1045, 1698];

/// A MySQL greeting: protocol 10, a version string, then binary fields.
pub fn matches_banner(first_bytes: &[u8]) -> bool {
    packet::split(first_bytes)
        .ok()
        .and_then(|(sequence, payload, _)| (sequence == 0).then_some(payload))
        .is_some_and(|payload| packet::parse_greeting(payload).is_ok())
}

/// mysql_native_password: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))).
pub fn native_scramble(password: &str, nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut hasher = Sha1::new();
    hasher.update(nonce.get(..20).unwrap_or(nonce));
    hasher.update(stage2);
    let mix = hasher.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

/// caching_sha2_password's fast path: SHA256(password) XOR
/// SHA256(SHA256(SHA256(password)) + nonce).
pub fn caching_sha2_scramble(password: &str, nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha256::digest(password.as_bytes());
    let stage2 = Sha256::digest(stage1);
    let mut hasher = Sha256::new();
    hasher.update(stage2);
    hasher.update(nonce.get(..20).unwrap_or(nonce));
    let mix = hasher.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

fn scramble(plugin: &str, password: &str, nonce: &[u8]) -> Option<Vec<u8>> {
    match plugin {
        NATIVE => Some(native_scramble(password, nonce)),
        CACHING_SHA2 => Some(caching_sha2_scramble(password, nonce)),
        _ => None,
    }
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    // The first connection both identifies the server and, budget
    // allowing, tries root without a password.
    let (greeting, empty_root) = if ctx.password_budget > 0 {
        let (greeting, outcome) = login(target, ctx, ROOT, "").await?;
        (greeting, Some(outcome))
    } else {
        let mut conn = Conn::open(target, ctx).await.ok()?;
        let greeting = read_greeting(&mut conn).await?;
        conn.close().await;
        (greeting, None)
    };
    let (product, version) = greeting.product();
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "mysql".to_owned(),
        product: Some(product.clone()),
        version: Some(printable(version.as_bytes(), 40)),
        tls: false,
        banner: Some(printable(greeting.server_version.as_bytes(), 80)),
    });
    match empty_root {
        Some(Outcome::Accepted) => result.findings.push(catalog::finding(
            "mysql.no_auth",
            target,
            format!("{product} : compte « root » accepté sans mot de passe"),
        )),
        Some(Outcome::GiveUp) => {}
        Some(Outcome::Refused) | None => {
            let accounts = trials::plan(ctx, ROOT, usize::from(empty_root.is_some()));
            let found = guess(target, ctx, &accounts).await;
            if let Some(user) = found {
                result.findings.push(catalog::finding(
                    "password.mysql",
                    target,
                    trials::evidence(&product, &user),
                ));
            }
        }
    }
    Some(result)
}

/// Logs in with each planned pair until one is accepted.
async fn guess(target: &Target, ctx: &Context, accounts: &[trials::Account]) -> Option<String> {
    let mut trials = trials::Trials::new(ctx, accounts);
    while let Some((user, password)) = trials.next().await {
        match login(target, ctx, &user, &password).await {
            Some((_, Outcome::Accepted)) => return Some(user),
            Some((_, Outcome::Refused)) => {}
            Some((_, Outcome::GiveUp)) | None => return None,
        }
    }
    None
}

async fn read_greeting(conn: &mut Conn) -> Option<Greeting> {
    let bytes = conn.receive(packet::complete_length).await.ok()?;
    let (_, payload, _) = packet::split(&bytes).ok()?;
    packet::parse_greeting(payload).ok()
}

async fn read_reply(conn: &mut Conn) -> Option<(u8, Reply)> {
    let bytes = conn.receive(packet::complete_length).await.ok()?;
    let (sequence, payload, _) = packet::split(&bytes).ok()?;
    Some((sequence, packet::parse_reply(payload).ok()?))
}

/// One complete login attempt on its own connection; `None` when the
/// server could not be read as MySQL at all.
async fn login(
    target: &Target,
    ctx: &Context,
    user: &str,
    password: &str,
) -> Option<(Greeting, Outcome)> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let greeting = read_greeting(&mut conn).await?;
    let plugin = match greeting.auth_plugin.as_deref() {
        Some(CACHING_SHA2) => CACHING_SHA2,
        _ => NATIVE,
    };
    let auth = scramble(plugin, password, &greeting.scramble).unwrap_or_default();
    let response = packet::handshake_response(user, &auth, plugin, greeting.capabilities);
    let outcome = authenticate(&mut conn, &packet::frame(1, &response), password).await;
    if outcome == Outcome::Accepted {
        let _ = conn.send(&packet::frame(0, &[COM_QUIT])).await;
    }
    conn.close().await;
    Some((greeting, outcome))
}

/// Sends the handshake response and follows the server through at most
/// one plugin switch and the caching_sha2 fast path.
async fn authenticate(conn: &mut Conn, first: &[u8], password: &str) -> Outcome {
    if conn.send(first).await.is_err() {
        return Outcome::GiveUp;
    }
    let mut switched = false;
    loop {
        let Some((sequence, reply)) = read_reply(conn).await else {
            return Outcome::GiveUp;
        };
        match reply {
            Reply::Ok => return Outcome::Accepted,
            Reply::Err { code, .. } if DENIED.contains(&code) => return Outcome::Refused,
            Reply::Err { .. } => return Outcome::GiveUp,
            Reply::AuthSwitch { plugin, data } if !switched => {
                switched = true;
                // A plugin we do not speak (ed25519, GSSAPI...): this
                // account cannot be tried; the trial is counted, not won.
                let Some(auth) = scramble(&plugin, password, &data) else {
                    return Outcome::Refused;
                };
                let next = packet::frame(sequence.wrapping_add(1), &auth);
                if conn.send(&next).await.is_err() {
                    return Outcome::GiveUp;
                }
            }
            // caching_sha2: 3 = fast auth succeeded, the OK follows.
            Reply::MoreData(data) if data == [3] => continue,
            // 4 = full authentication needed, which takes TLS or the
            // server's RSA key: the password cannot be judged here.
            Reply::MoreData(_) | Reply::AuthSwitch { .. } => return Outcome::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_scramble_matches_a_known_answer() {
        // Computed with MySQL's own algorithm for password "password" and
        // nonce 0x01..0x14 (checked against the real server in
        // tests/infra.rs).
        let nonce: Vec<u8> = (1..=20).collect();
        let scramble = native_scramble("password", &nonce);
        assert_eq!(scramble.len(), 20);
        let stage1 = Sha1::digest(b"password");
        let stage2 = Sha1::digest(stage1);
        let mix = Sha1::digest([nonce.as_slice(), stage2.as_slice()].concat());
        // XOR back with the mix gives stage1: the server's check.
        let back: Vec<u8> = scramble
            .iter()
            .zip(mix.iter())
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(back, stage1.to_vec());
        assert!(native_scramble("", &nonce).is_empty());
        assert_eq!(caching_sha2_scramble("password", &nonce).len(), 32);
    }

    #[test]
    fn recognises_a_greeting_as_a_banner() {
        let mut bytes = packet::frame(0, packet::tests::MARIADB_GREETING);
        assert!(matches_banner(&bytes));
        bytes[3] = 1;
        assert!(!matches_banner(&bytes));
        assert!(!matches_banner(b"220 mail ESMTP\r\n"));
    }
}
