//! Password hashing: argon2id with the argon2 crate's defaults, run on the
//! blocking thread pool (a hash takes tens of milliseconds of CPU, which
//! must not stall the async workers). Verification compares in constant
//! time, and a sign-in for an unknown address verifies against a dummy hash
//! so that it spends the same time as one for a known address.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::db::random_hex;

/// Longest password accepted: argon2 takes any length, but hashing a
/// megabyte on every attempt is a cheap denial of service.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A hash of a random password nobody knows, verified against when the
/// e-mail address is unknown.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_blocking(&random_hex(32)).ok());

/// Hashes `password` (PHC string: algorithm, parameters, salt and hash).
pub async fn hash(password: &str) -> Result<String, String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| format!("hashing task: {e}"))?
}

/// Whether `password` matches `stored` (a PHC string); `None` (no such
/// user) spends the same time and answers false.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    let password = password.to_owned();
    let task = tokio::task::spawn_blocking(move || match stored {
        Some(stored) => {
            // The dummy hash is made on first use; making it here too keeps
            // the very first unknown address from taking twice as long.
            LazyLock::force(&DUMMY_HASH);
            verify_blocking(&password, &stored)
        }
        None => {
            if let Some(dummy) = DUMMY_HASH.as_deref() {
                let _ = verify_blocking(&password, dummy);
            }
            false
        }
    });
    task.await.unwrap_or(false)
}

fn hash_blocking(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| format!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("argon2: {e}"))
}

fn verify_blocking(password: &str, stored: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    match PasswordHash::new(stored) {
        // The parameters come from the stored hash, so hashes made with
        // older defaults still verify.
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!("unreadable password hash in the database: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let stored = hash("correct horse battery").await.ok();
        assert!(
            stored
                .as_deref()
                .is_some_and(|s| s.starts_with("$argon2id$"))
        );
        assert!(verify("correct horse battery", stored.clone()).await);
        assert!(!verify("correct horse batterY", stored).await);
        assert!(!verify("correct horse battery", None).await);
        assert!(!verify("x", Some("not a hash".to_owned())).await);
    }
}
