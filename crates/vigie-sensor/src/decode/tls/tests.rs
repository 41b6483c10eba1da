//! Tests of the ClientHello server-name extraction: a real curl hello,
//! builder round trips, truncations, malformed lengths.

use super::*;
use crate::synth::app::tls_client_hello;

/// The ClientHello curl sends in "The Illustrated TLS 1.3 Connection"
/// (tls13.xargs.org), server name "example.ulfheim.net".
const CURL_HELLO: &str = "\
    16030100f8010000f40303000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
    20e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000813021303130100ff\
    010000a30000001800160000136578616d706c652e756c666865696d2e6e6574000b000403000102000a00\
    160014001d0017001e0019001801000101010201030104002300000016000000170000000d001e001c0403\
    05030603080708080809080a080b080408050806040105010601002b0003020304002d00020101003300\
    260024001d0020358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254";

fn unhex(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// A minimal TLS 1.2 ClientHello record around `extensions` (the block's
/// content, without its length); `None` for no extensions block at all.
fn hello(extensions: Option<&[u8]>) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x5a; 32]);
    body.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0]);
    if let Some(ext) = extensions {
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(ext);
    }
    let mut record = vec![22, 3, 1];
    record.extend_from_slice(&(body.len() as u16 + 4).to_be_bytes());
    record.extend_from_slice(&[1, 0]);
    record.extend_from_slice(&(body.len() as u16).to_be_bytes());
    record.extend_from_slice(&body);
    record
}

/// A server_name extension holding the given (name_type, name) entries.
fn sni_extension(entries: &[(u8, &[u8])]) -> Vec<u8> {
    let mut list = Vec::new();
    for (kind, name) in entries {
        list.push(*kind);
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
    }
    let mut ext = vec![0, 0];
    ext.extend_from_slice(&(list.len() as u16 + 2).to_be_bytes());
    ext.extend_from_slice(&(list.len() as u16).to_be_bytes());
    ext.extend_from_slice(&list);
    ext
}

fn check(payload: &[u8], expected: Result<Option<&[u8]>, TlsError>) {
    assert_eq!(
        client_hello_sni(payload),
        expected,
        "{}",
        payload.escape_ascii()
    );
}

#[test]
fn curl_client_hello() {
    let bytes = unhex(CURL_HELLO);
    assert!(looks_like_client_hello(&bytes));
    check(&bytes, Ok(Some(b"example.ulfheim.net")));
}

#[test]
fn round_trip_from_builder() {
    check(
        &tls_client_hello(Some("www.mairie-exemple.fr")),
        Ok(Some(b"www.mairie-exemple.fr")),
    );
    check(
        &tls_client_hello(Some("Upper.Example")),
        Ok(Some(b"Upper.Example")),
    );
    check(&tls_client_hello(None), Ok(None));
    assert!(looks_like_client_hello(&tls_client_hello(None)));
}

/// Every prefix of `full` shorter than `known_at` must be truncated, every
/// longer one must give `answer`.
fn check_prefixes(full: &[u8], known_at: usize, answer: Option<&[u8]>) {
    for len in 0..=full.len() {
        let got = client_hello_sni(&full[..len]);
        if len >= known_at {
            assert_eq!(got, Ok(answer), "prefix {len}");
        } else {
            assert!(
                matches!(got, Err(TlsError::Truncated(_))),
                "prefix {len}: {got:?}"
            );
        }
    }
}

#[test]
fn truncation_is_fine_once_the_answer_is_known() {
    // With a server name: known once the name is complete.
    let bytes = tls_client_hello(Some("sni.example"));
    let name_end = bytes.windows(11).position(|w| w == b"sni.example").unwrap() + 11;
    check_prefixes(&bytes, name_end, Some(b"sni.example"));
    // Without: known once the last extension header (key_share, 38 bytes
    // of data) is read, since the extensions block ends with its data.
    let no_sni = tls_client_hello(None);
    check_prefixes(&no_sni, no_sni.len() - 38, None);
    let curl = unhex(CURL_HELLO);
    check_prefixes(
        &curl,
        5 + 4 + 2 + 32 + 33 + 10 + 2 + 2 + 28,
        Some(b"example.ulfheim.net"),
    );
}

#[test]
fn client_hello_continuing_in_next_record() {
    // Announce a handshake 1000 bytes longer than this record holds.
    let mut bytes = tls_client_hello(Some("big.example"));
    let hello_len = u32::from_be_bytes([0, bytes[6], bytes[7], bytes[8]]) + 1000;
    bytes[6..9].copy_from_slice(&hello_len.to_be_bytes()[1..]);
    check(&bytes, Ok(Some(b"big.example")));
    // Cut inside the cipher suites, which are skipped unread: the first
    // byte missing is the compression_methods length.
    check(
        &bytes[..90],
        Err(TlsError::Truncated("compression_methods")),
    );
}

#[test]
fn server_name_list_variants() {
    let mut ext = sni_extension(&[(7, b"other"), (0, b"second.example")]);
    check(&hello(Some(&ext)), Ok(Some(b"second.example")));
    ext = sni_extension(&[(7, b"other")]);
    check(&hello(Some(&ext)), Ok(None));
    ext = sni_extension(&[(0, b"")]);
    check(
        &hello(Some(&ext)),
        Err(TlsError::Malformed("empty host_name")),
    );
    // server_name after another extension (ALPN "h2").
    let mut two = b"\x00\x10\x00\x05\x00\x03\x02h2".to_vec();
    two.extend_from_slice(&sni_extension(&[(0, b"after.alpn")]));
    check(&hello(Some(&two)), Ok(Some(b"after.alpn")));
    check(&hello(Some(&[])), Ok(None));
    check(&hello(None), Ok(None));
}

#[test]
fn inconsistent_lengths_are_malformed() {
    // An extension claiming more bytes than its block.
    check(
        &hello(Some(b"\x00\x10\x00\x09\x00\x03\x02h2")),
        Err(TlsError::Overrun("extension")),
    );
    // A host name claiming more bytes than its list.
    let mut ext = sni_extension(&[(0, b"abc")]);
    ext[8] = 9;
    check(&hello(Some(&ext)), Err(TlsError::Overrun("server_name")));
    let mut bytes = hello(None);
    bytes[9 + 2 + 32] = 33;
    check(
        &bytes,
        Err(TlsError::Malformed(
            "legacy_session_id longer than 32 bytes",
        )),
    );
    let mut bytes = tls_client_hello(Some("x.example"));
    bytes[3..5].copy_from_slice(&0x4001u16.to_be_bytes());
    check(
        &bytes,
        Err(TlsError::Malformed("record longer than 2^14 bytes")),
    );
    // A record too short for the handshake header.
    check(
        &[22, 3, 1, 0, 2, 1, 0],
        Err(TlsError::Overrun("handshake header")),
    );
}

#[test]
fn other_payloads_are_not_client_hellos() {
    check(b"GET / HTTP/1.1\r\n\r\n", Err(TlsError::NotHandshake));
    check(&[23, 3, 3, 0, 1, 0], Err(TlsError::NotHandshake)); // application data
    check(&[22, 2, 0, 0, 1, 1], Err(TlsError::NotHandshake)); // SSL 2 version
    check(&[22, 3, 9, 0, 1, 1], Err(TlsError::NotHandshake));
    check(&[0x80, 0x2e, 1, 3, 1], Err(TlsError::NotHandshake)); // SSLv2 hello
    check(
        &[22, 3, 3, 0, 4, 2, 0, 0, 0],
        Err(TlsError::NotClientHello(2)),
    );
    check(b"G", Err(TlsError::NotHandshake));
    check(&[22, 3], Err(TlsError::Truncated("record header")));
}

#[test]
fn looks_like_client_hello_checks_the_first_six_bytes() {
    let cases: [(&[u8], bool); 6] = [
        (&[22, 3, 1, 0, 0x50, 1], true),
        (&[22, 3, 3, 2, 0, 1, 0], true),
        (&[22, 3, 1, 0, 0x50, 2], false),
        (&[22, 3, 5, 0, 0x50, 1], false),
        (&[23, 3, 3, 0, 0x50, 1], false),
        (&[22, 3, 1, 0, 0x50], false),
    ];
    for (payload, expected) in cases {
        assert_eq!(looks_like_client_hello(payload), expected, "{payload:?}");
    }
}
