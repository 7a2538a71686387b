//! Secrets: random tokens (shown once, stored as SHA-256) and password hashes (Argon2id).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{AppError, AppResult};

/// A new random secret of 256 bits, URL-safe, with a prefix that makes leaked tokens easy to
/// recognise (for secret scanners) and says what they are.
pub fn random_token(prefix: &str) -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a token: hex SHA-256. Tokens carry 256 random bits, so a fast hash is
/// enough (no brute force is possible) and lets every request check its token cheaply.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    // `hex::encode` collects the digits char by char; every token-checked request pays for it.
    let mut text = [0u8; 64];
    match hex::encode_to_slice(digest, &mut text).map(|()| std::str::from_utf8(&text)) {
        Ok(Ok(digits)) => digits.to_owned(),
        _ => hex::encode(digest),
    }
}

/// Hashes a password with Argon2id (PHC string), off the async runtime.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Checks a password against a stored PHC string, off the async runtime.
pub async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok()).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a fixed password, so a login for an unknown e-mail costs as much as a real one
/// (no timing oracle for which addresses exist).
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$W5k9g5v7fC2sJvXxqJxLQnHhH9m3t2kW0Zq5hN8y3cE";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_round_trip() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), hash.clone()).await);
        assert!(!verify_password("wrong horse battery".into(), hash).await);
        assert!(!verify_password("x".into(), DUMMY_HASH.into()).await);
    }

    #[test]
    fn tokens_are_256_bits() {
        let token = random_token("aims_").unwrap();
        assert_eq!(token.len(), 5 + 43);
        assert_ne!(token, random_token("aims_").unwrap());
        assert_eq!(token_hash(&token).len(), 64);
    }

    #[test]
    fn token_hash_is_lowercase_hex_sha256() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
