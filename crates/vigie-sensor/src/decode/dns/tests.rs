//! Tests of the DNS question parser, against messages from the builders
//! and hand-written ones (compression pointers, limits, truncations).

use super::*;
use crate::synth::app::{dns_query, dns_query_tcp};

/// A query for `name` must parse to `expected` name, label count and
/// longest label.
fn check(name: &str, expected: &str, labels: usize, longest: usize) {
    let query = parse(&dns_query(0xbeef, name, qtype::A)).unwrap();
    assert_eq!(query.name(), expected.as_bytes(), "name of {name:?}");
    assert_eq!(query.label_count(), labels, "labels of {name:?}");
    assert_eq!(query.labels().count(), labels, "labels() of {name:?}");
    assert_eq!(query.longest_label(), longest, "longest label of {name:?}");
}

/// A 12-byte query header (QDCOUNT 1) followed by `question`.
fn message(question: &[u8]) -> Vec<u8> {
    let mut m = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(question);
    m
}

#[test]
fn names_are_lowercased_and_joined() {
    check("www.example.com", "www.example.com", 3, 7);
    check("WWW.ExAmple.COM.", "www.example.com", 3, 7);
    check("", "", 0, 0);
    check(".", "", 0, 0);
    check("x", "x", 1, 1);
    check(
        "_ldap._TCP.dc._msdcs.Corp.LOCAL",
        "_ldap._tcp.dc._msdcs.corp.local",
        6,
        6,
    );
}

#[test]
fn round_trip_keeps_header_and_question_fields() {
    let query = parse(&dns_query(0x1234, "Mail.Example.org", qtype::MX)).unwrap();
    assert_eq!(query.id, 0x1234);
    assert!(!query.is_response);
    assert_eq!((query.opcode, query.rcode), (0, 0));
    assert_eq!((query.qtype, query.qclass), (qtype::MX, qclass::IN));
    assert_eq!(
        query.labels().collect::<Vec<_>>(),
        [&b"mail"[..], b"example", b"org"]
    );
}

#[test]
fn response_flags_are_read() {
    let mut bytes = dns_query(9, "nope.example", qtype::TXT);
    bytes[2] = 0x80 | (2 << 3); // QR, opcode STATUS
    bytes[3] = 0x83; // RA, NXDOMAIN
    let query = parse(&bytes).unwrap();
    assert!(query.is_response);
    assert_eq!((query.opcode, query.rcode), (2, 3));
}

#[test]
fn name_length_limits() {
    let label = "a".repeat(63);
    let longest = format!("{label}.{label}.{label}.{}", "b".repeat(61));
    assert_eq!(longest.len(), MAX_NAME_LEN);
    check(&longest, &longest, 4, 63);
    let too_long = format!("{longest}c");
    assert_eq!(
        parse(&dns_query(1, &too_long, 1)),
        Err(DnsError::NameTooLong)
    );
    let single = "z.".repeat(127);
    check(&single, &single[..253], 127, 1);
    let too_many = "z.".repeat(128);
    assert_eq!(
        parse(&dns_query(1, &too_many, 1)),
        Err(DnsError::NameTooLong)
    );
}

#[test]
fn label_bytes_are_kept_but_dots_rejected() {
    let query = parse(&message(b"\x03\x00A\xff\x03COM\x00\x00\x10\x00\x01")).unwrap();
    assert_eq!(query.name(), b"\x00a\xff.com");
    assert_eq!(query.qtype, qtype::TXT);
    assert_eq!(
        parse(&message(b"\x03www\x03a.b\x03com\x00\x00\x01\x00\x01")),
        Err(DnsError::DotInLabel { offset: 16 })
    );
}

#[test]
fn label_types_other_than_length_and_pointer_are_rejected() {
    for byte in [0x40, 0x7f, 0x80, 0xbf] {
        assert_eq!(
            parse(&message(&[3, b'w', b'w', b'w', byte, 0, 0, 1, 0, 1])),
            Err(DnsError::BadLabelType { offset: 16, byte })
        );
    }
}

#[test]
fn backward_pointer_is_followed_and_question_resumes_after_it() {
    // The last six header bytes spell the label "abc" then the root.
    let mut bytes = vec![0, 7, 1, 0, 0, 1, 3, b'a', b'B', b'c', 0, 0];
    bytes.extend_from_slice(b"\x03WWW\xc0\x06\x00\x1c\x00\x01");
    let query = parse(&bytes).unwrap();
    assert_eq!(query.name(), b"www.abc");
    assert_eq!(query.qtype, qtype::AAAA);
    assert_eq!(query.label_count(), 2);
}

#[test]
fn pointer_loops_and_forward_pointers_are_rejected() {
    let cases: [(&[u8], usize); 4] = [
        (b"\xc0\x0c", 12),                 // points at itself
        (b"\x01a\xc0\x0c", 14),            // back to the start of its own name
        (b"\xc0\x20\x00\x01\x00\x01", 12), // forward
        (b"\xff\xff", 12),                 // far beyond the message
    ];
    for (question, offset) in cases {
        assert_eq!(
            parse(&message(question)),
            Err(DnsError::BadPointer { offset })
        );
    }
}

#[test]
fn pointer_chain_is_bounded() {
    // At 2k a pointer to 2(k-1), and the root at 0: `jumps` pointers to reach it.
    let chain = |jumps: usize| {
        let mut bytes = vec![0, 0];
        for k in 1..=jumps {
            bytes.extend_from_slice(&(0xc000 | (2 * (k - 1)) as u16).to_be_bytes());
        }
        let mut query = parse(&dns_query(0, "", 1)).unwrap();
        read_name(&bytes, 2 * jumps, &mut query).map(|_| query.name().to_vec())
    };
    assert_eq!(chain(MAX_POINTER_JUMPS), Ok(Vec::new()));
    assert_eq!(chain(MAX_POINTER_JUMPS + 1), Err(DnsError::TooManyPointers));
}

#[test]
fn messages_without_question_or_header_are_rejected() {
    let mut bytes = dns_query(1, "example.com", 1);
    bytes[5] = 0;
    assert_eq!(parse(&bytes), Err(DnsError::NoQuestion));
    assert_eq!(parse(&[0; 11]), Err(DnsError::Truncated("header")));
}

#[test]
fn every_truncation_is_an_error() {
    let mut with_pointer = vec![0, 7, 1, 0, 0, 1, 3, b'a', b'b', b'c', 0, 0];
    with_pointer.extend_from_slice(b"\x03www\xc0\x06\x00\x01\x00\x01");
    for full in [dns_query(3, "a.bb.example.com", qtype::ANY), with_pointer] {
        assert!(parse(&full).is_ok());
        for len in 0..full.len() {
            assert!(parse(&full[..len]).is_err(), "prefix of {len} bytes");
        }
    }
}

#[test]
fn tcp_messages_are_framed_by_their_length() {
    let framed = dns_query_tcp(0x55aa, "Example.NET", qtype::AXFR);
    let query = parse_tcp(&framed).unwrap();
    assert_eq!((query.id, query.qtype), (0x55aa, qtype::AXFR));
    assert_eq!(query.name(), b"example.net");

    // Two pipelined messages: only the first is read.
    let mut two = framed.clone();
    two.extend_from_slice(&dns_query_tcp(2, "other.example", 1));
    assert_eq!(parse_tcp(&two).unwrap().name(), b"example.net");

    // A length prefix larger than the segment: the question is still there.
    let mut long = framed.clone();
    long[0] = 0x40;
    assert_eq!(parse_tcp(&long).unwrap().qtype, qtype::AXFR);

    // A length prefix shorter than the question cuts it.
    let mut short = framed.clone();
    short[1] = 14;
    assert_eq!(parse_tcp(&short), Err(DnsError::Truncated("question name")));

    for len in 0..framed.len() {
        assert!(parse_tcp(&framed[..len]).is_err(), "prefix of {len} bytes");
    }
}
