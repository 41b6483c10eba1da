//! Mail servers. SMTP (25, 587): the greeting and EHLO's extensions;
//! authentication offered without STARTTLS sends passwords in clear
//! (`smtp.cleartext_auth`). POP3 (110) and IMAP (143): the greeting and
//! capabilities; without STLS/STARTTLS mailboxes are read with passwords
//! in clear (`mail.cleartext`). Ports 465, 993 and 995 are TLS from the
//! first byte: named only, their TLS is examined by the web family. It
//! never sends MAIL FROM, USER, LOGIN or any command that changes state:
//! only EHLO, CAPA, CAPABILITY and QUIT/LOGOUT.

pub mod reply;

use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::printable;
use crate::protocols::infra::wire::Conn;
use crate::target::{Context, PortResult, Target};

pub const SMTP_PORTS: &[u16] = &[25, 587];
pub const POP3_PORTS: &[u16] = &[110];
pub const IMAP_PORTS: &[u16] = &[143];
/// SMTP submission over TLS (RFC 8314), IMAPS, POP3S.
pub const TLS_PORTS: &[u16] = &[465, 993, 995];
/// The EHLO name: a reserved name (RFC 2606) that says who is asking.
const EHLO: &[u8] = b"EHLO vigie-probe.invalid\r\n";

/// Which mail protocol a greeting belongs to, if any.
pub fn banner_protocol(first_bytes: &[u8]) -> Option<&'static str> {
    let line = first_bytes
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let upper = String::from_utf8_lossy(line).to_ascii_uppercase();
    if (upper.starts_with("220 ") || upper.starts_with("220-")) && upper.contains("SMTP") {
        Some("smtp")
    } else if upper.starts_with("+OK") {
        Some("pop3")
    } else if upper.starts_with("* OK") || upper.starts_with("* PREAUTH") {
        Some("imap")
    } else {
        None
    }
}

pub fn matches_banner(first_bytes: &[u8]) -> bool {
    banner_protocol(first_bytes).is_some()
}

fn service(target: &Target, name: &str, greeting: &str) -> Service {
    let (product, version) = reply::product(greeting);
    Service {
        port: target.port,
        transport: target.transport,
        name: name.to_owned(),
        product,
        version,
        tls: false,
        banner: Some(printable(greeting.as_bytes(), 120)),
    }
}

pub async fn examine_smtp(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let bytes = conn.receive(reply::smtp_complete).await.ok()?;
    let (greeting, _) = reply::parse_smtp(&bytes).ok()?;
    let text = greeting.lines.join(" ");
    let mut result = PortResult::service(service(target, "smtp", &text));
    if greeting.code != 220 {
        // 421/554: the server refuses us; it is still SMTP.
        conn.close().await;
        return Some(result);
    }
    let ehlo = match conn.send(EHLO).await {
        Ok(()) => conn.receive(reply::smtp_complete).await.ok(),
        Err(_) => None,
    };
    let _ = conn.send(b"QUIT\r\n").await;
    conn.close().await;
    let Some((ehlo, _)) = ehlo.as_deref().and_then(|b| reply::parse_smtp(b).ok()) else {
        return Some(result);
    };
    let extensions = ehlo.extensions();
    let auth = extensions
        .iter()
        .find(|e| e.starts_with("AUTH ") || e.starts_with("AUTH="));
    let starttls = extensions.iter().any(|e| e == "STARTTLS");
    if let (250, Some(auth), false) = (ehlo.code, auth, starttls) {
        result.findings.push(catalog::finding(
            "smtp.cleartext_auth",
            target,
            format!("EHLO annonce « {auth} » sans STARTTLS"),
        ));
    }
    Some(result)
}

pub async fn examine_pop3(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let greeting = conn.receive_line().await.ok()?;
    if banner_protocol(&greeting) != Some("pop3") {
        conn.close().await;
        return None;
    }
    let text = printable(greeting.get(3..).unwrap_or_default(), 120);
    let mut result = PortResult::service(service(target, "pop3", &text));
    let capa = match conn.send(b"CAPA\r\n").await {
        Ok(()) => conn.receive(reply::pop_capa_complete).await.ok(),
        Err(_) => None,
    };
    let _ = conn.send(b"QUIT\r\n").await;
    conn.close().await;
    // A server without CAPA (RFC 2449) cannot announce STLS either.
    let capabilities = capa
        .as_deref()
        .and_then(|b| reply::parse_pop_capa(b).ok())
        .unwrap_or_default();
    if capa.is_some() && !capabilities.iter().any(|c| c == "STLS") {
        result.findings.push(catalog::finding(
            "mail.cleartext",
            target,
            "POP3 sans STLS : les mots de passe des boîtes aux lettres passent en clair",
        ));
    }
    Some(result)
}

pub async fn examine_imap(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let greeting = conn.receive_line().await.ok()?;
    if banner_protocol(&greeting) != Some("imap") {
        conn.close().await;
        return None;
    }
    let text = printable(greeting.get(4..).unwrap_or_default(), 120);
    let mut result = PortResult::service(service(target, "imap", &text));
    let answer = match conn.send(b"a1 CAPABILITY\r\n").await {
        Ok(()) => conn.receive(reply::imap_tagged_complete("a1")).await.ok(),
        Err(_) => None,
    };
    let _ = conn.send(b"a2 LOGOUT\r\n").await;
    conn.close().await;
    let Some(answer) = answer else {
        return Some(result);
    };
    let mut capabilities = reply::imap_capabilities(&greeting);
    capabilities.extend(reply::imap_capabilities(&answer));
    let has = |name: &str| capabilities.iter().any(|c| c == name);
    // LOGINDISABLED without STARTTLS: no way to log in at all in clear.
    if !has("STARTTLS") && !has("LOGINDISABLED") {
        result.findings.push(catalog::finding(
            "mail.cleartext",
            target,
            "IMAP sans STARTTLS : les mots de passe des boîtes aux lettres passent en clair",
        ));
    }
    Some(result)
}

/// 465, 993, 995: TLS from the first byte; named, not contacted here.
pub fn name_tls(target: &Target) -> PortResult {
    let name = match target.port {
        465 => "smtps",
        993 => "imaps",
        _ => "pop3s",
    };
    PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: name.to_owned(),
        product: None,
        version: None,
        tls: true,
        banner: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_mail_greetings() {
        let check = |bytes: &[u8], expected: Option<&str>| {
            assert_eq!(banner_protocol(bytes), expected, "{bytes:?}");
        };
        check(
            b"220 mail.mairie.test ESMTP Postfix (Debian/GNU)\r\n",
            Some("smtp"),
        );
        check(
            b"220-mx Microsoft ESMTP MAIL Service ready\r\n",
            Some("smtp"),
        );
        check(b"220 ProFTPD Server ready.\r\n", None);
        check(b"+OK Dovecot (Debian) ready.\r\n", Some("pop3"));
        check(
            b"* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n",
            Some("imap"),
        );
        check(b"SSH-2.0-OpenSSH_9.2p1\r\n", None);
    }
}
