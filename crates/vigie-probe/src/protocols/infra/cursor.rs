//! The infra family's parsers read with the crate's bounds-checked reader
//! (named `Cursor` here); its banners keep their own printable extract.

pub use crate::bytes::{ParseError, Reader as Cursor};

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
    fn printable_drops_control_characters() {
        assert_eq!(printable(b"220 mail\r\n\x00x", 80), "220 mailx");
        assert_eq!(printable("éééé".as_bytes(), 2), "éé");
    }
}
