//! Token checks this process remembers. The API's hottest reads (a list page, one record) check
//! the bearer token on every request; on PostgreSQL the five-table check cost more than the read
//! itself. A remembered check is used only with a read that also returns the auth generation
//! (see `aims_store::tokens::CheckedAt`), in the same statement: when anything the check read has
//! changed since — a revocation, a role change, a deactivated user, by this process or another —
//! the generation has moved, the remembered check is dropped and the token is checked afresh,
//! so the promise "a revocation takes effect on the very next request" still holds. Expiry is
//! checked here against the expiry the check read.

use std::collections::HashMap;
use std::sync::RwLock;

use aims_store::tokens::TokenAuth;

/// How many checks are remembered; past that, all are forgotten (a busy API has few tokens).
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct TokenChecks {
    by_hash: RwLock<HashMap<String, TokenAuth>>,
}

impl TokenChecks {
    /// The remembered check of the token with this hash, unless it has expired by `now` (stored
    /// form: fixed-width UTC text, which orders as the times do, as the database compares them).
    pub fn get(&self, token_hash: &str, now: &str) -> Option<TokenAuth> {
        let remembered = self.by_hash.read().ok()?.get(token_hash).cloned()?;
        match remembered.checked.expires_at.as_deref() {
            Some(expires_at) if expires_at <= now => None,
            _ => Some(remembered),
        }
    }

    /// Remembers a check, under the generation and expiry it read.
    pub fn remember(&self, token_hash: &str, auth: &TokenAuth) {
        let Ok(mut by_hash) = self.by_hash.write() else { return };
        if by_hash.len() >= CAPACITY && !by_hash.contains_key(token_hash) {
            by_hash.clear();
        }
        by_hash.insert(token_hash.to_owned(), auth.clone());
    }

    /// Forgets the check of one token (its generation moved).
    pub fn forget(&self, token_hash: &str) {
        if let Ok(mut by_hash) = self.by_hash.write() {
            by_hash.remove(token_hash);
        }
    }

    /// Notes that a token's use was recorded at `at`, so the remembered check does not ask for
    /// it to be recorded again within the minute.
    pub fn note_use(&self, token_id: &str, at: &str) {
        let Ok(mut by_hash) = self.by_hash.write() else { return };
        for remembered in by_hash.values_mut().filter(|auth| auth.token_id == token_id) {
            remembered.last_used_at = Some(at.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aims_domain::identity::Role;
    use aims_store::model::Member;
    use aims_store::tokens::CheckedAt;

    fn auth(token_id: &str, expires_at: Option<&str>) -> TokenAuth {
        let member = Member {
            org_id: "o".into(),
            org_slug: "acme".into(),
            org_name: "Acme".into(),
            user_id: "u".into(),
            email: "a@acme.example".into(),
            display_name: "A".into(),
            role: Role::Viewer,
        };
        let checked = CheckedAt { generation: 7, expires_at: expires_at.map(str::to_owned) };
        TokenAuth { token_id: token_id.into(), member, last_used_at: None, checked }
    }

    #[test]
    fn remembers_until_the_token_expires() {
        let checks = TokenChecks::default();
        checks.remember("h", &auth("t", Some("2026-12-04T10:00:00.000000Z")));
        let found = checks.get("h", "2026-12-04T09:59:59.999999Z").expect("remembered before expiry");
        assert_eq!(found.checked.generation, 7);
        assert!(checks.get("h", "2026-12-04T10:00:00.000000Z").is_none(), "expired at its expiry");
        assert!(checks.get("other", "2026-12-04T09:00:00.000000Z").is_none());
    }

    #[test]
    fn forgetting_and_noting_use() {
        let checks = TokenChecks::default();
        checks.remember("h", &auth("t", None));
        checks.note_use("t", "2026-12-04T09:00:00.000000Z");
        let found = checks.get("h", "2026-12-04T09:00:01.000000Z").expect("remembered");
        assert_eq!(found.last_used_at.as_deref(), Some("2026-12-04T09:00:00.000000Z"));
        checks.forget("h");
        assert!(checks.get("h", "2026-12-04T09:00:01.000000Z").is_none());
    }

    #[test]
    fn a_full_cache_starts_again() {
        let checks = TokenChecks::default();
        for i in 0..CAPACITY {
            checks.remember(&format!("h{i}"), &auth("t", None));
        }
        checks.remember("last", &auth("t", None));
        assert!(checks.get("last", "2026-12-04T09:00:00.000000Z").is_some());
        assert!(checks.get("h0", "2026-12-04T09:00:00.000000Z").is_none());
    }
}
