//! Plain data the store returns. No ORM types leave this crate.

use aims_domain::identity::Role;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Organization {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub active: bool,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A user's membership of an organisation, with what a request needs to act for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub org_id: String,
    pub org_slug: String,
    pub org_name: String,
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// One record of the generic record store.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub seq: i64,
    pub org_id: String,
    pub id: String,
    pub kind: String,
    pub reference: Option<String>,
    pub version: i64,
    pub state: Option<String>,
    pub archived: bool,
    pub data: Map<String, Value>,
    pub created_at: String,
    pub created_by: Option<String>,
    pub updated_at: String,
    pub updated_by: Option<String>,
}

impl Record {
    /// The record as the API shows it: the envelope (id, ref, version, archived, timestamps,
    /// authors, state) followed by the fields of its document. Stored with every change in
    /// `records.doc`, so reads serve it without rendering.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), Value::String(self.id.clone()));
        if let Some(reference) = &self.reference {
            map.insert("ref".into(), Value::String(reference.clone()));
        }
        map.insert("version".into(), Value::from(self.version));
        map.insert("archived".into(), Value::Bool(self.archived));
        map.insert("created_at".into(), Value::String(self.created_at.clone()));
        map.insert("created_by".into(), self.created_by.clone().map_or(Value::Null, Value::String));
        map.insert("updated_at".into(), Value::String(self.updated_at.clone()));
        map.insert("updated_by".into(), self.updated_by.clone().map_or(Value::Null, Value::String));
        if let Some(state) = &self.state {
            map.insert("state".into(), Value::String(state.clone()));
        }
        for (key, value) in &self.data {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(map)
    }
}

/// A frozen edition of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub n: i64,
    pub record_version: i64,
    pub state: Option<String>,
    pub data: Map<String, Value>,
    pub created_at: String,
    pub created_by: Option<String>,
}

/// A page of a list: items plus the position to continue after, if there is more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says that more exist.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, seq_of: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_after = if more { rows.last().map(seq_of) } else { None };
        Page { items: rows, next_after }
    }
}

/// One event of the activity log, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEvent {
    pub id: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
    pub changes: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// Who made a change: a user (by id, shown by e-mail in the log) or the system itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User { id: String, email: String },
    System(&'static str),
}

impl Actor {
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } => Some(id),
            Actor::System(_) => None,
        }
    }

    /// The text the activity log records.
    pub fn label(&self) -> String {
        match self {
            Actor::User { email, .. } => email.clone(),
            Actor::System(name) => format!("system:{name}"),
        }
    }
}
