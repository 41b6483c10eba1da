//! Builders of well-formed application messages (DNS query, TLS
//! ClientHello, HTTP/1.1 request) for the tests, the demo's generated
//! captures and the benchmark.
//!
//! Output is deterministic (the TLS "random" fields are derived from the
//! server name) so generated captures are reproducible. These builders are
//! never used on the analysis path; they panic on arguments no well-formed
//! message can carry (a DNS label over 63 bytes), which is a bug in the
//! caller, not bad traffic.

use crate::decode::dns::MAX_LABEL_LEN;

/// A standard recursive query (RD set) for `name`, one question of class IN.
/// A trailing dot is allowed; "" and "." give the root.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut message = Vec::with_capacity(12 + name.len() + 6);
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&0x0100u16.to_be_bytes()); // RD (RFC 1035 §4.1.1)
    message.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    message.extend_from_slice(&[0; 6]); // ANCOUNT, NSCOUNT, ARCOUNT
    for label in name.split('.').filter(|label| !label.is_empty()) {
        assert!(
            label.len() <= MAX_LABEL_LEN,
            "DNS label {label:?} is longer than {MAX_LABEL_LEN} bytes"
        );
        message.push(label.len() as u8);
        message.extend_from_slice(label.as_bytes());
    }
    message.push(0);
    message.extend_from_slice(&qtype.to_be_bytes());
    message.extend_from_slice(&1u16.to_be_bytes()); // class IN
    message
}

/// [`dns_query`] with the two-byte length prefix of DNS over TCP
/// (RFC 1035 §4.2.2).
pub fn dns_query_tcp(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let message = dns_query(id, name, qtype);
    // A name is at most 255 wire bytes, so the message fits in u16.
    let mut framed = (message.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&message);
    framed
}

/// An HTTP/1.1 request with CRLF line endings. Headers are written as
/// given, in order: nothing is added (no Host, no Content-Length).
pub fn http_request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut request = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(name);
        request.push_str(": ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A TLS record holding a ClientHello shaped like the one curl 8 with
/// OpenSSL 3 sends: TLS 1.3 and 1.2 cipher suites, supported_versions,
/// an X25519 key_share, ALPN h2/http/1.1, and `server_name` when given.
pub fn tls_client_hello(sni: Option<&str>) -> Vec<u8> {
    let seed = blake3::hash(sni.unwrap_or("").as_bytes());
    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(&[0x03, 0x03]); // legacy_version TLS 1.2 (RFC 8446 §4.1.2)
    body.extend_from_slice(seed.as_bytes()); // random
    body.push(32); // legacy_session_id: 32 bytes, as middlebox compatibility mode sends
    body.extend_from_slice(blake3::hash(seed.as_bytes()).as_bytes());
    push_u16_vec(&mut body, &u16_list(CIPHER_SUITES));
    body.extend_from_slice(&[1, 0]); // compression_methods: null only
    push_u16_vec(&mut body, &extensions(sni, seed.as_bytes()));

    let mut handshake = vec![1]; // client_hello
    // The body is well under 2^16 bytes, so the 24-bit length's top byte is 0.
    handshake.push(0);
    push_u16_vec(&mut handshake, &body);

    let mut record = vec![22, 0x03, 0x01]; // handshake, legacy_record_version TLS 1.0
    push_u16_vec(&mut record, &handshake);
    record
}

/// Cipher suites offered by curl/OpenSSL 3, TLS 1.3 ones first.
const CIPHER_SUITES: &[u16] = &[
    0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e,
    0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033,
    0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
];
/// x25519, secp256r1, x448, secp521r1, secp384r1, ffdhe2048..8192.
const GROUPS: &[u16] = &[
    0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104,
];
/// ECDSA, Ed25519/Ed448, RSA-PSS, RSA PKCS#1 signature schemes.
const SIGNATURE_SCHEMES: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x081a, 0x081b, 0x081c, 0x0809, 0x080a, 0x080b, 0x0804,
    0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602,
];

/// The extensions block content, in OpenSSL's order.
fn extensions(sni: Option<&str>, seed: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if let Some(host) = sni {
        // RFC 6066 §3: ServerNameList of (name_type host_name = 0, HostName).
        let mut entry = vec![0];
        push_u16_vec(&mut entry, host.as_bytes());
        let mut list = Vec::new();
        push_u16_vec(&mut list, &entry);
        push_extension(&mut out, 0, &list);
    }
    push_extension(&mut out, 11, &[3, 0, 1, 2]); // ec_point_formats
    let mut groups = Vec::new();
    push_u16_vec(&mut groups, &u16_list(GROUPS));
    push_extension(&mut out, 10, &groups); // supported_groups
    push_extension(&mut out, 35, &[]); // session_ticket
    push_extension(&mut out, 16, b"\x00\x0c\x02h2\x08http/1.1"); // ALPN
    push_extension(&mut out, 22, &[]); // encrypt_then_mac
    push_extension(&mut out, 23, &[]); // extended_master_secret
    let mut schemes = Vec::new();
    push_u16_vec(&mut schemes, &u16_list(SIGNATURE_SCHEMES));
    push_extension(&mut out, 13, &schemes); // signature_algorithms
    push_extension(&mut out, 43, &[4, 0x03, 0x04, 0x03, 0x03]); // supported_versions
    push_extension(&mut out, 45, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
    let mut share = vec![0x00, 0x1d]; // x25519
    push_u16_vec(&mut share, blake3::hash(seed).as_bytes());
    let mut key_share = Vec::new();
    push_u16_vec(&mut key_share, &share);
    push_extension(&mut out, 51, &key_share);
    out
}

fn push_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16_vec(out, data);
}

/// Appends a TLS vector with a two-byte length (RFC 8446 §3.4).
fn push_u16_vec(out: &mut Vec<u8>, data: &[u8]) {
    let len = u16::try_from(data.len())
        .unwrap_or_else(|_| panic!("TLS vector of {} bytes is too long", data.len()));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
}

fn u16_list(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_matches_rfc_1035_layout() {
        let expected = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
            \x03www\x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(dns_query(0x1234, "www.example.com.", 1), expected.to_vec());
        assert_eq!(dns_query(7, "", 2)[12..], [0, 0, 2, 0, 1]);
    }

    #[test]
    fn dns_query_tcp_has_length_prefix() {
        let framed = dns_query_tcp(1, "example.org", 28);
        assert_eq!(
            usize::from(u16::from_be_bytes([framed[0], framed[1]])),
            framed.len() - 2
        );
        assert_eq!(framed[2..], dns_query(1, "example.org", 28));
    }

    #[test]
    fn http_request_is_written_verbatim() {
        let request = http_request("POST", "/login", &[("Host", "a"), ("X-Y", "1")], b"k=v");
        assert_eq!(
            request,
            b"POST /login HTTP/1.1\r\nHost: a\r\nX-Y: 1\r\n\r\nk=v".to_vec()
        );
    }

    #[test]
    fn tls_client_hello_lengths_are_consistent() {
        let record = tls_client_hello(Some("example.com"));
        assert_eq!(record[..3], [22, 3, 1]);
        let record_len = usize::from(u16::from_be_bytes([record[3], record[4]]));
        assert_eq!(record_len, record.len() - 5);
        assert_eq!(record[5], 1);
        let hs_len = u32::from_be_bytes([0, record[6], record[7], record[8]]);
        assert_eq!(hs_len as usize, record_len - 4);
        assert_eq!(tls_client_hello(None), tls_client_hello(None));
        assert_ne!(tls_client_hello(None), record);
    }
}
