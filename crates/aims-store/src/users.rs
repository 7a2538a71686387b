//! Users: identities with a password hash, independent of any organisation.

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;
use crate::model::User;
use sqlx::AssertSqlSafe;

const USER_COLUMNS: &str = "id, email, display_name, active, version, created_at, updated_at";

type UserRow = (String, String, String, bool, i64, String, String);

pub async fn insert(tx: &mut WriteTx, id: &str, email: &str, display_name: &str, password_hash: &str, now: &str) -> StoreResult<()> {
    tx.query("INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(id)
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(now)
        .execute()
        .await
        .map_err(|e| e.on_unique(&format!("a user with e-mail {email} exists")))?;
    Ok(())
}

pub async fn by_email(db: &Db, email: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(email).fetch_optional(pool).await?))
}

pub async fn by_id(db: &Db, id: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?))
}

pub async fn by_email_in(tx: &mut WriteTx, email: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    let row: Option<UserRow> = tx.query(&sql).bind(email).fetch_optional().await?;
    Ok(row.map(|(id, email, display_name, active, version, created_at, updated_at)| User {
        id,
        email,
        display_name,
        active,
        version,
        created_at,
        updated_at,
    }))
}

/// A user by id, inside a write transaction.
pub async fn by_id_in(tx: &mut WriteTx, id: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = tx.query(&sql).bind(id).fetch_optional().await?;
    Ok(row.map(|(id, email, display_name, active, version, created_at, updated_at)| User {
        id,
        email,
        display_name,
        active,
        version,
        created_at,
        updated_at,
    }))
}

/// The stored password hash of an active user, for login.
pub async fn password_hash(db: &Db, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1 AND active = TRUE");
    let row: Option<(String, String, String, bool, i64, String, String, Option<String>)> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(email).fetch_optional(pool).await?);
    Ok(row.map(|(id, email, display_name, active, version, created_at, updated_at, hash)| {
        (User { id, email, display_name, active, version, created_at, updated_at }, hash)
    }))
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?))
}

pub async fn set_password(tx: &mut WriteTx, user_id: &str, password_hash: &str, now: &str) -> StoreResult<()> {
    tx.query("UPDATE users SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .execute()
        .await?;
    Ok(())
}

/// Marks a user inactive and ends every session and token of theirs, in the same transaction.
pub async fn deactivate(tx: &mut WriteTx, user_id: &str, now: &str) -> StoreResult<u64> {
    tx.query("UPDATE users SET active = FALSE, version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute()
        .await?;
    tx.query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute().await?;
    tx.query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL").bind(now).bind(user_id).execute().await
}

/// Ends every session of a user (after a password reset).
pub async fn end_sessions(tx: &mut WriteTx, user_id: &str) -> StoreResult<()> {
    tx.query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute().await?;
    Ok(())
}

/// The memberships (organisation ids) of a user, so user-level changes are logged in each.
pub async fn org_ids(tx: &mut WriteTx, user_id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> =
        tx.query("SELECT org_id FROM memberships WHERE user_id = $1 ORDER BY org_id").bind(user_id).fetch_all().await?;
    Ok(rows.into_iter().map(|(org_id,)| org_id).collect())
}

/// Records an interactive sign-in (not an API token's use).
pub async fn record_sign_in(db: &Db, user_id: &str, now: &str) -> StoreResult<()> {
    on_pool!(db, pool => {
        sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2").bind(now).bind(user_id).execute(pool).await?;
    });
    Ok(())
}

/// Changes a person's display name.
pub async fn set_display_name(tx: &mut WriteTx, user_id: &str, display_name: &str, now: &str) -> StoreResult<()> {
    tx.query("UPDATE users SET display_name = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(display_name)
        .bind(now)
        .bind(user_id)
        .execute()
        .await?;
    Ok(())
}

/// The stored password hash of a user by id (to check the current password before a change).
pub async fn password_hash_of(tx: &mut WriteTx, user_id: &str) -> StoreResult<Option<String>> {
    let row: Option<(Option<String>,)> =
        tx.query("SELECT password_hash FROM users WHERE id = $1 AND active = TRUE").bind(user_id).fetch_optional().await?;
    Ok(row.and_then(|(hash,)| hash))
}

/// Ends a user's sessions except `keep` (the one changing the password stays signed in).
pub async fn end_other_sessions(tx: &mut WriteTx, user_id: &str, keep: Option<&str>) -> StoreResult<()> {
    tx.query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)").bind(user_id).bind(keep).execute().await?;
    Ok(())
}
