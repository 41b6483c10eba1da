//! The NTLMSSP CHALLENGE message ([MS-NLMP] §2.2.1.2) a server sends in
//! answer to an anonymous NEGOTIATE: its names (target info AV pairs,
//! §2.2.2.1) and its Windows version (§2.2.2.10). Found inside whatever
//! wraps it (SPNEGO) by its signature. Pure; never panics.

use crate::protocols::remote::wire::{ParseError, Reader, slice_at, utf16le};

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
const CHALLENGE_MESSAGE: u32 = 2;
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const NEGOTIATE_VERSION: u32 = 0x0200_0000;

/// A server's identity as told in its challenge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    /// TargetName: the domain, or the server's name outside a domain.
    pub target_name: Option<String>,
    pub netbios_computer: Option<String>,
    pub netbios_domain: Option<String>,
    pub dns_computer: Option<String>,
    pub dns_domain: Option<String>,
    pub dns_forest: Option<String>,
    pub version: Option<NtlmVersion>,
}

/// The Version field: the product's major and minor version and build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NtlmVersion {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
}

/// Finds the NTLMSSP message in a security blob and parses it.
pub fn parse_challenge_in(blob: &[u8]) -> Result<Challenge, ParseError> {
    let start = blob
        .windows(SIGNATURE.len())
        .position(|window| window == SIGNATURE)
        .ok_or_else(|| ParseError::invalid("NTLMSSP challenge", "no NTLMSSP signature"))?;
    parse_challenge(blob.get(start..).unwrap_or_default())
}

/// Parses a CHALLENGE message starting at its signature.
pub fn parse_challenge(message: &[u8]) -> Result<Challenge, ParseError> {
    let what = "NTLMSSP challenge";
    let mut reader = Reader::new(message, what);
    if &reader.array::<8>()? != SIGNATURE {
        return Err(ParseError::invalid(what, "bad signature"));
    }
    let kind = reader.u32_le()?;
    if kind != CHALLENGE_MESSAGE {
        return Err(ParseError::invalid(what, format!("message type {kind}")));
    }
    let target_name_field = field(&mut reader)?;
    let flags = reader.u32_le()?;
    reader.skip(8 + 8)?; // ServerChallenge, Reserved
    let target_info_field = field(&mut reader)?;
    let version = if flags & NEGOTIATE_VERSION != 0 {
        let bytes = reader.array::<8>()?;
        Some(NtlmVersion {
            major: bytes[0],
            minor: bytes[1],
            build: u16::from_le_bytes([bytes[2], bytes[3]]),
        })
    } else {
        None
    };
    let unicode = flags & NEGOTIATE_UNICODE != 0;
    let (offset, length) = target_name_field;
    let target_name = text(slice_at(message, offset, length, what)?, unicode);
    let mut challenge = Challenge {
        target_name,
        version,
        ..Challenge::default()
    };
    let (offset, length) = target_info_field;
    read_av_pairs(slice_at(message, offset, length, what)?, &mut challenge)?;
    Ok(challenge)
}

/// A (length, max length, offset) field: returns (offset, length).
fn field(reader: &mut Reader) -> Result<(usize, usize), ParseError> {
    let length = usize::from(reader.u16_le()?);
    reader.skip(2)?;
    let offset = usize::try_from(reader.u32_le()?).unwrap_or(usize::MAX);
    Ok((offset, length))
}

/// The AV pairs (§2.2.2.1) up to MsvAvEOL; names are UTF-16LE.
fn read_av_pairs(bytes: &[u8], challenge: &mut Challenge) -> Result<(), ParseError> {
    let mut reader = Reader::new(bytes, "NTLMSSP target info");
    while reader.remaining() >= 4 {
        let id = reader.u16_le()?;
        let length = usize::from(reader.u16_le()?);
        let value = reader.take(length)?;
        let name = || text(value, true);
        match id {
            0 => break,
            1 => challenge.netbios_computer = name(),
            2 => challenge.netbios_domain = name(),
            3 => challenge.dns_computer = name(),
            4 => challenge.dns_domain = name(),
            5 => challenge.dns_forest = name(),
            _ => {}
        }
    }
    Ok(())
}

fn text(bytes: &[u8], unicode: bool) -> Option<String> {
    let text = if unicode {
        utf16le(bytes)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    let text: String = text.chars().filter(|c| !c.is_control()).take(256).collect();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CHALLENGE as Windows 7 SP1 sends it, built field by field:
    /// target MAIRIE, computer SECRETARIAT, version 6.1.7601.
    pub(crate) fn windows7_challenge() -> Vec<u8> {
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let target = utf16("MAIRIE");
        let mut info = Vec::new();
        for (id, value) in [
            (2u16, "MAIRIE"),
            (1, "SECRETARIAT"),
            (4, "mairie.local"),
            (3, "secretariat.mairie.local"),
            (5, "mairie.local"),
        ] {
            let value = utf16(value);
            info.extend_from_slice(&id.to_le_bytes());
            info.extend_from_slice(&(value.len() as u16).to_le_bytes());
            info.extend_from_slice(&value);
        }
        info.extend_from_slice(&[0, 0, 0, 0]);
        let mut message = SIGNATURE.to_vec();
        message.extend_from_slice(&2u32.to_le_bytes());
        let target_offset = 56u32;
        message.extend_from_slice(&(target.len() as u16).to_le_bytes());
        message.extend_from_slice(&(target.len() as u16).to_le_bytes());
        message.extend_from_slice(&target_offset.to_le_bytes());
        message.extend_from_slice(&0xE289_8215u32.to_le_bytes());
        message.extend_from_slice(&[0x11; 8]);
        message.extend_from_slice(&[0; 8]);
        let info_offset = target_offset + target.len() as u32;
        message.extend_from_slice(&(info.len() as u16).to_le_bytes());
        message.extend_from_slice(&(info.len() as u16).to_le_bytes());
        message.extend_from_slice(&info_offset.to_le_bytes());
        message.extend_from_slice(&[6, 1, 0xB1, 0x1D, 0, 0, 0, 0x0F]);
        message.extend_from_slice(&target);
        message.extend_from_slice(&info);
        message
    }

    #[test]
    fn names_and_version() {
        let mut blob = vec![0xa1, 0x81, 0x00, 0x04, 0x82];
        blob.extend_from_slice(&windows7_challenge());
        let challenge = parse_challenge_in(&blob).unwrap();
        assert_eq!(challenge.target_name.as_deref(), Some("MAIRIE"));
        assert_eq!(challenge.netbios_computer.as_deref(), Some("SECRETARIAT"));
        assert_eq!(challenge.netbios_domain.as_deref(), Some("MAIRIE"));
        assert_eq!(
            challenge.dns_computer.as_deref(),
            Some("secretariat.mairie.local")
        );
        assert_eq!(challenge.dns_forest.as_deref(), Some("mairie.local"));
        assert_eq!(
            challenge.version,
            Some(NtlmVersion {
                major: 6,
                minor: 1,
                build: 7601
            })
        );
    }

    #[test]
    fn lies_and_truncations_are_errors() {
        let message = windows7_challenge();
        for cut in [10, 30, 50, 60, message.len() - 6] {
            assert!(parse_challenge(&message[..cut]).is_err(), "cut at {cut}");
        }
        let mut wrong = message.clone();
        wrong[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_challenge(&wrong).is_err());
        let mut negotiate = message;
        negotiate[8] = 1;
        assert!(parse_challenge(&negotiate).is_err());
        assert!(parse_challenge_in(b"no signature here").is_err());
    }
}
