//! Secrets the server must be able to use again (an SMTP password, a webhook's signing
//! secret), sealed with AES-256-GCM under a key the database never holds: `AIMS_SECRET_KEY`
//! (64 hex digits, or 32 bytes in base64) or the file `AIMS_SECRET_KEY_FILE` names. A stolen
//! database or backup alone reveals no secret; every instance sharing a database is given the
//! same key. When neither is set, the server keeps a key in the file `aims-secret.key` in its
//! working directory (created with 32 random bytes, readable by its owner only, on first use),
//! so a newcomer's server can enrol two-step sign-in without any set-up; the environment
//! always wins over that file. Without any key the server refuses to store such secrets (a 422
//! naming the field) rather than keep them readable.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{AppError, AppResult};

pub const KEY_ENV: &str = "AIMS_SECRET_KEY";
pub const KEY_FILE_ENV: &str = "AIMS_SECRET_KEY_FILE";
/// The key file used when the environment names no key, in the working directory.
pub const DEFAULT_KEY_FILE: &str = "aims-secret.key";
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

    /// The key the environment gives, else the one in [`DEFAULT_KEY_FILE`], which is created
    /// (mode 0600, 32 random bytes in hex) when absent.
    pub fn load() -> AppResult<Self> {
        if let Some(key) = Self::from_env()? {
            return Ok(key);
        }
        Self::from_default_file(std::path::Path::new(DEFAULT_KEY_FILE))
    }

    fn from_default_file(path: &std::path::Path) -> AppResult<Self> {
        let unreadable = |e: std::io::Error| AppError::Internal(format!("{}: {e}", path.display()));
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text)
                .ok_or_else(|| AppError::Internal(format!("{}: the key must be 64 hex digits or 32 bytes in base64", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::random()?;
                write_private(path, &key.to_hex()).map_err(unreadable)?;
                let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
                tracing::warn!(path = %shown.display(), "no {KEY_ENV} or {KEY_FILE_ENV} set: created a secret key file; keep it with the database's backups");
                Ok(key)
            }
            Err(e) => Err(unreadable(e)),
        }
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

/// Creates `path` with `text`, readable and writable by its owner only; refuses to overwrite.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
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

    #[test]
    fn the_default_key_file_is_created_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("aims-key-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join(DEFAULT_KEY_FILE);
        let created = SecretKey::from_default_file(&path).expect("created");
        let again = SecretKey::from_default_file(&path).expect("read");
        assert_eq!(created.to_hex(), again.to_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
