//! IPP/1.1 encoding (RFC 8010): a Get-Printer-Attributes request (RFC
//! 8011 §4.2.5, read-only) and a parser of the response's status and
//! attributes. Pure, bounded, never panics.

use crate::protocols::infra::cursor::{Cursor, ParseError};

const GET_PRINTER_ATTRIBUTES: u16 = 0x000b;
/// Delimiter tags (RFC 8010 §3.5.1).
const OPERATION_ATTRIBUTES: u8 = 0x01;
const END_OF_ATTRIBUTES: u8 = 0x03;
/// Value tags (RFC 8010 §3.5.2); 0x41-0x49 are the character-string ones.
const TAG_URI: u8 = 0x45;
const TAG_CHARSET: u8 = 0x47;
const TAG_LANGUAGE: u8 = 0x48;
const TAG_KEYWORD: u8 = 0x44;
/// Attributes kept from a response; printers send hundreds of values.
pub const MAX_ATTRIBUTES: usize = 512;
const WHAT: &str = "IPP response";

/// The attributes asked for: enough to name the printer.
pub const REQUESTED: &[&str] = &[
    "printer-make-and-model",
    "printer-info",
    "printer-firmware-string-version",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub version: (u8, u8),
    /// 0x0000-0x00ff: successful (RFC 8011 §4.1.6).
    pub status: u16,
    pub request_id: u32,
    /// (name, first value as text) of every attribute.
    pub attributes: Vec<(String, String)>,
}

impl Response {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        self.status < 0x0100
    }
}

fn attribute(out: &mut Vec<u8>, tag: u8, name: &str, value: &str) {
    out.push(tag);
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value.as_bytes());
}

/// Get-Printer-Attributes for `printer_uri`.
pub fn get_printer_attributes(printer_uri: &str, request_id: u32) -> Vec<u8> {
    let mut out = vec![1, 1];
    out.extend_from_slice(&GET_PRINTER_ATTRIBUTES.to_be_bytes());
    out.extend_from_slice(&request_id.to_be_bytes());
    out.push(OPERATION_ATTRIBUTES);
    attribute(&mut out, TAG_CHARSET, "attributes-charset", "utf-8");
    attribute(&mut out, TAG_LANGUAGE, "attributes-natural-language", "en");
    attribute(&mut out, TAG_URI, "printer-uri", printer_uri);
    for (index, name) in REQUESTED.iter().enumerate() {
        // Additional values of a multi-valued attribute have an empty name.
        let label = if index == 0 {
            "requested-attributes"
        } else {
            ""
        };
        attribute(&mut out, TAG_KEYWORD, label, name);
    }
    out.push(END_OF_ATTRIBUTES);
    out
}

/// Parses an IPP response body.
pub fn parse(bytes: &[u8]) -> Result<Response, ParseError> {
    let mut cursor = Cursor::new(bytes, WHAT);
    let version = (cursor.u8()?, cursor.u8()?);
    if !(1..=2).contains(&version.0) {
        return Err(cursor.invalid(format!("version {}.{}", version.0, version.1)));
    }
    let status = cursor.u16_be()?;
    let request_id = cursor.u32_be()?;
    let mut attributes: Vec<(String, String)> = Vec::new();
    loop {
        let tag = cursor.u8()?;
        if tag == END_OF_ATTRIBUTES {
            break;
        }
        // Other delimiters (0x00-0x0f) open a group.
        if tag < 0x10 {
            continue;
        }
        let name_length = usize::from(cursor.u16_be()?);
        let name = String::from_utf8_lossy(cursor.take(name_length)?).into_owned();
        let value_length = usize::from(cursor.u16_be()?);
        let value = cursor.take(value_length)?;
        // Only the first value of each attribute, as text.
        if !name.is_empty() && attributes.len() < MAX_ATTRIBUTES {
            let text = if (0x41..=0x49).contains(&tag) {
                String::from_utf8_lossy(value).into_owned()
            } else {
                String::new()
            };
            attributes.push((name, text));
        }
    }
    Ok(Response {
        version,
        status,
        request_id,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(attributes: &[(u8, &str, &str)]) -> Vec<u8> {
        let mut out = vec![2, 0, 0, 0, 0, 0, 0, 9, OPERATION_ATTRIBUTES];
        attribute(&mut out, TAG_CHARSET, "attributes-charset", "utf-8");
        out.push(0x04);
        for (tag, name, value) in attributes {
            attribute(&mut out, *tag, name, value);
        }
        out.push(END_OF_ATTRIBUTES);
        out
    }

    #[test]
    fn reads_make_and_model() {
        let bytes = response(&[
            (0x41, "printer-make-and-model", "HP LaserJet Pro M404dn"),
            (0x41, "", "second value ignored"),
            (0x21, "printer-state", "\x00\x00\x00\x03"),
        ]);
        let parsed = parse(&bytes).unwrap();
        assert!(parsed.is_success());
        assert_eq!(parsed.request_id, 9);
        assert_eq!(
            parsed.attribute("printer-make-and-model"),
            Some("HP LaserJet Pro M404dn")
        );
        assert_eq!(parsed.attribute("printer-state"), Some(""));
    }

    #[test]
    fn the_request_parses_back() {
        let bytes = get_printer_attributes("ipp://10.0.0.5:631/ipp/print", 1);
        assert_eq!(&bytes[..8], &[1, 1, 0, 0x0b, 0, 0, 0, 1]);
        let back = parse(&bytes).unwrap();
        assert_eq!(
            back.attribute("printer-uri"),
            Some("ipp://10.0.0.5:631/ipp/print")
        );
    }

    #[test]
    fn rejects_truncated_or_foreign_bytes() {
        let bytes = response(&[(0x41, "printer-make-and-model", "X")]);
        for end in 0..bytes.len() {
            assert!(parse(&bytes[..end]).is_err());
        }
        assert!(parse(b"HTTP/1.1 200 OK").is_err());
    }
}
