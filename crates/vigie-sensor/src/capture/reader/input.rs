//! The reader's one buffer over the underlying `Read`, with the byte offset
//! of everything in it, and byte-order-aware field reads.
//!
//! It must not allocate per record: the buffer is refilled in place and only
//! grows when a caller asks for a longer record, which callers bound by a
//! named limit, so its size is bounded too.

use std::io::{self, Read};
use std::ops::Range;

use super::{CaptureError, at};

/// Bytes asked of the underlying reader at once: large reads keep the cost
/// of I/O per packet negligible.
const READ_BUFFER_LEN: usize = 256 * 1024;

/// A buffered view of the capture: the unread bytes are `buf[pos..end]`,
/// and `buf[0]` is at byte `base` of the file.
pub(in crate::capture) struct Input<R> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    base: u64,
    eof: bool,
}

impl<R: Read> Input<R> {
    pub fn new(reader: R) -> Self {
        Input {
            reader,
            buf: vec![0; READ_BUFFER_LEN],
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    /// Byte offset in the file of the first unread byte.
    pub fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// The unread bytes already in the buffer.
    pub fn available(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// Bytes of the buffer handed out by [`Input::take`], until the next fill.
    pub fn slice(&self, range: Range<usize>) -> &[u8] {
        self.buf.get(range).unwrap_or_default()
    }

    /// Makes `n` unread bytes available, reading more if needed; false if
    /// the file ends first (what it had stays available). Callers bound `n`
    /// by a named record limit, which bounds the buffer.
    pub fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.end.saturating_sub(self.pos) >= n {
            return Ok(true);
        }
        self.compact();
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        while self.end < n && !self.eof {
            let k = self.read_into(self.end)?;
            self.end = self.end.saturating_add(k);
        }
        Ok(self.end >= n)
    }

    /// Marks `n` bytes as read and returns where they are in the buffer.
    pub fn take(&mut self, n: usize) -> Range<usize> {
        let start = self.pos;
        self.pos = self.pos.saturating_add(n).min(self.end);
        start..self.pos
    }

    /// Reads past `n` bytes without keeping them, so a block larger than the
    /// buffer can be skipped. Returns how many were skipped: fewer than `n`
    /// only if the file ended first.
    pub fn skip(&mut self, n: u64) -> Result<u64, CaptureError> {
        let buffered = self.end.saturating_sub(self.pos);
        if let Ok(k) = usize::try_from(n)
            && k <= buffered
        {
            self.pos = self.pos.saturating_add(k);
            return Ok(n);
        }
        let mut left = n.saturating_sub(buffered as u64);
        self.base = self.base.saturating_add(self.end as u64);
        (self.pos, self.end) = (0, 0);
        while left > 0 && !self.eof {
            let k = self.read_into(0)?;
            match usize::try_from(left) {
                Ok(rest) if rest < k => {
                    (self.pos, self.end) = (rest, k);
                    left = 0;
                }
                _ => {
                    self.base = self.base.saturating_add(k as u64);
                    left = left.saturating_sub(k as u64);
                }
            }
        }
        Ok(n.saturating_sub(left))
    }

    /// Moves the unread bytes to the front of the buffer.
    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base = self.base.saturating_add(self.pos as u64);
            self.end = self.end.saturating_sub(self.pos);
            self.pos = 0;
        }
    }

    /// One read into `buf[from..]`; 0 once the file has ended.
    fn read_into(&mut self, from: usize) -> Result<usize, CaptureError> {
        let Some(free) = self.buf.get_mut(from..) else {
            return Ok(0);
        };
        let room = free.len();
        loop {
            match self.reader.read(free) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                // A `Read` that claims more than it was given is buggy; do
                // not let it move the cursor out of the buffer.
                Ok(k) => return Ok(k.min(room)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(cause) => {
                    let offset = self.base.saturating_add(from as u64);
                    return Err(CaptureError::Read {
                        at: at(offset),
                        cause,
                    });
                }
            }
        }
    }
}

/// The byte order of a pcap file or a pcapng section, told by its magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::capture) enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    /// The `u16` at `at` in `bytes`, if `bytes` holds it.
    pub fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let b = *bytes.get(at..)?.first_chunk::<2>()?;
        Some(match self {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        })
    }

    /// The `u32` at `at` in `bytes`, if `bytes` holds it.
    pub fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let b = *bytes.get(at..)?.first_chunk::<4>()?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        })
    }

    /// The `u64` at `at` in `bytes`, if `bytes` holds it.
    pub fn u64(self, bytes: &[u8], at: usize) -> Option<u64> {
        let b = *bytes.get(at..)?.first_chunk::<8>()?;
        Some(match self {
            ByteOrder::Little => u64::from_le_bytes(b),
            ByteOrder::Big => u64::from_be_bytes(b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `step` bytes per read, as a pipe or socket may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            let (now, later) = self.bytes.split_at(n);
            out[..n].copy_from_slice(now);
            self.bytes = later;
            Ok(n)
        }
    }

    fn numbers(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn fill_take_and_offsets_across_refills() {
        let bytes = numbers(READ_BUFFER_LEN * 3);
        let mut input = Input::new(Trickle {
            bytes: &bytes,
            step: 100_000,
        });
        let mut offset = 0usize;
        // Records of 70_001 bytes straddle every refill boundary.
        while input.fill(70_001).unwrap() {
            assert_eq!(input.offset(), offset as u64);
            let range = input.take(70_001);
            assert_eq!(input.slice(range), &bytes[offset..offset + 70_001]);
            offset += 70_001;
        }
        assert_eq!(input.available(), &bytes[offset..]);
        assert_eq!(input.offset(), offset as u64);
    }

    #[test]
    fn fill_grows_the_buffer_for_a_long_record_only() {
        let bytes = numbers(READ_BUFFER_LEN + 10);
        let mut input = Input::new(&bytes[..]);
        assert!(input.fill(READ_BUFFER_LEN + 10).unwrap());
        assert_eq!(input.buf.len(), READ_BUFFER_LEN + 10);
        assert!(!input.fill(READ_BUFFER_LEN + 11).unwrap());
        assert_eq!(input.available().len(), READ_BUFFER_LEN + 10);
    }

    #[test]
    fn skip_inside_and_beyond_the_buffer() {
        let bytes = numbers(READ_BUFFER_LEN * 4);
        let mut input = Input::new(Trickle {
            bytes: &bytes,
            step: 50_000,
        });
        assert!(input.fill(10).unwrap());
        assert_eq!(input.skip(3).unwrap(), 3);
        assert_eq!(input.offset(), 3);
        let far = READ_BUFFER_LEN as u64 * 2 + 7;
        assert_eq!(input.skip(far).unwrap(), far);
        assert_eq!(input.offset(), far + 3);
        assert!(input.fill(4).unwrap());
        let at = (far + 3) as usize;
        assert_eq!(input.available()[..4], bytes[at..at + 4]);
        let rest = (bytes.len() - at) as u64;
        assert_eq!(input.skip(rest + 5).unwrap(), rest);
        assert_eq!(input.offset(), bytes.len() as u64);
        assert!(!input.fill(1).unwrap());
    }

    #[test]
    fn read_errors_name_the_offset() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let error = Input::new(Failing).fill(1).err().unwrap();
        assert_eq!(error.to_string(), "at byte 0: read error: disk on fire");
    }

    #[test]
    fn fields_in_both_byte_orders() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(ByteOrder::Little.u16(&b, 1), Some(0x0302));
        assert_eq!(ByteOrder::Big.u32(&b, 4), Some(0x0506_0708));
        assert_eq!(ByteOrder::Big.u64(&b, 0), Some(0x0102_0304_0506_0708));
        assert_eq!(ByteOrder::Little.u32(&b, 5), None);
        assert_eq!(ByteOrder::Little.u16(&b, usize::MAX), None);
    }
}
