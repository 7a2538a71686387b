//! An organisation's security settings (`settings/security`): whom it requires two-step
//! sign-in of. Everyone reads them; only an owner changes them, with `If-Match`.

use aims_app::App;
use aims_app::mfa::SecuritySettings;
use aims_domain::ValidationErrors;
use aims_domain::mfa::MfaRequired;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Authed;
use crate::error::ApiResult;
use crate::input::{IfMatch, JsonBody};
use crate::openapi::{ApiBuilder, Doc};
use crate::routes::record_response;

const PATH: &str = "/api/v1/orgs/{org}/settings/security";

/// The security settings as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecuritySettingsOut {
    /// Whom two-step sign-in is required of: `off`, `admins` (owners and admins) or `everyone`.
    #[schema(value_type = String, example = "admins")]
    pub mfa_required: String,
    pub version: i64,
}

fn body_of(settings: SecuritySettings) -> Value {
    json!(SecuritySettingsOut { mfa_required: settings.mfa_required.as_str().into(), version: settings.version })
}

fn rule_schema() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(MfaRequired::ALL.iter().map(|r| r.as_str()))).into()
}

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let settings_ref: RefOr<_> = Ref::from_schema_name(SecuritySettingsOut::name()).into();
    let change_body = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .property("mfa_required", rule_schema())
        .required("mfa_required");
    api.schema(&SecuritySettingsOut::name(), SecuritySettingsOut::schema())
        .route(
            HttpMethod::Get,
            PATH,
            get(|State(app): State<App>, Authed(member)| async move {
                let settings = app.security_settings(&member).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &body_of(settings), settings.version, None))
            }),
            Doc::new("settings", "get_security_settings", "Read the organisation's security settings").org().ok(
                200,
                "The settings",
                Some(("application/json", settings_ref.clone())),
            ),
        )
        .route(
            HttpMethod::Patch,
            PATH,
            patch(|State(app): State<App>, Authed(member), IfMatch(version), JsonBody(body)| async move {
                let rule = rule_input(&body)?;
                let settings = app.change_security_settings(&member, &rule, version).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &body_of(settings), settings.version, None))
            }),
            Doc::new("settings", "update_security_settings", "Change whom two-step sign-in is required of (owners only)")
                .describe(
                    "Members the rule applies to who have not enrolled are led to enrol at their next sign-in; until then \
                     their browser session is refused by the API (403) and they may not create API tokens.",
                )
                .org()
                .if_match()
                .body("application/merge-patch+json", change_body.into())
                .ok(200, "The changed settings", Some(("application/json", settings_ref))),
        )
}

/// Reads `{"mfa_required": …}`; other keys and values are refused by name.
fn rule_input(body: &Value) -> Result<String, ValidationErrors> {
    let Some(object) = body.as_object() else {
        return Err(ValidationErrors::single("", "invalid_type", "the body must be a JSON object"));
    };
    let mut errors = ValidationErrors::default();
    let mut rule = None;
    for (key, value) in object {
        match (key.as_str(), value) {
            ("mfa_required", Value::String(text)) => match MfaRequired::parse("mfa_required", text) {
                Ok(parsed) => rule = Some(parsed.as_str().to_owned()),
                Err(e) => errors.0.extend(e.0),
            },
            ("mfa_required", _) => errors.push("mfa_required", "invalid_type", "one of off, admins, everyone"),
            (other, _) => errors.push(other, "unknown_field", format!("the security settings have no field {other}")),
        }
    }
    if !object.contains_key("mfa_required") {
        errors.push("mfa_required", "required", "one of off, admins, everyone");
    }
    errors.into_result()?;
    Ok(rule.unwrap_or_default())
}
