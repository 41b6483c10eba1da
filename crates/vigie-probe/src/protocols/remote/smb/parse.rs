//! Parsers of the SMB answers the checks read: SMB1 NEGOTIATE ([MS-CIFS]
//! §2.2.4.52.2, [MS-SMB] §2.2.4.5.2) and SESSION_SETUP_ANDX ([MS-SMB]
//! §2.2.4.6.2) responses, SMB2 NEGOTIATE ([MS-SMB2] §2.2.4) and
//! SESSION_SETUP (§2.2.6) responses. Each takes one message without its
//! 4-byte transport header. Pure; never panics.

use crate::protocols::remote::wire::{ParseError, Reader, slice_at, utf16le};

/// STATUS_MORE_PROCESSING_REQUIRED: the server sent its challenge.
pub const STATUS_MORE_PROCESSING_REQUIRED: u32 = 0xC000_0016;

/// SMB1 SecurityMode bit: signatures required ([MS-CIFS] §2.2.4.52.2).
const SMB1_SIGNATURES_REQUIRED: u8 = 0x08;
/// SMB1 capability: extended security ([MS-SMB] §2.2.4.5.2).
const CAP_EXTENDED_SECURITY: u32 = 0x8000_0000;
/// SMB1 Flags2: strings are Unicode.
const FLAGS2_UNICODE: u16 = 0x8000;
/// SMB2 SecurityMode bit: SMB2_NEGOTIATE_SIGNING_REQUIRED.
const SMB2_SIGNING_REQUIRED: u16 = 0x0002;

/// The SMB1 NEGOTIATE response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smb1Negotiate {
    /// The index of the dialect chosen in our list; `None` when the server
    /// chose none (0xFFFF).
    pub dialect_index: Option<u16>,
    pub signing_required: bool,
    pub extended_security: bool,
    /// The domain and server names of a non-extended answer.
    pub domain: Option<String>,
    pub server: Option<String>,
}

/// The SMB1 SESSION_SETUP_ANDX response to an NTLMSSP NEGOTIATE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smb1SessionSetup {
    pub status: u32,
    pub security_blob: Vec<u8>,
    /// `Windows 5.1`, `Windows Server 2003 3790 Service Pack 2`,
    /// `Windows 6.1` (Samba).
    pub native_os: Option<String>,
    /// `Windows 2000 LAN Manager`, `Samba 4.17.12-Debian`.
    pub native_lanman: Option<String>,
}

/// The SMB2 NEGOTIATE response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smb2Negotiate {
    /// 0x0202, 0x0210, 0x0300, 0x0302, 0x0311.
    pub dialect: u16,
    pub signing_required: bool,
    pub server_guid: [u8; 16],
    pub security_blob: Vec<u8>,
}

/// The SMB2 SESSION_SETUP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smb2SessionSetup {
    pub status: u32,
    pub security_blob: Vec<u8>,
}

/// `3.1.1` for 0x0311.
pub fn dialect_name(dialect: u16) -> String {
    match dialect {
        0x0202 => "2.0.2".to_owned(),
        0x0210 => "2.1".to_owned(),
        0x0300 => "3.0".to_owned(),
        0x0302 => "3.0.2".to_owned(),
        0x0311 => "3.1.1".to_owned(),
        other => format!("{other:#06x}"),
    }
}

pub fn parse_smb1_negotiate(message: &[u8]) -> Result<Smb1Negotiate, ParseError> {
    let (header, mut body) = smb1_header(message, 0x72, "SMB1 NEGOTIATE response")?;
    if header.status != 0 {
        return Err(status_error("SMB1 NEGOTIATE response", header.status));
    }
    let word_count = body.u8()?;
    let dialect = body.u16_le()?;
    if dialect == 0xFFFF || word_count < 17 {
        return Ok(Smb1Negotiate {
            dialect_index: (dialect != 0xFFFF).then_some(dialect),
            signing_required: false,
            extended_security: false,
            domain: None,
            server: None,
        });
    }
    let security_mode = body.u8()?;
    // MaxMpxCount, MaxNumberVcs, MaxBufferSize, MaxRawSize, SessionKey.
    body.skip(2 + 2 + 4 + 4 + 4)?;
    let capabilities = body.u32_le()?;
    // SystemTime, ServerTimeZone.
    body.skip(8 + 2)?;
    let challenge_length = usize::from(body.u8()?);
    let byte_count = usize::from(body.u16_le()?);
    let bytes = body.take(byte_count.min(body.remaining()))?;
    let extended_security = capabilities & CAP_EXTENDED_SECURITY != 0;
    let (domain, server) = if extended_security {
        (None, None)
    } else {
        names_after_challenge(bytes, challenge_length, header.unicode)
    };
    Ok(Smb1Negotiate {
        dialect_index: Some(dialect),
        signing_required: security_mode & SMB1_SIGNATURES_REQUIRED != 0,
        extended_security,
        domain,
        server,
    })
}

pub fn parse_smb1_session_setup(message: &[u8]) -> Result<Smb1SessionSetup, ParseError> {
    let what = "SMB1 SESSION_SETUP_ANDX response";
    let (header, mut body) = smb1_header(message, 0x73, what)?;
    if header.status != 0 && header.status != STATUS_MORE_PROCESSING_REQUIRED {
        return Err(status_error(what, header.status));
    }
    let word_count = body.u8()?;
    if word_count != 4 {
        return Err(ParseError::invalid(
            what,
            format!("WordCount {word_count}, expected 4"),
        ));
    }
    // AndXCommand, AndXReserved, AndXOffset, Action.
    body.skip(6)?;
    let blob_length = usize::from(body.u16_le()?);
    let byte_count = usize::from(body.u16_le()?);
    let bytes_start = body.position();
    let bytes = body.take(byte_count.min(body.remaining()))?;
    let security_blob = slice_at(bytes, 0, blob_length, what)?.to_vec();
    let mut strings = bytes.get(blob_length..).unwrap_or_default();
    // Unicode strings are aligned on two bytes from the header's start.
    if header.unicode && (bytes_start + blob_length) % 2 == 1 {
        strings = strings.get(1..).unwrap_or_default();
    }
    let mut texts = split_strings(strings, header.unicode).into_iter();
    Ok(Smb1SessionSetup {
        status: header.status,
        security_blob,
        native_os: texts.next().filter(|s| !s.is_empty()),
        native_lanman: texts.next().filter(|s| !s.is_empty()),
    })
}

pub fn parse_smb2_negotiate(message: &[u8]) -> Result<Smb2Negotiate, ParseError> {
    let what = "SMB2 NEGOTIATE response";
    let (status, mut body) = smb2_header(message, 0x0000, what)?;
    if status != 0 {
        return Err(status_error(what, status));
    }
    let structure_size = body.u16_le()?;
    if structure_size != 65 {
        return Err(ParseError::invalid(
            what,
            format!("StructureSize {structure_size}"),
        ));
    }
    let security_mode = body.u16_le()?;
    let dialect = body.u16_le()?;
    body.skip(2)?; // NegotiateContextCount
    let server_guid = body.array::<16>()?;
    // Capabilities, MaxTransactSize, MaxReadSize, MaxWriteSize,
    // SystemTime, ServerStartTime.
    body.skip(4 + 4 + 4 + 4 + 8 + 8)?;
    let offset = usize::from(body.u16_le()?);
    let length = usize::from(body.u16_le()?);
    // Offsets count from the start of the SMB2 header.
    let security_blob = if length == 0 {
        Vec::new()
    } else {
        slice_at(message, offset, length, what)?.to_vec()
    };
    Ok(Smb2Negotiate {
        dialect,
        signing_required: security_mode & SMB2_SIGNING_REQUIRED != 0,
        server_guid,
        security_blob,
    })
}

pub fn parse_smb2_session_setup(message: &[u8]) -> Result<Smb2SessionSetup, ParseError> {
    let what = "SMB2 SESSION_SETUP response";
    let (status, mut body) = smb2_header(message, 0x0001, what)?;
    if status != 0 && status != STATUS_MORE_PROCESSING_REQUIRED {
        return Err(status_error(what, status));
    }
    let structure_size = body.u16_le()?;
    if structure_size != 9 {
        return Err(ParseError::invalid(
            what,
            format!("StructureSize {structure_size}"),
        ));
    }
    body.skip(2)?; // SessionFlags
    let offset = usize::from(body.u16_le()?);
    let length = usize::from(body.u16_le()?);
    Ok(Smb2SessionSetup {
        status,
        security_blob: slice_at(message, offset, length, what)?.to_vec(),
    })
}

struct Smb1Header {
    status: u32,
    unicode: bool,
}

/// Checks the 32-byte SMB1 header and returns it with a reader on the
/// parameters and data that follow.
fn smb1_header<'a>(
    message: &'a [u8],
    command: u8,
    what: &'static str,
) -> Result<(Smb1Header, Reader<'a>), ParseError> {
    let mut reader = Reader::new(message, what);
    let protocol = reader.array::<4>()?;
    if &protocol != b"\xffSMB" {
        return Err(ParseError::invalid(what, "not an SMB1 message"));
    }
    let found = reader.u8()?;
    if found != command {
        return Err(ParseError::invalid(what, format!("command {found:#04x}")));
    }
    let status = reader.u32_le()?;
    reader.skip(1)?; // Flags
    let flags2 = reader.u16_le()?;
    // PIDHigh, SecurityFeatures, Reserved, TID, PIDLow, UID, MID.
    reader.skip(2 + 8 + 2 + 2 + 2 + 2 + 2)?;
    let header = Smb1Header {
        status,
        unicode: flags2 & FLAGS2_UNICODE != 0,
    };
    Ok((header, reader))
}

/// Checks the 64-byte SMB2 header; returns the status and a reader on
/// the body.
fn smb2_header<'a>(
    message: &'a [u8],
    command: u16,
    what: &'static str,
) -> Result<(u32, Reader<'a>), ParseError> {
    let mut reader = Reader::new(message, what);
    if &reader.array::<4>()? != b"\xfeSMB" {
        return Err(ParseError::invalid(what, "not an SMB2 message"));
    }
    reader.skip(4)?; // StructureSize, CreditCharge
    let status = reader.u32_le()?;
    let found = reader.u16_le()?;
    if found != command {
        return Err(ParseError::invalid(what, format!("command {found:#06x}")));
    }
    reader.skip(64 - 14)?;
    Ok((status, reader))
}

fn status_error(what: &'static str, status: u32) -> ParseError {
    ParseError::invalid(what, format!("status {status:#010x}"))
}

/// DomainName then ServerName after the challenge of a non-extended
/// NEGOTIATE response ([MS-CIFS] §2.2.4.52.2); Samba sends them aligned.
fn names_after_challenge(
    bytes: &[u8],
    challenge_length: usize,
    unicode: bool,
) -> (Option<String>, Option<String>) {
    let rest = bytes.get(challenge_length..).unwrap_or_default();
    let mut names = split_strings(rest, unicode)
        .into_iter()
        .map(|name| (!name.is_empty()).then_some(name));
    (names.next().flatten(), names.next().flatten())
}

/// The first few NUL-terminated strings of `bytes`, UTF-16LE or 8-bit,
/// in order (an empty string keeps its place).
fn split_strings(bytes: &[u8], unicode: bool) -> Vec<String> {
    let mut strings = Vec::new();
    if unicode {
        let units: Vec<&[u8]> = bytes.chunks_exact(2).collect();
        for part in units.split(|unit| *unit == [0, 0]) {
            strings.push(utf16le(&part.concat()));
        }
    } else {
        for part in bytes.split(|b| *b == 0) {
            strings.push(String::from_utf8_lossy(part).into_owned());
        }
    }
    // The split leaves an empty piece after the last terminator.
    while strings.last().is_some_and(String::is_empty) {
        strings.pop();
    }
    strings.truncate(4);
    strings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::remote::smb::ntlm::parse_challenge_in;

    // Recorded from Samba 4.17.12 (Debian 12), `server min protocol = NT1`,
    // answering the requests of `packet`.
    const SMB1_NEGOTIATE: &[u8] =
        include_bytes!("../../../../tests/probe/remote/data/samba417_smb1_negotiate.bin");
    const SMB1_SESSION_SETUP: &[u8] =
        include_bytes!("../../../../tests/probe/remote/data/samba417_smb1_session_setup.bin");
    const SMB2_NEGOTIATE: &[u8] =
        include_bytes!("../../../../tests/probe/remote/data/samba417_smb2_negotiate.bin");
    const SMB2_SESSION_SETUP: &[u8] =
        include_bytes!("../../../../tests/probe/remote/data/samba417_smb2_session_setup.bin");

    #[test]
    fn samba_smb2() {
        let negotiate = parse_smb2_negotiate(SMB2_NEGOTIATE).unwrap();
        assert_eq!(negotiate.dialect, 0x0311);
        assert_eq!(dialect_name(negotiate.dialect), "3.1.1");
        assert!(!negotiate.signing_required);
        assert!(!negotiate.security_blob.is_empty());
        let setup = parse_smb2_session_setup(SMB2_SESSION_SETUP).unwrap();
        assert_eq!(setup.status, STATUS_MORE_PROCESSING_REQUIRED);
        let challenge = parse_challenge_in(&setup.security_blob).unwrap();
        assert_eq!(challenge.netbios_computer.as_deref(), Some("SECRETARIAT"));
        // Samba puts build 0 in the version: not a Windows build.
        assert_eq!(challenge.version.map(|v| v.build), Some(0));
    }

    #[test]
    fn samba_smb1() {
        let negotiate = parse_smb1_negotiate(SMB1_NEGOTIATE).unwrap();
        assert_eq!(negotiate.dialect_index, Some(0));
        assert!(negotiate.extended_security);
        assert!(!negotiate.signing_required);
        let setup = parse_smb1_session_setup(SMB1_SESSION_SETUP).unwrap();
        assert_eq!(setup.status, STATUS_MORE_PROCESSING_REQUIRED);
        assert_eq!(setup.native_os.as_deref(), Some("Windows 6.1"));
        assert_eq!(setup.native_lanman.as_deref(), Some("Samba 4.17.12-Debian"));
        assert!(parse_challenge_in(&setup.security_blob).is_ok());
    }

    #[test]
    fn no_dialect_chosen_and_errors() {
        // WordCount 1, DialectIndex 0xFFFF ([MS-CIFS] §2.2.4.52.2).
        let mut refused = SMB1_NEGOTIATE[..32].to_vec();
        refused.extend_from_slice(&[1, 0xff, 0xff, 0, 0]);
        assert_eq!(parse_smb1_negotiate(&refused).unwrap().dialect_index, None);
        // STATUS_NOT_SUPPORTED in the header.
        let mut failed = SMB2_NEGOTIATE.to_vec();
        failed[8..12].copy_from_slice(&0xC000_00BBu32.to_le_bytes());
        assert!(parse_smb2_negotiate(&failed).is_err());
        assert!(parse_smb2_negotiate(SMB1_NEGOTIATE).is_err());
        assert!(parse_smb1_negotiate(SMB2_NEGOTIATE).is_err());
        assert!(parse_smb2_session_setup(SMB2_NEGOTIATE).is_err());
    }

    #[test]
    fn every_truncation_is_handled() {
        for recorded in [
            SMB1_NEGOTIATE,
            SMB1_SESSION_SETUP,
            SMB2_NEGOTIATE,
            SMB2_SESSION_SETUP,
        ] {
            for cut in 0..recorded.len() {
                let part = &recorded[..cut];
                let _ = parse_smb1_negotiate(part);
                let _ = parse_smb1_session_setup(part);
                let _ = parse_smb2_negotiate(part);
                let _ = parse_smb2_session_setup(part);
            }
        }
        assert!(parse_smb2_negotiate(&SMB2_NEGOTIATE[..100]).is_err());
        assert!(parse_smb2_session_setup(&SMB2_SESSION_SETUP[..100]).is_err());
    }
}
