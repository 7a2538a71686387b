//! The activity log: filtered lists as JSON or CSV, the chain head, and verification.

use aims_app::App;
use aims_domain::policy::Action;
use aims_domain::{ValidationErrors, clock};
use aims_store::activity::{ActivityFilter, Order};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Authed;
use crate::dto::{EventOut, page_json};
use crate::error::{ApiError, ApiResult};
use crate::input::{QueryPairs, parse_list_query};
use crate::openapi::{ApiBuilder, Doc, page_schema};

const FILTERS: &[&str] = &["record_type", "record_id", "actor", "since", "until", "format", "order"];

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let event_ref: RefOr<_> = Ref::from_schema_name(EventOut::name()).into();
    api.schema(&EventOut::name(), EventOut::schema())
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/activity",
            get(list),
            Doc::new(
                "activity",
                "list_activity",
                "List activity events, in chain order unless order=newest (format=csv: every matching event as CSV)",
            )
            .org()
            .query("record_type", "Only events of this record type")
            .query("record_id", "Only events of this record")
            .query("actor", "Only events by this actor (e-mail, or system:…)")
            .query("since", "Only events at or after this RFC 3339 time")
            .query("until", "Only events before this RFC 3339 time")
            .query("format", "json (default) or csv")
            .query_typed(
                "order",
                "chain (default: oldest first, as the hash chain is verified) or newest (newest first)",
                ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["chain", "newest"])).into(),
            )
            .paged()
            .ok(200, "A page of events, or text/csv", Some(("application/json", page_schema(event_ref).into()))),
        )
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/activity/head",
            get(|State(app): State<App>, Authed(member)| async move {
                aims_app::access::require(&member, Action::Read)?;
                let (seq, hash) = app.log_head(&member.org_slug).await?;
                ApiResult::Ok(axum::Json(json!({"seq": seq, "hash": hash})))
            }),
            Doc::new("activity", "activity_head", "The head of the organisation's hash chain, to record and compare later").org().ok(
                200,
                "{seq, hash}",
                None,
            ),
        )
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/activity/verify",
            get(verify),
            Doc::new("activity", "verify_activity", "Re-verify the organisation's hash chain, whole or after a checkpoint")
                .org()
                .query("from", "A checkpoint SEQ:HASH (an earlier head): verify only the events after it")
                .ok(200, "{intact, from_seq, head: {seq, hash}} or {intact: false, seq, id, reason}", None),
        )
}

/// Streams the chain through the verifier (constant memory, whatever the log's length).
async fn verify(State(app): State<App>, Authed(member): Authed, QueryPairs(query): QueryPairs) -> ApiResult<Response> {
    aims_app::access::require(&member, Action::Read)?;
    let from = query.iter().find(|(name, _)| name == "from").map(|(_, value)| value.as_str());
    let checkpoint = from.map(|text| App::parse_checkpoint("from", text)).transpose()?;
    let results = app.verify_log(Some(&member.org_slug), checkpoint.as_ref(), &mut |_, _| {}).await?;
    let body = match results.first().map(|(_, r)| r) {
        Some(Err(broken)) => json!({"intact": false, "seq": broken.seq, "id": broken.id, "reason": broken.reason}),
        Some(Ok(verified)) => {
            json!({"intact": true, "from_seq": verified.from_seq, "head": {"seq": verified.head.seq, "hash": verified.head.hash}})
        }
        None => json!({"intact": true}),
    };
    Ok(axum::Json(body).into_response())
}

async fn list(State(app): State<App>, Authed(member): Authed, QueryPairs(query): QueryPairs) -> ApiResult<Response> {
    let query = parse_list_query(&query, FILTERS)?;
    let mut errors = ValidationErrors::default();
    let mut time = |name: &str| {
        query.get(name).and_then(|text| {
            let parsed = clock::parse_rfc3339(text);
            if parsed.is_none() {
                errors.push(name, "invalid_format", "an RFC 3339 time such as 2026-01-31T09:00:00Z");
            }
            parsed
        })
    };
    let since = time("since");
    let until = time("until");
    let csv = match query.get("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            errors.push("format", "invalid_choice", "json or csv");
            false
        }
    };
    let order = match query.get("order") {
        None | Some("chain") => Order::Chain,
        Some("newest") => Order::Newest,
        Some(_) => {
            errors.push("order", "invalid_choice", "chain or newest");
            Order::Chain
        }
    };
    errors.into_result()?;
    let filter = ActivityFilter {
        record_type: query.get("record_type").map(str::to_owned),
        record_id: query.get("record_id").map(str::to_owned),
        actor: query.get("actor").map(str::to_owned),
        since,
        until,
    };
    if csv {
        let page = app.list_activity_ordered(&member, &filter, order, 0, None).await?;
        return Ok(csv_response(&member.org_slug, &page.items)?);
    }
    let page = app.list_activity_ordered(&member, &filter, order, query.paging.after, Some(query.paging.limit)).await?;
    Ok(axum::Json(page_json(&page, |e| serde_json::to_value(EventOut::from(e)).unwrap_or_default())).into_response())
}

/// Every event as CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
fn csv_response(slug: &str, events: &[aims_store::model::ActivityEvent]) -> Result<Response, ApiError> {
    let bytes = aims_app::reports::activity_csv(events)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"aims-activity-{slug}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
