//! Evidence files: `POST evidence` (multipart: `file` and `metadata` as JSON),
//! `GET evidence/{id}/content` (the current file or `?revision=n`), and
//! `POST evidence/{id}/content` (a new file, If-Match). The other evidence routes are the
//! generic record routes.

use aims_app::App;
use aims_app::evidence::Upload;
use aims_domain::ValidationErrors;
use aims_store::files::Content;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

use crate::auth::Authed;
use crate::dto::record_json;
use crate::error::{ApiError, ApiResult};
use crate::input::{IfMatch, QueryPairs, parse_list_query};
use crate::openapi::{ApiBuilder, Doc};
use crate::routes::record_response;

/// A multipart upload as received: the file part and the metadata (an empty object if absent).
struct Received {
    upload: Upload,
    metadata: Value,
}

/// Reads `file` and `metadata` from a multipart body. The file streams into the store's
/// staging area while it is hashed, a piece at a time; an oversized file is refused (413) as
/// soon as it passes the limit, and the rest of the body is never read.
async fn receive(app: &App, request: Request, metadata_allowed: bool) -> ApiResult<Received> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.trim().to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError::UnsupportedMediaType("Content-Type: multipart/form-data with a part named file"));
    }
    let mut multipart =
        Multipart::from_request(request, &()).await.map_err(|e| ApiError::BadRequest(format!("malformed multipart body: {e}")))?;
    let mut upload = None;
    let mut metadata = Value::Object(Default::default());
    let mut errors = ValidationErrors::default();
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::BadRequest(format!("malformed multipart body: {e}"));
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let file_name = field.file_name().unwrap_or("evidence").to_owned();
                let declared = field.content_type().unwrap_or_default().to_owned();
                let mut stager = app.files.stage().await.map_err(aims_app::AppError::from)?;
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    if stager.size() + chunk.len() as u64 > app.max_upload_bytes as u64 {
                        return Err(ApiError::PayloadTooLarge(app.max_upload_bytes));
                    }
                    stager.write(&chunk).await.map_err(aims_app::AppError::from)?;
                }
                let content = Content::Staged(stager.finish().await.map_err(aims_app::AppError::from)?);
                upload = Some(Upload { file_name, content_type: declared, content });
            }
            "metadata" if metadata_allowed => {
                let text = field.text().await.map_err(malformed)?;
                metadata = serde_json::from_str(&text).map_err(|e| ApiError::BadRequest(format!("malformed JSON in metadata: {e}")))?;
            }
            other => errors.push(other.to_owned(), "unknown_field", "the parts are file and metadata"),
        }
    }
    let Some(upload) = upload else {
        errors.push("file", "required", "attach the file as a part named file");
        return Err(errors.into_result().err().map(ApiError::from).unwrap_or_else(|| ApiError::BadRequest("no file".into())));
    };
    errors.into_result()?;
    Ok(Received { upload, metadata })
}

/// Without a title, the evidence is titled after its file.
fn with_default_title(mut metadata: Value, file_name: &str) -> Value {
    if let Some(object) = metadata.as_object_mut() {
        object.entry("title").or_insert_with(|| json!(aims_domain::uploads::safe_file_name(file_name)));
    }
    metadata
}

fn download(file: aims_app::evidence::Download) -> Response {
    let mut response = (StatusCode::OK, file.bytes).into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    let ascii: String = file.file_name.chars().map(|c| if c.is_ascii_alphanumeric() || "._- ".contains(c) { c } else { '_' }).collect();
    let encoded: String = file
        .file_name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"._-".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("\"sha256:{}\"", file.sha256)) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    response
}

fn multipart_schema(with_metadata: bool) -> Schema {
    let file = ObjectBuilder::new().schema_type(Type::String).format(Some(utoipa::openapi::SchemaFormat::Custom("binary".into())));
    // No other parts: the upload reads only these.
    let mut body = ObjectBuilder::new()
        .property("file", file)
        .required("file")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
    if with_metadata {
        body = body.property(
            "metadata",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("A JSON object with the evidence fields (title, evidence_type, links …)")),
        );
    }
    body.into()
}

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let record: RefOr<Schema> = Ref::from_schema_name("Evidence").into();
    let collection = "/api/v1/orgs/{org}/evidence";
    let content = "/api/v1/orgs/{org}/evidence/{id}/content";
    api.route(
        HttpMethod::Post,
        collection,
        post(|State(app): State<App>, Path(org): Path<String>, Authed(member), request: Request| async move {
            // The role is checked before the body is read: a refused upload is not received.
            app.may_upload(&member)?;
            let received = receive(&app, request, true).await?;
            let metadata = with_default_title(received.metadata, &received.upload.file_name);
            let record = app.upload_evidence(&member, &metadata, received.upload).await?;
            let location = format!("/api/v1/orgs/{org}/evidence/{}", record.id);
            ApiResult::Ok(record_response(StatusCode::CREATED, &record_json(&record), record.version, Some(location)))
        })
        .layer(axum::extract::DefaultBodyLimit::disable()),
        Doc::new(
            "evidence",
            "create_evidence",
            "Upload evidence: a file (multipart part `file`) and its fields as JSON (part `metadata`). \
             Stored by SHA-256; too large is 413, a type not accepted or content contradicting its type is 415",
        )
        .org()
        .body("multipart/form-data", multipart_schema(true).into())
        .ok(201, "Created", Some(("application/json", record.clone()))),
    )
    .route(
        HttpMethod::Get,
        content,
        get(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member), QueryPairs(query)| async move {
            let query = parse_list_query(&query, &["revision"])?;
            let revision = match query.get("revision") {
                None => None,
                Some(n) => Some(n.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    ApiError::from(ValidationErrors::single("revision", "invalid_type", "a revision number from 1"))
                })?),
            };
            ApiResult::Ok(download(app.evidence_content(&member, &id, revision).await?))
        }),
        Doc::new("evidence", "download_evidence", "Download the file of a piece of evidence (the current one, or ?revision=n)")
            .org()
            .param("id", "The evidence id")
            .query_typed(
                "revision",
                "A revision number: the file that revision held",
                utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Integer).minimum(Some(1.0)).into(),
            )
            .ok(200, "The file, with its content type and name", None),
    )
    .route(
        HttpMethod::Post,
        content,
        post(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member), IfMatch(version), request: Request| async move {
            app.may_upload(&member)?;
            let received = receive(&app, request, false).await?;
            let record = app.replace_evidence_file(&member, &id, version, received.upload).await?;
            ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
        })
        .layer(axum::extract::DefaultBodyLimit::disable()),
        Doc::new("evidence", "replace_evidence_file", "Upload a new file for a piece of evidence (If-Match required): a new revision")
            .org()
            .param("id", "The evidence id")
            .if_match()
            .body("multipart/form-data", multipart_schema(false).into())
            .ok(200, "The evidence with its new file", Some(("application/json", record))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_defaults_to_the_file_name() {
        assert_eq!(with_default_title(json!({}), "dir/model card.pdf"), json!({"title": "model card.pdf"}));
        assert_eq!(with_default_title(json!({"title": "X"}), "a.pdf"), json!({"title": "X"}));
    }
}
