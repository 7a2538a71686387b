//! Browser sessions in the database (either backend), for tower-sessions. The signed-in user's
//! id is kept in its own column so that deactivating a user ends their sessions at once.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use crate::db::Db;
use crate::db::WriteTx;
use crate::error::StoreResult;

/// The session data key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "user_id";
/// The session data key holding the device the session was signed in from ("Chrome on Linux").
pub const DEVICE_KEY: &str = "device";
/// A session's last use is moved at most this often, so a busy page is not a write per request
/// to one more column; the list of sessions needs minutes, not seconds.
const LAST_USE_RESOLUTION: time::Duration = time::Duration::minutes(1);

/// One signed-in session as its owner sees it in the list of their sessions.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub device: Option<String>,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
}

type Row = (String, Option<String>, Option<String>, Option<String>);

/// A person's current sessions, the most recently used first.
pub async fn of_user(db: &Db, user_id: &str) -> StoreResult<Vec<SessionRow>> {
    let rows: Vec<Row> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, device, created_at, last_used_at FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY last_used_at DESC, id",
        )
        .bind(user_id).bind(aims_domain::clock::now_text())
        .fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(|(id, device, created_at, last_used_at)| SessionRow { id, device, created_at, last_used_at }).collect())
}

/// Ends one of a person's sessions; `false` when it was not theirs or is gone already.
pub async fn end(tx: &mut WriteTx, user_id: &str, id: &str) -> StoreResult<bool> {
    let ended = tx.query("DELETE FROM sessions WHERE id = $1 AND user_id = $2").bind(id).bind(user_id).execute().await?;
    Ok(ended > 0)
}

/// The session cookie's name on plain http (loopback) and, with the `__Host-` prefix that pins
/// it to the host, when the public URL is https.
pub const COOKIE_NAME: &str = "aims_session";
pub const SECURE_COOKIE_NAME: &str = "__Host-aims_session";

impl DbSessionStore {
    /// The signed-in user of a session cookie's value, if the session exists and is current.
    /// Lets the API accept browser sessions without running the session middleware on every
    /// token-authenticated request.
    pub async fn user_of(&self, cookie_value: &str) -> Option<String> {
        let id: Id = cookie_value.parse().ok()?;
        let record = self.load(&id).await.ok()??;
        record.data.get(USER_ID_KEY).and_then(|v| v.as_str()).map(str::to_owned)
    }
}

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; on the rare clash, draw again.
        for _ in 0..4 {
            let exists: i64 = on_pool!(&self.db, pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id = $1").bind(record.id.to_string()).fetch_one(pool).await.map_err(backend)?
            });
            if exists == 0 {
                break;
            }
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let user_id = record.data.get(USER_ID_KEY).and_then(|v| v.as_str()).map(str::to_owned);
        let device = record.data.get(DEVICE_KEY).and_then(|v| v.as_str()).map(str::to_owned);
        let expires = aims_domain::clock::format(record.expiry_date);
        let now = aims_domain::clock::now();
        let (now, stale_before) = (aims_domain::clock::format(now), aims_domain::clock::format(now - LAST_USE_RESOLUTION));
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sessions (id, user_id, data, expires_at, device, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                 ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at, \
                 device = excluded.device, \
                 last_used_at = CASE WHEN sessions.last_used_at IS NULL OR sessions.last_used_at < $7 THEN excluded.last_used_at ELSE sessions.last_used_at END",
            )
            .bind(record.id.to_string()).bind(user_id).bind(data).bind(expires).bind(device).bind(now).bind(stale_before)
            .execute(pool).await.map_err(backend)?;
        });
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id.to_string()).bind(aims_domain::clock::now_text())
                .fetch_optional(pool).await.map_err(backend)?
        });
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::parse(&expires_at, &time::format_description::well_known::Rfc3339)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id.to_string()).execute(pool).await.map_err(backend)?;
        });
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(aims_domain::clock::now_text()).execute(pool).await.map_err(backend)?;
        });
        Ok(())
    }
}
