//! One's own browser sessions: the list (device, signed in, last used; the current one marked)
//! and signing out one of them or all the others. A session is named in pages by a handle (a
//! hash of its id), never by its id, which is the cookie's secret.

use aims_domain::clock;
use aims_store::activity::{self, NewEvent};
use aims_store::model::Member;
use aims_store::sessions::{self, SessionRow};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::access::actor;
use crate::{App, AppError, AppResult};

/// A session as its owner sees it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub handle: String,
    pub device: String,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
    pub current: bool,
}

/// The handle of a session in pages and forms: 16 hex digits of its id's SHA-256.
fn handle(id: &str) -> String {
    hex::encode(&Sha256::digest(id.as_bytes())[..8])
}

fn info(row: SessionRow, current: Option<&str>) -> SessionInfo {
    SessionInfo {
        handle: handle(&row.id),
        device: row.device.unwrap_or_else(|| "Unknown device".into()),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        current: current == Some(row.id.as_str()),
    }
}

impl App {
    /// The signed-in person's current sessions, the one asking (`current`, its id) first, then
    /// the most recently used.
    pub async fn my_sessions(&self, member: &Member, current: Option<&str>) -> AppResult<Vec<SessionInfo>> {
        let mut list: Vec<SessionInfo> =
            sessions::of_user(&self.db, &member.user_id).await?.into_iter().map(|row| info(row, current)).collect();
        // The session asking first; the others stay most recently used first (a stable sort).
        list.sort_by_key(|s| !s.current);
        Ok(list)
    }

    /// Signs out one of one's own sessions by its handle.
    pub async fn end_my_session(&self, member: &Member, session_handle: &str) -> AppResult<()> {
        let rows = sessions::of_user(&self.db, &member.user_id).await?;
        let row = rows.into_iter().find(|r| handle(&r.id) == session_handle).ok_or_else(|| AppError::NotFound("session".into()))?;
        let mut tx = self.db.begin_write().await?;
        if !sessions::end(&mut tx, &member.user_id, &row.id).await? {
            return Err(AppError::NotFound("session".into()));
        }
        let changes = json!({"session": handle(&row.id), "device": row.device, "signed_out": true});
        let event = NewEvent { action: "sign_out_session", record_type: "user", record_id: &member.user_id, changes };
        activity::append(&mut tx, &member.org_id, &actor(member), event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Signs out every session of one's own but `current`; returns how many ended.
    pub async fn end_my_other_sessions(&self, member: &Member, current: &str) -> AppResult<usize> {
        let others: Vec<SessionRow> = sessions::of_user(&self.db, &member.user_id).await?.into_iter().filter(|r| r.id != current).collect();
        if others.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.begin_write().await?;
        aims_store::users::end_other_sessions(&mut tx, &member.user_id, Some(current)).await?;
        let changes = json!({"other_sessions_ended": others.len(), "at": clock::now_text()});
        let event = NewEvent { action: "sign_out_other_sessions", record_type: "user", record_id: &member.user_id, changes };
        activity::append(&mut tx, &member.org_id, &actor(member), event).await?;
        tx.commit().await?;
        Ok(others.len())
    }
}
