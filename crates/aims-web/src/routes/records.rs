//! The generic record routes, registered for every kind in `aims_domain::kinds::ALL`:
//! list, create, read, change (merge patch), archive (DELETE) and trace.

use aims_app::App;
use aims_app::records::{addressed_by_ref, creatable};
use aims_domain::validate::KindSpec;
use aims_store::records::LinkedRecord;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use serde_json::{Map, Value, json};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::{Ref, RefOr};

use crate::auth::{Authed, Credentials};
use crate::dto::{json_page_response, record_json};
use crate::error::ApiResult;
use crate::input::{IfMatch, JsonBody, QueryPairs, parse_list_query};
use crate::openapi::{ApiBuilder, Doc, input_schema, page_schema, record_schema};
use crate::routes::record_response;

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";

fn schema_name(spec: &KindSpec) -> String {
    let mut chars = spec.kind.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default().replace('_', "")
}

fn location(org: &str, spec: &KindSpec, body: &Value) -> String {
    let key = if addressed_by_ref(spec) { body.get("ref") } else { body.get("id") };
    format!("/api/v1/orgs/{org}/{}/{}", spec.collection, key.and_then(Value::as_str).unwrap_or_default())
}

/// Adds the routes of one kind.
pub fn register(mut api: ApiBuilder, spec: &'static KindSpec) -> ApiBuilder {
    let by_ref = addressed_by_ref(spec);
    let name = schema_name(spec);
    let record_ref: RefOr<_> = Ref::from_schema_name(&name).into();
    let collection = format!("/api/v1/orgs/{{org}}/{}", spec.collection);
    let key_name: &'static str = if by_ref { "ref" } else { "id" };
    let item = format!("{collection}/{{{key_name}}}");
    let key_doc = if by_ref { "The record's reference, e.g. A.6.2.4 or 6.1.2" } else { "The record's id (UUID)" };
    api = api.schema(&name, record_schema(spec, by_ref));

    api = api.route(
        HttpMethod::Get,
        &collection,
        get(move |State(app): State<App>, Path(org): Path<String>, credentials: Credentials, QueryPairs(query)| async move {
            let query = parse_list_query(&query, &["archived"])?;
            let archived = query.flag("archived")?;
            let (after, limit) = (query.paging.after, query.paging.limit);
            let page = match credentials {
                Credentials::Token(secret) => app.list_records_json_by_token(&secret, &org, spec, archived, after, limit).await?.1,
                Credentials::Member(member) => app.list_records_json(&member, spec, archived, after, limit).await?,
            };
            ApiResult::Ok(json_page_response(&page))
        }),
        Doc::new(spec.collection, format!("list_{}", spec.collection), format!("List {}", spec.plural_label.to_lowercase()))
            .org()
            .query("limit", "Page size, 1–200 (default 50)")
            .query("cursor", "The next_cursor of the previous page")
            .query("archived", "true to include archived records")
            .ok(200, "A page of records", Some((JSON, page_schema(record_ref.clone()).into()))),
    );
    if creatable(spec) {
        api = api.route(
            HttpMethod::Post,
            &collection,
            post(move |State(app): State<App>, Path(org): Path<String>, Authed(member), JsonBody(body)| async move {
                let record = app.create_record(&member, spec, &body).await?;
                let body = record_json(&record);
                ApiResult::Ok(record_response(StatusCode::CREATED, &body, record.version, Some(location(&org, spec, &body))))
            }),
            Doc::new(spec.collection, format!("create_{}", spec.kind), format!("Create a {}", spec.label.to_lowercase()))
                .org()
                .body(JSON, input_schema(spec, by_ref, true).into())
                .ok(201, "Created", Some((JSON, record_ref.clone()))),
        );
        api = api.route(
            HttpMethod::Delete,
            &item,
            delete(move |State(app): State<App>, Path((_org, key)): Path<(String, String)>, Authed(member), IfMatch(version)| async move {
                let record = app.archive_record(&member, spec, &key, version).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
            }),
            Doc::new(spec.collection, format!("archive_{}", spec.kind), format!("Archive a {} (never erased)", spec.label.to_lowercase()))
                .org()
                .param(key_name, key_doc)
                .ok(200, "Archived", Some((JSON, record_ref.clone()))),
        );
    }
    api = api.route(
        HttpMethod::Get,
        &item,
        get(move |State(app): State<App>, Path((_org, key)): Path<(String, String)>, Authed(member)| async move {
            let record = app.get_record(&member, spec, &key).await?;
            ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
        }),
        Doc::new(spec.collection, format!("get_{}", spec.kind), format!("Read a {}", spec.label.to_lowercase()))
            .org()
            .param(key_name, key_doc)
            .ok(200, "The record, with its version as ETag", Some((JSON, record_ref.clone()))),
    );
    api =
        api.route(
            HttpMethod::Patch,
            &item,
            patch(
                move |State(app): State<App>,
                      Path((_org, key)): Path<(String, String)>,
                      Authed(member),
                      IfMatch(version),
                      JsonBody(body)| async move {
                    let record = app.patch_record(&member, spec, &key, version, &body).await?;
                    ApiResult::Ok(record_response(StatusCode::OK, &record_json(&record), record.version, None))
                },
            ),
            Doc::new(
                spec.collection,
                format!("update_{}", spec.kind),
                format!("Change a {} (JSON merge patch, If-Match required)", spec.label.to_lowercase()),
            )
            .org()
            .param(key_name, key_doc)
            .body(MERGE_PATCH, input_schema(spec, false, false).into())
            .ok(200, "The changed record", Some((JSON, record_ref.clone()))),
        );
    api.route(
        HttpMethod::Get,
        &format!("{item}/trace"),
        get(move |State(app): State<App>, Path((_org, key)): Path<(String, String)>, Authed(member)| async move {
            let (record, linked) = app.trace(&member, spec, &key).await?;
            ApiResult::Ok(axum::Json(trace_json(&record_json(&record), &linked)))
        }),
        Doc::new(spec.collection, format!("trace_{}", spec.kind), format!("Records linked to and from a {}", spec.label.to_lowercase()))
            .org()
            .param(key_name, key_doc)
            .ok(200, "The record and its linked records grouped by kind", None),
    )
}

/// `{"record": …, "links": {"<kind>": [{"field", "direction", "record"}]}}`.
fn trace_json(record: &Value, linked: &[LinkedRecord]) -> Value {
    let mut groups: Map<String, Value> = Map::new();
    for link in linked {
        let entry = json!({
            "field": link.field,
            "direction": if link.outgoing { "outgoing" } else { "incoming" },
            "record": record_json(&link.record),
        });
        if let Value::Array(items) = groups.entry(link.record.kind.clone()).or_insert_with(|| Value::Array(Vec::new())) {
            items.push(entry);
        }
    }
    json!({"record": record, "links": groups})
}
