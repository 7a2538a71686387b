//! Certification readiness: the figures, gaps and Stage 1 list now, and the daily snapshots.

use aims_app::App;
use aims_domain::{ValidationErrors, cursor};
use axum::extract::State;
use axum::routing::get;
use serde_json::json;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::input::{QueryPairs, parse_list_query};
use crate::openapi::{ApiBuilder, Doc, nullable, string};

const JSON: &str = "application/json";

pub fn register(api: ApiBuilder) -> ApiBuilder {
    api.route(
        HttpMethod::Get,
        "/api/v1/orgs/{org}/readiness",
        get(|State(app): State<App>, Authed(member), QueryPairs(query)| async move {
            parse_list_query(&query, &[])?;
            ApiResult::Ok(axum::Json(app.readiness(&member).await?))
        }),
        Doc::new(
            "readiness",
            "get_readiness",
            "Certification readiness now: the overall figure, per clause 4–10 and Annex A group, the readiness gaps with the record causing each, and what is missing for a Stage 1 audit. The first reading of a day is kept as that day's snapshot",
        )
        .org()
        .ok(200, "Readiness", Some((JSON, readiness_schema().into()))),
    )
    .route(
        HttpMethod::Get,
        "/api/v1/orgs/{org}/readiness/history",
        get(|State(app): State<App>, Authed(member), QueryPairs(query)| async move {
            let query = parse_list_query(&query, &["since"])?;
            let since = match query.get("since") {
                Some(text) => parse_date(text)?,
                None => String::new(),
            };
            let after_day = match query.paging.after {
                0 => String::new(),
                after => day_of(after),
            };
            let limit = i64::from(query.paging.limit);
            let mut items = app.readiness_history(&member, &since, &after_day, limit + 1).await?;
            let next = (items.len() as i64 > limit).then(|| {
                items.truncate(limit as usize);
                items.last().map(|last| cursor::encode(julian(&last.day)))
            });
            ApiResult::Ok(axum::Json(json!({"items": items, "next_cursor": next.flatten()})))
        }),
        Doc::new(
            "readiness",
            "list_readiness_history",
            "The daily readiness snapshots, oldest first, from ?since= (a date) on, paged like lists",
        )
        .org()
        .paged()
        .query_typed("since", "The first day to include (YYYY-MM-DD)", date())
        .ok(200, "A page of daily snapshots", Some((JSON, history_schema().into()))),
    )
}

fn parse_date(text: &str) -> Result<String, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format)
        .map(aims_domain::clock::format_date)
        .map_err(|_| ValidationErrors::single("since", "invalid_date", "a date as YYYY-MM-DD").into())
}

/// Days are paged by their Julian day number, so a cursor is an ordinary list cursor.
fn julian(day: &str) -> i64 {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(day, format).map_or(0, |d| i64::from(d.to_julian_day()))
}

fn day_of(julian: i64) -> String {
    i32::try_from(julian).ok().and_then(|n| time::Date::from_julian_day(n).ok()).map_or_else(String::new, aims_domain::clock::format_date)
}

fn object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object)
}

fn integer() -> Schema {
    ObjectBuilder::new().schema_type(Type::Integer).into()
}

fn date() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).into()
}

fn severity() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["high", "medium", "low"])).into()
}

fn required(mut builder: ObjectBuilder, names: &[&str]) -> ObjectBuilder {
    for name in names {
        builder = builder.required(*name);
    }
    builder
}

fn gap_counts() -> Schema {
    required(object().property("high", integer()).property("medium", integer()).property("low", integer()), &["high", "medium", "low"])
        .into()
}

fn area_schema() -> Schema {
    required(
        object()
            .property("id", string())
            .property("title", string())
            .property("figure", nullable(integer()))
            .property("rules", integer())
            .property("rules_failing", integer())
            .property("gaps", integer()),
        &["id", "title", "figure", "rules", "rules_failing", "gaps"],
    )
    .into()
}

fn rule_summary_schema() -> Schema {
    required(
        object()
            .property("rule_id", string())
            .property("reference", string())
            .property("severity", severity())
            .property("title", string())
            .property("explanation", string())
            .property("record_kind", string())
            .property("count", integer()),
        &["rule_id", "reference", "severity", "title", "explanation", "record_kind", "count"],
    )
    .into()
}

fn gap_schema() -> Schema {
    required(
        object()
            .property("rule_id", string())
            .property("reference", string())
            .property("area", string())
            .property("severity", severity())
            .property("title", string())
            .property("explanation", string())
            .property("record_kind", string())
            .property("record_id", nullable(string()))
            .property("record_name", nullable(string()))
            .property("record_ref", nullable(string()))
            .property("link", string()),
        &[
            "rule_id",
            "reference",
            "area",
            "severity",
            "title",
            "explanation",
            "record_kind",
            "record_id",
            "record_name",
            "record_ref",
            "link",
        ],
    )
    .into()
}

fn clause_evidence_schema() -> Schema {
    required(
        object()
            .property("clause", string())
            .property("requirement_id", string())
            .property("judged", nullable(string()))
            .property("shows", string())
            .property("count", integer()),
        &["clause", "requirement_id", "judged", "shows", "count"],
    )
    .into()
}

fn list(items: Schema) -> Schema {
    ArrayBuilder::new().items(utoipa::openapi::RefOr::T(items)).into()
}

fn readiness_schema() -> Schema {
    required(
        object()
            .property("day", date())
            .property("assessed_at", string())
            .property("overall", integer())
            .property("gap_counts", gap_counts())
            .property("clauses", list(area_schema()))
            .property("groups", list(area_schema()))
            .property("rules_failing", list(rule_summary_schema()))
            .property("gaps", list(gap_schema()))
            .property("stage1", list(rule_summary_schema()))
            .property("clause_evidence", list(clause_evidence_schema())),
        &["day", "assessed_at", "overall", "gap_counts", "clauses", "groups", "rules_failing", "gaps", "stage1", "clause_evidence"],
    )
    .into()
}

fn history_schema() -> Schema {
    let figures = object().additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::RefOr(nullable(integer()).into())));
    let point = required(
        object()
            .property("day", date())
            .property("overall", integer())
            .property("gap_counts", gap_counts())
            .property("figures", figures)
            .property("taken_at", string()),
        &["day", "overall", "gap_counts", "figures", "taken_at"],
    );
    required(
        object().property("items", ArrayBuilder::new().items(point)).property("next_cursor", nullable(string())),
        &["items", "next_cursor"],
    )
    .into()
}
