//! Reading requests: JSON bodies (415 for another content type, 400 for malformed JSON, 413
//! for too large), `If-Match` (428 when missing), and list query parameters (422 naming an
//! unknown parameter or a bad value).

use aims_domain::{ValidationErrors, cursor};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde_json::Value;

use crate::error::ApiError;

/// The largest JSON body the API accepts.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// A JSON request body, parsed but not yet validated (services validate it and name fields).
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType("Content-Type: application/json (or application/merge-patch+json)"));
        }
        let bytes = limited_body(req).await?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
    }
}

/// A JSON body that may be absent (transitions without a reason): absent or empty is `{}`.
pub struct OptionalJsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared = req.headers().contains_key(header::CONTENT_TYPE);
        let empty = req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v == "0");
        if !declared || empty {
            let bytes = limited_body(req).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJsonBody(Value::Object(Default::default())));
            }
            return Err(ApiError::UnsupportedMediaType("Content-Type: application/json"));
        }
        JsonBody::from_request(req, state).await.map(|JsonBody(v)| OptionalJsonBody(v))
    }
}

/// A JSON body's bytes, at most [`MAX_JSON_BYTES`] of them. The limit is applied here rather
/// than by a `DefaultBodyLimit` layer over the API, which would wrap every route (the reads
/// too) in one more service per request.
async fn limited_body(req: Request) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), MAX_JSON_BYTES).await.map_err(|_| ApiError::PayloadTooLarge(MAX_JSON_BYTES))
}

/// The version a change is based on, from `If-Match: "<version>"`, or any current version for
/// `If-Match: *`.
pub struct IfMatch(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::IF_MATCH).ok_or(ApiError::PreconditionRequired)?;
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(IfMatch(aims_app::records::ANY_VERSION));
        }
        let tag = text.strip_prefix("W/").unwrap_or(text);
        let Some(opaque) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).filter(|t| !t.contains('"')) else {
            return Err(ApiError::BadRequest("If-Match must be an entity tag such as \"3\" (the record's ETag) or *".into()));
        };
        // An entity tag that names no version of ours can match nothing: 412 like a stale one.
        Ok(IfMatch(opaque.parse::<i64>().ok().filter(|v| *v >= 1).unwrap_or(-1)))
    }
}

/// The ETag of a record version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Query parameters as given, for strict parsing.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| QueryPairs(q.0))
            .map_err(|e| ValidationErrors::single("query", "invalid_format", format!("malformed query string: {e}")).into())
    }
}

/// Paging of a list: `limit` (1–200, default 50) and an opaque `cursor`.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub limit: u32,
    pub after: i64,
}

/// Parses a list query: paging plus the named extra parameters; anything else is a 422.
pub struct ListQuery<'a> {
    pub paging: Paging,
    pub extra: Vec<(&'a str, String)>,
}

pub fn parse_list_query<'a>(pairs: &[(String, String)], allowed: &[&'a str]) -> Result<ListQuery<'a>, ApiError> {
    let mut errors = ValidationErrors::default();
    let mut paging = Paging { limit: cursor::DEFAULT_LIMIT, after: 0 };
    let mut extra = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=cursor::MAX_LIMIT).contains(&n) => paging.limit = n,
                _ => errors.push("limit", "out_of_range", format!("a whole number from 1 to {}", cursor::MAX_LIMIT)),
            },
            "cursor" => match cursor::decode(value) {
                Some(after) => paging.after = after,
                None => errors.push("cursor", "invalid_cursor", "not a cursor this API returned"),
            },
            other => match allowed.iter().find(|a| **a == other) {
                Some(name) => extra.push((*name, value.clone())),
                None => errors.push(other, "unknown_parameter", format!("unknown query parameter {other}")),
            },
        }
    }
    errors.into_result()?;
    Ok(ListQuery { paging, extra })
}

impl ListQuery<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.extra.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (`true`/`false`), 422 otherwise.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ValidationErrors::single(name, "invalid_type", "true or false").into()),
        }
    }
}
