//! Reports: `GET reports` (the kinds and their formats), `GET reports/issued` (the documents
//! issued, each with the records changed since: drift), `GET reports/issued/{id}` and
//! `GET reports/{kind}?format=&id=` (the document itself, recorded as issued).

use super::members::paging;
use aims_app::App;
use aims_app::reports::{Format, IssuedView, REPORTS};
use aims_domain::ValidationErrors;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Authed;
use crate::error::ApiResult;
use crate::input::QueryPairs;
use crate::openapi::{ApiBuilder, Doc, page_schema};

const JSON: &str = "application/json";

/// A report kind the organisation can generate.
#[derive(Serialize, ToSchema)]
pub struct ReportKindOut {
    /// The `{kind}` of `reports/{kind}`.
    kind: String,
    title: String,
    summary: String,
    /// The formats it comes in; the first is the default.
    formats: Vec<String>,
    /// The record kind `?id=` names, when the report is about one record.
    #[schema(nullable)]
    subject: Option<String>,
}

/// A record changed since a document was issued from it.
#[derive(Serialize, ToSchema)]
pub struct DriftedRecordOut {
    record_type: String,
    record_id: String,
    #[schema(nullable)]
    r#ref: Option<String>,
    title: String,
    issued_version: i64,
    current_version: i64,
}

/// A generated document, what it was made from and whether any of that changed since.
#[derive(Serialize, ToSchema)]
pub struct IssuedDocumentOut {
    id: String,
    kind: String,
    format: String,
    /// The record the report is about (`?id=`).
    #[schema(nullable)]
    subject_id: Option<String>,
    file_name: String,
    /// SHA-256 of the file handed over.
    sha256: String,
    /// SHA-256 of the source data the document's footer prints (`format=json`).
    source_sha256: String,
    record_count: i64,
    #[schema(nullable)]
    issued_by: Option<String>,
    issued_at: String,
    /// True when any record it was made from has changed since.
    drifted: bool,
    changed_records: Vec<DriftedRecordOut>,
}

impl From<IssuedView> for IssuedDocumentOut {
    fn from(view: IssuedView) -> Self {
        let d = view.document;
        Self {
            id: d.id,
            kind: d.kind,
            format: d.format,
            subject_id: d.subject_id,
            file_name: d.file_name,
            sha256: d.sha256,
            source_sha256: d.source_sha256,
            record_count: d.record_count,
            issued_by: d.issued_by_name.or(d.issued_by),
            issued_at: d.issued_at,
            drifted: !view.drifted.is_empty(),
            changed_records: view
                .drifted
                .into_iter()
                .map(|r| DriftedRecordOut {
                    record_type: r.kind,
                    record_id: r.id,
                    r#ref: r.reference,
                    title: r.title,
                    issued_version: r.issued_version,
                    current_version: r.current_version,
                })
                .collect(),
        }
    }
}

fn string_enum(values: impl IntoIterator<Item = &'static str>) -> Schema {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).into()
}

fn binary() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).format(Some(utoipa::openapi::SchemaFormat::Custom("binary".into()))).into()
}

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let kind_ref: RefOr<_> = Ref::from_schema_name(ReportKindOut::name()).into();
    let issued_ref: RefOr<_> = Ref::from_schema_name(IssuedDocumentOut::name()).into();
    let kinds_list: Schema = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("items", utoipa::openapi::schema::ArrayBuilder::new().items(kind_ref))
        .required("items")
        .into();
    let limit = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1.0)).maximum(Some(200.0)).into();
    let cursor = ObjectBuilder::new().schema_type(Type::String).pattern(Some("^d1\\.[A-Za-z0-9_-]+$")).into();
    api.schema(&ReportKindOut::name(), ReportKindOut::schema())
        .schema(&DriftedRecordOut::name(), DriftedRecordOut::schema())
        .schema(&IssuedDocumentOut::name(), IssuedDocumentOut::schema())
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/reports",
            get(|Authed(member)| async move {
                aims_app::access::require(&member, aims_domain::policy::Action::Read)?;
                let items: Vec<ReportKindOut> = REPORTS
                    .iter()
                    .map(|spec| ReportKindOut {
                        kind: spec.kind.into(),
                        title: spec.title.into(),
                        summary: spec.summary.into(),
                        formats: spec.formats.iter().map(|f| f.as_str().to_owned()).collect(),
                        subject: spec.subject.map(|s| s.collection.to_owned()),
                    })
                    .collect();
                ApiResult::Ok(axum::Json(json!({"items": items})))
            }),
            Doc::new("reports", "list_report_kinds", "The reports the organisation can generate, with their formats").org().ok(
                200,
                "The report kinds",
                Some((JSON, kinds_list.into())),
            ),
        )
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/reports/issued",
            get(|State(app): State<App>, Authed(member), QueryPairs(query)| async move {
                let (limit, cursor) = paging(&query)?;
                let page = app.issued_documents(&member, cursor.as_deref(), limit).await?;
                let items: Vec<IssuedDocumentOut> = page.items.into_iter().map(IssuedDocumentOut::from).collect();
                ApiResult::Ok(axum::Json(json!({"items": items, "next_cursor": page.next_cursor})))
            }),
            Doc::new("reports", "list_issued_documents", "Documents issued, newest first, each with the records changed since (drift)")
                .org()
                .query_typed("limit", "Page size, 1–200 (default 50)", limit)
                .query_typed("cursor", "The next_cursor of the previous page", cursor)
                .ok(200, "A page of issued documents", Some((JSON, page_schema(issued_ref.clone()).into()))),
        )
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/reports/issued/{id}",
            get(|State(app): State<App>, Authed(member), Path((_, id)): Path<(String, String)>| async move {
                let view = app.issued_document(&member, &id).await?;
                ApiResult::Ok(axum::Json(IssuedDocumentOut::from(view)))
            }),
            Doc::new("reports", "get_issued_document", "One issued document, with the records changed since it was issued")
                .org()
                .param("id", "The issued document's id")
                .ok(200, "The issued document", Some((JSON, issued_ref))),
        )
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/reports/{kind}",
            get(generate),
            Doc::new(
                "reports",
                "generate_report",
                "Generate a report; the document is recorded as issued with the version of every record it shows",
            )
            .describe(
                "Each document prints the SHA-256 of its source data; format=json returns exactly that data, so the \
                 hash can be checked. An unknown kind is 404; a format the kind does not offer is 422 naming `format`; \
                 `id` names the record of a report about one record (a closed management review, an audit).",
            )
            .org()
            .param("kind", "soa, ai-system-register, risk-register, management-review, internal-audit, executive-summary, stage1-pack")
            .query_typed(
                "format",
                "pdf, xlsx, csv, docx, zip or json, as the kind offers (default: its first)",
                string_enum(Format::ALL.map(Format::as_str)),
            )
            .query("id", "The record the report is about (management-review, internal-audit)")
            .ok_media(
                200,
                "The document, with Content-Disposition naming <org>-<kind>-<date>.<ext>",
                vec![
                    ("application/pdf", binary()),
                    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", binary()),
                    ("text/csv", ObjectBuilder::new().schema_type(Type::String).into()),
                    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", binary()),
                    ("application/zip", binary()),
                    ("text/html", ObjectBuilder::new().schema_type(Type::String).into()),
                    (JSON, ObjectBuilder::new().schema_type(Type::Object).into()),
                ],
            ),
        )
}

async fn generate(
    State(app): State<App>,
    Authed(member): Authed,
    Path((_, kind)): Path<(String, String)>,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Response> {
    let mut errors = ValidationErrors::default();
    let (mut format, mut id) = (None, None);
    for (key, value) in &query {
        match key.as_str() {
            "format" => format = Some(value.as_str()),
            "id" => id = Some(value.as_str()),
            other => errors.push(other, "unknown_parameter", format!("unknown query parameter {other}")),
        }
    }
    errors.into_result()?;
    if kind == aims_app::reports::ACTIVITY {
        return activity(&app, &member, format, id).await;
    }
    let generated = app.generate_report(&member, &kind, format, id, &aims_app::access::actor(&member), &|_, _, _| {}).await?;
    let mut response = generated.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(generated.content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", generated.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&generated.source_sha256) {
        headers.insert("x-aims-source-sha256", value);
    }
    if let Some(value) = generated.issued_id.as_deref().and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert("x-aims-issued-document", value);
    }
    Ok(response)
}

/// The activity log: CSV, or the signed JSON export streamed a chunk at a time (a log of
/// millions of events is never held in memory).
async fn activity(app: &App, member: &aims_store::model::Member, format: Option<&str>, id: Option<&str>) -> ApiResult<Response> {
    use aims_app::reports::ActivityReport;
    let (spec, format, _) = app.check_report_request(member, aims_app::reports::ACTIVITY, format, id).await?;
    let file_name =
        format!("{}-{}-{}.{}", member.org_slug, spec.kind, aims_domain::clock::format_date(aims_domain::clock::today()), format.as_str());
    let body = match app.activity_report(member, format).await? {
        ActivityReport::Csv(bytes) => axum::body::Body::from(bytes),
        ActivityReport::Signed(export) => axum::body::Body::from_stream(export.into_stream()),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
