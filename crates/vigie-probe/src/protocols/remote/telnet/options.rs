//! Telnet option negotiation (RFC 854, RFC 855): separates the text a
//! server sends from its `IAC` commands, and builds the refusals the probe
//! answers with (`WONT` to every `DO`, `DONT` to every `WILL`), so the
//! session stays a plain network virtual terminal. Pure functions; they
//! never panic.

use crate::protocols::remote::wire::ParseError;

/// Interpret As Command (RFC 854).
pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
/// Subnegotiation begin and end (RFC 855).
pub const SB: u8 = 250;
pub const SE: u8 = 240;

/// A subnegotiation longer than this is not a telnet server's: terminal
/// type, speed and environment requests are a few bytes.
pub const MAX_SUBNEGOTIATION: usize = 1024;

/// A request of the server about one option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Negotiation {
    Will(u8),
    Wont(u8),
    Do(u8),
    Dont(u8),
}

/// What a chunk of received bytes holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stripped {
    /// The text, commands removed, `IAC IAC` turned into one 255, NULs
    /// (padding after CR, RFC 854) dropped.
    pub data: Vec<u8>,
    pub negotiations: Vec<Negotiation>,
    /// Bytes used; an incomplete command at the end is left for the next
    /// read.
    pub consumed: usize,
}

/// Splits `bytes` into text and negotiations.
pub fn strip_options(bytes: &[u8]) -> Result<Stripped, ParseError> {
    let mut out = Stripped::default();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte != IAC {
            if byte != 0 {
                out.data.push(byte);
            }
            at += 1;
            continue;
        }
        let Some(&command) = bytes.get(at + 1) else {
            break;
        };
        let used = match command {
            IAC => {
                out.data.push(IAC);
                2
            }
            WILL | WONT | DO | DONT => {
                let Some(&option) = bytes.get(at + 2) else {
                    break;
                };
                out.negotiations.push(match command {
                    WILL => Negotiation::Will(option),
                    WONT => Negotiation::Wont(option),
                    DO => Negotiation::Do(option),
                    _ => Negotiation::Dont(option),
                });
                3
            }
            SB => match subnegotiation_length(bytes.get(at..).unwrap_or_default())? {
                Some(length) => length,
                None => break,
            },
            // NOP, Data Mark, Break, Go Ahead...: nothing to answer.
            _ => 2,
        };
        at += used;
    }
    out.consumed = at;
    Ok(out)
}

/// The answer to a server's requests: refuse what it asks us to do, and
/// refuse to let it do what it offers. `DONT` and `WONT` need no answer
/// (RFC 854: a refusal is never acknowledged, which avoids loops).
pub fn refusals(negotiations: &[Negotiation]) -> Vec<u8> {
    let mut answer = Vec::new();
    for negotiation in negotiations {
        match *negotiation {
            Negotiation::Do(option) => answer.extend_from_slice(&[IAC, WONT, option]),
            Negotiation::Will(option) => answer.extend_from_slice(&[IAC, DONT, option]),
            Negotiation::Wont(_) | Negotiation::Dont(_) => {}
        }
    }
    answer
}

/// Text to send: a literal 255 is doubled (RFC 854).
pub fn escape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &byte in text {
        out.push(byte);
        if byte == IAC {
            out.push(IAC);
        }
    }
    out
}

/// Whether bytes start like a telnet server: a negotiation command.
pub fn starts_with_negotiation(bytes: &[u8]) -> bool {
    matches!(bytes, [IAC, WILL | WONT | DO | DONT | SB, ..])
}

/// Length of `IAC SB ... IAC SE` at the start of `bytes`, `None` if it is
/// not complete yet.
fn subnegotiation_length(bytes: &[u8]) -> Result<Option<usize>, ParseError> {
    let mut at = 2;
    loop {
        if at > MAX_SUBNEGOTIATION {
            return Err(ParseError::invalid(
                "telnet subnegotiation",
                format!("longer than {MAX_SUBNEGOTIATION} bytes"),
            ));
        }
        match (bytes.get(at), bytes.get(at + 1)) {
            (Some(&IAC), Some(&SE)) => return Ok(Some(at + 2)),
            // A doubled IAC inside the parameters is data.
            (Some(&IAC), Some(&IAC)) => at += 2,
            (Some(_), Some(_)) => at += 1,
            _ => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_inetutils_greeting() {
        // inetutils-telnetd 2.4 (Debian 12), first segment: DO TERMINAL
        // TYPE, DO TSPEED, DO XDISPLOC, DO NEW-ENVIRON.
        let bytes = [IAC, DO, 24, IAC, DO, 32, IAC, DO, 35, IAC, DO, 39];
        let stripped = strip_options(&bytes).unwrap();
        assert!(stripped.data.is_empty());
        assert_eq!(stripped.consumed, bytes.len());
        assert_eq!(
            stripped.negotiations,
            [
                Negotiation::Do(24),
                Negotiation::Do(32),
                Negotiation::Do(35),
                Negotiation::Do(39)
            ]
        );
        assert_eq!(
            refusals(&stripped.negotiations),
            [IAC, WONT, 24, IAC, WONT, 32, IAC, WONT, 35, IAC, WONT, 39]
        );
    }

    #[test]
    fn text_between_commands() {
        let mut bytes = vec![IAC, WILL, 1, IAC, SB, 24, 1, IAC, SE];
        bytes.extend_from_slice(b"Debian\r\0login: ");
        bytes.extend_from_slice(&[IAC, IAC, IAC, 249, b'x']);
        let stripped = strip_options(&bytes).unwrap();
        assert_eq!(stripped.data, b"Debian\rlogin: \xffx");
        assert_eq!(stripped.negotiations, [Negotiation::Will(1)]);
        assert_eq!(refusals(&stripped.negotiations), [IAC, DONT, 1]);
        assert_eq!(stripped.consumed, bytes.len());
    }

    #[test]
    fn incomplete_commands_wait_for_more() {
        for tail in [
            &[IAC][..],
            &[IAC, DO],
            &[IAC, SB, 24, 1],
            &[IAC, SB, 24, IAC],
        ] {
            let bytes = [b"ab".as_slice(), tail].concat();
            let stripped = strip_options(&bytes).unwrap();
            assert_eq!(stripped.data, b"ab");
            assert_eq!(stripped.consumed, 2, "{tail:?}");
        }
        let endless = [&[IAC, SB][..], &[0u8; MAX_SUBNEGOTIATION + 4]].concat();
        assert!(strip_options(&endless).is_err());
    }

    #[test]
    fn escaping_and_detection() {
        assert_eq!(escape(b"a\xffb"), b"a\xff\xffb");
        assert!(starts_with_negotiation(&[IAC, DO, 24]));
        assert!(!starts_with_negotiation(b"login: "));
        assert!(!starts_with_negotiation(&[IAC]));
    }
}
