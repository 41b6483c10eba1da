//! MongoDB: `buildInfo` (allowed before authentication) gives the version;
//! `listDatabases` answered without authentication means anyone on the
//! network reads the data (`mongodb.no_auth`). Commands go in OP_MSG
//! frames (MongoDB wire protocol, 3.6 and later). Read-only: it never
//! sends a command that writes or changes anything.

pub mod bson;

use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::{Cursor, ParseError, printable};
use crate::protocols::infra::wire::{Conn, MAX_REPLY};
use crate::target::{Context, PortResult, Target};

use bson::{Document, Value};

pub const PORTS: &[u16] = &[27017];

/// OP_MSG's opcode (wire protocol, "OP_MSG").
const OP_MSG: i32 = 2013;
/// A message header: length, requestID, responseTo, opCode.
const HEADER_LEN: usize = 16;
const WHAT: &str = "MongoDB OP_MSG";

/// An OP_MSG carrying one command document (a kind 0 section).
pub fn op_msg(request_id: i32, command: &Document) -> Vec<u8> {
    let body = command.encode();
    let length = HEADER_LEN + 4 + 1 + body.len();
    let mut out = Vec::with_capacity(length);
    out.extend_from_slice(&(length as i32).to_le_bytes());
    out.extend_from_slice(&request_id.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&OP_MSG.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&body);
    out
}

/// The body document of an OP_MSG reply.
pub fn parse_reply(bytes: &[u8]) -> Result<Document, ParseError> {
    let mut cursor = Cursor::new(bytes, WHAT);
    let length = cursor.i32_le()?;
    let length = usize::try_from(length)
        .ok()
        .filter(|&l| l >= HEADER_LEN + 5)
        .ok_or_else(|| ParseError::invalid(WHAT, format!("invalid length {length}")))?;
    let message = Cursor::new(bytes, WHAT).take(length)?;
    let mut cursor = Cursor::new(message.get(4..).unwrap_or_default(), WHAT);
    let _request_id = cursor.i32_le()?;
    let _response_to = cursor.i32_le()?;
    let opcode = cursor.i32_le()?;
    if opcode != OP_MSG {
        return Err(ParseError::invalid(WHAT, format!("opcode {opcode}")));
    }
    let _flags = cursor.u32_le()?;
    // Sections until the body (kind 0); kind 1 sequences are skipped.
    while !cursor.is_empty() {
        match cursor.u8()? {
            0 => return bson::parse(cursor.rest()).map(|(document, _)| document),
            1 => {
                let size = cursor.i32_le()?;
                let size = usize::try_from(size)
                    .ok()
                    .and_then(|s| s.checked_sub(4))
                    .ok_or_else(|| ParseError::invalid(WHAT, "invalid section size"))?;
                cursor.take(size)?;
            }
            kind => return Err(ParseError::invalid(WHAT, format!("section kind {kind}"))),
        }
    }
    Err(ParseError::invalid(WHAT, "no body section"))
}

/// For [`Conn::receive`]: a message is whole once its declared length is in.
fn complete_length(bytes: &[u8]) -> Option<usize> {
    let length = i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    match usize::try_from(length) {
        Ok(length) if (HEADER_LEN..=MAX_REPLY).contains(&length) => {
            (bytes.len() >= length).then_some(length)
        }
        _ => Some(bytes.len()),
    }
}

fn command(name: &str, extra: Vec<(String, Value)>) -> Document {
    let mut fields = vec![(name.to_owned(), Value::Int32(1))];
    fields.extend(extra);
    fields.push(("$db".to_owned(), Value::String("admin".to_owned())));
    Document(fields)
}

async fn run(conn: &mut Conn, request_id: i32, document: &Document) -> Option<Document> {
    conn.send(&op_msg(request_id, document)).await.ok()?;
    let bytes = conn.receive(complete_length).await.ok()?;
    parse_reply(&bytes).ok()
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let build_info = run(&mut conn, 1, &command("buildInfo", Vec::new())).await?;
    let version = build_info
        .get("version")
        .and_then(Value::as_str)
        .map(|v| printable(v.as_bytes(), 40));
    let list = command(
        "listDatabases",
        vec![("nameOnly".to_owned(), Value::Bool(true))],
    );
    let databases = run(&mut conn, 2, &list).await;
    conn.close().await;
    let service = Service {
        port: target.port,
        transport: target.transport,
        name: "mongodb".to_owned(),
        product: Some("MongoDB".to_owned()),
        banner: version.as_ref().map(|v| format!("MongoDB {v}")),
        version,
        tls: false,
    };
    let mut result = PortResult::service(service);
    if let Some(reply) = databases.filter(Document::is_ok) {
        let count = match reply.get("databases") {
            Some(Value::Array(items)) => items.len(),
            _ => 0,
        };
        result.findings.push(catalog::finding(
            "mongodb.no_auth",
            target,
            format!("listDatabases répond sans authentification ({count} bases de données)"),
        ));
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(document: &Document) -> Vec<u8> {
        let mut bytes = op_msg(7, document);
        bytes[8..12].copy_from_slice(&1i32.to_le_bytes());
        bytes
    }

    #[test]
    fn reads_the_body_of_a_reply() {
        let document = Document(vec![
            ("version".into(), Value::String("7.0.2".into())),
            ("ok".into(), Value::Double(1.0)),
        ]);
        let bytes = reply(&document);
        assert_eq!(complete_length(&bytes), Some(bytes.len()));
        assert_eq!(complete_length(&bytes[..10]), None);
        assert_eq!(parse_reply(&bytes).unwrap(), document);
    }

    #[test]
    fn an_unauthorized_reply_is_not_ok() {
        let document = Document(vec![
            ("ok".into(), Value::Double(0.0)),
            (
                "errmsg".into(),
                Value::String("command listDatabases requires authentication".into()),
            ),
            ("code".into(), Value::Int32(13)),
            ("codeName".into(), Value::String("Unauthorized".into())),
        ]);
        assert!(!parse_reply(&reply(&document)).unwrap().is_ok());
    }

    #[test]
    fn rejects_other_messages() {
        let mut bytes = reply(&Document::default());
        bytes[12..16].copy_from_slice(&1i32.to_le_bytes());
        assert!(parse_reply(&bytes).is_err());
        assert!(parse_reply(b"HTTP/1.0 200 OK\r\n\r\n").is_err());
        assert!(parse_reply(&[0xff; 40]).is_err());
        let mut sections = reply(&Document::default());
        sections[20] = 9;
        assert!(parse_reply(&sections).is_err());
    }
}
