//! PostgreSQL: the SSLRequest answer tells whether TLS is offered; a
//! startup message for `postgres` tells the authentication method, or that
//! none is asked (`postgresql.no_auth`, trust); then the dictionary's
//! passwords with md5, SCRAM-SHA-256 or cleartext, within the budget
//! (`password.postgresql`). Each trial is one connection that ends with
//! Terminate as soon as the answer is known: no query is ever sent.

pub mod messages;
pub mod scram;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::trials::{self, Outcome};
use crate::protocols::infra::wire::{Conn, random};
use crate::target::{Context, PortResult, Target};

use messages::{Auth, Backend};

pub const PORTS: &[u16] = &[5432];

/// The superuser every installation creates.
const POSTGRES: &str = "postgres";
const SCRAM: &str = "SCRAM-SHA-256";
/// SQLSTATE 28P01 invalid_password, 28000 invalid_authorization_specification
/// (no pg_hba.conf line for this user): a refusal, not a fault.
const REFUSED: &[&str] = &["28P01", "28000"];
/// At most this many messages read in one authentication exchange.
const MAX_MESSAGES: usize = 32;

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let tls = ssl_offered(target, ctx).await?;
    let mut conn = Conn::open(target, ctx).await.ok()?;
    conn.send(&messages::startup(POSTGRES, POSTGRES))
        .await
        .ok()?;
    let first = next(&mut conn).await?;
    let mut service = Service {
        port: target.port,
        transport: target.transport,
        name: "postgresql".to_owned(),
        product: Some("PostgreSQL".to_owned()),
        version: None,
        tls,
        banner: None,
    };
    let mut findings = Vec::new();
    match &first {
        Backend::Authentication(Auth::Ok) => {
            service.version = server_version(&mut conn).await;
            service.banner = Some("authentification : trust".to_owned());
            findings.push(catalog::finding(
                "postgresql.no_auth",
                target,
                "compte « postgres » accepté sans mot de passe (méthode trust)",
            ));
        }
        Backend::Authentication(auth) => {
            service.banner = Some(format!("authentification : {}", auth.method()));
        }
        Backend::Error { code, message } => {
            service.banner = Some(format!("{code} {}", shorten(message)));
        }
        Backend::Parameter { .. } | Backend::Other(_) => {}
    }
    let _ = conn.send(&messages::terminate()).await;
    conn.close().await;
    if matches!(first, Backend::Authentication(ref a) if *a != Auth::Ok) {
        let accounts = trials::plan(ctx, POSTGRES, 0);
        let found = guess(target, ctx, &accounts).await;
        if let Some(user) = found {
            findings.push(catalog::finding(
                "password.postgresql",
                target,
                trials::evidence("PostgreSQL", &user),
            ));
        }
    }
    Some(PortResult {
        findings,
        ..PortResult::service(service)
    })
}

/// Error messages can be long; the banner keeps the start.
fn shorten(message: &str) -> String {
    crate::protocols::infra::cursor::printable(message.as_bytes(), 100)
}

/// Sends SSLRequest on its own connection: `Some(true)` for `S`,
/// `Some(false)` for `N`, `None` if the answer is not PostgreSQL's.
async fn ssl_offered(target: &Target, ctx: &Context) -> Option<bool> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    conn.send(&messages::ssl_request()).await.ok()?;
    let answer = conn.receive(|bytes| (!bytes.is_empty()).then_some(1)).await;
    conn.close().await;
    match answer.ok()?.as_slice() {
        b"S" => Some(true),
        b"N" => Some(false),
        _ => None,
    }
}

async fn next(conn: &mut Conn) -> Option<Backend> {
    let bytes = conn.receive(messages::complete_length).await.ok()?;
    messages::parse(&bytes).ok().map(|(message, _)| message)
}

/// After AuthenticationOk: the ParameterStatus messages up to ReadyForQuery.
async fn server_version(conn: &mut Conn) -> Option<String> {
    for _ in 0..MAX_MESSAGES {
        match next(conn).await? {
            Backend::Parameter { name, value } if name == "server_version" => {
                return Some(crate::protocols::infra::cursor::printable(
                    value.as_bytes(),
                    40,
                ));
            }
            Backend::Other(b'Z') | Backend::Error { .. } => return None,
            _ => {}
        }
    }
    None
}

/// Logs in with each planned pair until one is accepted.
async fn guess(target: &Target, ctx: &Context, accounts: &[trials::Account]) -> Option<String> {
    let mut trials = trials::Trials::new(ctx, accounts);
    while let Some((user, password)) = trials.next().await {
        match login(target, ctx, &user, &password).await {
            Outcome::Accepted => return Some(user),
            Outcome::Refused => {}
            Outcome::GiveUp => return None,
        }
    }
    None
}

/// One login attempt on its own connection.
async fn login(target: &Target, ctx: &Context, user: &str, password: &str) -> Outcome {
    let Ok(mut conn) = Conn::open(target, ctx).await else {
        return Outcome::GiveUp;
    };
    let outcome = authenticate(&mut conn, user, password).await;
    let _ = conn.send(&messages::terminate()).await;
    conn.close().await;
    outcome
}

async fn authenticate(conn: &mut Conn, user: &str, password: &str) -> Outcome {
    if conn.send(&messages::startup(user, POSTGRES)).await.is_err() {
        return Outcome::GiveUp;
    }
    let nonce = URL_SAFE_NO_PAD.encode(random::<18>());
    let client = scram::Client::new(&nonce);
    for _ in 0..MAX_MESSAGES {
        let Some(message) = next(conn).await else {
            return Outcome::GiveUp;
        };
        let reply = match message {
            Backend::Authentication(Auth::Ok) => return Outcome::Accepted,
            Backend::Error { code, .. } if REFUSED.contains(&code.as_str()) => {
                return Outcome::Refused;
            }
            Backend::Error { .. } => return Outcome::GiveUp,
            Backend::Authentication(Auth::Cleartext) => messages::password(password),
            Backend::Authentication(Auth::Md5 { salt }) => {
                messages::password(&scram::md5_password(user, password, &salt))
            }
            Backend::Authentication(Auth::Sasl { mechanisms }) => {
                if !mechanisms.iter().any(|m| m == SCRAM) {
                    return Outcome::GiveUp;
                }
                messages::sasl_initial(SCRAM, client.first().as_bytes())
            }
            Backend::Authentication(Auth::SaslContinue(server_first)) => {
                match client.last(&server_first, password) {
                    Ok(last) => messages::message(b'p', last.as_bytes()),
                    Err(_) => return Outcome::GiveUp,
                }
            }
            // The server's signature; AuthenticationOk follows.
            Backend::Authentication(Auth::SaslFinal(_)) => continue,
            Backend::Authentication(Auth::Other(_)) => return Outcome::GiveUp,
            Backend::Parameter { .. } | Backend::Other(_) => continue,
        };
        if conn.send(&reply).await.is_err() {
            return Outcome::GiveUp;
        }
    }
    Outcome::GiveUp
}
