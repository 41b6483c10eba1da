//! A bounds-checked reader over received bytes and the parse error of the
//! protocol families' parsers. It never panics and never reads past its
//! slice: every length and offset taken from the wire is checked first.

/// Why received bytes could not be parsed; `what` names the structure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{what}: truncated, {needed} bytes needed, {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    #[error("{what}: {problem}")]
    Invalid { what: &'static str, problem: String },
}

impl ParseError {
    pub fn invalid(what: &'static str, problem: impl Into<String>) -> ParseError {
        ParseError::Invalid {
            what,
            problem: problem.into(),
        }
    }
}

/// Reads a byte slice front to back; each number says its byte order.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `what` names the structure in errors.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader {
            bytes,
            position: 0,
            what,
        }
    }

    pub fn position(&self) -> usize {
        self.position
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// What is left, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.position..).unwrap_or_default()
    }

    /// The next `count` bytes.
    pub fn take(&mut self, count: usize) -> Result<&'a [u8], ParseError> {
        let end = self
            .position
            .checked_add(count)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(ParseError::Truncated {
                what: self.what,
                needed: count,
                available: self.remaining(),
            })?;
        let slice = self.bytes.get(self.position..end).unwrap_or_default();
        self.position = end;
        Ok(slice)
    }

    pub fn skip(&mut self, count: usize) -> Result<(), ParseError> {
        self.take(count).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16_le(&mut self) -> Result<u16, ParseError> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn u16_be(&mut self) -> Result<u16, ParseError> {
        self.array().map(u16::from_be_bytes)
    }

    pub fn u32_le(&mut self) -> Result<u32, ParseError> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn u32_be(&mut self) -> Result<u32, ParseError> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn i32_be(&mut self) -> Result<i32, ParseError> {
        self.array().map(i32::from_be_bytes)
    }

    pub fn i32_le(&mut self) -> Result<i32, ParseError> {
        self.array().map(i32::from_le_bytes)
    }

    pub fn i64_le(&mut self) -> Result<i64, ParseError> {
        self.array().map(i64::from_le_bytes)
    }

    /// Bytes up to a NUL, which is consumed but not returned.
    pub fn cstr(&mut self) -> Result<&'a [u8], ParseError> {
        let end = self
            .rest()
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.invalid("string without its final NUL"))?;
        let text = self.take(end)?;
        self.take(1)?;
        Ok(text)
    }

    pub fn invalid(&self, problem: impl Into<String>) -> ParseError {
        ParseError::invalid(self.what, problem)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// `bytes[offset..offset + len]`, or an error naming `what`: lengths and
/// offsets inside a message come from the wire.
pub fn slice_at<'a>(
    bytes: &'a [u8],
    offset: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], ParseError> {
    offset
        .checked_add(len)
        .and_then(|end| bytes.get(offset..end))
        .ok_or(ParseError::Truncated {
            what,
            needed: offset.saturating_add(len),
            available: bytes.len(),
        })
}

/// UTF-16LE text as sent by Windows, up to the first NUL; an odd trailing
/// byte is ignored and invalid code units are replaced.
pub fn utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .take_while(|unit| *unit != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// A short printable extract of received text for a service banner:
/// control characters become spaces, at most `max` characters.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_order_and_refuses_to_overrun() {
        let mut reader = Reader::new(&[1, 2, 0, 3, 0, 0, 0, 9], "test");
        assert_eq!(reader.u8().unwrap(), 1);
        assert_eq!(reader.u16_le().unwrap(), 2);
        assert_eq!(reader.u32_le().unwrap(), 3);
        assert_eq!(reader.remaining(), 1);
        assert!(matches!(
            reader.u16_be(),
            Err(ParseError::Truncated { needed: 2, .. })
        ));
        assert_eq!(reader.take(1).unwrap(), &[9]);
        assert!(reader.take(usize::MAX).is_err());
    }

    #[test]
    fn strings_and_signed_numbers() {
        let mut reader = Reader::new(&[b'a', 0, 0xff, 0xff, 0xff, 0xfe, 9], "test");
        assert_eq!(reader.cstr().unwrap(), b"a");
        assert_eq!(reader.i32_be().unwrap(), -2);
        assert_eq!(reader.rest(), &[9]);
        assert!(reader.cstr().is_err());
        assert!(!reader.is_empty());
        assert!(matches!(
            reader.u32_be(),
            Err(ParseError::Truncated {
                needed: 4,
                available: 1,
                ..
            })
        ));
    }

    #[test]
    fn slices_checked_against_overflow() {
        assert_eq!(slice_at(b"abcdef", 2, 3, "t").unwrap(), b"cde");
        assert!(slice_at(b"abc", 2, 3, "t").is_err());
        assert!(slice_at(b"abc", usize::MAX, 2, "t").is_err());
    }

    #[test]
    fn text_helpers() {
        assert_eq!(utf16le(b"M\0A\0I\0\0\0X\0"), "MAI");
        assert_eq!(utf16le(b"A\0B"), "A");
        assert_eq!(
            printable(b"220 (vsFTPd 3.0.3)\r\n", 80),
            "220 (vsFTPd 3.0.3)"
        );
        assert_eq!(printable(b"abcdef", 3), "abc");
    }
}
