//! Members as the organisation manages them: memberships with their role, whether they are
//! active here, their version (for `If-Match`) and the person's last sign-in; and invitations,
//! single-use links kept as SHA-256.

use sqlx::AssertSqlSafe;

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;
use crate::orgs::parse_role;
use aims_domain::identity::Role;

/// One member of an organisation, as the members page and API show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Active in this organisation (and the person's account is active).
    pub active: bool,
    pub account_active: bool,
    pub version: i64,
    pub joined_at: String,
    pub updated_at: String,
    pub last_sign_in_at: Option<String>,
    /// Two-step sign-in with an authenticator app is enabled.
    pub totp: bool,
}

type MembershipRow = (String, String, String, String, bool, bool, i64, String, String, Option<String>, i64);

const MEMBERSHIP_SELECT: &str = "SELECT u.id, u.email, u.display_name, m.role, m.active, u.active, m.version, m.created_at, \
     m.updated_at, u.last_sign_in_at, \
     (SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) FROM memberships m JOIN users u ON u.id = m.user_id";

fn membership_from_row(row: MembershipRow) -> StoreResult<Membership> {
    let (user_id, email, display_name, role, active, account_active, version, joined_at, updated_at, last_sign_in_at, totp) = row;
    Ok(Membership {
        user_id,
        email,
        display_name,
        role: parse_role(&role)?,
        active: active && account_active,
        account_active,
        version,
        joined_at,
        updated_at,
        last_sign_in_at,
        totp: totp > 0,
    })
}

/// A page of an organisation's members in e-mail order, after the e-mail `after`; reads one
/// more than `limit` so the caller knows whether another page follows.
pub async fn page(db: &Db, org_id: &str, after: Option<&str>, limit: i64) -> StoreResult<Vec<Membership>> {
    let sql = format!("{MEMBERSHIP_SELECT} WHERE m.org_id = $1 AND ($2 IS NULL OR u.email > $2) ORDER BY u.email LIMIT $3");
    let rows: Vec<MembershipRow> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(after).bind(limit + 1).fetch_all(pool).await?);
    rows.into_iter().map(membership_from_row).collect()
}

pub async fn get(db: &Db, org_id: &str, user_id: &str) -> StoreResult<Option<Membership>> {
    let sql = format!("{MEMBERSHIP_SELECT} WHERE m.org_id = $1 AND m.user_id = $2");
    let row: Option<MembershipRow> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(user_id).fetch_optional(pool).await?);
    row.map(membership_from_row).transpose()
}

/// The membership inside a write transaction, so a change is judged on what it changes.
pub async fn get_in(tx: &mut WriteTx, org_id: &str, user_id: &str) -> StoreResult<Option<Membership>> {
    let sql = format!("{MEMBERSHIP_SELECT} WHERE m.org_id = $1 AND m.user_id = $2");
    let row: Option<MembershipRow> = tx.query(&sql).bind(org_id).bind(user_id).fetch_optional().await?;
    row.map(membership_from_row).transpose()
}

/// Active owners of the organisation (so the last one is never demoted or deactivated).
pub async fn active_owners(tx: &mut WriteTx, org_id: &str) -> StoreResult<i64> {
    let (count,): (i64,) = tx
        .query(
            "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND m.role = 'owner' AND m.active = TRUE AND u.active = TRUE",
        )
        .bind(org_id)
        .fetch_one()
        .await?;
    Ok(count)
}

/// Sets role and active state if the membership is still at `version`; false when it moved.
pub async fn update(tx: &mut WriteTx, org_id: &str, user_id: &str, role: Role, active: bool, version: i64, now: &str) -> StoreResult<bool> {
    let changed = tx
        .query(
            "UPDATE memberships SET role = $1, active = $2, version = version + 1, updated_at = $3 \
             WHERE org_id = $4 AND user_id = $5 AND version = $6",
        )
        .bind(role.as_str())
        .bind(active)
        .bind(now)
        .bind(org_id)
        .bind(user_id)
        .bind(version)
        .execute()
        .await?;
    Ok(changed == 1)
}

/// An invitation as listed (never its link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl Invitation {
    /// pending, accepted, revoked or expired (at `now`).
    pub fn status(&self, now: &str) -> &'static str {
        match (&self.accepted_at, &self.revoked_at) {
            (Some(_), _) => "accepted",
            (None, Some(_)) => "revoked",
            (None, None) if self.expires_at.as_str() <= now => "expired",
            (None, None) => "pending",
        }
    }
}

type InvitationRow = (String, String, String, Option<String>, String, String, Option<String>, Option<String>);

/// An [`InvitationRow`] led by its organisation's id.
type OrgInvitationRow = (String, String, String, String, Option<String>, String, String, Option<String>, Option<String>);

fn org_invitation_from_row(row: OrgInvitationRow) -> StoreResult<(String, Invitation)> {
    let (org_id, id, email, role, by, created, expires, accepted, revoked) = row;
    invitation_from_row((id, email, role, by, created, expires, accepted, revoked)).map(|i| (org_id, i))
}

const INVITATION_COLUMNS: &str = "id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at";

fn invitation_from_row(row: InvitationRow) -> StoreResult<Invitation> {
    let (id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at) = row;
    Ok(Invitation { id, email, role: parse_role(&role)?, invited_by, created_at, expires_at, accepted_at, revoked_at })
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub invited_by: Option<&'a str>,
    pub now: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert_invitation(tx: &mut WriteTx, new: NewInvitation<'_>) -> StoreResult<()> {
    tx.query(
        "INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.id)
    .bind(new.org_id)
    .bind(new.email)
    .bind(new.role.as_str())
    .bind(new.token_hash)
    .bind(new.invited_by)
    .bind(new.now)
    .bind(new.expires_at)
    .execute()
    .await?;
    Ok(())
}

/// A page of an organisation's invitations, newest first, before the creation key `before`
/// (`created_at|id`); one more than `limit` is read.
pub async fn invitations_page(db: &Db, org_id: &str, before: Option<(&str, &str)>, limit: i64) -> StoreResult<Vec<Invitation>> {
    let (at, id) = before.unzip();
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 \
         AND ($2 IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3)) ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    let rows: Vec<InvitationRow> = on_pool!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).bind(at).bind(id).bind(limit + 1).fetch_all(pool).await?
    });
    rows.into_iter().map(invitation_from_row).collect()
}

pub async fn invitation_in(tx: &mut WriteTx, org_id: &str, id: &str) -> StoreResult<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 AND id = $2");
    let row: Option<InvitationRow> = tx.query(&sql).bind(org_id).bind(id).fetch_optional().await?;
    row.map(invitation_from_row).transpose()
}

/// The invitation a link's hash opens, with its organisation's id.
pub async fn invitation_by_token(db: &Db, token_hash: &str) -> StoreResult<Option<(String, Invitation)>> {
    let sql = format!("SELECT org_id, {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1");
    let row: Option<OrgInvitationRow> =
        on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(token_hash).fetch_optional(pool).await?);
    row.map(org_invitation_from_row).transpose()
}

/// Marks a pending, unexpired invitation accepted (single use): returns its organisation's id
/// and the invitation, or nothing when the link was used, revoked or has expired meanwhile.
pub async fn accept_invitation(tx: &mut WriteTx, token_hash: &str, user_id: &str, now: &str) -> StoreResult<Option<(String, Invitation)>> {
    let sql = format!(
        "UPDATE invitations SET accepted_at = $1, accepted_by = $2 \
         WHERE token_hash = $3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING org_id, {INVITATION_COLUMNS}"
    );
    let row: Option<OrgInvitationRow> = tx.query(&sql).bind(now).bind(user_id).bind(token_hash).fetch_optional().await?;
    row.map(org_invitation_from_row).transpose()
}

/// Revokes a pending invitation; false when it was no longer pending.
pub async fn revoke_invitation(tx: &mut WriteTx, org_id: &str, id: &str, now: &str) -> StoreResult<bool> {
    let changed = tx
        .query("UPDATE invitations SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND accepted_at IS NULL AND revoked_at IS NULL")
        .bind(now)
        .bind(org_id)
        .bind(id)
        .execute()
        .await?;
    Ok(changed == 1)
}
