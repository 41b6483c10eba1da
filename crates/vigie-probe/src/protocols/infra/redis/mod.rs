//! Redis: `PING` tells whether the server answers without authentication
//! (`redis.no_auth`); `INFO server` gives its version; when it asks for a
//! password (`NOAUTH`), `AUTH` with the dictionary's passwords, within the
//! budget (`password.redis`). It sends only PING, INFO and AUTH: never a
//! command that writes, configures or flushes anything.

pub mod resp;

use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::printable;
use crate::protocols::infra::trials;
use crate::protocols::infra::wire::Conn;
use crate::target::{Context, PortResult, Target};

use resp::Value;

pub const PORTS: &[u16] = &[6379];

/// What the first `PING` revealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Open,
    /// `NOAUTH`: a password is set.
    Password,
    /// `DENIED`: protected mode, only local clients are served.
    Protected,
}

/// Classifies the reply to `PING`; `None` if it is not Redis.
pub fn access(reply: &Value) -> Option<Access> {
    match reply {
        Value::Simple(text) if text == "PONG" => Some(Access::Open),
        Value::Error(text) if text.starts_with("NOAUTH") => Some(Access::Password),
        // Redis 6+ answers an unauthenticated default user this way too.
        Value::Error(text) if text.starts_with("WRONGPASS") => Some(Access::Password),
        Value::Error(text) if text.starts_with("DENIED") => Some(Access::Protected),
        _ => None,
    }
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let ping = exchange(&mut conn, &[b"PING"]).await?;
    let access = access(&ping)?;
    let mut service = Service {
        port: target.port,
        transport: target.transport,
        name: "redis".to_owned(),
        product: Some("Redis".to_owned()),
        version: None,
        tls: false,
        banner: Some(match &ping {
            Value::Simple(text) => format!("+{text}"),
            Value::Error(text) => format!("-{}", printable(text.as_bytes(), 80)),
            _ => String::new(),
        }),
    };
    let mut findings = Vec::new();
    match access {
        Access::Open => {
            service.version = version(&mut conn).await;
            let evidence = format!(
                "PING → +PONG sans authentification{}",
                service
                    .version
                    .as_deref()
                    .map(|v| format!(" (Redis {v})"))
                    .unwrap_or_default()
            );
            findings.push(catalog::finding("redis.no_auth", target, evidence));
        }
        Access::Password => {
            if guess(&mut conn, ctx).await {
                service.version = version(&mut conn).await;
                findings.push(catalog::finding(
                    "password.redis",
                    target,
                    trials::evidence("Redis", ""),
                ));
            }
        }
        Access::Protected => {}
    }
    conn.close().await;
    Some(PortResult {
        findings,
        ..PortResult::service(service)
    })
}

/// Sends one command and reads its reply.
async fn exchange(conn: &mut Conn, parts: &[&[u8]]) -> Option<Value> {
    conn.send(&resp::command(parts)).await.ok()?;
    let bytes = conn.receive(resp::complete_length).await.ok()?;
    resp::parse(&bytes).ok().map(|(value, _)| value)
}

/// `INFO server` → `redis_version`.
async fn version(conn: &mut Conn) -> Option<String> {
    let Value::Bulk(Some(body)) = exchange(conn, &[b"INFO", b"server"]).await? else {
        return None;
    };
    let info = String::from_utf8_lossy(&body);
    resp::info_field(&info, "redis_version").map(|v| printable(v.as_bytes(), 40))
}

/// `AUTH` with the candidate passwords on the same connection (Redis
/// allows retrying), within the budget; true when one is accepted.
async fn guess(conn: &mut Conn, ctx: &Context) -> bool {
    let accounts = vec![trials::Account {
        user: String::new(),
        passwords: trials::passwords(ctx),
    }];
    let mut trials = trials::Trials::new(ctx, &accounts);
    while let Some((_, password)) = trials.next().await {
        match exchange(conn, &[b"AUTH", password.as_bytes()]).await {
            Some(Value::Simple(ok)) if ok == "OK" => return true,
            Some(Value::Error(_)) => {}
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_ping_replies() {
        let check = |bytes: &[u8], expected: Option<Access>| {
            let (value, _) = resp::parse(bytes).unwrap();
            assert_eq!(access(&value), expected);
        };
        check(b"+PONG\r\n", Some(Access::Open));
        check(
            b"-NOAUTH Authentication required.\r\n",
            Some(Access::Password),
        );
        check(
            b"-DENIED Redis is running in protected mode because protected mode is enabled\r\n",
            Some(Access::Protected),
        );
        check(b"-ERR unknown command 'PING'\r\n", None);
        check(b":1\r\n", None);
    }
}
