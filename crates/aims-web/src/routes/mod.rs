//! The API's routes, one module per area; [`crate::router`] assembles them.

pub mod activity;
pub mod evidence;
pub mod import;
pub mod members;
pub mod meta;
pub mod public;
pub mod readiness;
pub mod records;
pub mod reports;
pub mod security;
pub mod sso;
pub mod tokens;
pub mod views;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::input::etag;

/// 200/201 with a record's JSON and its `ETag`, plus `Location` on create.
pub fn record_response(status: StatusCode, body: &Value, version: i64, location: Option<String>) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        headers.insert(header::ETAG, value);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}
