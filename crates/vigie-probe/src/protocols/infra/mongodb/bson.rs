//! A minimal BSON (bsonspec.org, version 1.1) encoder for the commands the
//! probe sends and a decoder for replies. The decoder is pure, bounded in
//! depth and never panics; types it does not need are skipped, kept only
//! as their type byte.

use crate::protocols::infra::cursor::{Cursor, ParseError};

/// Nesting limit; the server's own limit is 100, replies we read need 3.
pub const MAX_DEPTH: usize = 16;
const WHAT: &str = "BSON document";

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Double(f64),
    String(String),
    Document(Document),
    /// Array elements in order (their "0", "1"... keys dropped).
    Array(Vec<Value>),
    Bool(bool),
    Null,
    Int32(i32),
    Int64(i64),
    /// A type read past but not decoded (binary, ObjectId, dates...).
    Other(u8),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// Numbers of any width, as MongoDB writes `ok` as a double or an int.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(number) => Some(*number),
            Value::Int32(number) => Some(f64::from(*number)),
            Value::Int64(number) => Some(*number as f64),
            Value::Bool(flag) => Some(if *flag { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document(pub Vec<(String, Value)>);

impl Document {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The reply's `ok` field is 1.
    pub fn is_ok(&self) -> bool {
        self.get("ok").and_then(Value::as_f64) == Some(1.0)
    }

    /// Encodes the document; values read past (`Other`) are left out.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for (key, value) in &self.0 {
            let (kind, bytes) = match value {
                Value::String(text) => {
                    let mut bytes = ((text.len() + 1) as i32).to_le_bytes().to_vec();
                    bytes.extend_from_slice(text.as_bytes());
                    bytes.push(0);
                    (0x02, bytes)
                }
                Value::Document(inner) => (0x03, inner.encode()),
                Value::Bool(flag) => (0x08, vec![u8::from(*flag)]),
                Value::Int32(number) => (0x10, number.to_le_bytes().to_vec()),
                Value::Int64(number) => (0x12, number.to_le_bytes().to_vec()),
                Value::Double(number) => (0x01, number.to_le_bytes().to_vec()),
                Value::Null => (0x0a, Vec::new()),
                // An array is a document keyed "0", "1"... (BSON spec).
                Value::Array(items) => {
                    let keyed = items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| (index.to_string(), item.clone()))
                        .collect();
                    (0x04, Document(keyed).encode())
                }
                Value::Other(_) => continue,
            };
            body.push(kind);
            body.extend_from_slice(key.as_bytes());
            body.push(0);
            body.extend_from_slice(&bytes);
        }
        let mut out = ((body.len() + 5) as i32).to_le_bytes().to_vec();
        out.extend_from_slice(&body);
        out.push(0);
        out
    }
}

/// Decodes one document at the start of `bytes`; returns it and its length.
pub fn parse(bytes: &[u8]) -> Result<(Document, usize), ParseError> {
    parse_depth(bytes, 0)
}

fn parse_depth(bytes: &[u8], depth: usize) -> Result<(Document, usize), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::invalid(WHAT, "nested too deep"));
    }
    let mut cursor = Cursor::new(bytes, WHAT);
    let length = cursor.i32_le()?;
    let length = usize::try_from(length)
        .ok()
        .filter(|&l| l >= 5)
        .ok_or_else(|| ParseError::invalid(WHAT, format!("invalid length {length}")))?;
    let body = Cursor::new(bytes, WHAT).take(length)?;
    let mut cursor = Cursor::new(body.get(4..length - 1).unwrap_or_default(), WHAT);
    if body.last() != Some(&0) {
        return Err(ParseError::invalid(WHAT, "missing final NUL"));
    }
    let mut fields = Vec::new();
    while !cursor.is_empty() {
        let kind = cursor.u8()?;
        let key = String::from_utf8_lossy(cursor.cstr()?).into_owned();
        let value = element(&mut cursor, kind, depth)?;
        fields.push((key, value));
    }
    Ok((Document(fields), length))
}

fn string(cursor: &mut Cursor) -> Result<String, ParseError> {
    let length = cursor.i32_le()?;
    let length = usize::try_from(length)
        .ok()
        .filter(|&l| l >= 1)
        .ok_or_else(|| cursor.invalid(format!("invalid string length {length}")))?;
    let bytes = cursor.take(length)?;
    match bytes.split_last() {
        Some((0, text)) => Ok(String::from_utf8_lossy(text).into_owned()),
        _ => Err(cursor.invalid("string without its final NUL")),
    }
}

fn nested(cursor: &mut Cursor, depth: usize) -> Result<Document, ParseError> {
    let (document, length) = parse_depth(cursor.rest(), depth + 1)?;
    cursor.take(length)?;
    Ok(document)
}

fn element(cursor: &mut Cursor, kind: u8, depth: usize) -> Result<Value, ParseError> {
    Ok(match kind {
        0x01 => Value::Double(f64::from_le_bytes(cursor.array()?)),
        0x02 => Value::String(string(cursor)?),
        0x03 => Value::Document(nested(cursor, depth)?),
        0x04 => Value::Array(
            nested(cursor, depth)?
                .0
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
        ),
        0x08 => Value::Bool(cursor.u8()? != 0),
        0x0a => Value::Null,
        0x10 => Value::Int32(cursor.i32_le()?),
        0x12 => Value::Int64(cursor.i64_le()?),
        other => {
            skip(cursor, other, depth)?;
            Value::Other(other)
        }
    })
}

/// Reads past a value of a type we do not decode.
fn skip(cursor: &mut Cursor, kind: u8, depth: usize) -> Result<(), ParseError> {
    match kind {
        0x06 | 0x7f | 0xff => {}
        0x07 => {
            cursor.take(12)?;
        }
        0x09 | 0x11 => {
            cursor.take(8)?;
        }
        0x13 => {
            cursor.take(16)?;
        }
        0x05 => {
            let length = cursor.i32_le()?;
            let length = usize::try_from(length)
                .map_err(|_| cursor.invalid(format!("invalid binary length {length}")))?;
            cursor.take(length.saturating_add(1))?;
        }
        0x0b => {
            cursor.cstr()?;
            cursor.cstr()?;
        }
        0x0c => {
            string(cursor)?;
            cursor.take(12)?;
        }
        0x0d | 0x0e => {
            string(cursor)?;
        }
        0x0f => {
            let length = cursor.i32_le()?;
            let length = usize::try_from(length)
                .ok()
                .and_then(|l| l.checked_sub(4))
                .ok_or_else(|| cursor.invalid(format!("invalid code length {length}")))?;
            let mut inner = Cursor::new(cursor.take(length)?, WHAT);
            string(&mut inner)?;
            nested(&mut inner, depth)?;
        }
        other => return Err(cursor.invalid(format!("unknown element type 0x{other:02x}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_command_as_the_spec_says() {
        let document = Document(vec![
            ("buildInfo".into(), Value::Int32(1)),
            ("$db".into(), Value::String("admin".into())),
        ]);
        let bytes = document.encode();
        // 4 + (1+10+4) + (1+4+4+6) + 1 = 35
        assert_eq!(bytes.len(), 35);
        assert_eq!(&bytes[..4], &35i32.to_le_bytes());
        let (back, length) = parse(&bytes).unwrap();
        assert_eq!(length, 35);
        assert_eq!(back, document);
    }

    #[test]
    fn decodes_nested_arrays_and_skips_other_types() {
        let inner = Document(vec![("name".into(), Value::String("admin".into()))]);
        let mut bytes = Document(vec![
            ("ok".into(), Value::Double(1.0)),
            ("db".into(), Value::Document(inner.clone())),
        ])
        .encode();
        // Turn the nested document into an array: same layout, type 0x04.
        let at = bytes.iter().position(|&b| b == 0x03).unwrap();
        bytes[at] = 0x04;
        let (document, _) = parse(&bytes).unwrap();
        assert!(document.is_ok());
        assert_eq!(
            document.get("db"),
            Some(&Value::Array(vec![Value::String("admin".into())]))
        );
        // An ObjectId is skipped, the fields after it still read.
        let mut raw = vec![0u8; 4];
        raw.push(0x07);
        raw.extend_from_slice(b"_id\0");
        raw.extend_from_slice(&[7u8; 12]);
        raw.extend_from_slice(&[0x10, b'n', 0, 5, 0, 0, 0, 0]);
        let length = raw.len() as i32;
        raw[..4].copy_from_slice(&length.to_le_bytes());
        let (document, _) = parse(&raw).unwrap();
        assert_eq!(document.get("_id"), Some(&Value::Other(0x07)));
        assert_eq!(document.get("n"), Some(&Value::Int32(5)));
    }

    #[test]
    fn rejects_malformed_documents() {
        for bytes in [
            &b""[..],
            &[5, 0, 0, 0][..],
            &[4, 0, 0, 0, 0][..],
            &[5, 0, 0, 0, 1][..],
            &[0xff, 0xff, 0xff, 0x7f, 0][..],
            &[12, 0, 0, 0, 0x02, b'a', 0, 0xff, 0xff, 0xff, 0xff, 0][..],
            &[8, 0, 0, 0, 0x42, b'a', 0, 0][..],
        ] {
            assert!(parse(bytes).is_err(), "{bytes:?}");
        }
    }
}
