//! API tokens. Only the SHA-256 of a token is stored; the token itself is shown once.

use sqlx::AssertSqlSafe;

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;
use crate::model::{ApiToken, Member};
use crate::orgs::parse_role;

const TOKEN_COLUMNS: &str = "id, org_id, user_id, name, created_at, expires_at, last_used_at, revoked_at";

type TokenRow = (String, String, String, String, String, Option<String>, Option<String>, Option<String>);

fn token_from_row((id, org_id, user_id, name, created_at, expires_at, last_used_at, revoked_at): TokenRow) -> ApiToken {
    ApiToken { id, org_id, user_id, name, created_at, expires_at, last_used_at, revoked_at }
}

pub struct NewToken<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub user_id: &'a str,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub created_at: &'a str,
    pub expires_at: Option<&'a str>,
}

pub async fn insert(tx: &mut WriteTx, token: &NewToken<'_>) -> StoreResult<()> {
    tx.query("INSERT INTO api_tokens (id, org_id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(token.id)
        .bind(token.org_id)
        .bind(token.user_id)
        .bind(token.name)
        .bind(token.token_hash)
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute()
        .await?;
    Ok(())
}

/// A token that authenticated a request: the member it acts for, when it was last used, and
/// what lets a process remember the check.
#[derive(Debug, Clone)]
pub struct TokenAuth {
    pub token_id: String,
    pub member: Member,
    pub last_used_at: Option<String>,
    pub checked: CheckedAt,
}

/// When a token check was made: the auth generation it saw (see migration 6: it moves with every
/// change to what the check reads) and when the token expires. While both hold, the check
/// holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAt {
    pub generation: i64,
    pub expires_at: Option<String>,
}

/// [`AUTHENTICATE_SQL`]'s row: token id, last use, organisation id, slug and name, user id,
/// e-mail, display name, role, expiry, auth generation.
pub(crate) type AuthRow = (String, Option<String>, String, String, String, String, String, String, String, Option<String>, i64);

/// The [`TokenAuth`] of an [`AuthRow`].
pub(crate) fn auth_from_row(
    (token_id, last_used_at, org_id, org_slug, org_name, user_id, email, display_name, role, expires_at, generation): AuthRow,
) -> StoreResult<TokenAuth> {
    let member = Member { org_id, org_slug, org_name, user_id, email, display_name, role: parse_role(&role)? };
    Ok(TokenAuth { token_id, member, last_used_at, checked: CheckedAt { generation, expires_at } })
}

/// Resolves a token hash to its member (parameters: $1 token hash, $2 now) in one indexed
/// query. Revoked or expired tokens and inactive users resolve to nothing; the query runs on
/// every request, so revocation takes effect on the very next one.
pub const AUTHENTICATE_SQL: &str =
    concat!("SELECT ", token_columns!(), ", ", token_check_columns!(), " FROM ", token_joins!(), " WHERE ", token_valid!());

/// [`AUTHENTICATE_SQL`] for SQLite's read connections, from the covering indexes.
pub const AUTHENTICATE_SQLITE_SQL: &str =
    concat!("SELECT ", token_columns!(), ", ", token_check_columns!(), " FROM ", token_joins_sqlite!(), " WHERE ", token_valid!());

/// The columns of an authenticated token's row: token id, last use, organisation id, slug and
/// name, user id, e-mail, display name, role. Macros, so that queries joining more to the
/// token's row are written with `concat!` from the same pieces as [`AUTHENTICATE_SQL`].
macro_rules! token_columns {
    () => {
        "t.id, t.last_used_at, o.id, o.slug, o.name, u.id, u.email, u.display_name, m.role"
    };
}

/// The columns that let a check be remembered ([`CheckedAt`]): the token's expiry and the auth
/// generation, read in the same statement (so from the same snapshot) as the check.
macro_rules! token_check_columns {
    () => {
        "t.expires_at, (SELECT g.generation FROM auth_generation g)"
    };
}

/// The tables of a token's row: the token `t`, its membership `m`, organisation `o` and user `u`.
macro_rules! token_joins {
    () => {
        $crate::tokens::token_joins_from!("", "", "", "")
    };
}

/// [`token_joins`] on SQLite, naming the covering indexes of migration 5: each table is read
/// from its index alone, one B-tree search instead of two. Without statistics (aims never
/// runs ANALYZE: it had halved read throughput) SQLite prefers a unique index that matches a
/// single row, and would otherwise go on to the table for the remaining columns.
macro_rules! token_joins_sqlite {
    () => {
        $crate::tokens::token_joins_from!(
            " INDEXED BY api_tokens_check",
            " INDEXED BY memberships_check",
            " INDEXED BY organizations_check",
            " INDEXED BY users_check"
        )
    };
}

/// The joins of [`token_joins`], each table followed by how it is read (empty: as the
/// database chooses).
macro_rules! token_joins_from {
    ($token:literal, $membership:literal, $organization:literal, $user:literal) => {
        concat!(
            "api_tokens t",
            $token,
            " JOIN memberships m",
            $membership,
            " ON m.org_id = t.org_id AND m.user_id = t.user_id JOIN organizations o",
            $organization,
            " ON o.id = t.org_id JOIN users u",
            $user,
            " ON u.id = t.user_id"
        )
    };
}

/// The condition of a valid token: `$1` its hash, `$2` now.
macro_rules! token_valid {
    () => {
        "t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.active = TRUE AND m.active = TRUE"
    };
}

pub(crate) use {token_check_columns, token_columns, token_joins, token_joins_from, token_joins_sqlite, token_valid};

pub async fn authenticate(db: &Db, token_hash: &str, now: &str) -> StoreResult<Option<TokenAuth>> {
    let row: Option<AuthRow> = on_pool!(db, pool => {
        sqlx::query_as(AUTHENTICATE_SQL).bind(token_hash).bind(now).fetch_optional(pool).await?
    });
    row.map(auth_from_row).transpose()
}

/// The auth generation now (see [`CheckedAt`]).
pub async fn generation(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT generation FROM auth_generation WHERE id = 1").fetch_one(pool).await?
    }))
}

/// Records use of a token, at most once a minute (`stale_before` is now minus a minute).
pub async fn touch(db: &Db, token_id: &str, now: &str, stale_before: &str) -> StoreResult<()> {
    on_pool!(db, pool => {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(now).bind(token_id).bind(stale_before).execute(pool).await?;
    });
    Ok(())
}

/// Tokens of one member, or of every member of the organisation when `user_id` is `None`.
pub async fn list(db: &Db, org_id: &str, user_id: Option<&str>) -> StoreResult<Vec<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE org_id = $1 AND ($2 IS NULL OR user_id = $2) ORDER BY created_at, id");
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(user_id).fetch_all(pool).await?))
}

pub async fn get(tx: &mut WriteTx, token_id: &str) -> StoreResult<Option<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
    let row: Option<TokenRow> = tx.query(&sql).bind(token_id).fetch_optional().await?;
    Ok(row.map(token_from_row))
}

pub async fn get_in_org(db: &Db, org_id: &str, token_id: &str) -> StoreResult<Option<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE org_id = $1 AND id = $2");
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(token_id).fetch_optional(pool).await?))
}

/// Revokes a token; `false` when it was already revoked.
pub async fn revoke(tx: &mut WriteTx, token_id: &str, now: &str) -> StoreResult<bool> {
    let done =
        tx.query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL").bind(now).bind(token_id).execute().await?;
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    /// SQLite's token check is the shared one with index hints, and nothing else.
    #[test]
    fn the_sqlite_token_check_differs_only_by_its_index_hints() {
        let unhinted = ["api_tokens_check", "memberships_check", "organizations_check", "users_check"]
            .iter()
            .fold(super::AUTHENTICATE_SQLITE_SQL.to_owned(), |sql, index| sql.replace(&format!(" INDEXED BY {index}"), ""));
        assert_eq!(unhinted, super::AUTHENTICATE_SQL);
        assert!(super::AUTHENTICATE_SQL.contains(
            "FROM api_tokens t JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id \
             JOIN organizations o ON o.id = t.org_id JOIN users u ON u.id = t.user_id WHERE"
        ));
    }
}
