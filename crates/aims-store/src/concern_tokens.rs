//! The private status links of concerns raised through the public intake (migration 13): the
//! SHA-256 of each link's token and the one concern it opens.

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;

/// Keeps a new status link's hash, in the transaction that creates its concern.
pub async fn insert(tx: &mut WriteTx, token_hash: &str, org_id: &str, record_id: &str, now: &str) -> StoreResult<()> {
    tx.query("INSERT INTO concern_status_tokens (token_hash, org_id, record_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(org_id)
        .bind(record_id)
        .bind(now)
        .execute()
        .await?;
    Ok(())
}

/// The concern a status link opens, in the organisation of that slug only: `None` for an
/// unknown token, or a token of another organisation's concern.
pub async fn concern_of(db: &Db, token_hash: &str, org_slug: &str) -> StoreResult<Option<(String, String)>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT t.org_id, t.record_id FROM concern_status_tokens t JOIN organizations o ON o.id = t.org_id \
             WHERE t.token_hash = $1 AND o.slug = $2",
        )
        .bind(token_hash).bind(org_slug).fetch_optional(pool).await?
    }))
}
