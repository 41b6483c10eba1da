//! A bounds-checked reader over received bytes and the parse error of the
//! remote family's parsers. It never panics and never reads past its
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

/// Reads a byte slice front to back, little-endian unless said otherwise.
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
