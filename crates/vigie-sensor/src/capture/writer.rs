//! Writes classic pcap files (draft-ietf-opsawg-pcap) with nanosecond
//! timestamps, for generated captures and test fixtures; tcpdump, Wireshark
//! and our own [`super::CaptureReader`] read them.
//!
//! It must not write what a reader would reject or misread: a timestamp
//! outside the format's unsigned 32-bit seconds (before 1970, after 2106) is
//! an error, and a frame longer than [`SNAPLEN`] is cut to it, keeping its
//! real length as the original length, as a capture would.

use std::io::{self, BufWriter, Write};

use crate::decode::LinkType;

/// Snapshot length written in the header: libpcap's MAXIMUM_SNAPLEN, which
/// also is our reader's limit.
pub const SNAPLEN: u32 = 262_144;
/// draft-ietf-opsawg-pcap §4: the magic of nanosecond-resolution files.
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Output buffered in large writes, like the reader's input.
const WRITE_BUFFER_LEN: usize = 256 * 1024;

/// A pcap writer: a file header, then one record per [`PcapWriter::write`].
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header: version 2.4, nanosecond timestamps, snaplen
    /// [`SNAPLEN`], in little-endian byte order.
    pub fn new(out: W, link: LinkType) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(WRITE_BUFFER_LEN, out);
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&MAGIC_NANOS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // Bytes 8..16 are the reserved (formerly time zone and accuracy)
        // fields, which §4 says to write as zero.
        header[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        header[20..24].copy_from_slice(&link.to_pcap().to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out })
    }

    /// Writes one frame captured at `ts_nanos` (Unix nanoseconds), whole
    /// unless it is longer than [`SNAPLEN`]; its original length is
    /// `frame.len()`.
    pub fn write(&mut self, ts_nanos: i64, frame: &[u8]) -> io::Result<()> {
        let seconds = u32::try_from(ts_nanos.div_euclid(NANOS_PER_SEC)).map_err(|_| {
            invalid(format!(
                "timestamp {ts_nanos} ns is outside what pcap can hold (1970 to 2106)"
            ))
        })?;
        // rem_euclid of 10^9 is in 0..10^9, which a u32 holds.
        let nanos = ts_nanos.rem_euclid(NANOS_PER_SEC) as u32;
        let orig_len = u32::try_from(frame.len()).map_err(|_| {
            invalid(format!(
                "frame of {} bytes is too long for pcap",
                frame.len()
            ))
        })?;
        let caplen = orig_len.min(SNAPLEN);
        let data = frame.get(..caplen as usize).unwrap_or(frame);

        let mut header = [0u8; 16];
        header[0..4].copy_from_slice(&seconds.to_le_bytes());
        header[4..8].copy_from_slice(&nanos.to_le_bytes());
        header[8..12].copy_from_slice(&caplen.to_le_bytes());
        header[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(data)
    }

    /// Flushes everything written and returns the output.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureFormat, CaptureReader};

    #[test]
    fn writes_the_documented_header() {
        let bytes = PcapWriter::new(Vec::new(), LinkType::LinuxSll)
            .unwrap()
            .finish()
            .unwrap();
        let expected: [u8; 24] = [
            0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 113, 0, 0, 0,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn round_trip() {
        let big = vec![0x42; SNAPLEN as usize + 100];
        let frames: [(i64, &[u8]); 4] = [
            (0, b"first"),
            (1_700_000_000_123_456_789, b"second frame"),
            (4_294_967_295 * NANOS_PER_SEC + 999_999_999, b""),
            (1_700_000_001_000_000_000, &big),
        ];
        let mut writer = PcapWriter::new(Vec::new(), LinkType::RawIp).unwrap();
        for (ts, frame) in frames {
            writer.write(ts, frame).unwrap();
        }
        let bytes = writer.finish().unwrap();

        let mut reader = CaptureReader::new(&bytes[..]).unwrap();
        assert_eq!(reader.format(), CaptureFormat::Pcap);
        for (ts, frame) in frames {
            let got = reader.next_frame().unwrap().unwrap();
            assert_eq!((got.ts_nanos, got.linktype), (ts, 101));
            assert_eq!(got.orig_len as usize, frame.len());
            assert_eq!(got.data, &frame[..frame.len().min(SNAPLEN as usize)]);
        }
        assert!(reader.next_frame().unwrap().is_none());
    }

    #[test]
    fn rejects_timestamps_pcap_cannot_hold() {
        let mut writer = PcapWriter::new(Vec::new(), LinkType::Ethernet).unwrap();
        for ts in [-1, 4_294_967_296 * NANOS_PER_SEC, i64::MIN, i64::MAX] {
            let error = writer.write(ts, b"x").unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{ts}");
        }
        // Nothing was written for them.
        assert_eq!(writer.finish().unwrap().len(), 24);
    }

    /// 200,000 frames through a file: every frame must come out of the
    /// reader's one buffer, not a buffer of its own.
    #[test]
    fn many_frames_stream_through_one_buffer() {
        const COUNT: usize = 200_000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.pcap");
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = PcapWriter::new(file, LinkType::Ethernet).unwrap();
        let mut frame = [0u8; 90];
        for i in 0..COUNT {
            frame[..8].copy_from_slice(&(i as u64).to_le_bytes());
            writer
                .write(i as i64 * 1_000, &frame[..60 + i % 31])
                .unwrap();
        }
        writer.finish().unwrap();

        let mut reader = CaptureReader::open(&path).unwrap();
        let (mut count, mut lowest, mut highest) = (0usize, usize::MAX, 0usize);
        while let Some(got) = reader.next_frame().unwrap() {
            assert_eq!(got.data[..8], (count as u64).to_le_bytes());
            assert_eq!(
                (got.ts_nanos, got.data.len()),
                (count as i64 * 1_000, 60 + count % 31)
            );
            let at = got.data.as_ptr() as usize;
            (lowest, highest) = (lowest.min(at), highest.max(at + got.data.len()));
            count += 1;
        }
        assert_eq!(count, COUNT);
        assert_eq!(reader.offset(), std::fs::metadata(&path).unwrap().len());
        // About 17 MB of frames, all read from the same 256 KiB of memory.
        assert!(
            highest - lowest <= 256 * 1024,
            "frames spread over {} bytes",
            highest - lowest
        );
    }
}
