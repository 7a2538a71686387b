//! Organisations and memberships.

use aims_domain::identity::Role;
use sqlx::AssertSqlSafe;

use crate::db::{Db, WriteTx};
use crate::error::{StoreError, StoreResult};
use crate::model::{Member, Organization};

const ORG_COLUMNS: &str = "id, slug, name, version, created_at, updated_at";

pub async fn insert(tx: &mut WriteTx, id: &str, slug: &str, name: &str, now: &str) -> StoreResult<()> {
    tx.query("INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(id)
        .bind(slug)
        .bind(name)
        .bind(now)
        .execute()
        .await
        .map_err(|e| e.on_unique(&format!("an organisation with slug {slug} exists")))?;
    Ok(())
}

pub async fn by_slug(db: &Db, slug: &str) -> StoreResult<Option<Organization>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE slug = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(slug).fetch_optional(pool).await?))
}

pub async fn by_id(db: &Db, id: &str) -> StoreResult<Option<Organization>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?))
}

pub async fn all(db: &Db) -> StoreResult<Vec<Organization>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organizations ORDER BY slug");
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await?))
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(pool).await?))
}

/// Adds a membership or changes its role. Returns the previous role, if there was one.
pub async fn upsert_membership(tx: &mut WriteTx, org_id: &str, user_id: &str, role: Role, now: &str) -> StoreResult<Option<Role>> {
    let previous: Option<(String,)> =
        tx.query("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2").bind(org_id).bind(user_id).fetch_optional().await?;
    let previous = previous.map(|(role,)| role);
    if previous.is_some() {
        tx.query("UPDATE memberships SET role = $1, updated_at = $2 WHERE org_id = $3 AND user_id = $4")
            .bind(role.as_str())
            .bind(now)
            .bind(org_id)
            .bind(user_id)
            .execute()
            .await?;
    } else {
        tx.query("INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(org_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now)
            .execute()
            .await?;
    }
    previous.map(|r| parse_role(&r)).transpose()
}

pub(crate) fn parse_role(text: &str) -> StoreResult<Role> {
    Role::parse("role", text).map_err(|_| StoreError::Corrupt(format!("unknown role {text}")))
}

type MemberRow = (String, String, String, String, String, String, String);

pub(crate) const MEMBER_SELECT: &str = "SELECT o.id, o.slug, o.name, u.id, u.email, u.display_name, m.role \
     FROM memberships m JOIN organizations o ON o.id = m.org_id JOIN users u ON u.id = m.user_id";

pub(crate) fn member_from_row(row: MemberRow) -> StoreResult<Member> {
    let (org_id, org_slug, org_name, user_id, email, display_name, role) = row;
    Ok(Member { org_id, org_slug, org_name, user_id, email, display_name, role: parse_role(&role)? })
}

/// The membership of an active user in the organisation with `slug`.
pub async fn member(db: &Db, slug: &str, user_id: &str) -> StoreResult<Option<Member>> {
    let sql = format!("{MEMBER_SELECT} WHERE o.slug = $1 AND u.id = $2 AND u.active = TRUE AND m.active = TRUE");
    let row: Option<MemberRow> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(slug).bind(user_id).fetch_optional(pool).await?);
    row.map(member_from_row).transpose()
}

/// Every membership of a user, for the organisation switcher.
pub async fn memberships_of(db: &Db, user_id: &str) -> StoreResult<Vec<Member>> {
    let sql = format!("{MEMBER_SELECT} WHERE u.id = $1 AND m.active = TRUE ORDER BY o.slug");
    let rows: Vec<MemberRow> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(user_id).fetch_all(pool).await?);
    rows.into_iter().map(member_from_row).collect()
}

/// Every member of an organisation.
pub async fn members(db: &Db, org_id: &str) -> StoreResult<Vec<Member>> {
    let sql = format!("{MEMBER_SELECT} WHERE o.id = $1 ORDER BY u.email");
    let rows: Vec<MemberRow> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).fetch_all(pool).await?);
    rows.into_iter().map(member_from_row).collect()
}

/// Is `user_id` a member of the organisation? (For owner fields and links to people.)
pub async fn is_member(tx: &mut WriteTx, org_id: &str, user_id: &str) -> StoreResult<bool> {
    let (found,): (i64,) =
        tx.query("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND user_id = $2").bind(org_id).bind(user_id).fetch_one().await?;
    Ok(found > 0)
}

pub async fn insert_framework(
    tx: &mut WriteTx,
    org_id: &str,
    urn: &str,
    ref_id: Option<&str>,
    name: &str,
    version: i64,
    now: &str,
) -> StoreResult<()> {
    tx.query("INSERT INTO frameworks (org_id, urn, ref_id, name, library_version, loaded_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(org_id)
        .bind(urn)
        .bind(ref_id)
        .bind(name)
        .bind(version)
        .bind(now)
        .execute()
        .await
        .map_err(|e| e.on_unique("the framework is already loaded"))?;
    Ok(())
}
