//! Failed sign-ins per account and source (see `aims_domain::signin`), in the database so
//! every instance sees them.

use crate::db::Db;
use crate::error::StoreResult;

/// The failures recorded for an account from a source: their count and when the last was.
pub async fn failures(db: &Db, email: &str, source: &str) -> StoreResult<Option<(i64, String)>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as("SELECT failures, last_failed_at FROM sign_in_failures WHERE email = $1 AND source = $2")
            .bind(email).bind(source).fetch_optional(pool).await?
    }))
}

/// Records the failures of an account from a source as they now stand.
pub async fn record(db: &Db, email: &str, source: &str, failures: i64, last_failed_at: &str) -> StoreResult<()> {
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO sign_in_failures (email, source, failures, last_failed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (email, source) DO UPDATE SET failures = excluded.failures, last_failed_at = excluded.last_failed_at",
        )
        .bind(email).bind(source).bind(failures).bind(last_failed_at).execute(pool).await?;
    });
    Ok(())
}

/// Forgets the failures of an account from a source (after a successful sign-in from it).
pub async fn clear(db: &Db, email: &str, source: &str) -> StoreResult<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM sign_in_failures WHERE email = $1 AND source = $2").bind(email).bind(source).execute(pool).await?;
    });
    Ok(())
}
