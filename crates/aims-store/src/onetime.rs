//! Single-use links: the first-run setup link and password reset links. Only the SHA-256 of
//! the link's secret is stored.

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Setup,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Setup => "setup",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

pub async fn insert(db: &Db, token_hash: &str, purpose: Purpose, user_id: Option<&str>, now: &str, expires_at: &str) -> StoreResult<()> {
    on_pool!(db, pool => {
        sqlx::query("INSERT INTO one_time_links (token_hash, purpose, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash).bind(purpose.as_str()).bind(user_id).bind(now).bind(expires_at)
            .execute(pool).await?;
    });
    Ok(())
}

/// Is the link valid now (unused, unexpired, of this purpose)? Returns its user, if any.
pub async fn peek(db: &Db, token_hash: &str, purpose: Purpose, now: &str) -> StoreResult<Option<Option<String>>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT user_id FROM one_time_links WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3")
            .bind(token_hash).bind(purpose.as_str()).bind(now).fetch_optional(pool).await?
    }))
}

/// Uses the link up inside `tx`; `None` when it is not (or no longer) valid, so two concurrent
/// uses cannot both succeed.
pub async fn consume(tx: &mut WriteTx, token_hash: &str, purpose: Purpose, now: &str) -> StoreResult<Option<Option<String>>> {
    let user: Option<(Option<String>,)> = tx
        .query("SELECT user_id FROM one_time_links WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3")
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional()
        .await?;
    if user.is_some() {
        tx.query("UPDATE one_time_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(token_hash)
            .execute()
            .await?;
    }
    Ok(user.map(|(user_id,)| user_id))
}
