//! Secrets the server must be able to use again (an SMTP password, a webhook's signing
//! secret), sealed with AES-256-GCM under a key the database never holds: `AIMS_SECRET_KEY`
//! (64 hex digits, or 32 bytes in base64) or the file `AIMS_SECRET_KEY_FILE` names. A stolen
//! database or backup alone reveals no secret; every instance sharing a database is given the
//! same key. Without a key the server refuses to store such secrets (a 422 naming the field)
//! rather than keep them readable.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{AppError, AppResult};

pub const KEY_ENV: &str = "AIMS_SECRET_KEY";
pub const KEY_FILE_ENV: &str = "AIMS_SECRET_KEY_FILE";
const VERSION: &str = "v1:";

/// The server's 256-bit sealing key.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// Reads a key written as 64 hex digits or as base64 of 32 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = if text.len() == 64 { hex::decode(text).ok()? } else { STANDARD.decode(text).ok()? };
        Some(Self(bytes.try_into().ok()?))
    }

    /// The key the environment gives; an unreadable or malformed one is an error (a server
    /// that silently had no key would refuse every secret).
    pub fn from_env() -> AppResult<Option<Self>> {
        let text = match (std::env::var(KEY_ENV).ok(), std::env::var(KEY_FILE_ENV).ok()) {
            (Some(text), _) if !text.trim().is_empty() => text,
            (_, Some(path)) if !path.trim().is_empty() => {
                std::fs::read_to_string(path.trim()).map_err(|e| AppError::Internal(format!("{KEY_FILE_ENV}: cannot read {path}: {e}")))?
            }
            _ => return Ok(None),
        };
        Self::parse(&text)
            .map(Some)
            .ok_or_else(|| AppError::Internal(format!("{KEY_ENV}: the key must be 64 hex digits or 32 bytes in base64")))
    }

    /// A new random key (tests, and `aims` printing one for the operator).
    pub fn random() -> AppResult<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        Ok(Self(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Seals `plain`, bound to `context` (organisation and field), so a sealed value copied to
    /// another organisation's or field's row does not open.
    pub fn seal(&self, context: &str, plain: &str) -> AppResult<String> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0));
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| AppError::Internal("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", STANDARD.encode(out)))
    }

    /// Opens what [`SecretKey::seal`] sealed under the same context; `None` when it does not
    /// open (another key, another context, or altered).
    pub fn open(&self, context: &str, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed.strip_prefix(VERSION)?).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0));
        let plain = cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: context.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

impl SecretKey {
    /// 32 bytes derived from the sealing key for one purpose: HKDF-SHA256 with `label` as the
    /// salt and `info` (such as an organisation's id) as the context. Derived keys are made
    /// again whenever needed, so no further secret is stored.
    pub fn derive(&self, label: &str, info: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 255 × 32, so expansion cannot fail.
        let _ = hkdf::Hkdf::<sha2::Sha256>::new(Some(label.as_bytes()), &self.0).expand(info.as_bytes(), &mut out);
        out
    }
}

/// The context a channel's secret is sealed under.
pub fn context(org_id: &str, field: &str) -> String {
    format!("aims/channel-secret/{org_id}/{field}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let key = SecretKey::random().expect("key");
        let sealed = key.seal("org-a/smtp_password", "hunter2 is not a password").expect("seal");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(key.open("org-a/smtp_password", &sealed).as_deref(), Some("hunter2 is not a password"));
        assert_eq!(key.open("org-b/smtp_password", &sealed), None);
        assert_eq!(SecretKey::random().expect("key").open("org-a/smtp_password", &sealed), None);
        assert_ne!(sealed, key.seal("org-a/smtp_password", "hunter2 is not a password").expect("seal"), "a fresh nonce each time");
        assert!(SecretKey::parse(&key.to_hex()).is_some());
        assert!(SecretKey::parse("short").is_none());
    }
}
