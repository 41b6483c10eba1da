//! A bounds-checked reader over received bytes, shared by the family's
//! parsers, and their error type. It never panics and never reads past the
//! slice: every length taken from the wire is checked before it is used.

/// Why received bytes could not be parsed; `what` names the structure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{what}: truncated, {needed} more bytes needed, {available} left")]
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

/// Reads a byte slice front to back.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `bytes`; `what` names the structure in errors.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Cursor<'a> {
        Cursor { bytes, what }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// What is left, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn take(&mut self, count: usize) -> Result<&'a [u8], ParseError> {
        if count > self.bytes.len() {
            return Err(ParseError::Truncated {
                what: self.what,
                needed: count,
                available: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(count);
        self.bytes = tail;
        Ok(head)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16_be(&mut self) -> Result<u16, ParseError> {
        self.array().map(u16::from_be_bytes)
    }

    pub fn u16_le(&mut self) -> Result<u16, ParseError> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn u32_be(&mut self) -> Result<u32, ParseError> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn u32_le(&mut self) -> Result<u32, ParseError> {
        self.array().map(u32::from_le_bytes)
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
            .bytes
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| ParseError::invalid(self.what, "string without its final NUL"))?;
        let text = self.take(end)?;
        self.take(1)?;
        Ok(text)
    }

    pub fn invalid(&self, problem: impl Into<String>) -> ParseError {
        ParseError::invalid(self.what, problem)
    }
}

/// A printable extract of received text for a banner or evidence: control
/// characters dropped, at most `max` characters.
pub fn printable(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_within_bounds_only() {
        let mut cursor = Cursor::new(&[1, 0, 2, b'a', 0, 9], "test");
        assert_eq!(cursor.u16_le().unwrap(), 1);
        assert_eq!(cursor.u8().unwrap(), 2);
        assert_eq!(cursor.cstr().unwrap(), b"a");
        assert!(matches!(
            cursor.u32_be(),
            Err(ParseError::Truncated {
                needed: 4,
                available: 1,
                ..
            })
        ));
        assert!(cursor.cstr().is_err());
        assert_eq!(cursor.remaining(), 1);
    }

    #[test]
    fn printable_drops_control_characters() {
        assert_eq!(printable(b"220 mail\r\n\x00x", 80), "220 mailx");
        assert_eq!(printable("éééé".as_bytes(), 2), "éé");
    }
}
