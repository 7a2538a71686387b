//! Single sign-on (migration 16): each organisation's OpenID Connect settings (the client secret
//! sealed by the application layer before it gets here) and the provider subjects linked to
//! people, per organisation.

use sqlx::AssertSqlSafe;

use crate::db::{Db, WriteTx};
use crate::error::StoreResult;

/// An organisation's stored SSO settings.
#[derive(Debug, Clone)]
pub struct SsoRow {
    /// The JSON document of every setting but the secret and the two columns below.
    pub document: String,
    /// The sealed client secret.
    pub client_secret: Option<String>,
    pub required: bool,
    pub break_glass_user_id: Option<String>,
    pub version: i64,
    pub updated_at: String,
}

type Row = (String, Option<String>, bool, Option<String>, i64, String);

fn row((document, client_secret, required, break_glass_user_id, version, updated_at): Row) -> SsoRow {
    SsoRow { document, client_secret, required, break_glass_user_id, version, updated_at }
}

const COLUMNS: &str = "document, client_secret, required, break_glass_user_id, version, updated_at";

pub async fn get(db: &Db, org_id: &str) -> StoreResult<Option<SsoRow>> {
    let sql = format!("SELECT {COLUMNS} FROM sso_settings WHERE org_id = $1");
    let found: Option<Row> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(org_id).fetch_optional(pool).await?);
    Ok(found.map(row))
}

pub async fn get_in(tx: &mut WriteTx, org_id: &str) -> StoreResult<Option<SsoRow>> {
    let found: Option<Row> =
        tx.query(&format!("SELECT {COLUMNS} FROM sso_settings WHERE org_id = $1")).bind(org_id).fetch_optional().await?;
    Ok(found.map(row))
}

/// Writes the settings: a first row at version 2 (the defaults, never stored, are version 1), or the next version of the row still at
/// `version`; `false` when another writer got there first.
pub async fn put(tx: &mut WriteTx, org_id: &str, new: &SsoRow, version: Option<i64>, now: &str) -> StoreResult<bool> {
    let written = match version {
        None => {
            tx.query(
                "INSERT INTO sso_settings (org_id, document, client_secret, required, break_glass_user_id, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 2, $6) ON CONFLICT (org_id) DO NOTHING",
            )
            .bind(org_id)
            .bind(new.document.as_str())
            .bind(new.client_secret.as_deref())
            .bind(new.required)
            .bind(new.break_glass_user_id.as_deref())
            .bind(now)
            .execute()
            .await?
        }
        Some(version) => {
            tx.query(
                "UPDATE sso_settings SET document = $2, client_secret = $3, required = $4, break_glass_user_id = $5, \
                 version = version + 1, updated_at = $6 WHERE org_id = $1 AND version = $7",
            )
            .bind(org_id)
            .bind(new.document.as_str())
            .bind(new.client_secret.as_deref())
            .bind(new.required)
            .bind(new.break_glass_user_id.as_deref())
            .bind(now)
            .bind(version)
            .execute()
            .await?
        }
    };
    Ok(written == 1)
}

/// Every organisation's slug with its settings document, to find the organisation an e-mail
/// domain signs in with (one row per organisation that configured SSO).
pub async fn all_documents(db: &Db) -> StoreResult<Vec<(String, String)>> {
    let sql = "SELECT o.slug, s.document FROM sso_settings s JOIN organizations o ON o.id = s.org_id ORDER BY o.slug";
    Ok(on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await?))
}

/// The names of the organisations whose SSO requirement refuses `user_id` a password sign-in:
/// they are an active member, SSO is required there, and they are not its break-glass owner.
pub async fn requiring_sso(db: &Db, user_id: &str) -> StoreResult<Vec<String>> {
    let sql = "SELECT o.name FROM sso_settings s \
               JOIN memberships m ON m.org_id = s.org_id AND m.user_id = $1 AND m.active \
               JOIN organizations o ON o.id = s.org_id \
               WHERE s.required AND (s.break_glass_user_id IS NULL OR s.break_glass_user_id <> $1) ORDER BY o.name";
    let rows: Vec<(String,)> = on_pool!(db, pool => sqlx::query_as(AssertSqlSafe(sql)).bind(user_id).fetch_all(pool).await?);
    Ok(rows.into_iter().map(|(name,)| name).collect())
}

/// The person a provider subject is linked to in an organisation.
pub async fn linked_user(tx: &mut WriteTx, org_id: &str, subject: &str) -> StoreResult<Option<String>> {
    let found: Option<(String,)> = tx
        .query("SELECT user_id FROM sso_identities WHERE org_id = $1 AND subject = $2")
        .bind(org_id)
        .bind(subject)
        .fetch_optional()
        .await?;
    Ok(found.map(|(id,)| id))
}

/// The provider subject a person is linked to in an organisation, if any.
pub async fn subject_of(tx: &mut WriteTx, org_id: &str, user_id: &str) -> StoreResult<Option<String>> {
    let found: Option<(String,)> = tx
        .query("SELECT subject FROM sso_identities WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .fetch_optional()
        .await?;
    Ok(found.map(|(subject,)| subject))
}

pub async fn link(tx: &mut WriteTx, org_id: &str, subject: &str, user_id: &str, now: &str) -> StoreResult<()> {
    tx.query("INSERT INTO sso_identities (org_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org_id)
        .bind(subject)
        .bind(user_id)
        .bind(now)
        .execute()
        .await
        .map_err(|e| e.on_unique("this person is already linked to another identity of the provider"))?;
    Ok(())
}

/// A person created by single sign-on: no password (they sign in through the provider, or set
/// one with a reset link if the organisation allows passwords).
pub async fn insert_user(tx: &mut WriteTx, id: &str, email: &str, display_name: &str, now: &str) -> StoreResult<()> {
    tx.query("INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, NULL, $4, $4)")
        .bind(id)
        .bind(email)
        .bind(display_name)
        .bind(now)
        .execute()
        .await
        .map_err(|e| e.on_unique(&format!("a user with e-mail {email} exists")))?;
    Ok(())
}
