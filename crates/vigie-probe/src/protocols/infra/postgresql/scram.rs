//! The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL
//! speaks it (no channel binding: gs2 header `n,,`, empty user name since
//! the server takes it from the startup message), and PostgreSQL's md5
//! password hash. Pure computations; the server's first message is parsed
//! defensively.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::protocols::infra::cursor::ParseError;

/// PostgreSQL uses 4096; a hostile server asking for millions of rounds
/// would make the probe burn CPU, so higher counts are refused.
pub const MAX_ITERATIONS: u32 = 100_000;
const WHAT: &str = "SCRAM server-first message";
/// `n,,` in base64, the gs2 header echoed in the final message.
const GS2_HEADER_B64: &str = "biws";

/// PostgreSQL's md5 method: "md5" + md5(md5(password + user) + salt).
pub fn md5_password(user: &str, password: &str, salt: &[u8; 4]) -> String {
    let inner = hex(&Md5::digest(
        [password.as_bytes(), user.as_bytes()].concat(),
    ));
    let outer = Md5::digest([inner.as_bytes(), salt.as_slice()].concat());
    format!("md5{}", hex(&outer))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One SCRAM exchange in progress.
#[derive(Clone, Debug)]
pub struct Client {
    nonce: String,
}

impl Client {
    /// `nonce` must be printable ASCII without commas (RFC 5802 §5.1).
    pub fn new(nonce: &str) -> Client {
        Client {
            nonce: nonce.to_owned(),
        }
    }

    fn first_bare(&self) -> String {
        format!("n=,r={}", self.nonce)
    }

    /// The client-first message, with its gs2 header.
    pub fn first(&self) -> String {
        format!("n,,{}", self.first_bare())
    }

    /// The client-final message for `password`, given the server-first.
    pub fn last(&self, server_first: &[u8], password: &str) -> Result<String, ParseError> {
        let server_first_text = std::str::from_utf8(server_first)
            .map_err(|_| ParseError::invalid(WHAT, "not UTF-8"))?;
        let (nonce, salt, iterations) = parse_server_first(server_first_text)?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(ParseError::invalid(WHAT, "nonce does not extend ours"));
        }
        let salted = salted_password(password, &salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha256::digest(client_key);
        let without_proof = format!("c={GS2_HEADER_B64},r={nonce}");
        let auth_message = format!("{},{server_first_text},{without_proof}", self.first_bare());
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature.iter())
            .map(|(a, b)| a ^ b)
            .collect();
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)))
    }
}

/// `r=...,s=...,i=...` → (nonce, salt, iterations).
pub fn parse_server_first(text: &str) -> Result<(String, Vec<u8>, u32), ParseError> {
    let (mut nonce, mut salt, mut iterations) = (None, None, None);
    for attribute in text.split(',') {
        match attribute.split_once('=') {
            Some(("r", value)) => nonce = Some(value.to_owned()),
            Some(("s", value)) => {
                salt = Some(
                    STANDARD
                        .decode(value)
                        .map_err(|_| ParseError::invalid(WHAT, "salt is not base64"))?,
                );
            }
            Some(("i", value)) => {
                iterations = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| ParseError::invalid(WHAT, "invalid iteration count"))?,
                );
            }
            _ => {}
        }
    }
    let missing = |name| ParseError::invalid(WHAT, format!("no {name}"));
    let iterations = iterations.ok_or_else(|| missing("iteration count"))?;
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(ParseError::invalid(
            WHAT,
            format!("iteration count {iterations} out of range"),
        ));
    }
    Ok((
        nonce.ok_or_else(|| missing("nonce"))?,
        salt.ok_or_else(|| missing("salt"))?,
        iterations,
    ))
}

/// Hi(password, salt, i) of RFC 5802 §2.2, i.e. PBKDF2-HMAC-SHA-256. The
/// password is used as is: SASLprep leaves ASCII passwords unchanged.
fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; the error case cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_hash_matches_postgresql() {
        // SELECT 'md5' || md5(md5('secret' || 'alice') || 'abcd') in psql.
        let inner = hex(&Md5::digest(b"secretalice"));
        let expected = format!(
            "md5{}",
            hex(&Md5::digest([inner.as_bytes(), b"abcd"].concat()))
        );
        assert_eq!(md5_password("alice", "secret", b"abcd"), expected);
        assert_eq!(expected.len(), 35);
    }

    #[test]
    fn rfc7677_example_gives_the_expected_proof() {
        // RFC 7677 §3: user "user", password "pencil" (the user name does
        // not enter the proof computation beyond client-first-bare, which
        // we rebuild here with the RFC's name).
        let client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let (nonce, salt, iterations) = parse_server_first(server_first).unwrap();
        let salted = salted_password("pencil", &salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha256::digest(client_key);
        let auth = format!("{client_first_bare},{server_first},c=biws,r={nonce}");
        let signature = hmac(&stored_key, auth.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature)
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(
            STANDARD.encode(proof),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
    }

    #[test]
    fn client_final_carries_the_combined_nonce() {
        let client = Client::new("abc");
        assert_eq!(client.first(), "n,,n=,r=abc");
        let last = client
            .last(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096", "pw")
            .unwrap();
        assert!(last.starts_with("c=biws,r=abcdef,p="));
    }

    #[test]
    fn hostile_server_first_messages_are_refused() {
        let client = Client::new("abc");
        for bad in [
            &b"r=xyz,s=QSXCR+Q6sek8bf92,i=4096"[..],
            b"r=abc,s=QSXCR+Q6sek8bf92,i=4096",
            b"r=abcd,s=***,i=4096",
            b"r=abcd,s=QSXCR+Q6sek8bf92,i=4000000000",
            b"r=abcd,s=QSXCR+Q6sek8bf92",
            b"\xff\xfe",
        ] {
            assert!(client.last(bad, "pw").is_err());
        }
    }
}
