//! Capture files: a streaming reader for pcap and pcapng (memory does not
//! grow with the file) and a pcap writer for generated captures.
//!
//! The reader is a lending iterator: each [`Frame`] borrows the reader's
//! buffer until the next call, so no packet is copied or allocated.

mod pcap;
mod pcapng;
mod reader;
mod writer;

pub use pcap::MAX_CAPLEN;
pub use reader::{CaptureError, CaptureReader, Frame};
pub use reader::{CaptureFormat, Location};
pub use writer::PcapWriter;
pub use writer::SNAPLEN;
