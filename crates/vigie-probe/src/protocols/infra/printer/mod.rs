//! Printers. IPP (631): one Get-Printer-Attributes over HTTP gives the
//! make and model (read-only). JetDirect/RAW (9100) and LPD (515) accept
//! print jobs from anyone who connects (`printer.exposed`): for these the
//! probe ONLY connects and closes, and never sends a byte — anything sent
//! to port 9100 is printed.

pub mod ipp;

use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::printable;
use crate::protocols::infra::http;
use crate::protocols::infra::wire::Conn;
use crate::target::{Context, PortResult, Target};

pub const IPP_PORTS: &[u16] = &[631];
pub const JETDIRECT_PORTS: &[u16] = &[9100];
pub const LPD_PORTS: &[u16] = &[515];
/// The path IPP Everywhere printers serve (PWG 5100.14 §4.1); CUPS and
/// older printers answer there too, with an error that still names them.
const IPP_PATH: &str = "/ipp/print";

/// What an IPP exchange established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IppAnswer {
    /// The HTTP `Server` header (`CUPS/2.4 IPP/2.1`).
    pub server: Option<String>,
    pub make_and_model: Option<String>,
    pub firmware: Option<String>,
}

/// Reads the HTTP answer to Get-Printer-Attributes; an error if it is
/// neither IPP nor a server that calls itself an IPP one.
pub fn parse_ipp_answer(
    bytes: &[u8],
) -> Result<IppAnswer, crate::protocols::infra::cursor::ParseError> {
    let response = http::parse_response(bytes)?;
    let server = response
        .header("server")
        .map(|s| printable(s.as_bytes(), 80));
    let is_ipp_body = response
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/ipp"));
    let parsed = if is_ipp_body {
        ipp::parse(response.body).ok()
    } else {
        None
    };
    let named = server
        .as_deref()
        .is_some_and(|s| s.contains("IPP") || s.contains("CUPS"));
    if parsed.is_none() && !named {
        return Err(crate::protocols::infra::cursor::ParseError::invalid(
            "IPP answer",
            "neither an IPP body nor an IPP server",
        ));
    }
    let value = |name: &str| {
        parsed
            .as_ref()
            .filter(|p| p.is_success())
            .and_then(|p| p.attribute(name))
            .map(|v| printable(v.as_bytes(), 80))
            .filter(|v| !v.is_empty())
    };
    Ok(IppAnswer {
        server: server.clone(),
        make_and_model: value("printer-make-and-model"),
        firmware: value("printer-firmware-string-version"),
    })
}

pub async fn examine_ipp(target: &Target, ctx: &Context) -> Option<PortResult> {
    let host = target.socket().to_string();
    let uri = format!("ipp://{host}{IPP_PATH}");
    let body = ipp::get_printer_attributes(&uri, 1);
    let request = http::request("POST", IPP_PATH, &host, Some("application/ipp"), &body);
    let mut conn = Conn::open(target, ctx).await.ok()?;
    conn.send(&request).await.ok()?;
    let bytes = conn.receive(http::complete_length).await.ok()?;
    conn.close().await;
    let answer = parse_ipp_answer(&bytes).ok()?;
    let cups = answer.server.as_deref().is_some_and(|s| s.contains("CUPS"));
    let product = answer
        .make_and_model
        .clone()
        .or_else(|| cups.then(|| "CUPS".to_owned()));
    Some(PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "ipp".to_owned(),
        product,
        version: answer.firmware.clone(),
        tls: false,
        banner: answer.server,
    }))
}

/// JetDirect and LPD: connect, close, never write.
async fn examine_raw(target: &Target, ctx: &Context, name: &str, what: &str) -> Option<PortResult> {
    let conn = Conn::open(target, ctx).await.ok()?;
    conn.close().await;
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: name.to_owned(),
        product: None,
        version: None,
        tls: false,
        banner: None,
    });
    result.findings.push(catalog::finding(
        "printer.exposed",
        target,
        format!("port {} ouvert : {what} sans authentification", target.port),
    ));
    Some(result)
}

pub async fn examine_jetdirect(target: &Target, ctx: &Context) -> Option<PortResult> {
    examine_raw(
        target,
        ctx,
        "jetdirect",
        "impression directe (RAW/JetDirect)",
    )
    .await
}

pub async fn examine_lpd(target: &Target, ctx: &Context) -> Option<PortResult> {
    examine_raw(target, ctx, "lpd", "file d'impression LPD").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cups_error_still_names_cups() {
        let answer = parse_ipp_answer(
            b"HTTP/1.1 404 Not Found\r\nServer: CUPS/2.4 IPP/2.1\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(answer.server.as_deref(), Some("CUPS/2.4 IPP/2.1"));
        assert_eq!(answer.make_and_model, None);
    }

    #[test]
    fn a_printer_gives_its_model() {
        let mut body = vec![2, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x04, 0x41];
        let name = b"printer-make-and-model";
        body.extend_from_slice(&(name.len() as u16).to_be_bytes());
        body.extend_from_slice(name);
        body.extend_from_slice(&7u16.to_be_bytes());
        body.extend_from_slice(b"EPSON X");
        body.push(0x03);
        let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n\r\n".to_vec();
        bytes.extend_from_slice(&body);
        let answer = parse_ipp_answer(&bytes).unwrap();
        assert_eq!(answer.make_and_model.as_deref(), Some("EPSON X"));
    }

    #[test]
    fn a_plain_web_server_is_not_ipp() {
        assert!(parse_ipp_answer(b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n").is_err());
    }
}
