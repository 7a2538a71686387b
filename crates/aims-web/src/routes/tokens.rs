//! API tokens of the caller (and, for admins and owners, of every member).

use aims_app::App;
use aims_app::access::actor;
use aims_domain::ValidationErrors;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use serde_json::Value;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Authed;
use crate::dto::TokenOut;
use crate::error::ApiResult;
use crate::input::{JsonBody, QueryPairs, parse_list_query};
use crate::openapi::{ApiBuilder, Doc, nullable, page_schema, string};

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let token_ref: RefOr<_> = Ref::from_schema_name(TokenOut::name()).into();
    let create_body = ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .property("name", nullable(string()))
        .property("expires_days", nullable(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(3650)).into()));
    api.schema(&TokenOut::name(), TokenOut::schema())
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/tokens",
            get(|State(app): State<App>, Authed(member), QueryPairs(query)| async move {
                let query = parse_list_query(&query, &["all"])?;
                let tokens = app.list_tokens(&member, query.flag("all")?).await?;
                let items: Vec<TokenOut> = tokens.iter().map(|t| TokenOut::new(t, None)).collect();
                ApiResult::Ok(axum::Json(serde_json::json!({"items": items, "next_cursor": null})))
            }),
            Doc::new("tokens", "list_tokens", "List my API tokens (all=true: every member's, for admins)")
                .org()
                .flag("all", "true for every member's tokens (admin, owner)")
                .ok(
                    200,
                    "Tokens (never their secrets), all on one page",
                    Some(("application/json", page_schema(token_ref.clone()).into())),
                ),
        )
        .route(
            HttpMethod::Post,
            "/api/v1/orgs/{org}/tokens",
            post(|State(app): State<App>, Authed(member), JsonBody(body)| async move {
                let (name, expires_days) = token_input(&body)?;
                let created = app.create_token(&member, name.as_deref(), expires_days, &actor(&member)).await?;
                ApiResult::Ok((StatusCode::CREATED, axum::Json(TokenOut::new(&created.token, Some(created.secret)))).into_response())
            }),
            Doc::new("tokens", "create_token", "Create an API token for myself; the token is shown once")
                .org()
                .body("application/json", create_body.into())
                .ok(201, "The token record with its secret", Some(("application/json", token_ref.clone()))),
        )
        .route(
            HttpMethod::Delete,
            "/api/v1/orgs/{org}/tokens/{id}",
            delete(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member)| async move {
                let token = app.revoke_token(&member, &id).await?;
                ApiResult::Ok(axum::Json(TokenOut::new(&token, None)))
            }),
            Doc::new("tokens", "revoke_token", "Revoke an API token (effective on the next request)")
                .org()
                .param("id", "The token's id")
                .error(409)
                .ok(200, "The revoked token", Some(("application/json", token_ref))),
        )
}

/// Reads `{"name": "…", "expires_days": n}`; other keys are refused.
fn token_input(body: &Value) -> Result<(Option<String>, Option<i64>), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(object) = body.as_object() else {
        return Err(ValidationErrors::single("", "invalid_type", "the body must be a JSON object"));
    };
    let mut name = None;
    let mut expires_days = None;
    for (key, value) in object {
        match (key.as_str(), value) {
            ("name", Value::String(text)) => name = Some(text.clone()),
            ("name", Value::Null) => {}
            ("name", _) => errors.push("name", "invalid_type", "expected a string"),
            ("expires_days", Value::Null) => {}
            ("expires_days", v) => match v.as_i64() {
                Some(days) => expires_days = Some(days),
                None => errors.push("expires_days", "invalid_type", "expected a whole number of days"),
            },
            (other, _) => errors.push(other, "unknown_field", format!("a token has no field {other}")),
        }
    }
    errors.into_result()?;
    Ok((name, expires_days))
}
