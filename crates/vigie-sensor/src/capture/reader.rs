//! The capture-file reader: tells pcap from pcapng by the first four bytes,
//! then hands out frames one at a time from one reused buffer.
//!
//! It must not grow memory with the file (one buffer, whose size is bounded
//! by the named record limits of [`super::pcap`] and [`super::pcapng`]), nor
//! copy a packet: a [`Frame`] borrows that buffer until the next call. It
//! never panics on any input: a malformed or truncated record is a
//! [`CaptureError`] naming its byte offset, after which the reader stops.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::pcap::Pcap;
use super::pcapng::PcapNg;

mod input;

pub(super) use input::{ByteOrder, Input};

/// One captured frame, borrowing the reader's buffer until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Capture timestamp, nanoseconds since the Unix epoch (UTC).
    pub ts_nanos: i64,
    /// Raw pcap LINKTYPE_* number of this frame's interface (see
    /// [`crate::decode::LinkType::from_pcap`]).
    pub linktype: u32,
    /// The captured bytes: shorter than `orig_len` when the capture had a
    /// snapshot length.
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
}

/// The file format a [`CaptureReader`] recognized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic pcap (draft-ietf-opsawg-pcap).
    Pcap,
    /// pcapng (draft-ietf-opsawg-pcapng).
    PcapNg,
}

/// A streaming reader of pcap and pcapng captures.
pub struct CaptureReader<R: Read> {
    input: Input<R>,
    parser: Parser,
    path: Option<PathBuf>,
    /// Offset of the first error: the reader stops there for good, so a
    /// caller that retries can neither loop nor read past corruption.
    failed_at: Option<u64>,
}

enum Parser {
    Pcap(Pcap),
    PcapNg(PcapNg),
}

/// A packet found by a format parser: its bytes are `data`, a range of the
/// input buffer, valid until the input is read again.
pub(super) struct Record {
    pub ts_nanos: i64,
    pub linktype: u32,
    pub data: Range<usize>,
    pub orig_len: u32,
}

impl CaptureReader<BufReader<File>> {
    /// Opens a capture file; every error, now or later, names the file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let at = Location {
            path: Some(path.to_path_buf()),
            offset: 0,
        };
        let file = File::open(path).map_err(|cause| CaptureError::Open {
            at: at.clone(),
            cause,
        })?;
        let mut reader = Self::new(BufReader::new(file)).map_err(|e| e.in_file(at.path.clone()))?;
        reader.path = at.path;
        Ok(reader)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Recognizes the format from the first bytes (the four pcap magics:
    /// micro- or nanosecond timestamps in either byte order, or a pcapng
    /// Section Header Block) and reads the file header.
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        let mut input = Input::new(reader);
        input.fill(4)?;
        let head = input.available();
        let Some(&magic) = head.first_chunk::<4>() else {
            return Err(match head {
                [] => CaptureError::Empty { at: at(0) },
                _ => not_a_capture(head),
            });
        };
        let parser = if let Some(kind) = Pcap::sniff(magic) {
            Parser::Pcap(Pcap::start(&mut input, kind)?)
        } else if PcapNg::sniff(magic) {
            Parser::PcapNg(PcapNg::start(&mut input)?)
        } else {
            return Err(not_a_capture(&magic));
        };
        Ok(CaptureReader {
            input,
            parser,
            path: None,
            failed_at: None,
        })
    }

    /// The next frame; `Ok(None)` when the file ends cleanly at a record
    /// boundary. After an error every call returns an error again.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if let Some(offset) = self.failed_at {
            return Err(CaptureError::Stopped {
                at: Location {
                    path: self.path.clone(),
                    offset,
                },
            });
        }
        let found = match &mut self.parser {
            Parser::Pcap(pcap) => pcap.next(&mut self.input),
            Parser::PcapNg(pcapng) => pcapng.next(&mut self.input),
        };
        match found {
            Ok(Some(record)) => Ok(Some(Frame {
                ts_nanos: record.ts_nanos,
                linktype: record.linktype,
                data: self.input.slice(record.data),
                orig_len: record.orig_len,
            })),
            Ok(None) => Ok(None),
            Err(error) => {
                self.failed_at = Some(error.offset());
                Err(error.in_file(self.path.clone()))
            }
        }
    }

    /// Byte offset in the file of the next record.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    pub fn format(&self) -> CaptureFormat {
        match self.parser {
            Parser::Pcap(_) => CaptureFormat::Pcap,
            Parser::PcapNg(_) => CaptureFormat::PcapNg,
        }
    }
}

/// Where in a capture something went wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The file, when the reader was opened from a path.
    pub path: Option<PathBuf>,
    /// Byte offset from the start of the file.
    pub offset: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: at byte {}", path.display(), self.offset),
            None => write!(f, "at byte {}", self.offset),
        }
    }
}

/// Why a capture could not be read, and where.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    // The I/O cause is part of the message, not a chained source, so that
    // it is printed once.
    #[error("{at}: cannot open the capture: {cause}")]
    Open { at: Location, cause: io::Error },
    #[error("{at}: read error: {cause}")]
    Read { at: Location, cause: io::Error },
    #[error("{at}: the file is empty, not a pcap or pcapng file")]
    Empty { at: Location },
    #[error("{at}: not a pcap or pcapng file: starts with 0x{first_bytes}")]
    UnknownFormat { at: Location, first_bytes: String },
    #[error("{at}: truncated {what}: the file ends {available} bytes into its {needed} bytes")]
    Truncated {
        at: Location,
        what: &'static str,
        needed: u64,
        available: u64,
    },
    #[error("{at}: {what} of {len} bytes exceeds the {limit}-byte limit")]
    TooLong {
        at: Location,
        what: &'static str,
        len: u64,
        limit: u64,
    },
    #[error("{at}: {what} has an invalid length {len}: {problem}")]
    BadBlockLength {
        at: Location,
        what: &'static str,
        len: u32,
        problem: &'static str,
    },
    #[error(
        "{at}: the block's trailing length {trailing} differs from its leading length {leading}"
    )]
    LengthMismatch {
        at: Location,
        leading: u32,
        trailing: u32,
    },
    #[error("{at}: packet on undefined interface {interface} (its section describes {defined})")]
    UnknownInterface {
        at: Location,
        interface: u32,
        defined: usize,
    },
    #[error("{at}: {problem}")]
    Malformed { at: Location, problem: String },
    #[error("{at}: reading stopped at this earlier error")]
    Stopped { at: Location },
}

impl CaptureError {
    pub fn location(&self) -> &Location {
        match self {
            CaptureError::Open { at, .. }
            | CaptureError::Read { at, .. }
            | CaptureError::Empty { at }
            | CaptureError::UnknownFormat { at, .. }
            | CaptureError::Truncated { at, .. }
            | CaptureError::TooLong { at, .. }
            | CaptureError::BadBlockLength { at, .. }
            | CaptureError::LengthMismatch { at, .. }
            | CaptureError::UnknownInterface { at, .. }
            | CaptureError::Malformed { at, .. }
            | CaptureError::Stopped { at } => at,
        }
    }

    /// Byte offset in the file of the record or field at fault.
    pub fn offset(&self) -> u64 {
        self.location().offset
    }

    fn in_file(mut self, path: Option<PathBuf>) -> Self {
        let at = match &mut self {
            CaptureError::Open { at, .. }
            | CaptureError::Read { at, .. }
            | CaptureError::Empty { at }
            | CaptureError::UnknownFormat { at, .. }
            | CaptureError::Truncated { at, .. }
            | CaptureError::TooLong { at, .. }
            | CaptureError::BadBlockLength { at, .. }
            | CaptureError::LengthMismatch { at, .. }
            | CaptureError::UnknownInterface { at, .. }
            | CaptureError::Malformed { at, .. }
            | CaptureError::Stopped { at } => at,
        };
        at.path = path;
        self
    }

    pub(super) fn malformed(offset: u64, problem: impl Into<String>) -> Self {
        CaptureError::Malformed {
            at: at(offset),
            problem: problem.into(),
        }
    }

    pub(super) fn truncated(
        offset: u64,
        what: &'static str,
        needed: usize,
        available: usize,
    ) -> Self {
        CaptureError::Truncated {
            at: at(offset),
            what,
            needed: needed as u64,
            available: available as u64,
        }
    }
}

/// A location without a path: the path is added once, on the way out.
pub(super) fn at(offset: u64) -> Location {
    Location { path: None, offset }
}

fn not_a_capture(head: &[u8]) -> CaptureError {
    CaptureError::UnknownFormat {
        at: at(0),
        first_bytes: head.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// A frame's timestamp, link type, bytes and original length, owned.
#[cfg(test)]
pub(super) type OwnedFrame = (i64, u32, Vec<u8>, u32);

/// Reads every frame of `bytes` into owned copies, with the error that ended
/// the reading, if any: the format tests compare both.
#[cfg(test)]
pub(super) fn read_all(bytes: &[u8]) -> (Vec<OwnedFrame>, Option<CaptureError>) {
    let mut frames = Vec::new();
    let mut reader = match CaptureReader::new(bytes) {
        Ok(reader) => reader,
        Err(error) => return (frames, Some(error)),
    };
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => frames.push((f.ts_nanos, f.linktype, f.data.to_vec(), f.orig_len)),
            Ok(None) => return (frames, None),
            Err(error) => return (frames, Some(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_rejected(bytes: &[u8], expected: &str) {
        match CaptureReader::new(bytes) {
            Ok(_) => panic!("{bytes:02x?} was accepted"),
            Err(error) => assert_eq!(error.to_string(), expected),
        }
    }

    #[test]
    fn rejects_what_is_not_a_capture() {
        check_rejected(
            b"",
            "at byte 0: the file is empty, not a pcap or pcapng file",
        );
        check_rejected(
            b"\x7fELF\x02\x01",
            "at byte 0: not a pcap or pcapng file: starts with 0x7f454c46",
        );
        check_rejected(
            b"GE",
            "at byte 0: not a pcap or pcapng file: starts with 0x4745",
        );
    }

    #[test]
    fn open_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pcap");
        let error = CaptureReader::open(&missing).err().unwrap();
        assert!(matches!(error, CaptureError::Open { .. }));
        assert!(
            error
                .to_string()
                .contains("missing.pcap: at byte 0: cannot open")
        );

        let garbage = dir.path().join("garbage.pcap");
        std::fs::write(&garbage, b"hello world").unwrap();
        let error = CaptureReader::open(&garbage).err().unwrap();
        let expected = format!(
            "{}: at byte 0: not a pcap or pcapng file: starts with 0x68656c6c",
            garbage.display()
        );
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn errors_in_an_opened_file_name_it_and_stop_the_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.pcap");
        // A pcap header, then a record header announcing 100 bytes and 3.
        let mut bytes = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00".to_vec();
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&[0, 0, 4, 0, 1, 0, 0, 0]);
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&[100, 0, 0, 0, 100, 0, 0, 0, 1, 2, 3]);
        std::fs::write(&path, &bytes).unwrap();

        let mut reader = CaptureReader::open(&path).unwrap();
        assert_eq!(reader.format(), CaptureFormat::Pcap);
        assert_eq!(reader.offset(), 24);
        let error = reader.next_frame().err().unwrap();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: at byte 24: truncated packet record: the file ends 19 bytes into its 116 bytes",
                path.display()
            )
        );
        for _ in 0..3 {
            let again = reader.next_frame().err().unwrap();
            assert!(matches!(again, CaptureError::Stopped { .. }));
            assert_eq!(again.offset(), 24);
            assert_eq!(again.location().path.as_deref(), Some(path.as_path()));
        }
    }
}
