//! Two-step sign-in state (migration 15): a person's sealed authenticator secret and the last
//! time step accepted, their recovery codes (SHA-256 only), and each organisation's rule.
//! Uses of a code are conditional updates, so two requests racing with one code cannot both
//! pass.

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;

/// A person's authenticator enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totp {
    pub secret_sealed: String,
    pub last_step: Option<i64>,
    /// `None` while the enrolment waits for its confirming code.
    pub enabled_at: Option<String>,
}

pub async fn totp(db: &Db, user_id: &str) -> StoreResult<Option<Totp>> {
    let row: Option<(String, Option<i64>, Option<String>)> = on_pool!(db, pool => {
        sqlx::query_as("SELECT secret_sealed, last_step, enabled_at FROM user_totp WHERE user_id = $1")
            .bind(user_id).fetch_optional(pool).await?
    });
    Ok(row.map(|(secret_sealed, last_step, enabled_at)| Totp { secret_sealed, last_step, enabled_at }))
}

/// Is two-step sign-in enabled for the person?
pub async fn enabled(db: &Db, user_id: &str) -> StoreResult<bool> {
    Ok(totp(db, user_id).await?.is_some_and(|t| t.enabled_at.is_some()))
}

/// Starts (or restarts) an enrolment with a new sealed secret, not yet enabled. An enabled
/// enrolment is left alone: it is replaced only after being turned off.
pub async fn start(tx: &mut WriteTx, user_id: &str, secret_sealed: &str, now: &str) -> StoreResult<bool> {
    let changed = tx
        .query(
            "INSERT INTO user_totp (user_id, secret_sealed, last_step, enabled_at, created_at) VALUES ($1, $2, NULL, NULL, $3) \
             ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, last_step = NULL, created_at = excluded.created_at \
             WHERE user_totp.enabled_at IS NULL",
        )
        .bind(user_id)
        .bind(secret_sealed)
        .bind(now)
        .execute()
        .await?;
    Ok(changed == 1)
}

/// Accepts time step `step` for the person: only when it is later than the last one accepted
/// (RFC 6238 §5.2: a code is valid once). `false` means a replay.
pub async fn accept_step(tx: &mut WriteTx, user_id: &str, step: i64) -> StoreResult<bool> {
    let changed = tx
        .query("UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)")
        .bind(user_id)
        .bind(step)
        .execute()
        .await?;
    Ok(changed == 1)
}

/// Marks a confirmed enrolment enabled.
pub async fn enable(tx: &mut WriteTx, user_id: &str, now: &str) -> StoreResult<bool> {
    let changed = tx
        .query("UPDATE user_totp SET enabled_at = $2 WHERE user_id = $1 AND enabled_at IS NULL")
        .bind(user_id)
        .bind(now)
        .execute()
        .await?;
    Ok(changed == 1)
}

/// Removes the person's enrolment and recovery codes; `true` when there was an enabled one.
pub async fn remove(tx: &mut WriteTx, user_id: &str) -> StoreResult<bool> {
    let (enabled,): (i64,) =
        tx.query("SELECT COUNT(*) FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL").bind(user_id).fetch_one().await?;
    tx.query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute().await?;
    tx.query("DELETE FROM user_totp WHERE user_id = $1").bind(user_id).execute().await?;
    Ok(enabled > 0)
}

/// Replaces the person's recovery codes with these hashes.
pub async fn replace_recovery_codes(tx: &mut WriteTx, user_id: &str, hashes: &[String], now: &str) -> StoreResult<()> {
    tx.query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute().await?;
    for hash in hashes {
        tx.query("INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) VALUES ($1, $2, $3, NULL)")
            .bind(user_id)
            .bind(hash.as_str())
            .bind(now)
            .execute()
            .await?;
    }
    Ok(())
}

/// Uses the recovery code with this hash, once: `false` when there is no such unused code.
pub async fn use_recovery_code(tx: &mut WriteTx, user_id: &str, hash: &str, now: &str) -> StoreResult<bool> {
    let changed = tx
        .query("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute()
        .await?;
    Ok(changed == 1)
}

/// Recovery codes the person has not used yet.
pub async fn unused_recovery_codes(db: &Db, user_id: &str) -> StoreResult<i64> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(user_id).fetch_one(pool).await?
    }))
}

/// An organisation's rule and its version (`"off"` at version 1 when never set: version 0
/// means "any" to `If-Match`).
pub async fn org_rule(db: &Db, org_id: &str) -> StoreResult<(String, i64)> {
    let row: Option<(String, i64)> = on_pool!(db, pool => {
        sqlx::query_as("SELECT mfa_required, version FROM org_security WHERE org_id = $1").bind(org_id).fetch_optional(pool).await?
    });
    Ok(row.unwrap_or_else(|| ("off".into(), 1)))
}

/// The rule inside a write transaction, so a change is judged on the version it changes.
pub async fn org_rule_in(tx: &mut WriteTx, org_id: &str) -> StoreResult<(String, i64)> {
    let row: Option<(String, i64)> =
        tx.query("SELECT mfa_required, version FROM org_security WHERE org_id = $1").bind(org_id).fetch_optional().await?;
    Ok(row.unwrap_or_else(|| ("off".into(), 1)))
}

/// Writes the organisation's rule at `version`.
pub async fn set_org_rule(tx: &mut WriteTx, org_id: &str, rule: &str, version: i64, now: &str) -> StoreResult<()> {
    tx.query(
        "INSERT INTO org_security (org_id, mfa_required, version, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET mfa_required = excluded.mfa_required, version = excluded.version, updated_at = excluded.updated_at",
    )
    .bind(org_id)
    .bind(rule)
    .bind(version)
    .bind(now)
    .execute()
    .await?;
    Ok(())
}
