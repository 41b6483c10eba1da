//! TLS ClientHello decoding (RFC 8446 §4.1.2, same layout in TLS 1.0–1.2)
//! down to the `server_name` extension (RFC 6066 §3), from the first record
//! of a TCP segment.
//!
//! It must not allocate, panic on any input, or reassemble records: only
//! the first record of the segment is read. A ClientHello cut by the end of
//! the capture still yields its server name if the extension is complete.
//! The name is returned as sent (not lowercased, not validated).

/// Largest TLSPlaintext fragment (RFC 8446 §5.1, RFC 5246 §6.2.1).
pub const MAX_RECORD_LEN: usize = 1 << 14;

const RECORD_HEADER_LEN: usize = 5;
/// ContentType handshake (RFC 8446 §5.1).
const CONTENT_HANDSHAKE: u8 = 22;
/// HandshakeType client_hello (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
/// ExtensionType server_name (RFC 6066 §3).
const EXT_SERVER_NAME: u16 = 0;
/// NameType host_name (RFC 6066 §3).
const HOST_NAME: u8 = 0;
/// Length of ClientHello.random.
const RANDOM_LEN: usize = 32;
/// legacy_session_id is at most 32 bytes (RFC 8446 §4.1.2).
const MAX_SESSION_ID_LEN: usize = 32;

/// Why a payload did not yield a ClientHello's server name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("not a TLS handshake record")]
    NotHandshake,
    #[error("TLS handshake message of type {0} is not a ClientHello")]
    NotClientHello(u8),
    #[error("TLS ClientHello truncated in the {0}")]
    Truncated(&'static str),
    #[error("malformed TLS ClientHello: the {0} overruns its enclosing length")]
    Overrun(&'static str),
    #[error("malformed TLS ClientHello: {0}")]
    Malformed(&'static str),
}

/// Cheap first check: a handshake record of version 3.x whose first
/// message is a ClientHello.
pub fn looks_like_client_hello(payload: &[u8]) -> bool {
    matches!(
        payload,
        [CONTENT_HANDSHAKE, 3, minor, _, _, CLIENT_HELLO, ..] if *minor <= 4
    )
}

/// The `host_name` of the ClientHello's `server_name` extension:
/// `Ok(None)` when the ClientHello has none, which is known as soon as the
/// last extension header has been read, even if its data was not captured.
/// `Err(Truncated)` when the capture stops before the answer is known.
pub fn client_hello_sni(payload: &[u8]) -> Result<Option<&[u8]>, TlsError> {
    let Some((header, fragment)) = payload.split_first_chunk::<RECORD_HEADER_LEN>() else {
        return Err(
            if payload.first().is_some_and(|&b| b != CONTENT_HANDSHAKE) {
                TlsError::NotHandshake
            } else {
                TlsError::Truncated("record header")
            },
        );
    };
    let [content_type, major, minor, len_hi, len_lo] = *header;
    // Minor 0 to 4 covers SSL 3.0 to TLS 1.3 record versions.
    if content_type != CONTENT_HANDSHAKE || major != 3 || minor > 4 {
        return Err(TlsError::NotHandshake);
    }
    let record_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if record_len > MAX_RECORD_LEN {
        return Err(TlsError::Malformed("record longer than 2^14 bytes"));
    }
    let mut record = Cursor::new(fragment, record_len);
    let msg_type = record.u8("handshake header")?;
    if msg_type != CLIENT_HELLO {
        return Err(TlsError::NotClientHello(msg_type));
    }
    let hello_len = record.u24("handshake header")?;
    // The ClientHello may continue in the next records (RFC 8446 §5.1), so
    // its length is not bounded by this record's: read what this one holds.
    let hello = Cursor::new(record.rest(), hello_len);
    server_name(hello)
}

/// Walks the ClientHello body (RFC 8446 §4.1.2) to its extensions.
fn server_name(mut hello: Cursor<'_>) -> Result<Option<&[u8]>, TlsError> {
    hello.take(2, "legacy_version")?;
    hello.take(RANDOM_LEN, "random")?;
    let session_id_len = usize::from(hello.u8("legacy_session_id")?);
    if session_id_len > MAX_SESSION_ID_LEN {
        return Err(TlsError::Malformed(
            "legacy_session_id longer than 32 bytes",
        ));
    }
    hello.take(session_id_len, "legacy_session_id")?;
    let suites_len = usize::from(hello.u16("cipher_suites")?);
    hello.skip(suites_len, "cipher_suites")?;
    let compression_len = usize::from(hello.u8("compression_methods")?);
    hello.skip(compression_len, "compression_methods")?;
    // TLS 1.2 and earlier allow a ClientHello without extensions
    // (RFC 5246 §7.4.1.2).
    if hello.at_end() {
        return Ok(None);
    }
    let extensions_len = usize::from(hello.u16("extensions")?);
    let mut extensions = hello.sub(extensions_len, "extensions")?;
    while !extensions.at_end() {
        let kind = extensions.u16("extension header")?;
        let len = usize::from(extensions.u16("extension header")?);
        let data = extensions.sub(len, "extension")?;
        if kind == EXT_SERVER_NAME {
            return host_name(data);
        }
    }
    Ok(None)
}

/// The first `host_name` of a ServerNameList (RFC 6066 §3).
fn host_name(mut data: Cursor<'_>) -> Result<Option<&[u8]>, TlsError> {
    let list_len = usize::from(data.u16("server_name list")?);
    let mut list = data.sub(list_len, "server_name list")?;
    while !list.at_end() {
        let name_type = list.u8("server_name entry")?;
        let len = usize::from(list.u16("server_name entry")?);
        let name = list.take(len, "server_name")?;
        if name_type == HOST_NAME {
            if name.is_empty() {
                return Err(TlsError::Malformed("empty host_name"));
            }
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Reads a structure whose declared length (`len`) may exceed the captured
/// bytes (`data`): running past `len` means the message is malformed,
/// running past `data` only that the capture stops there.
struct Cursor<'a> {
    data: &'a [u8],
    len: usize,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(captured: &'a [u8], len: usize) -> Self {
        let data = captured.get(..len).unwrap_or(captured);
        Cursor { data, len, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.len
    }

    /// The captured bytes not read yet.
    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// Moves past `n` bytes that need not have been captured.
    fn skip(&mut self, n: usize, what: &'static str) -> Result<(), TlsError> {
        // pos <= len <= 2^24 and n < 2^16: no overflow.
        let end = self.pos + n;
        if end > self.len {
            return Err(TlsError::Overrun(what));
        }
        self.pos = end;
        Ok(())
    }

    /// The next `n` bytes, which must have been captured.
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TlsError> {
        let start = self.pos;
        self.skip(n, what)?;
        self.data
            .get(start..self.pos)
            .ok_or(TlsError::Truncated(what))
    }

    /// A cursor over the next `n` bytes, possibly not all captured.
    fn sub(&mut self, n: usize, what: &'static str) -> Result<Cursor<'a>, TlsError> {
        let captured = self.rest();
        self.skip(n, what)?;
        Ok(Cursor::new(captured, n))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, TlsError> {
        match *self.take(1, what)? {
            [b] => Ok(b),
            _ => Err(TlsError::Truncated(what)),
        }
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, TlsError> {
        match *self.take(2, what)? {
            [hi, lo] => Ok(u16::from_be_bytes([hi, lo])),
            _ => Err(TlsError::Truncated(what)),
        }
    }

    fn u24(&mut self, what: &'static str) -> Result<usize, TlsError> {
        match *self.take(3, what)? {
            [a, b, c] => Ok(usize::from(u16::from_be_bytes([a, b])) << 8 | usize::from(c)),
            _ => Err(TlsError::Truncated(what)),
        }
    }
}

#[cfg(test)]
mod tests;
