//! Read-only views computed from records: the difference between two policy revisions, and
//! who lacks which competence.

use aims_app::App;
use aims_domain::ValidationErrors;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::json;
use utoipa::openapi::path::HttpMethod;

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::input::{QueryPairs, parse_list_query};
use crate::openapi::{ApiBuilder, Doc};

fn revision_number(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    match value {
        None | Some("current") => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| ValidationErrors::single(name, "invalid_type", "a revision number from 1, or current").into()),
    }
}

pub fn register(api: ApiBuilder) -> ApiBuilder {
    api.route(
        HttpMethod::Post,
        "/api/v1/orgs/{org}/notification-channels/{id}/send-test",
        axum::routing::post(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member)| async move {
            let (record, result) = app.send_test(&member, &id, &aims_app::notify::public_url()).await?;
            ApiResult::Ok(axum::Json(json!({"result": result, "channel": record.to_json()})))
        }),
        Doc::new(
            "notification-channels",
            "send_test_notification_channel",
            "Sends a test message through the channel (enabled or not) and records the outcome on it",
        )
        .org()
        .param("id", "The channel id")
        .ok(200, "What happened (sent, or failed: why) and the channel with its last test", None),
    )
    .route(
        HttpMethod::Get,
        "/api/v1/orgs/{org}/policies/{id}/diff",
        get(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member), QueryPairs(query)| async move {
            let query = parse_list_query(&query, &["from", "to"])?;
            let from = revision_number("from", query.get("from"))?
                .ok_or_else(|| ApiError::from(ValidationErrors::single("from", "required", "the revision to compare from")))?;
            let to = revision_number("to", query.get("to"))?;
            ApiResult::Ok(axum::Json(app.policy_diff(&member, &id, from, to).await?))
        }),
        Doc::new(
            "policies",
            "diff_policy",
            "What changed between two revisions of a policy (?from=n&to=m; to defaults to the current edition)",
        )
        .org()
        .param("id", "The policy id")
        .query_typed("from", "A revision number", revision_number_schema())
        .query_typed("to", "A revision number, or current (the default)", revision_or_current())
        .ok(200, "Changed fields and the text line by line (op: equal, insert, delete)", None),
    )
    .route(
        HttpMethod::Get,
        "/api/v1/orgs/{org}/competence-gaps",
        get(|State(app): State<App>, Authed(member), QueryPairs(query)| async move {
            parse_list_query(&query, &[])?;
            let gaps = app.competence_gaps(&member).await?;
            ApiResult::Ok(axum::Json(json!({"items": gaps, "next_cursor": null})))
        }),
        Doc::new(
            "competences",
            "list_competence_gaps",
            "Who lacks what: each person's competences required by their roles with no valid (unexpired) training record",
        )
        .org()
        .ok(200, "The gaps, each missing or expired", None),
    )
}

fn revision_number_schema() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Integer).minimum(Some(1.0)).into()
}

/// A revision number or `current`.
fn revision_or_current() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^([1-9][0-9]{0,17}|current)$"))
        .into()
}
