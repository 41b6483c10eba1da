//! Classic pcap (draft-ietf-opsawg-pcap): a 24-byte file header, then
//! records of a 16-byte header followed by the captured bytes.
//!
//! It must not trust a record's length: one longer than [`MAX_CAPLEN`] is an
//! error, never an allocation. It reads both byte orders and both timestamp
//! resolutions (micro- and nanoseconds), told apart by the magic number.

use std::io::Read;

use super::reader::{ByteOrder, CaptureError, Input, Record};

/// Largest captured length we accept in a record. libpcap's largest default
/// snapshot length is 262144 (MAXIMUM_SNAPLEN); a longer record is corrupt.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// draft-ietf-opsawg-pcap §4: magic, version, two reserved words (the old
/// time zone and accuracy, which readers must ignore), snaplen, link type.
const FILE_HEADER_LEN: usize = 24;
/// draft-ietf-opsawg-pcap §5: seconds, fraction, captured and original length.
const RECORD_HEADER_LEN: usize = 16;
/// draft-ietf-opsawg-pcap §4: only the lower 16 bits of the LinkType field
/// are the link type; the upper bits carry the FCS length and reserved bits.
const LINKTYPE_MASK: u32 = 0xffff;
/// The only major version of the format (§4); minor versions are compatible.
const VERSION_MAJOR: u16 = 2;

/// How a pcap file writes its fields, from its magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Kind {
    order: ByteOrder,
    /// Nanoseconds per unit of the records' fraction field.
    nanos_per_tick: u32,
}

/// The state of a pcap file being read: all records share the header's
/// byte order, resolution and link type.
pub(super) struct Pcap {
    kind: Kind,
    linktype: u32,
}

impl Pcap {
    /// Recognizes the four pcap magics (§4): 0xa1b2c3d4 for microseconds and
    /// 0xa1b23c4d for nanoseconds, each written in the writer's byte order.
    pub fn sniff(magic: [u8; 4]) -> Option<Kind> {
        let (order, nanos_per_tick) = match u32::from_le_bytes(magic) {
            0xa1b2_c3d4 => (ByteOrder::Little, 1_000),
            0xa1b2_3c4d => (ByteOrder::Little, 1),
            0xd4c3_b2a1 => (ByteOrder::Big, 1_000),
            0x4d3c_b2a1 => (ByteOrder::Big, 1),
            _ => return None,
        };
        Some(Kind {
            order,
            nanos_per_tick,
        })
    }

    /// Reads the file header; the input is at the start of the file.
    pub fn start<R: Read>(input: &mut Input<R>, kind: Kind) -> Result<Self, CaptureError> {
        let start = input.offset();
        if !input.fill(FILE_HEADER_LEN)? {
            let available = input.available().len();
            return Err(CaptureError::truncated(
                start,
                "pcap file header",
                FILE_HEADER_LEN,
                available,
            ));
        }
        let header = input.available();
        let order = kind.order;
        let (Some(major), Some(minor), Some(linktype)) = (
            order.u16(header, 4),
            order.u16(header, 6),
            order.u32(header, 20),
        ) else {
            return Err(CaptureError::malformed(start, "pcap file header too short"));
        };
        if major != VERSION_MAJOR {
            let problem = format!("unsupported pcap version {major}.{minor} (expected 2.x)");
            return Err(CaptureError::malformed(start.saturating_add(4), problem));
        }
        input.take(FILE_HEADER_LEN);
        Ok(Pcap {
            kind,
            linktype: linktype & LINKTYPE_MASK,
        })
    }

    /// The next record, `None` at a clean end of file.
    pub fn next<R: Read>(&self, input: &mut Input<R>) -> Result<Option<Record>, CaptureError> {
        let start = input.offset();
        if !input.fill(RECORD_HEADER_LEN)? {
            return match input.available().len() {
                0 => Ok(None),
                n => Err(CaptureError::truncated(
                    start,
                    "packet record header",
                    RECORD_HEADER_LEN,
                    n,
                )),
            };
        }
        let Some((ts_nanos, caplen, orig_len)) = self.record_header(input.available()) else {
            return Err(CaptureError::malformed(
                start,
                "packet record header too short",
            ));
        };
        if caplen > MAX_CAPLEN {
            return Err(CaptureError::TooLong {
                at: super::reader::at(start),
                what: "packet record",
                len: u64::from(caplen),
                limit: u64::from(MAX_CAPLEN),
            });
        }
        // Cannot overflow: caplen is at most MAX_CAPLEN.
        let len = RECORD_HEADER_LEN + caplen as usize;
        if !input.fill(len)? {
            let available = input.available().len();
            return Err(CaptureError::truncated(
                start,
                "packet record",
                len,
                available,
            ));
        }
        let record = input.take(len);
        Ok(Some(Record {
            ts_nanos,
            linktype: self.linktype,
            data: record.start + RECORD_HEADER_LEN..record.end,
            orig_len,
        }))
    }

    /// Timestamp in nanoseconds, captured and original lengths (§5).
    fn record_header(&self, header: &[u8]) -> Option<(i64, u32, u32)> {
        let order = self.kind.order;
        let seconds = order.u32(header, 0)?;
        let fraction = order.u32(header, 4)?;
        // Both fields are unsigned 32-bit (§5), so this fits an i64 with
        // room to spare (< 2^63), even for an out-of-range fraction.
        let ts_nanos = i64::from(seconds) * 1_000_000_000
            + i64::from(fraction) * i64::from(self.kind.nanos_per_tick);
        Some((ts_nanos, order.u32(header, 8)?, order.u32(header, 12)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::reader::read_all;

    /// A pcap file with the given magic (written in `order`) and records of
    /// (seconds, fraction, captured bytes, original length).
    fn pcap(
        order: ByteOrder,
        magic: u32,
        linktype: u32,
        records: &[(u32, u32, &[u8], u32)],
    ) -> Vec<u8> {
        let put16 = |out: &mut Vec<u8>, v: u16| match order {
            ByteOrder::Little => out.extend_from_slice(&v.to_le_bytes()),
            ByteOrder::Big => out.extend_from_slice(&v.to_be_bytes()),
        };
        let put32 = |out: &mut Vec<u8>, v: u32| match order {
            ByteOrder::Little => out.extend_from_slice(&v.to_le_bytes()),
            ByteOrder::Big => out.extend_from_slice(&v.to_be_bytes()),
        };
        let mut out = Vec::new();
        put32(&mut out, magic);
        put16(&mut out, 2);
        put16(&mut out, 4);
        put32(&mut out, 0);
        put32(&mut out, 0);
        put32(&mut out, 65535);
        put32(&mut out, linktype);
        for &(seconds, fraction, data, orig_len) in records {
            put32(&mut out, seconds);
            put32(&mut out, fraction);
            put32(&mut out, data.len() as u32);
            put32(&mut out, orig_len);
            out.extend_from_slice(data);
        }
        out
    }

    const USEC: u32 = 0xa1b2_c3d4;
    const NSEC: u32 = 0xa1b2_3c4d;

    fn check(bytes: &[u8], expected: &[(i64, u32, &[u8], u32)]) {
        let (frames, error) = read_all(bytes);
        assert!(error.is_none(), "unexpected error: {error:?}");
        let frames: Vec<_> = frames
            .iter()
            .map(|(t, l, d, o)| (*t, *l, d.as_slice(), *o))
            .collect();
        assert_eq!(frames, expected);
    }

    #[test]
    fn reads_all_four_magics() {
        let records: &[(u32, u32, &[u8], u32)] =
            &[(1_700_000_000, 123_456, b"abc", 60), (1, 999_999, b"", 0)];
        for order in [ByteOrder::Little, ByteOrder::Big] {
            check(
                &pcap(order, USEC, 1, records),
                &[
                    (1_700_000_000_123_456_000, 1, b"abc", 60),
                    (1_999_999_000, 1, b"", 0),
                ],
            );
            check(
                &pcap(order, NSEC, 101, records),
                &[
                    (1_700_000_000_000_123_456, 101, b"abc", 60),
                    (1_000_999_999, 101, b"", 0),
                ],
            );
        }
    }

    #[test]
    fn masks_the_fcs_bits_off_the_link_type() {
        // FCS length 2 (words) with its presence bit, on Ethernet (§4).
        check(
            &pcap(ByteOrder::Big, USEC, 0x2400_0001, &[(0, 0, b"x", 1)]),
            &[(0, 1, b"x", 1)],
        );
    }

    #[test]
    fn header_only_file_is_empty_and_record_boundary_is_a_clean_end() {
        check(&pcap(ByteOrder::Little, USEC, 1, &[]), &[]);
        let bytes = pcap(ByteOrder::Little, USEC, 1, &[(5, 0, &[7; 40], 40)]);
        let mut reader = crate::capture::CaptureReader::new(&bytes[..]).unwrap();
        assert!(reader.next_frame().unwrap().is_some());
        assert_eq!(reader.offset(), bytes.len() as u64);
        assert!(reader.next_frame().unwrap().is_none());
        assert!(reader.next_frame().unwrap().is_none());
    }

    #[test]
    fn truncated_record_returns_frames_before_then_names_its_offset() {
        let records: &[(u32, u32, &[u8], u32)] = &[
            (1, 0, &[1; 30], 30),
            (2, 0, &[2; 50], 50),
            (3, 0, &[3; 70], 70),
        ];
        let bytes = pcap(ByteOrder::Little, NSEC, 1, records);
        let third = 24 + (16 + 30) + (16 + 50);
        for cut in [third + 10, third + 16 + 69] {
            let (frames, error) = read_all(&bytes[..cut]);
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[1].2, vec![2; 50]);
            let error = error.unwrap();
            assert_eq!(error.offset(), third as u64);
            let what = if cut < third + 16 {
                "packet record header"
            } else {
                "packet record"
            };
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("at byte {third}: truncated {what}"))
            );
        }
    }

    #[test]
    fn caplen_over_the_limit_is_an_error_not_an_allocation() {
        let mut bytes = pcap(ByteOrder::Little, USEC, 1, &[(1, 0, b"ok", 2)]);
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        let (frames, error) = read_all(&bytes);
        assert_eq!(frames.len(), 1);
        assert_eq!(
            error.unwrap().to_string(),
            "at byte 42: packet record of 262145 bytes exceeds the 262144-byte limit"
        );
    }

    #[test]
    fn a_record_at_the_limit_is_read() {
        let big = vec![0xab; MAX_CAPLEN as usize];
        let bytes = pcap(
            ByteOrder::Big,
            USEC,
            1,
            &[(1, 0, &big, 1_000_000), (2, 0, b"after", 5)],
        );
        let (frames, error) = read_all(&bytes);
        assert!(error.is_none());
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[0].2.len(), frames[0].3), (big.len(), 1_000_000));
        assert_eq!(frames[1].2, b"after");
    }

    #[test]
    fn bad_headers() {
        let mut bytes = pcap(ByteOrder::Little, USEC, 1, &[]);
        bytes[4] = 3;
        let error = read_all(&bytes).1.unwrap();
        assert_eq!(
            error.to_string(),
            "at byte 4: unsupported pcap version 3.4 (expected 2.x)"
        );
        let error = read_all(&bytes[..20]).1.unwrap();
        assert_eq!(
            error.to_string(),
            "at byte 0: truncated pcap file header: the file ends 20 bytes into its 24 bytes"
        );
    }

    #[test]
    fn every_truncation_ends_cleanly_only_at_a_record_boundary() {
        let records: &[(u32, u32, &[u8], u32)] =
            &[(1, 2, b"one", 3), (3, 4, b"", 9), (5, 6, b"three", 5)];
        let bytes = pcap(ByteOrder::Big, NSEC, 1, records);
        let (all, _) = read_all(&bytes);
        let boundaries = [24, 24 + 19, 24 + 19 + 16, bytes.len()];
        for cut in 0..bytes.len() {
            let (frames, error) = read_all(&bytes[..cut]);
            assert_eq!(frames, all[..frames.len()], "cut at {cut}");
            assert_eq!(
                error.is_none(),
                boundaries.contains(&cut),
                "cut at {cut}: {error:?}"
            );
        }
    }
}
