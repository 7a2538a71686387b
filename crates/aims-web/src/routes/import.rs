//! `POST ai-systems/import`: the inventory from a CSV file, all rows or none.

use aims_app::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::post;
use serde_json::json;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::openapi::{ApiBuilder, Doc};

/// The largest CSV file accepted.
pub const MAX_CSV_BYTES: usize = 10 * 1024 * 1024;

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let integer = || ObjectBuilder::new().schema_type(Type::Integer);
    let report = ObjectBuilder::new().property("created", integer()).property("updated", integer()).property("unchanged", integer());
    api.route(
        HttpMethod::Post,
        "/api/v1/orgs/{org}/ai-systems/import",
        post(|State(app): State<App>, Authed(member), headers: HeaderMap, body: Bytes| async move {
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
            if !content_type.trim().to_ascii_lowercase().starts_with("text/csv") {
                return Err(ApiError::UnsupportedMediaType("Content-Type: text/csv"));
            }
            let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("the file is not UTF-8 text".into()))?;
            let report = app.import_ai_systems(&member, text).await?;
            ApiResult::Ok(axum::Json(json!({"created": report.created, "updated": report.updated, "unchanged": report.unchanged})))
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_CSV_BYTES)),
        Doc::new(
            "ai-systems",
            "import_ai_systems",
            "Import AI systems from CSV (header row of field names; lists separated by ';'; owner_email for the owner). \
             Every row is validated first; errors name rows[N].column; nothing is written unless all rows are good; \
             rows match existing systems by name, so importing the same file twice changes nothing.",
        )
        .org()
        .body("text/csv", crate::openapi::string().into())
        .ok(200, "What the import created, updated and left unchanged", Some(("application/json", report.into()))),
    )
}
