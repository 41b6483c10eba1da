//! A hand-built TLS handshake for what rustls cannot speak: a ClientHello
//! for SSL 3.0 (RFC 6101 §5.6.1.2), TLS 1.0 (RFC 2246), 1.1 (RFC 4346) or
//! 1.2 with old cipher suites (RFC 5246 §7.4.1.2), and a parser of the
//! server's first flight (ServerHello, Certificate, ServerHelloDone or an
//! alert). The probe sends the ClientHello, reads the answer and closes:
//! no key exchange is ever made. The parser is pure and never panics.

/// RFC 5246 §6.2.1: a record's payload is at most 2^14 bytes, plus 2048
/// of expansion for protected records (§6.2.3).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Certificates kept from one chain (real chains have 2 to 4).
pub const MAX_CHAIN: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LegacyVersion {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
}

impl LegacyVersion {
    /// The versions RFC 8996 and RFC 7568 deprecate.
    pub const DEPRECATED: [LegacyVersion; 3] = [
        LegacyVersion::Ssl3,
        LegacyVersion::Tls10,
        LegacyVersion::Tls11,
    ];

    pub fn wire(self) -> u16 {
        match self {
            LegacyVersion::Ssl3 => 0x0300,
            LegacyVersion::Tls10 => 0x0301,
            LegacyVersion::Tls11 => 0x0302,
            LegacyVersion::Tls12 => 0x0303,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LegacyVersion::Ssl3 => "SSLv3",
            LegacyVersion::Tls10 => "TLS 1.0",
            LegacyVersion::Tls11 => "TLS 1.1",
            LegacyVersion::Tls12 => "TLS 1.2",
        }
    }
}

/// Suites old servers speak: ECDHE and DHE then RSA key exchange, AES-CBC,
/// 3DES, RC4 (GCM first for TLS 1.2), and the renegotiation SCSV (RFC 5746
/// §3.3) that keeps picky servers from refusing us.
const OLD_SUITES: &[u16] = &[
    0xc014, 0xc013, 0xc00a, 0xc009, 0x0039, 0x0033, 0x0035, 0x002f, 0x000a, 0x0005, 0x0004,
];
const TLS12_SUITES: &[u16] = &[0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009c, 0x009d, 0x003c];
const RENEGOTIATION_SCSV: u16 = 0x00ff;

/// The ClientHello record for `version`, with the given 32 random bytes.
pub fn client_hello(version: LegacyVersion, random: [u8; 32]) -> Vec<u8> {
    let mut suites: Vec<u16> = Vec::new();
    if version == LegacyVersion::Tls12 {
        suites.extend_from_slice(TLS12_SUITES);
    }
    suites.extend_from_slice(OLD_SUITES);
    suites.push(RENEGOTIATION_SCSV);

    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(&version.wire().to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // no session id
    push_u16(&mut body, suites.len() * 2);
    for suite in suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    // SSL 3.0 has no extensions; an SSL-3.0-only server may not skip them.
    if version != LegacyVersion::Ssl3 {
        let extensions = extensions(version);
        push_u16(&mut body, extensions.len());
        body.extend_from_slice(&extensions);
    }

    let mut handshake = vec![1]; // client_hello
    push_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);

    // The record layer says 3.1 at most, as browsers did, since some
    // servers refuse a 3.2 or 3.3 record before reading the hello.
    let record_version = version.wire().min(0x0301);
    let mut record = vec![22];
    record.extend_from_slice(&record_version.to_be_bytes());
    push_u16(&mut record, handshake.len());
    record.extend_from_slice(&handshake);
    record
}

fn extensions(version: LegacyVersion) -> Vec<u8> {
    let mut out = Vec::new();
    // supported_groups (RFC 8422 §5.1.1): x25519, secp256r1, secp384r1.
    extension(
        &mut out,
        0x000a,
        &[0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18],
    );
    // ec_point_formats: uncompressed.
    extension(&mut out, 0x000b, &[1, 0]);
    if version == LegacyVersion::Tls12 {
        // signature_algorithms (RFC 5246 §7.4.1.4.1), SHA-1 included.
        let schemes: [u16; 7] = [0x0401, 0x0501, 0x0804, 0x0403, 0x0503, 0x0201, 0x0203];
        let mut data = Vec::new();
        push_u16(&mut data, schemes.len() * 2);
        for scheme in schemes {
            data.extend_from_slice(&scheme.to_be_bytes());
        }
        extension(&mut out, 0x000d, &data);
    }
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16(out, data.len());
    out.extend_from_slice(data);
}

fn push_u16(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u16).to_be_bytes());
}

fn push_u24(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlightError {
    #[error("not a TLS record (content type {0})")]
    NotTls(u8),
    #[error("TLS record longer than {MAX_RECORD_LEN} bytes")]
    RecordTooLong,
    #[error("malformed {0} message")]
    Malformed(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHello {
    pub version: u16,
    pub cipher: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFlight {
    pub hello: Option<ServerHello>,
    /// DER certificates, leaf first.
    pub certificates: Vec<Vec<u8>>,
    /// (level, description) of an alert (RFC 5246 §7.2).
    pub alert: Option<(u8, u8)>,
    /// Nothing more to wait for: ServerHelloDone, an alert, or encrypted
    /// records.
    pub done: bool,
}

impl ServerFlight {
    /// Whether the server agreed to speak `version`.
    pub fn accepts(&self, version: LegacyVersion) -> bool {
        self.hello
            .is_some_and(|hello| hello.version == version.wire())
    }
}

/// Parses the server's answer as far as it arrived (the fuzzed entry
/// point); a flight cut short is not an error, it is just not `done`.
pub fn parse_server_flight(bytes: &[u8]) -> Result<ServerFlight, FlightError> {
    let mut flight = ServerFlight::default();
    let mut handshake = Vec::new();
    let mut rest = bytes;
    while let [kind, major, _minor, high, low, payload @ ..] = rest {
        if !matches!(kind, 20..=23) || *major != 3 {
            return Err(FlightError::NotTls(*kind));
        }
        let len = usize::from(u16::from_be_bytes([*high, *low]));
        if len > MAX_RECORD_LEN {
            return Err(FlightError::RecordTooLong);
        }
        let Some(fragment) = payload.get(..len) else {
            break;
        };
        match kind {
            22 => handshake.extend_from_slice(fragment),
            21 => {
                if let [level, description, ..] = fragment {
                    flight.alert = Some((*level, *description));
                }
                flight.done = true;
                break;
            }
            // ChangeCipherSpec or application data: the rest is encrypted.
            _ => {
                flight.done = true;
                break;
            }
        }
        rest = payload.get(len..).unwrap_or_default();
    }
    read_handshake(&handshake, &mut flight)?;
    Ok(flight)
}

fn read_handshake(mut bytes: &[u8], flight: &mut ServerFlight) -> Result<(), FlightError> {
    while let [kind, a, b, c, body @ ..] = bytes {
        let len = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
        let Some(message) = body.get(..len) else {
            break;
        };
        match kind {
            2 => flight.hello = Some(server_hello(message)?),
            11 => flight.certificates = certificates(message)?,
            14 => flight.done = true,
            _ => {}
        }
        bytes = body.get(len..).unwrap_or_default();
    }
    Ok(())
}

fn server_hello(message: &[u8]) -> Result<ServerHello, FlightError> {
    let malformed = FlightError::Malformed("ServerHello");
    let [v1, v2, after_version @ ..] = message else {
        return Err(malformed);
    };
    // 32 random bytes, then the session id.
    let [session_len, after_len @ ..] = after_version.get(32..).ok_or(malformed.clone())? else {
        return Err(malformed);
    };
    let after_session = after_len
        .get(usize::from(*session_len)..)
        .ok_or(malformed.clone())?;
    let [c1, c2, ..] = after_session else {
        return Err(malformed);
    };
    Ok(ServerHello {
        version: u16::from_be_bytes([*v1, *v2]),
        cipher: u16::from_be_bytes([*c1, *c2]),
    })
}

fn certificates(message: &[u8]) -> Result<Vec<Vec<u8>>, FlightError> {
    let malformed = FlightError::Malformed("Certificate");
    let [a, b, c, list @ ..] = message else {
        return Err(malformed);
    };
    let total = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
    let mut rest = list.get(..total).ok_or(malformed.clone())?;
    let mut chain = Vec::new();
    while let [a, b, c, cert @ ..] = rest {
        let len = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
        let der = cert.get(..len).ok_or(malformed.clone())?;
        if chain.len() < MAX_CHAIN {
            chain.push(der.to_vec());
        }
        rest = cert.get(len..).unwrap_or_default();
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_hello_is_well_formed() {
        for version in [
            LegacyVersion::Ssl3,
            LegacyVersion::Tls10,
            LegacyVersion::Tls12,
        ] {
            let hello = client_hello(version, [7; 32]);
            assert_eq!(hello[0], 22);
            let record_len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
            assert_eq!(record_len, hello.len() - 5);
            assert_eq!(hello[5], 1);
            let body_len = usize::from(hello[7]) << 8 | usize::from(hello[8]);
            assert_eq!(body_len, hello.len() - 9);
            assert_eq!(u16::from_be_bytes([hello[9], hello[10]]), version.wire());
            assert_eq!(&hello[11..43], &[7; 32]);
        }
        assert_eq!(&client_hello(LegacyVersion::Ssl3, [0; 32])[1..3], &[3, 0]);
        assert_eq!(&client_hello(LegacyVersion::Tls12, [0; 32])[1..3], &[3, 1]);
    }

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 1];
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    fn hello(version: u16) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[2, 0xaa, 0xbb, 0xc0, 0x14, 0]);
        message(2, &body)
    }

    #[test]
    fn a_flight_split_across_records_is_reassembled() {
        let certs = [b"leaf".as_slice(), b"ca"];
        let mut list = Vec::new();
        for cert in certs {
            list.extend_from_slice(&(cert.len() as u32).to_be_bytes()[1..]);
            list.extend_from_slice(cert);
        }
        let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
        body.extend_from_slice(&list);
        let handshake = [hello(0x0301), message(11, &body), message(14, &[])].concat();
        // The ServerHello (44 bytes) whole in the first record.
        let (first, second) = handshake.split_at(50);
        let bytes = [record(22, first), record(22, second)].concat();
        let flight = parse_server_flight(&bytes).unwrap();
        assert!(flight.done);
        assert!(flight.accepts(LegacyVersion::Tls10));
        assert!(!flight.accepts(LegacyVersion::Tls11));
        assert_eq!(flight.hello.unwrap().cipher, 0xc014);
        assert_eq!(flight.certificates, [b"leaf".to_vec(), b"ca".to_vec()]);
        // Cut short: what arrived, not done.
        let partial = parse_server_flight(&bytes[..bytes.len() - 3]).unwrap();
        assert!(!partial.done && partial.hello.is_some());
    }

    #[test]
    fn alerts_and_garbage() {
        // handshake_failure, as OpenSSL answers a version it refuses.
        let flight = parse_server_flight(&record(21, &[2, 40])).unwrap();
        assert_eq!(flight.alert, Some((2, 40)));
        assert!(flight.done && flight.hello.is_none());
        assert_eq!(
            parse_server_flight(b"SSH-2.0-OpenSSH_9.2p1\r\n"),
            Err(FlightError::NotTls(b'S'))
        );
        assert_eq!(
            parse_server_flight(&[22, 3, 1, 0xff, 0xff]),
            Err(FlightError::RecordTooLong)
        );
        let short_hello = record(22, &message(2, &[3, 1, 0]));
        assert_eq!(
            parse_server_flight(&short_hello),
            Err(FlightError::Malformed("ServerHello"))
        );
        let bad_chain = record(22, &message(11, &[0, 0, 9, 0, 0, 200]));
        assert!(parse_server_flight(&bad_chain).is_err());
        assert_eq!(parse_server_flight(&[]), Ok(ServerFlight::default()));
    }
}
