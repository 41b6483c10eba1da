//! pcapng reader tests, on captures built block by block here (in a file of
//! their own: the builders are as long as the reader).

use super::*;
use crate::capture::reader::read_all;

/// Builds the blocks of a capture in one byte order.
struct Builder {
    order: ByteOrder,
    out: Vec<u8>,
}

impl Builder {
    fn new(order: ByteOrder) -> Self {
        Builder {
            order,
            out: Vec::new(),
        }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        match self.order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        match self.order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    /// A block of `kind` around `body`, padded to 32 bits.
    fn block(mut self, kind: u32, body: &[u8]) -> Self {
        let len = (12 + body.len().next_multiple_of(4)) as u32;
        let (kind, len) = (self.u32(kind), self.u32(len));
        self.out.extend_from_slice(&kind);
        self.out.extend_from_slice(&len);
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len().next_multiple_of(4), 0);
        self.out.extend_from_slice(&len);
        self
    }

    fn shb(self) -> Self {
        let mut body = self.u32(0x1a2b_3c4d).to_vec();
        body.extend_from_slice(&self.u16(1));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&[0xff; 8]);
        // shb_userappl, to be skipped.
        body.extend_from_slice(&self.u16(4));
        body.extend_from_slice(&self.u16(5));
        body.extend_from_slice(b"vigie\0\0\0\0\0\0\0");
        self.block(BLOCK_SHB, &body)
    }

    /// An IDB with the given options as (code, value).
    fn idb(self, linktype: u16, snaplen: u32, options: &[(u16, &[u8])]) -> Self {
        let mut body = self.u16(linktype).to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&self.u32(snaplen));
        for (code, value) in options {
            body.extend_from_slice(&self.u16(*code));
            body.extend_from_slice(&self.u16(value.len() as u16));
            body.extend_from_slice(value);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        if !options.is_empty() {
            body.extend_from_slice(&[0; 4]);
        }
        self.block(BLOCK_IDB, &body)
    }

    fn epb(self, interface: u32, ts: u64, data: &[u8], orig_len: u32) -> Self {
        let mut body = self.u32(interface).to_vec();
        self.packet_fields(&mut body, ts, data, orig_len);
        // An opt_comment, which the reader must skip.
        body.extend_from_slice(&self.u16(1));
        body.extend_from_slice(&self.u16(2));
        body.extend_from_slice(b"hi\0\0\0\0\0\0");
        self.block(BLOCK_EPB, &body)
    }

    fn obsolete_pb(self, interface: u16, ts: u64, data: &[u8]) -> Self {
        let mut body = self.u16(interface).to_vec();
        body.extend_from_slice(&self.u16(7));
        self.packet_fields(&mut body, ts, data, data.len() as u32);
        self.block(BLOCK_PB, &body)
    }

    fn packet_fields(&self, body: &mut Vec<u8>, ts: u64, data: &[u8], orig_len: u32) {
        body.extend_from_slice(&self.u32((ts >> 32) as u32));
        body.extend_from_slice(&self.u32(ts as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
    }

    fn spb(self, data: &[u8], orig_len: u32) -> Self {
        let mut body = self.u32(orig_len).to_vec();
        body.extend_from_slice(data);
        self.block(BLOCK_SPB, &body)
    }

    /// A Name Resolution Block and an Interface Statistics Block, skipped.
    fn nrb_and_isb(self) -> Self {
        let nrb = [1, 0, 8, 0, 10, 0, 0, 1, b'a', b'.', b'b', 0, 0, 0, 0, 0];
        self.block(4, &nrb).block(5, &[0; 12])
    }

    fn section(mut self, order: ByteOrder) -> Self {
        self.order = order;
        self.shb()
    }

    fn bytes(self) -> Vec<u8> {
        self.out
    }
}

const LE: ByteOrder = ByteOrder::Little;
const BE: ByteOrder = ByteOrder::Big;
const T: u64 = 1_700_000_000;

fn check(bytes: &[u8], expected: &[(i64, u32, &[u8], u32)]) {
    let (frames, error) = read_all(bytes);
    assert!(error.is_none(), "unexpected error: {error:?}");
    let frames: Vec<_> = frames
        .iter()
        .map(|(t, l, d, o)| (*t, *l, d.as_slice(), *o))
        .collect();
    assert_eq!(frames, expected);
}

/// Reads `bytes`, expecting `frames` frames then this error message.
fn check_error(bytes: &[u8], frames: usize, expected: &str) {
    let (got, error) = read_all(bytes);
    assert_eq!(got.len(), frames);
    assert_eq!(error.map(|e| e.to_string()).as_deref(), Some(expected));
}

#[test]
fn enhanced_packets_in_both_byte_orders() {
    for order in [LE, BE] {
        let bytes = Builder::new(order)
            .shb()
            .idb(1, 65535, &[])
            .idb(113, 0, &[(9, &[9]), (2, b"eth0")])
            .epb(0, T * 1_000_000 + 123_456, b"abcde", 60)
            .nrb_and_isb()
            .epb(1, T * 1_000_000_000 + 7, b"", 0)
            .bytes();
        check(
            &bytes,
            &[
                (1_700_000_000_123_456_000, 1, b"abcde", 60),
                (1_700_000_000_000_000_007, 113, b"", 0),
            ],
        );
    }
}

#[test]
fn binary_resolution_and_offset() {
    let tsresol: &[u8] = &[0x80 | 20];
    let offset = 100u64.to_le_bytes();
    let bytes = Builder::new(LE)
        .shb()
        .idb(101, 0, &[(9, tsresol), (14, &offset)])
        .epb(0, T << 20 | 1 << 19, b"x", 1)
        .bytes();
    check(&bytes, &[(1_700_000_100_500_000_000, 101, b"x", 1)]);
}

#[test]
fn simple_and_obsolete_packets() {
    let bytes = Builder::new(BE)
        .shb()
        .idb(1, 4, &[])
        .spb(b"before", 6)
        .obsolete_pb(0, T * 1_000_000 + 5, b"pb")
        .spb(b"snapped", 200)
        .spb(b"ab", 2)
        .bytes();
    check(
        &bytes,
        &[
            (0, 1, b"befo", 6),
            (1_700_000_000_000_005_000, 1, b"pb", 2),
            (1_700_000_000_000_005_000, 1, b"snap", 200),
            (1_700_000_000_000_005_000, 1, b"ab", 2),
        ],
    );
}

#[test]
fn sections_in_different_byte_orders_reset_interfaces() {
    let two_sections = Builder::new(LE)
        .shb()
        .idb(1, 0, &[])
        .idb(101, 0, &[])
        .epb(1, 1_000_000, b"one", 3)
        .section(BE)
        .idb(228, 0, &[(9, &[3])])
        .epb(0, 2_000, b"two", 3);
    check(
        &two_sections.out,
        &[
            (1_000_000_000, 101, b"one", 3),
            (2_000_000_000, 228, b"two", 3),
        ],
    );

    // Interface 1 belonged to the first section only.
    let at = two_sections.out.len();
    let bytes = two_sections.epb(1, 0, b"three", 5).bytes();
    let expected =
        format!("at byte {at}: packet on undefined interface 1 (its section describes 1)");
    check_error(&bytes, 2, &expected);
}

#[test]
fn packet_before_any_interface_is_an_error() {
    let at = Builder::new(LE).shb().out.len();
    let bytes = Builder::new(LE).shb().spb(b"x", 1).bytes();
    let expected =
        format!("at byte {at}: packet on undefined interface 0 (its section describes 0)");
    check_error(&bytes, 0, &expected);
}

#[test]
fn a_block_larger_than_the_buffer_is_streamed_past() {
    let custom = vec![0x5a; 3 * 1024 * 1024];
    let bytes = Builder::new(LE)
        .shb()
        .idb(1, 0, &[])
        .epb(0, 1, b"a", 1)
        .block(0x0000_0bad, &custom)
        .epb(0, 2, b"b", 1)
        .bytes();
    check(&bytes, &[(1_000, 1, b"a", 1), (2_000, 1, b"b", 1)]);
}

#[test]
fn truncated_blocks_return_frames_before_then_name_their_offset() {
    let good = Builder::new(LE).shb().idb(1, 0, &[]).epb(0, 1, b"first", 5);
    let at = good.out.len();
    let epb_len = Builder::new(LE).epb(0, 2, b"second", 6).out.len();
    let bytes = good.epb(0, 2, b"second", 6).nrb_and_isb().bytes();
    for (cut, what) in [(at + 4, "block header"), (at + 40, "enhanced packet block")] {
        let len = if cut < at + 8 { 8 } else { epb_len };
        let expected = format!(
            "at byte {at}: truncated {what}: the file ends {} bytes into its {len} bytes",
            cut - at
        );
        check_error(&bytes[..cut], 1, &expected);
    }
    let nrb = at + epb_len;
    let expected =
        format!("at byte {nrb}: truncated block: the file ends 20 bytes into its 28 bytes");
    check_error(&bytes[..nrb + 20], 2, &expected);
    // Ending exactly between blocks is a clean end.
    let (frames, error) = read_all(&bytes[..nrb]);
    assert_eq!((frames.len(), error.is_none()), (2, true));
}

#[test]
fn bad_block_lengths_name_their_offset() {
    let good = Builder::new(LE).shb().idb(1, 0, &[]).epb(0, 1, b"ok", 2);
    let at = good.out.len();
    let tail = Builder::new(LE).epb(0, 2, b"bad", 3).bytes();
    assert_eq!(tail.len(), 48);

    let corrupt = |offset: usize, value: u32| {
        let mut bytes = good.out.clone();
        bytes.extend_from_slice(&tail);
        bytes[at + offset..at + offset + 4].copy_from_slice(&value.to_le_bytes());
        bytes
    };
    let cases = [
        (
            corrupt(4, 50),
            "enhanced packet block has an invalid length 50: not a multiple of 4",
        ),
        (
            corrupt(4, 8),
            "enhanced packet block has an invalid length 8: too short for the block's fixed fields",
        ),
        (
            corrupt(4, 0x0100_0000),
            "enhanced packet block of 16777216 bytes exceeds the 327680-byte limit",
        ),
        (
            corrupt(44, 40),
            "the block's trailing length 40 differs from its leading length 48",
        ),
        (
            corrupt(20, 30),
            "captured length 30 does not fit in its 48-byte block",
        ),
        (
            corrupt(20, 300_000),
            "captured packet of 300000 bytes exceeds the 262144-byte limit",
        ),
    ];
    for (bytes, problem) in cases {
        check_error(&bytes, 1, &format!("at byte {at}: {problem}"));
    }
}

#[test]
fn unknown_blocks_are_skipped_and_checked() {
    let good = Builder::new(BE).shb().idb(1, 0, &[]);
    let at = good.out.len();
    let bytes = good
        .block(0x4000_0bad, b"custom")
        .epb(0, 1, b"ok", 2)
        .bytes();
    check(&bytes, &[(1_000, 1, b"ok", 2)]);

    let mut short = bytes.clone();
    short[at + 4..at + 8].copy_from_slice(&4u32.to_be_bytes());
    let expected = format!(
        "at byte {at}: block has an invalid length 4: too short for the block's fixed fields"
    );
    check_error(&short, 0, &expected);

    let mut huge = bytes;
    huge[at + 4..at + 8].copy_from_slice(&0x4000_0000u32.to_be_bytes());
    let expected =
        format!("at byte {at}: block of 1073741824 bytes exceeds the 16777216-byte limit");
    check_error(&huge, 0, &expected);
}

#[test]
fn bad_section_headers() {
    let mut bytes = Builder::new(LE).shb().bytes();
    bytes[8] = 0;
    check_error(
        &bytes,
        0,
        "at byte 8: section header with a bad byte-order magic 0x003c2b1a",
    );
    let mut bytes = Builder::new(BE).shb().bytes();
    bytes[13] = 2;
    check_error(
        &bytes,
        0,
        "at byte 12: unsupported pcapng version 2.0 (expected 1.x)",
    );
    check_error(
        &Builder::new(LE).shb().bytes()[..10],
        0,
        "at byte 0: truncated section header block: the file ends 10 bytes into its 12 bytes",
    );
}

/// Every truncation and every one-byte corruption of a capture reads to a
/// clean end or an error, without panicking or looping; a truncated
/// capture gives the frames of the whole one, up to the cut.
#[test]
fn survives_every_truncation_and_corruption() {
    let tsresol: &[u8] = &[0x80 | 20];
    let bytes = Builder::new(LE)
        .shb()
        .idb(1, 0, &[(9, tsresol)])
        .epb(0, 5, b"abc", 3)
        .nrb_and_isb()
        .section(BE)
        .idb(113, 4, &[])
        .spb(b"hello", 5)
        .obsolete_pb(0, 9, b"pb")
        .bytes();
    let (all, error) = read_all(&bytes);
    assert_eq!((all.len(), error.is_none()), (3, true));
    for cut in 0..bytes.len() {
        let (frames, error) = read_all(&bytes[..cut]);
        assert_eq!(frames, all[..frames.len()], "cut at {cut}");
        if let Some(error) = error {
            assert!(error.offset() <= cut as u64, "cut at {cut}: {error}");
        }
    }
    for at in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut corrupt = bytes.clone();
            corrupt[at] ^= flip;
            let (frames, _) = read_all(&corrupt);
            assert!(frames.len() <= 4, "byte {at} ^ {flip:#x}");
        }
    }
}
