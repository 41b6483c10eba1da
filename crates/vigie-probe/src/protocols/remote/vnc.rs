//! VNC (RFB, RFC 6143): reads the server's protocol version, answers with
//! the version both speak, and reads the security types it offers. Type 1
//! (None) means anyone gets the screen, keyboard and mouse. A server that
//! offers only VeNCrypt (TigerVNC's default) lists its sub-types behind
//! it, and TLSNone or X509None there mean the same: encrypted, but open to
//! anyone; so VeNCrypt is chosen just to read that list, as nmap's
//! `vnc-info` does. TightVNC's type Tight likewise lists its
//! authentications, and an empty list or None there means no password.
//!
//! It must not authenticate: the connection is closed as soon as the
//! offer (or VeNCrypt's list) is read, before any authentication, TLS
//! handshake or screen update.

use std::io;

use vigie_core::probe::Service;

use super::conn::Connection;
use super::wire::{ParseError, Reader, printable};
use crate::catalog;
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[5900, 5901, 5902];

/// RFC 6143 §7.1.1: `RFB xxx.yyy\n`.
pub const VERSION_LEN: usize = 12;

/// A failure reason longer than this is not a VNC server's.
pub const MAX_REASON_LEN: usize = 1024;

/// Security type None (RFC 6143 §7.2.1).
pub const SECURITY_NONE: u8 = 1;

/// Security type VeNCrypt (TigerVNC, libvncserver).
pub const SECURITY_VENCRYPT: u8 = 19;

/// Security type Tight (TightVNC), with its own tunnels and
/// authentications behind it.
pub const SECURITY_TIGHT: u8 = 16;

/// Tight's "no tunnel" and "no authentication" codes.
const TIGHT_NO_TUNNEL: u32 = 0;
const TIGHT_AUTH_NONE: u32 = 1;

/// A Tight list longer than this is not a VNC server's.
pub const MAX_TIGHT_CAPABILITIES: u32 = 64;

/// VeNCrypt sub-types that ask no password: None, TLSNone, X509None.
pub const VENCRYPT_NO_PASSWORD: &[u32] = &[1, 257, 260];

/// The protocol version a server announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RfbVersion {
    pub major: u16,
    pub minor: u16,
}

impl RfbVersion {
    /// The version the probe answers with (RFC 6143 §7.1.1): 3.3, 3.7 or
    /// 3.8; unknown minors below 7 are 3.3, later majors speak 3.8
    /// (RealVNC's 4.x and 5.x).
    pub fn spoken(self) -> RfbVersion {
        let minor = match (self.major, self.minor) {
            (3, minor) if minor >= 8 => 8,
            (3, 7) => 7,
            (3, _) => 3,
            _ => 8,
        };
        RfbVersion { major: 3, minor }
    }

    fn announce(self) -> Vec<u8> {
        format!("RFB {:03}.{:03}\n", self.major, self.minor).into_bytes()
    }
}

/// What the server offered after the version exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecurityOffer {
    /// The security types, in the server's order.
    Types(Vec<u8>),
    /// The server refused the connection, with its reason (too many
    /// failed attempts, version refused).
    Refused(String),
}

/// Parses `RFB 003.008\n`.
pub fn parse_version(bytes: &[u8]) -> Result<RfbVersion, ParseError> {
    let line = bytes.get(..VERSION_LEN).ok_or(ParseError::Truncated {
        what: "RFB version",
        needed: VERSION_LEN,
        available: bytes.len(),
    })?;
    let number = |range: std::ops::Range<usize>| {
        let digits = line.get(range).unwrap_or_default();
        digits.iter().all(u8::is_ascii_digit).then(|| {
            digits
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
        })
    };
    let shape =
        line.starts_with(b"RFB ") && line.get(7) == Some(&b'.') && line.get(11) == Some(&b'\n');
    match (shape, number(4..7), number(8..11)) {
        (true, Some(major), Some(minor)) => Ok(RfbVersion { major, minor }),
        _ => Err(ParseError::invalid(
            "RFB version",
            format!("{:?} is not `RFB xxx.yyy`", printable(line, 12)),
        )),
    }
}

/// Parses the security offer that follows the version exchange, for the
/// version spoken: 3.3 sends one u32 type (RFC 6143 §7.1.2 and appendix
/// A.1), 3.7 and later a count then the types; a zero means refused,
/// followed by a reason. `Ok(None)` asks for more bytes.
pub fn parse_security(
    spoken: RfbVersion,
    bytes: &[u8],
) -> Result<Option<SecurityOffer>, ParseError> {
    let mut reader = Reader::new(bytes, "RFB security types");
    let count = if spoken.minor >= 7 {
        match reader.u8() {
            Ok(count) => usize::from(count),
            Err(_) => return Ok(None),
        }
    } else {
        match reader.array::<4>() {
            Ok(word) => {
                let kind = u32::from_be_bytes(word);
                if kind != 0 {
                    let kind = u8::try_from(kind).map_err(|_| {
                        ParseError::invalid("RFB security type", format!("{kind} is not a type"))
                    })?;
                    return Ok(Some(SecurityOffer::Types(vec![kind])));
                }
                0
            }
            Err(_) => return Ok(None),
        }
    };
    if count == 0 {
        return Ok(reason(&mut reader)?.map(SecurityOffer::Refused));
    }
    match reader.take(count) {
        Ok(types) => Ok(Some(SecurityOffer::Types(types.to_vec()))),
        Err(_) => Ok(None),
    }
}

/// The name of a security type, for the evidence.
pub fn security_name(kind: u8) -> String {
    let name = match kind {
        1 => "None",
        2 => "VNC Authentication",
        5 => "RA2",
        6 => "RA2ne",
        16 => "Tight",
        18 => "TLS",
        19 => "VeNCrypt",
        22 => "XVP",
        30 => "Apple Remote Desktop",
        _ => return format!("type {kind}"),
    };
    name.to_owned()
}

/// Parses what a VeNCrypt server sends once the client has echoed its
/// version 0.2: a status byte (0 for accepted), a count, then that many
/// u32 sub-types. `Ok(None)` asks for more bytes.
pub fn parse_vencrypt_subtypes(bytes: &[u8]) -> Result<Option<Vec<u32>>, ParseError> {
    let mut reader = Reader::new(bytes, "VeNCrypt sub-types");
    let Ok(status) = reader.u8() else {
        return Ok(None);
    };
    if status != 0 {
        return Err(ParseError::invalid(
            "VeNCrypt version",
            format!("0.2 refused (status {status})"),
        ));
    }
    let Ok(count) = reader.u8() else {
        return Ok(None);
    };
    let mut subtypes = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        match reader.array::<4>() {
            Ok(word) => subtypes.push(u32::from_be_bytes(word)),
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(subtypes))
}

/// Parses a Tight capability list (TightVNC's protocol extension): a u32
/// count, then that many 16-byte entries (a u32 code, a 4-byte vendor and
/// an 8-byte name); the codes, and how many bytes the list took.
/// `Ok(None)` asks for more bytes.
pub fn parse_tight_capabilities(bytes: &[u8]) -> Result<Option<(Vec<u32>, usize)>, ParseError> {
    let mut reader = Reader::new(bytes, "Tight capabilities");
    let Ok(count) = reader.u32_be() else {
        return Ok(None);
    };
    if count > MAX_TIGHT_CAPABILITIES {
        return Err(ParseError::invalid(
            "Tight capabilities",
            format!("{count} entries, more than {MAX_TIGHT_CAPABILITIES}"),
        ));
    }
    let mut codes = Vec::new();
    for _ in 0..count {
        match reader.array::<16>() {
            Ok(entry) => codes.push(u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]])),
            Err(_) => return Ok(None),
        }
    }
    Ok(Some((codes, reader.position())))
}

/// The name of a Tight authentication code, for the evidence.
pub fn tight_auth_name(code: u32) -> String {
    match code {
        1 => "None".to_owned(),
        2 => "VncAuth".to_owned(),
        129 => "Unix login".to_owned(),
        130 => "externe".to_owned(),
        other => format!("code {other}"),
    }
}

/// The name of a VeNCrypt sub-type, for the evidence.
pub fn vencrypt_name(subtype: u32) -> String {
    let name = match subtype {
        1 => "None",
        2 => "VncAuth",
        256 => "Plain",
        257 => "TLSNone",
        258 => "TLSVnc",
        259 => "TLSPlain",
        260 => "X509None",
        261 => "X509Vnc",
        262 => "X509Plain",
        _ => return format!("sous-type {subtype}"),
    };
    name.to_owned()
}

pub fn matches_banner(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(b"RFB 00")
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Connection::open(target, ctx.timeout).await.ok()?;
    let announced = parse_version(&conn.read_exact(VERSION_LEN).await.ok()?).ok()?;
    let spoken = announced.spoken();
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "vnc".to_owned(),
        product: None,
        version: Some(format!("{}.{}", announced.major, announced.minor)),
        tls: false,
        banner: Some(format!("RFB {:03}.{:03}", announced.major, announced.minor)),
    });
    let offer = match read_offer(&mut conn, spoken).await {
        Ok(offer) => offer,
        Err(error) => {
            tracing::debug!(%error, "VNC security types not read");
            return Some(result);
        }
    };
    let finding = match offer {
        SecurityOffer::Types(types) => {
            let names: Vec<String> = types.iter().map(|t| security_name(*t)).collect();
            let behind = if types.contains(&SECURITY_NONE) || spoken.minor < 7 {
                None
            } else {
                conn.consume(1 + types.len());
                behind(&mut conn, &types).await
            };
            drop(conn);
            if types.contains(&SECURITY_NONE) {
                let evidence = format!("type de sécurité None proposé ({})", names.join(", "));
                catalog::finding("vnc.no_auth", target, evidence)
            } else if let Some(open) = behind.as_ref().and_then(Behind::without_password) {
                catalog::finding("vnc.no_auth", target, open)
            } else {
                let mut evidence = format!("types de sécurité proposés : {}", names.join(", "));
                if let Some(behind) = &behind {
                    evidence.push_str(&format!(" ({})", behind.listed()));
                }
                catalog::finding("vnc.exposed", target, evidence)
            }
        }
        SecurityOffer::Refused(reason) => catalog::finding(
            "vnc.exposed",
            target,
            format!("connexion refusée : {}", printable(reason.as_bytes(), 120)),
        ),
    };
    result.findings.push(finding);
    Some(result)
}

/// What a server lists behind a security type that has choices of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Behind {
    /// VeNCrypt's sub-types.
    VeNCrypt(Vec<u32>),
    /// Tight's authentication codes (none at all means no password).
    Tight(Vec<u32>),
}

impl Behind {
    /// The evidence of a way in without password, if there is one.
    fn without_password(&self) -> Option<String> {
        match self {
            Behind::VeNCrypt(subtypes) => {
                let open: Vec<String> = subtypes
                    .iter()
                    .filter(|s| VENCRYPT_NO_PASSWORD.contains(s))
                    .map(|s| vencrypt_name(*s))
                    .collect();
                (!open.is_empty()).then(|| {
                    format!(
                        "VeNCrypt propose {} : aucun mot de passe demandé ({})",
                        open.join(", "),
                        self.listed()
                    )
                })
            }
            Behind::Tight(codes) if codes.is_empty() => {
                Some("Tight : aucune authentification demandée".to_owned())
            }
            Behind::Tight(codes) => codes.contains(&TIGHT_AUTH_NONE).then(|| {
                format!(
                    "Tight propose l'accès sans authentification ({})",
                    self.listed()
                )
            }),
        }
    }

    fn listed(&self) -> String {
        match self {
            Behind::VeNCrypt(subtypes) => {
                let names: Vec<String> = subtypes.iter().map(|s| vencrypt_name(*s)).collect();
                format!("sous-types VeNCrypt : {}", names.join(", "))
            }
            Behind::Tight(codes) => {
                let names: Vec<String> = codes.iter().map(|c| tight_auth_name(*c)).collect();
                format!("authentifications Tight : {}", names.join(", "))
            }
        }
    }
}

/// Reads the choices behind VeNCrypt, else behind Tight; `None` if the
/// server offers neither or the exchange failed (logged).
async fn behind(conn: &mut Connection, types: &[u8]) -> Option<Behind> {
    let read = if types.contains(&SECURITY_VENCRYPT) {
        vencrypt_subtypes(conn).await.map(Behind::VeNCrypt)
    } else if types.contains(&SECURITY_TIGHT) {
        tight_auth_types(conn).await.map(Behind::Tight)
    } else {
        return None;
    };
    read.inspect_err(|error| tracing::debug!(%error, "VNC security sub-types not read"))
        .ok()
}

/// Chooses Tight, reads its tunnels (answering "no tunnel" when offered)
/// and its authentication codes; the connection is then closed, before
/// any authentication.
async fn tight_auth_types(conn: &mut Connection) -> io::Result<Vec<u32>> {
    conn.send(&[SECURITY_TIGHT]).await?;
    let tunnels = read_capabilities(conn).await?;
    if !tunnels.is_empty() {
        if !tunnels.contains(&TIGHT_NO_TUNNEL) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "Tight offers no plain (untunnelled) connection",
            ));
        }
        conn.send(&TIGHT_NO_TUNNEL.to_be_bytes()).await?;
    }
    read_capabilities(conn).await
}

async fn read_capabilities(conn: &mut Connection) -> io::Result<Vec<u32>> {
    loop {
        match parse_tight_capabilities(conn.buffered()) {
            Ok(Some((codes, used))) => {
                conn.consume(used);
                return Ok(codes);
            }
            Ok(None) => {
                conn.fill().await?;
            }
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }
}

/// Chooses VeNCrypt, agrees on its version 0.2 and reads the sub-types;
/// the connection is then closed, before any TLS handshake.
async fn vencrypt_subtypes(conn: &mut Connection) -> io::Result<Vec<u32>> {
    conn.send(&[SECURITY_VENCRYPT]).await?;
    let version = conn.read_exact(2).await?;
    if version != [0, 2] {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("VeNCrypt version {version:?}, not 0.2"),
        ));
    }
    conn.send(&[0, 2]).await?;
    loop {
        match parse_vencrypt_subtypes(conn.buffered()) {
            Ok(Some(subtypes)) => return Ok(subtypes),
            Ok(None) => {
                conn.fill().await?;
            }
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }
}

async fn read_offer(conn: &mut Connection, spoken: RfbVersion) -> io::Result<SecurityOffer> {
    conn.send(&spoken.announce()).await?;
    loop {
        match parse_security(spoken, conn.buffered()) {
            Ok(Some(offer)) => return Ok(offer),
            Ok(None) => {
                conn.fill().await?;
            }
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }
}

/// A u32 length then that many bytes of text; `None` if incomplete.
fn reason(reader: &mut Reader) -> Result<Option<String>, ParseError> {
    let Ok(length) = reader.array::<4>().map(u32::from_be_bytes) else {
        return Ok(None);
    };
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if length > MAX_REASON_LEN {
        return Err(ParseError::invalid(
            "RFB failure reason",
            format!("{length} bytes, more than {MAX_REASON_LEN}"),
        ));
    }
    Ok(reader
        .take(length)
        .ok()
        .map(|text| String::from_utf8_lossy(text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V38: RfbVersion = RfbVersion { major: 3, minor: 8 };
    const V33: RfbVersion = RfbVersion { major: 3, minor: 3 };

    #[test]
    fn tight_capabilities() {
        let mut bytes = vec![0, 0, 0, 2];
        bytes.extend_from_slice(&[0, 0, 0, 1]);
        bytes.extend_from_slice(b"STDVNOAUTH__");
        bytes.extend_from_slice(&[0, 0, 0, 2]);
        bytes.extend_from_slice(b"STDVVNCAUTH_");
        bytes.push(0xaa);
        assert_eq!(
            parse_tight_capabilities(&bytes).unwrap(),
            Some((vec![1, 2], 36))
        );
        for cut in 0..36 {
            assert_eq!(
                parse_tight_capabilities(&bytes[..cut]).unwrap(),
                None,
                "{cut}"
            );
        }
        assert_eq!(
            parse_tight_capabilities(&[0, 0, 0, 0]).unwrap(),
            Some((vec![], 4))
        );
        assert!(parse_tight_capabilities(&[0xff, 0, 0, 0]).is_err());
        assert_eq!(tight_auth_name(129), "Unix login");
    }

    #[test]
    fn vencrypt_subtypes() {
        // TigerVNC -SecurityTypes TLSNone,VncAuth.
        let bytes = [0, 2, 0, 0, 1, 1, 0, 0, 0, 2];
        assert_eq!(parse_vencrypt_subtypes(&bytes).unwrap(), Some(vec![257, 2]));
        for cut in 0..bytes.len() {
            assert_eq!(
                parse_vencrypt_subtypes(&bytes[..cut]).unwrap(),
                None,
                "{cut}"
            );
        }
        assert_eq!(parse_vencrypt_subtypes(&[0, 0]).unwrap(), Some(vec![]));
        assert!(parse_vencrypt_subtypes(&[1]).is_err());
        assert_eq!(vencrypt_name(260), "X509None");
        assert_eq!(vencrypt_name(7), "sous-type 7");
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version(b"RFB 003.008\n").unwrap(), V38);
        assert_eq!(parse_version(b"RFB 003.889\n").unwrap().spoken(), V38);
        assert_eq!(parse_version(b"RFB 005.000\n").unwrap().spoken(), V38);
        assert_eq!(parse_version(b"RFB 003.005\n").unwrap().spoken(), V33);
        assert_eq!(
            parse_version(b"RFB 003.007\n").unwrap().spoken(),
            RfbVersion { major: 3, minor: 7 }
        );
        assert!(parse_version(b"RFB 003.008").is_err());
        assert!(parse_version(b"RFB 0x3.008\n").is_err());
        assert!(parse_version(b"SSH-2.0-Open").is_err());
        assert_eq!(V38.announce(), b"RFB 003.008\n");
    }

    #[test]
    fn security_offers() {
        // x11vnc -nopw, RFB 3.8: one type, None.
        assert_eq!(
            parse_security(V38, &[1, 1]).unwrap(),
            Some(SecurityOffer::Types(vec![1]))
        );
        // TigerVNC with a password: VeNCrypt and VNC Authentication.
        assert_eq!(
            parse_security(V38, &[2, 19, 2]).unwrap(),
            Some(SecurityOffer::Types(vec![19, 2]))
        );
        assert_eq!(parse_security(V38, &[3, 19]).unwrap(), None);
        assert_eq!(parse_security(V38, &[]).unwrap(), None);
        assert_eq!(
            parse_security(V33, &[0, 0, 0, 2]).unwrap(),
            Some(SecurityOffer::Types(vec![2]))
        );
        assert!(parse_security(V33, &[1, 0, 0, 2]).is_err());
        let refused = [&[0u8, 0, 0, 0, 0, 0, 0, 7][..], b"Too man"].concat();
        assert_eq!(parse_security(V33, &refused[..10]).unwrap(), None);
        assert_eq!(
            parse_security(V33, &[&[0u8, 0, 0, 0, 0, 0, 0, 3][..], b"Bye"].concat()).unwrap(),
            Some(SecurityOffer::Refused("Bye".to_owned()))
        );
        assert!(parse_security(V38, &[0, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert_eq!(security_name(1), "None");
        assert_eq!(security_name(200), "type 200");
    }
}
