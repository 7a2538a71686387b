//! JSON shapes of the API: how records, tokens and events look on the wire.

use aims_store::model::{ActivityEvent, ApiToken, Page, Record};
use aims_store::page_json::JsonPage;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

/// A record as the API shows it (defined once, with the stored form, in aims-store).
pub fn record_json(record: &Record) -> Value {
    record.to_json()
}

/// The list envelope: `{"items": [...], "next_cursor": "…" | null}`.
pub fn page_json<T>(page: &Page<T>, item: impl Fn(&T) -> Value) -> Value {
    json!({
        "items": page.items.iter().map(item).collect::<Vec<_>>(),
        "next_cursor": page.next_after.map(aims_domain::cursor::encode),
    })
}

/// What a list response starts with; the store writes the items right after it.
pub const PAGE_PREFIX: &str = "{\"items\":[";

/// Closes the list envelope around a page whose items follow [`PAGE_PREFIX`]: no parsing and
/// no copy of the items.
pub fn json_page_response(page: JsonPage) -> Response {
    let mut body = page.items;
    body.push_str("],\"next_cursor\":");
    match page.next_after.map(aims_domain::cursor::encode) {
        Some(cursor) => {
            body.push('"');
            body.push_str(&cursor);
            body.push('"');
        }
        None => body.push_str("null"),
    }
    body.push('}');
    json_text_body(body)
}

/// JSON text (assembled from stored documents) as the response body. Built directly rather
/// than through `String::into_response`, which first labels the body `text/plain`.
pub fn json_text_body(text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A record's stored JSON as the response body, with its version as `ETag`.
pub fn json_text_response(doc: String, version: i64) -> Response {
    let mut response = json_text_body(doc);
    if let Ok(etag) = HeaderValue::from_str(&crate::input::etag(version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenOut {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Only in the response that creates the token; never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl TokenOut {
    pub fn new(token: &ApiToken, secret: Option<String>) -> Self {
        Self {
            id: token.id.clone(),
            name: token.name.clone(),
            user_id: token.user_id.clone(),
            created_at: token.created_at.clone(),
            expires_at: token.expires_at.clone(),
            last_used_at: token.last_used_at.clone(),
            revoked_at: token.revoked_at.clone(),
            token: secret,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventOut {
    pub id: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
    #[schema(value_type = Object)]
    pub changes: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&ActivityEvent> for EventOut {
    fn from(e: &ActivityEvent) -> Self {
        Self {
            id: e.id.clone(),
            seq: e.seq,
            at: e.at.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            record_type: e.record_type.clone(),
            record_id: e.record_id.clone(),
            changes: e.changes.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}
