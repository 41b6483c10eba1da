//! The requests the SMB checks send, built byte by byte: the NetBIOS
//! session request (port 139), SMB1 NEGOTIATE and SESSION_SETUP_ANDX,
//! SMB2 NEGOTIATE and SESSION_SETUP, and the NTLMSSP NEGOTIATE message in
//! its SPNEGO wrapping. None of them carries a credential.

/// SMB1 command codes ([MS-CIFS] §2.2.2.1).
pub const SMB1_NEGOTIATE: u8 = 0x72;
pub const SMB1_SESSION_SETUP_ANDX: u8 = 0x73;

/// SMB2 command codes ([MS-SMB2] §2.2.1).
pub const SMB2_NEGOTIATE: u16 = 0x0000;
pub const SMB2_SESSION_SETUP: u16 = 0x0001;

/// The only SMB1 dialect the check offers: the one every SMB1 server
/// speaks ([MS-CIFS] §2.2.4.52).
pub const NT_LM_DIALECT: &str = "NT LM 0.12";

/// SMB 2.0.2 to 3.1.1 ([MS-SMB2] §2.2.3).
pub const SMB2_DIALECTS: [u16; 5] = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

/// SMB1 Flags2 ([MS-CIFS] §2.2.3.1): Unicode, NT status codes, extended
/// security (so the server answers with an NTLMSSP challenge), long names.
const SMB1_FLAGS2: u16 = 0x8000 | 0x4000 | 0x0800 | 0x0001;

/// NTLMSSP NEGOTIATE flags ([MS-NLMP] §2.2.2.5): Unicode, OEM, request
/// target, NTLM, always sign, extended session security, target info,
/// version, 128-bit, key exchange, 56-bit. Target info and version make
/// the server tell its names and build.
const NTLM_NEGOTIATE_FLAGS: u32 = 0xE288_8207;

/// The RFC 1002 §4.3.2 session request, calling the generic name
/// `*SMBSERVER` that Windows and Samba both accept.
pub fn netbios_session_request() -> Vec<u8> {
    let called = netbios_name(b"*SMBSERVER", 0x20);
    let calling = netbios_name(b"VIGIE", 0x00);
    let mut request = vec![0x81, 0x00];
    request.extend_from_slice(&((called.len() + calling.len()) as u16).to_be_bytes());
    request.extend_from_slice(&called);
    request.extend_from_slice(&calling);
    request
}

/// SMB1 NEGOTIATE offering `NT LM 0.12` only.
pub fn smb1_negotiate() -> Vec<u8> {
    let mut bytes = vec![0x02];
    bytes.extend_from_slice(NT_LM_DIALECT.as_bytes());
    bytes.push(0);
    let mut message = smb1_header(SMB1_NEGOTIATE, 0);
    message.push(0); // WordCount
    message.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    message.extend_from_slice(&bytes);
    frame(&message)
}

/// SMB1 SESSION_SETUP_ANDX with extended security ([MS-SMB] §2.2.4.6.1)
/// carrying the NTLMSSP NEGOTIATE: the server answers with its challenge
/// and its NativeOS and NativeLanMan strings; no credential is sent.
pub fn smb1_session_setup() -> Vec<u8> {
    let blob = spnego_negotiate();
    let mut message = smb1_header(SMB1_SESSION_SETUP_ANDX, 1);
    message.push(12); // WordCount
    message.extend_from_slice(&[0xFF, 0, 0, 0]); // no AndX command, offset 0
    message.extend_from_slice(&4356u16.to_le_bytes()); // MaxBufferSize
    message.extend_from_slice(&1u16.to_le_bytes()); // MaxMpxCount
    message.extend_from_slice(&0u16.to_le_bytes()); // VcNumber
    message.extend_from_slice(&0u32.to_le_bytes()); // SessionKey
    message.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    message.extend_from_slice(&0u32.to_le_bytes()); // Reserved
    // CAP_EXTENDED_SECURITY, CAP_STATUS32, CAP_NT_SMBS, CAP_UNICODE.
    message.extend_from_slice(&0x8000_0054u32.to_le_bytes());
    let mut bytes = blob;
    // NativeOS and NativeLanMan, empty Unicode strings aligned on two
    // bytes from the header's start.
    if (message.len() + 2 + bytes.len()) % 2 == 1 {
        bytes.push(0);
    }
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    message.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    message.extend_from_slice(&bytes);
    frame(&message)
}

/// SMB2 NEGOTIATE offering 2.0.2 to 3.1.1, with the negotiate contexts
/// 3.1.1 requires ([MS-SMB2] §2.2.3.1): SHA-512 pre-authentication
/// integrity and the AES ciphers.
pub fn smb2_negotiate(client_guid: [u8; 16], salt: [u8; 32]) -> Vec<u8> {
    let mut message = smb2_header(SMB2_NEGOTIATE, 0);
    // The contexts start 8-byte aligned after the 64-byte header, the
    // 36-byte body and the dialects.
    let dialects_end = 64 + 36 + 2 * SMB2_DIALECTS.len();
    let contexts_offset = dialects_end.next_multiple_of(8);
    message.extend_from_slice(&36u16.to_le_bytes()); // StructureSize
    message.extend_from_slice(&(SMB2_DIALECTS.len() as u16).to_le_bytes());
    message.extend_from_slice(&1u16.to_le_bytes()); // signing enabled
    message.extend_from_slice(&0u16.to_le_bytes()); // Reserved
    message.extend_from_slice(&0u32.to_le_bytes()); // Capabilities
    message.extend_from_slice(&client_guid);
    message.extend_from_slice(&(contexts_offset as u32).to_le_bytes());
    message.extend_from_slice(&2u16.to_le_bytes()); // NegotiateContextCount
    message.extend_from_slice(&0u16.to_le_bytes()); // Reserved2
    for dialect in SMB2_DIALECTS {
        message.extend_from_slice(&dialect.to_le_bytes());
    }
    message.resize(contexts_offset, 0);
    // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: one algorithm (SHA-512), salt.
    let mut preauth = vec![1, 0, 32, 0, 1, 0];
    preauth.extend_from_slice(&salt);
    push_context(&mut message, 0x0001, &preauth);
    message.resize(message.len().next_multiple_of(8), 0);
    // SMB2_ENCRYPTION_CAPABILITIES: AES-128-GCM, AES-128-CCM.
    push_context(&mut message, 0x0002, &[2, 0, 2, 0, 1, 0]);
    frame(&message)
}

/// SMB2 SESSION_SETUP ([MS-SMB2] §2.2.5) carrying the NTLMSSP NEGOTIATE.
pub fn smb2_session_setup() -> Vec<u8> {
    let blob = spnego_negotiate();
    let mut message = smb2_header(SMB2_SESSION_SETUP, 1);
    message.extend_from_slice(&25u16.to_le_bytes()); // StructureSize
    message.push(0); // Flags
    message.push(1); // SecurityMode: signing enabled
    message.extend_from_slice(&0u32.to_le_bytes()); // Capabilities
    message.extend_from_slice(&0u32.to_le_bytes()); // Channel
    message.extend_from_slice(&(64u16 + 24).to_le_bytes()); // SecurityBufferOffset
    message.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    message.extend_from_slice(&0u64.to_le_bytes()); // PreviousSessionId
    message.extend_from_slice(&blob);
    frame(&message)
}

/// The NTLMSSP NEGOTIATE message ([MS-NLMP] §2.2.1.1): no domain, no
/// workstation, a version field.
pub fn ntlm_negotiate() -> Vec<u8> {
    let mut message = b"NTLMSSP\0".to_vec();
    message.extend_from_slice(&1u32.to_le_bytes());
    message.extend_from_slice(&NTLM_NEGOTIATE_FLAGS.to_le_bytes());
    message.extend_from_slice(&[0; 16]); // DomainNameFields, WorkstationFields
    // Version: 10.0, build 0, NTLMSSP_REVISION_W2K3.
    message.extend_from_slice(&[10, 0, 0, 0, 0, 0, 0, 0x0F]);
    message
}

/// The NTLMSSP NEGOTIATE in a SPNEGO NegTokenInit (RFC 4178 §4.2.1),
/// offering the NTLMSSP mechanism only.
pub fn spnego_negotiate() -> Vec<u8> {
    const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    const NTLMSSP_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
    let mech_types = der(0xa0, &der(0x30, &der(0x06, NTLMSSP_OID)));
    let mech_token = der(0xa2, &der(0x04, &ntlm_negotiate()));
    let init = der(0xa0, &der(0x30, &[mech_types, mech_token].concat()));
    der(0x60, &[der(0x06, SPNEGO_OID), init].concat())
}

/// A DER element; the lengths here are ours and small.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        len @ 0..=0x7f => out.push(len as u8),
        len @ 0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        len => {
            out.push(0x82);
            out.extend_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(content);
    out
}

/// The 4-byte Direct TCP / NetBIOS session message header ([MS-SMB2]
/// §2.1): a zero then the 24-bit length.
fn frame(message: &[u8]) -> Vec<u8> {
    let length = (message.len() as u32).to_be_bytes();
    let mut framed = vec![0, length[1], length[2], length[3]];
    framed.extend_from_slice(message);
    framed
}

/// The 32-byte SMB1 header ([MS-CIFS] §2.2.3.1).
fn smb1_header(command: u8, mid: u16) -> Vec<u8> {
    let mut header = b"\xffSMB".to_vec();
    header.push(command);
    header.extend_from_slice(&[0; 4]); // Status
    header.push(0x18); // Flags: case-insensitive, canonicalised paths
    header.extend_from_slice(&SMB1_FLAGS2.to_le_bytes());
    header.extend_from_slice(&[0; 12]); // PIDHigh, SecurityFeatures, Reserved
    header.extend_from_slice(&0u16.to_le_bytes()); // TID
    header.extend_from_slice(&0xFEFFu16.to_le_bytes()); // PIDLow
    header.extend_from_slice(&0u16.to_le_bytes()); // UID
    header.extend_from_slice(&mid.to_le_bytes());
    header
}

/// The 64-byte SMB2 sync header ([MS-SMB2] §2.2.1.2).
fn smb2_header(command: u16, message_id: u64) -> Vec<u8> {
    let mut header = b"\xfeSMB".to_vec();
    header.extend_from_slice(&64u16.to_le_bytes()); // StructureSize
    header.extend_from_slice(&1u16.to_le_bytes()); // CreditCharge
    header.extend_from_slice(&[0; 4]); // Status
    header.extend_from_slice(&command.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes()); // CreditRequest
    header.extend_from_slice(&[0; 8]); // Flags, NextCommand
    header.extend_from_slice(&message_id.to_le_bytes());
    header.extend_from_slice(&0xFEFFu32.to_le_bytes()); // Reserved (process id)
    header.extend_from_slice(&[0; 4]); // TreeId
    header.extend_from_slice(&[0; 8]); // SessionId
    header.extend_from_slice(&[0; 16]); // Signature
    header
}

fn push_context(message: &mut Vec<u8>, kind: u16, data: &[u8]) {
    message.extend_from_slice(&kind.to_le_bytes());
    message.extend_from_slice(&(data.len() as u16).to_le_bytes());
    message.extend_from_slice(&[0; 4]);
    message.extend_from_slice(data);
}

/// RFC 1001 §14.1 first-level encoding: the name padded with spaces to
/// 15 bytes plus its suffix, each nibble as a letter from `A`.
fn netbios_name(name: &[u8], suffix: u8) -> Vec<u8> {
    let mut padded = [b' '; 16];
    for (slot, byte) in padded.iter_mut().zip(name.iter().take(15)) {
        *slot = *byte;
    }
    padded[15] = suffix;
    let mut encoded = vec![32];
    for byte in padded {
        encoded.push(b'A' + (byte >> 4));
        encoded.push(b'A' + (byte & 0x0f));
    }
    encoded.push(0);
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netbios_names_as_rfc_1001() {
        let request = netbios_session_request();
        assert_eq!(&request[..4], &[0x81, 0, 0, 68]);
        // `*SMBSERVER` followed by spaces and 0x20: "CKFDENECFDEFFCFGEFFCCACACACACACA".
        assert_eq!(&request[5..37], b"CKFDENECFDEFFCFGEFFCCACACACACACA");
        assert_eq!(request.len(), 72);
    }

    #[test]
    fn smb1_negotiate_bytes() {
        let request = smb1_negotiate();
        assert_eq!(&request[..4], &[0, 0, 0, 47]);
        assert_eq!(&request[4..9], b"\xffSMBr");
        assert_eq!(&request[request.len() - 12..], b"\x02NT LM 0.12\0");
    }

    #[test]
    fn smb2_negotiate_layout() {
        let request = smb2_negotiate([7; 16], [9; 32]);
        let message = &request[4..];
        assert_eq!(request[1..4], (message.len() as u32).to_be_bytes()[1..]);
        assert_eq!(&message[..4], b"\xfeSMB");
        // Context offset 112 (8-aligned), preauth context there, the
        // encryption context 8-aligned after it.
        assert_eq!(&message[64 + 28..64 + 32], &112u32.to_le_bytes());
        assert_eq!(&message[112..114], &[1, 0]);
        assert_eq!(&message[160..162], &[2, 0]);
        assert_eq!(message.len(), 160 + 8 + 6);
        assert_eq!(&message[100..110], &[2, 2, 0x10, 2, 0, 3, 2, 3, 0x11, 3]);
    }

    #[test]
    fn spnego_wraps_ntlmssp() {
        let blob = spnego_negotiate();
        assert_eq!(blob[0], 0x60);
        assert_eq!(usize::from(blob[1]), blob.len() - 2);
        let at = blob.windows(8).position(|w| w == b"NTLMSSP\0").unwrap();
        assert_eq!(&blob[at..], ntlm_negotiate().as_slice());
        let setup = smb2_session_setup();
        assert_eq!(&setup[4 + 88..], blob.as_slice());
    }

    #[test]
    fn session_setup_strings_aligned() {
        let request = smb1_session_setup();
        let message = &request[4..];
        assert_eq!(message[4], SMB1_SESSION_SETUP_ANDX);
        assert_eq!(message[32], 12);
        let byte_count = u16::from_le_bytes([message[57], message[58]]) as usize;
        assert_eq!(message.len(), 59 + byte_count);
    }
}
