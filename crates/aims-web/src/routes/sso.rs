//! The organisation's single sign-on settings (`settings/sso`): read by admins and owners,
//! changed by owners with a JSON merge patch and `If-Match`. The client secret is write-only:
//! the answer says only whether one is stored.

use std::collections::BTreeMap;

use aims_app::App;
use aims_app::sso::SsoView;
use aims_domain::identity::Role;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Authed;
use crate::error::ApiResult;
use crate::input::{IfMatch, JsonBody};
use crate::openapi::{ApiBuilder, Doc};
use crate::routes::record_response;

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const PATH: &str = "/api/v1/orgs/{org}/settings/sso";

/// The SSO settings as the API shows them (never the client secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoSettingsOut {
    pub enabled: bool,
    pub issuer_url: Option<String>,
    pub client_id: Option<String>,
    /// Whether a client secret is stored; the secret itself is never returned.
    pub client_secret_set: bool,
    pub allowed_domains: Vec<String>,
    pub jit_enabled: bool,
    #[schema(value_type = String, example = "viewer")]
    pub default_role: String,
    pub role_claim: Option<String>,
    pub role_map: BTreeMap<String, String>,
    pub required: bool,
    pub break_glass_owner: Option<String>,
    /// Where the provider sends people back: register it with the provider.
    pub redirect_uri: String,
    pub version: i64,
    pub updated_at: Option<String>,
}

impl SsoSettingsOut {
    fn new(view: &SsoView, org_slug: &str) -> Self {
        let s = &view.settings;
        Self {
            enabled: s.enabled,
            issuer_url: s.issuer_url.clone(),
            client_id: s.client_id.clone(),
            client_secret_set: view.client_secret_set,
            allowed_domains: s.allowed_domains.clone(),
            jit_enabled: s.jit_enabled,
            default_role: s.default_role.as_str().into(),
            role_claim: s.role_claim.clone(),
            role_map: s.role_map.iter().map(|(k, v)| (k.clone(), v.as_str().to_owned())).collect(),
            required: s.required,
            break_glass_owner: s.break_glass_owner.clone(),
            redirect_uri: format!("{}/sso/{org_slug}/callback", aims_app::notify::public_url()),
            version: view.version,
            updated_at: view.updated_at.clone(),
        }
    }
}

fn text_or_null(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(description))
}

fn jit_role_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Role::ALL.iter().filter(|r| **r != Role::Owner).map(|r| r.as_str())))
        .into()
}

fn patch_schema() -> Schema {
    let boolean = || ObjectBuilder::new().schema_type(Type::Boolean);
    let domains = ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[A-Za-z0-9.-]+$")));
    let role_map = ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::Object, Type::Null]))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(jit_role_schema()))));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .property("enabled", boolean())
        .property("issuer_url", text_or_null("https:// URL of the provider (plain http:// only on loopback)"))
        .property("client_id", text_or_null("The client id registered with the provider"))
        .property("client_secret", text_or_null("Write-only; null forgets it"))
        .property("allowed_domains", domains)
        .property("jit_enabled", boolean())
        .property("default_role", jit_role_schema())
        .property("role_claim", text_or_null("The ID token claim mapped to roles"))
        .property("role_map", role_map)
        .property("required", boolean())
        .property("break_glass_owner", text_or_null("E-mail of the owner who may still sign in with a password"))
        .description(Some("The settings to change (RFC 7396 merge patch)"))
        .into()
}

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let out_ref: RefOr<Schema> = Ref::from_schema_name(SsoSettingsOut::name()).into();
    api.schema(&SsoSettingsOut::name(), SsoSettingsOut::schema()).route(
        HttpMethod::Get,
        PATH,
        get(|State(app): State<App>, Authed(member)| async move {
            let view = app.sso_settings(&member).await?;
            ApiResult::Ok(record_response(StatusCode::OK, &json!(SsoSettingsOut::new(&view, &member.org_slug)), view.version, None))
        }),
        Doc::new("settings", "get_sso_settings", "Read the single sign-on settings (admins and owners)")
            .org()
            .ok(200, "The settings; the client secret only as client_secret_set", Some((JSON, out_ref.clone()))),
    )
    .route(
        HttpMethod::Patch,
        PATH,
        patch(|State(app): State<App>, Authed(member), IfMatch(version), JsonBody(body)| async move {
            let view = app.update_sso_settings(&member, &body, version).await?;
            ApiResult::Ok(record_response(StatusCode::OK, &json!(SsoSettingsOut::new(&view, &member.org_slug)), view.version, None))
        }),
        Doc::new("settings", "update_sso_settings", "Change the single sign-on settings (owners)")
            .describe("The client secret is write-only and sealed at rest. Requiring SSO refuses password sign-in to members except the named break-glass owner.")
            .org()
            .if_match()
            .error(409)
            .body(MERGE_PATCH, patch_schema().into())
            .ok(200, "The changed settings", Some((JSON, out_ref))),
    )
}
