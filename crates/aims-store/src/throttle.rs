//! Failed-login counting per e-mail address, in the database so every instance sees it.

use crate::db::Db;
use crate::error::StoreResult;

/// The lock-out in force for an address, if any: the time until which logins are refused.
pub async fn locked_until(db: &Db, email: &str, now: &str) -> StoreResult<Option<String>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE email = $1 AND locked_until > $2")
            .bind(email).bind(now).fetch_optional(pool).await?
    }))
}

/// Counts a failed login. Failures older than the window start a new count; reaching
/// `max_failures` locks the address until `lock_until`. Returns the count.
pub async fn record_failure(db: &Db, email: &str, now: &str, window_start: &str, max_failures: i64, lock_until: &str) -> StoreResult<i64> {
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO login_failures (email, failures, window_started_at) VALUES ($1, 1, $2) \
             ON CONFLICT (email) DO UPDATE SET \
               failures = CASE WHEN login_failures.window_started_at < $3 THEN 1 ELSE login_failures.failures + 1 END, \
               window_started_at = CASE WHEN login_failures.window_started_at < $3 THEN $2 ELSE login_failures.window_started_at END",
        )
        .bind(email).bind(now).bind(window_start).execute(pool).await?;
        let failures: i64 = sqlx::query_scalar("SELECT failures FROM login_failures WHERE email = $1").bind(email).fetch_one(pool).await?;
        if failures >= max_failures {
            sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE email = $2").bind(lock_until).bind(email).execute(pool).await?;
        }
        Ok(failures)
    })
}

pub async fn clear(db: &Db, email: &str) -> StoreResult<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(email).execute(pool).await?;
    });
    Ok(())
}
