//! The remote family's parsers read with the crate's bounds-checked reader.

pub use crate::bytes::{ParseError, Reader, printable, slice_at, utf16le};
