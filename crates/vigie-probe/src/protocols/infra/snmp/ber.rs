//! The BER subset SNMP v1/v2c messages use (ITU-T X.690; RFC 1157, RFC
//! 3416): an encoder for a GetRequest or GetNextRequest and a decoder of
//! the response
//! (version, community, request id, error status, variable bindings).
//! Pure, bounded, never panics: lengths are checked against the bytes.

use crate::protocols::infra::cursor::{Cursor, ParseError};

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// Context-specific constructed tags of the PDUs (RFC 3416 §3).
pub const GET_REQUEST: u8 = 0xa0;
pub const GET_NEXT_REQUEST: u8 = 0xa1;
pub const GET_RESPONSE: u8 = 0xa2;
/// More variable bindings than a GetRequest of ours can get back.
pub const MAX_BINDINGS: usize = 16;
const WHAT: &str = "SNMP message";

/// A variable binding's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Integer(i64),
    Text(Vec<u8>),
    Oid(Vec<u32>),
    Null,
    /// noSuchObject, noSuchInstance, endOfMibView (v2c exceptions) and
    /// application types (counters, timeticks...), by tag.
    Other(u8),
}

/// A decoded response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// 0 = v1, 1 = v2c.
    pub version: i64,
    pub community: Vec<u8>,
    pub pdu: u8,
    pub request_id: i64,
    pub error_status: i64,
    pub bindings: Vec<(Vec<u32>, Value)>,
}

impl Response {
    pub fn value(&self, oid: &[u32]) -> Option<&Value> {
        self.bindings
            .iter()
            .find(|(name, _)| name == oid)
            .map(|(_, v)| v)
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = (length as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

fn integer(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    // Minimal two's complement: drop leading bytes that only repeat the sign.
    let mut start = 0;
    while start < 7 {
        let (this, next) = (bytes[start], bytes[start + 1]);
        if (this == 0 && next & 0x80 == 0) || (this == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    tlv(INTEGER, bytes.get(start..).unwrap_or_default())
}

fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::new();
    if let [first, second, rest @ ..] = arcs {
        push_base128(
            &mut content,
            first.saturating_mul(40).saturating_add(*second),
        );
        for arc in rest {
            push_base128(&mut content, *arc);
        }
    }
    tlv(OID, &content)
}

fn push_base128(out: &mut Vec<u8>, value: u32) {
    let mut groups = vec![(value & 0x7f) as u8];
    let mut rest = value >> 7;
    while rest > 0 {
        groups.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.extend(groups.iter().rev());
}

/// A GetRequest for `oids` (values NULL).
pub fn get_request(version: i64, community: &[u8], request_id: i64, oids: &[&[u32]]) -> Vec<u8> {
    request(GET_REQUEST, version, community, request_id, oids)
}

/// A GetNextRequest: the objects that follow `oids` (RFC 3416 §4.2.2).
pub fn get_next_request(
    version: i64,
    community: &[u8],
    request_id: i64,
    oids: &[&[u32]],
) -> Vec<u8> {
    request(GET_NEXT_REQUEST, version, community, request_id, oids)
}

fn request(pdu: u8, version: i64, community: &[u8], request_id: i64, oids: &[&[u32]]) -> Vec<u8> {
    let bindings: Vec<u8> = oids
        .iter()
        .flat_map(|o| tlv(SEQUENCE, &[oid(o), tlv(NULL, &[])].concat()))
        .collect();
    let pdu_content = [
        integer(request_id),
        integer(0),
        integer(0),
        tlv(SEQUENCE, &bindings),
    ]
    .concat();
    let message = [
        integer(version),
        tlv(OCTET_STRING, community),
        tlv(pdu, &pdu_content),
    ]
    .concat();
    tlv(SEQUENCE, &message)
}

/// Reads one TLV: (tag, content).
fn read<'a>(cursor: &mut Cursor<'a>) -> Result<(u8, &'a [u8]), ParseError> {
    let tag = cursor.u8()?;
    if tag & 0x1f == 0x1f {
        return Err(cursor.invalid("multi-byte tags are not used by SNMP"));
    }
    let first = cursor.u8()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Err(cursor.invalid("indefinite or oversized length"));
        }
        cursor
            .take(count)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    Ok((tag, cursor.take(length)?))
}

fn expect<'a>(cursor: &mut Cursor<'a>, wanted: u8) -> Result<&'a [u8], ParseError> {
    let (tag, content) = read(cursor)?;
    if tag != wanted {
        return Err(cursor.invalid(format!("tag 0x{tag:02x} where 0x{wanted:02x} was expected")));
    }
    Ok(content)
}

fn decode_integer(content: &[u8]) -> Result<i64, ParseError> {
    if content.is_empty() || content.len() > 8 {
        return Err(ParseError::invalid(WHAT, "integer of invalid size"));
    }
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let start: i64 = if negative { -1 } else { 0 };
    Ok(content
        .iter()
        .fold(start, |acc, b| (acc << 8) | i64::from(*b)))
}

fn decode_oid(content: &[u8]) -> Result<Vec<u32>, ParseError> {
    let mut arcs = Vec::new();
    let mut value: u32 = 0;
    for byte in content {
        value = value
            .checked_mul(128)
            .map(|v| v | u32::from(byte & 0x7f))
            .ok_or_else(|| ParseError::invalid(WHAT, "OID arc overflows"))?;
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    if content.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(ParseError::invalid(WHAT, "OID ends mid-arc"));
    }
    Ok(arcs)
}

/// Decodes an SNMP v1/v2c message.
pub fn parse(bytes: &[u8]) -> Result<Response, ParseError> {
    let mut outer = Cursor::new(bytes, WHAT);
    let mut message = Cursor::new(expect(&mut outer, SEQUENCE)?, WHAT);
    let version = decode_integer(expect(&mut message, INTEGER)?)?;
    let community = expect(&mut message, OCTET_STRING)?.to_vec();
    let (pdu, content) = read(&mut message)?;
    let mut body = Cursor::new(content, WHAT);
    let request_id = decode_integer(expect(&mut body, INTEGER)?)?;
    let error_status = decode_integer(expect(&mut body, INTEGER)?)?;
    let _error_index = decode_integer(expect(&mut body, INTEGER)?)?;
    let mut list = Cursor::new(expect(&mut body, SEQUENCE)?, WHAT);
    let mut bindings = Vec::new();
    while !list.is_empty() {
        if bindings.len() >= MAX_BINDINGS {
            return Err(list.invalid("too many variable bindings"));
        }
        let mut binding = Cursor::new(expect(&mut list, SEQUENCE)?, WHAT);
        let name = decode_oid(expect(&mut binding, OID)?)?;
        let (tag, content) = read(&mut binding)?;
        let value = match tag {
            INTEGER => Value::Integer(decode_integer(content)?),
            OCTET_STRING => Value::Text(content.to_vec()),
            OID => Value::Oid(decode_oid(content)?),
            NULL => Value::Null,
            other => Value::Other(other),
        };
        bindings.push((name, value));
    }
    Ok(Response {
        version,
        community,
        pdu,
        request_id,
        error_status,
        bindings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];

    #[test]
    fn encodes_a_get_request_like_net_snmp() {
        // snmpget -v2c -c public host 1.3.6.1.2.1.1.1.0, request id 1.
        let expected = b"\x30\x26\x02\x01\x01\x04\x06public\xa0\x19\x02\x01\x01\x02\x01\x00\x02\x01\x00\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00";
        assert_eq!(get_request(1, b"public", 1, &[SYS_DESCR]), expected);
    }

    #[test]
    fn integers_round_trip() {
        for value in [
            0,
            1,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            0x7fff_ffff,
            i64::MIN,
        ] {
            let bytes = integer(value);
            let mut cursor = Cursor::new(&bytes, "t");
            assert_eq!(
                decode_integer(expect(&mut cursor, INTEGER).unwrap()).unwrap(),
                value
            );
        }
    }

    #[test]
    fn decodes_a_response() {
        let mut response =
            get_request(1, b"public", 77, &[SYS_DESCR, &[1, 3, 6, 1, 2, 1, 1, 2, 0]]);
        // Same shape as the request; swap the PDU tag and fill one value.
        let at = response.iter().position(|&b| b == GET_REQUEST).unwrap();
        response[at] = GET_RESPONSE;
        let parsed = parse(&response).unwrap();
        assert_eq!(parsed.request_id, 77);
        assert_eq!(parsed.pdu, GET_RESPONSE);
        assert_eq!(parsed.community, b"public");
        assert_eq!(parsed.value(SYS_DESCR), Some(&Value::Null));
        assert_eq!(
            decode_oid(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0xbf, 0x08]).unwrap(),
            [1, 3, 6, 1, 4, 1, 8072]
        );
    }

    #[test]
    fn decodes_a_recorded_net_snmp_response() {
        // Debian 12's snmpd 5.9.3 answering the request above.
        let bytes = b"0_\x02\x01\x01\x04\x06public\xa2R\x02\x01\x01\x02\x01\x00\x02\x01\x000G0E\x06\x08+\x06\x01\x02\x01\x01\x01\x00\x049Linux vm 6.18.44-fc-v769 #1 SMP PREEMPT_DYNAMIC @0 x86_64";
        let response = parse(bytes).unwrap();
        assert_eq!(
            (response.version, response.request_id, response.error_status),
            (1, 1, 0)
        );
        assert_eq!(response.pdu, GET_RESPONSE);
        assert_eq!(
            response.value(SYS_DESCR),
            Some(&Value::Text(
                b"Linux vm 6.18.44-fc-v769 #1 SMP PREEMPT_DYNAMIC @0 x86_64".to_vec()
            ))
        );
        for end in 0..bytes.len() {
            assert!(parse(&bytes[..end]).is_err());
        }
    }

    #[test]
    fn rejects_malformed_messages() {
        for bytes in [
            &b""[..],
            b"\x30\x80\x02\x01\x01",
            b"\x30\x85\x00\x00\x00\x00\x01",
            b"\x30\x05\x02\x01\x01\x04\x09",
            b"\x30\x03\x02\x00",
            b"\x1f\x01\x00",
            b"\x30\x84\xff\xff\xff\xff",
        ] {
            assert!(parse(bytes).is_err(), "{bytes:?}");
        }
        assert!(decode_oid(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
        assert!(decode_oid(&[0x2b, 0x86]).is_err());
    }
}
