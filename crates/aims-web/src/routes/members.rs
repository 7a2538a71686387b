//! Members and invitations of an organisation: who belongs to it with which role, role changes
//! and deactivation (`PATCH members/{id}` with `If-Match`), and invitations by single-use link.

use aims_app::App;
use aims_app::members::MemberChange;
use aims_domain::ValidationErrors;
use aims_domain::identity::Role;
use aims_store::members::{Invitation, Membership};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Authed;
use crate::error::ApiResult;
use crate::input::{IfMatch, JsonBody, QueryPairs};
use crate::openapi::{ApiBuilder, Doc, page_schema};
use crate::routes::record_response;

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// A member as the API shows them; `id` is the person's user id.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub id: String,
    pub email: String,
    pub display_name: String,
    #[schema(value_type = String, example = "editor")]
    pub role: String,
    /// Active in this organisation; a deactivated member can neither sign in to it nor use a token.
    pub active: bool,
    pub version: i64,
    pub joined_at: String,
    pub updated_at: String,
    pub last_sign_in_at: Option<String>,
    /// The member's two-step sign-in.
    pub mfa: MfaOut,
}

/// Which second steps a member has set up.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaOut {
    /// An authenticator app (RFC 6238 codes) is enrolled.
    pub totp: bool,
}

impl From<&Membership> for MemberOut {
    fn from(m: &Membership) -> Self {
        Self {
            id: m.user_id.clone(),
            email: m.email.clone(),
            display_name: m.display_name.clone(),
            role: m.role.as_str().into(),
            active: m.active,
            version: m.version,
            joined_at: m.joined_at.clone(),
            updated_at: m.updated_at.clone(),
            last_sign_in_at: m.last_sign_in_at.clone(),
            mfa: MfaOut { totp: m.totp },
        }
    }
}

/// An invitation; its link (`accept_url`) only in the response that creates it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: String,
    pub email: String,
    #[schema(value_type = String, example = "viewer")]
    pub role: String,
    /// pending, accepted, revoked or expired
    pub status: String,
    pub invited_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The single-use link to send to the person (a path on this server); shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_url: Option<String>,
}

impl InvitationOut {
    fn new(i: &Invitation, secret: Option<String>) -> Self {
        let now = aims_domain::clock::now_text();
        Self {
            id: i.id.clone(),
            email: i.email.clone(),
            role: i.role.as_str().into(),
            status: i.status(&now).into(),
            invited_by: i.invited_by.clone(),
            created_at: i.created_at.clone(),
            expires_at: i.expires_at.clone(),
            accepted_at: i.accepted_at.clone(),
            revoked_at: i.revoked_at.clone(),
            accept_url: secret.map(|s| format!("/invitations/{s}")),
        }
    }
}

fn role_schema() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(Role::ALL.iter().map(|r| r.as_str()))).into()
}

fn closed_object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object).additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

/// `limit` and this list's own `cursor` (not a record list's).
fn paged(doc: Doc, prefix: &'static str) -> Doc {
    let limit = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1.0)).maximum(Some(200.0)).into();
    let cursor = ObjectBuilder::new().schema_type(Type::String).pattern(Some(prefix)).into();
    doc.query_typed("limit", "Page size, 1–200 (default 50)", limit).query_typed("cursor", "The next_cursor of the previous page", cursor)
}

/// Reads `limit` (1–200, default 50) and `cursor`; anything else is a 422 (the paging of the
/// collections that are not records: members, invitations, issued documents).
pub(crate) fn paging(query: &[(String, String)]) -> Result<(i64, Option<String>), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let (mut limit, mut cursor) = (i64::from(aims_domain::cursor::DEFAULT_LIMIT), None);
    for (key, value) in query {
        match key.as_str() {
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=i64::from(aims_domain::cursor::MAX_LIMIT)).contains(&n) => limit = n,
                _ => errors.push("limit", "out_of_range", format!("a whole number from 1 to {}", aims_domain::cursor::MAX_LIMIT)),
            },
            "cursor" => cursor = Some(value.clone()),
            other => errors.push(other, "unknown_parameter", format!("unknown query parameter {other}")),
        }
    }
    errors.into_result()?;
    Ok((limit, cursor))
}

pub fn register(api: ApiBuilder) -> ApiBuilder {
    let member_ref: RefOr<_> = Ref::from_schema_name(MemberOut::name()).into();
    let invitation_ref: RefOr<_> = Ref::from_schema_name(InvitationOut::name()).into();
    let change_body = closed_object()
        .property("role", role_schema())
        .property("active", ObjectBuilder::new().schema_type(Type::Boolean))
        .description(Some("What to change: the role, whether the member is active here, or both"));
    let invite_body = closed_object()
        .property(
            "email",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Email))),
        )
        .property("role", role_schema())
        .required("email")
        .required("role");
    api.schema(&MemberOut::name(), MemberOut::schema())
        .schema(&MfaOut::name(), MfaOut::schema())
        .schema(&InvitationOut::name(), InvitationOut::schema())
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/members",
            get(|State(app): State<App>, Authed(member), QueryPairs(query)| async move {
                let (limit, cursor) = paging(&query)?;
                let page = app.list_members(&member, cursor.as_deref(), limit).await?;
                let items: Vec<MemberOut> = page.items.iter().map(MemberOut::from).collect();
                ApiResult::Ok(axum::Json(json!({"items": items, "next_cursor": page.next_cursor})))
            }),
            paged(Doc::new("members", "list_members", "List the organisation's members, in e-mail order").org(), "^m1\\.[A-Za-z0-9_-]+$")
                .ok(200, "A page of members", Some((JSON, page_schema(member_ref.clone()).into()))),
        )
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/members/{id}",
            get(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member)| async move {
                let found = app.get_member(&member, &id).await?;
                ApiResult::Ok(record_response(StatusCode::OK, &json!(MemberOut::from(&found)), found.version, None))
            }),
            Doc::new("members", "get_member", "Read a member").org().param("id", "The member's user id").ok(
                200,
                "The member",
                Some((JSON, member_ref.clone())),
            ),
        )
        .route(
            HttpMethod::Patch,
            "/api/v1/orgs/{org}/members/{id}",
            patch(
                |State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member), IfMatch(version), JsonBody(body)| async move {
                    let change = member_change(&body)?;
                    let changed = app.change_member(&member, &id, change, version).await?;
                    ApiResult::Ok(record_response(StatusCode::OK, &json!(MemberOut::from(&changed)), changed.version, None))
                },
            ),
            Doc::new("members", "update_member", "Change a member's role or deactivate / reactivate them (admins and owners)")
                .describe(
                    "Nobody changes their own membership; only an owner grants or removes the owner role; the organisation \
                     always keeps an active owner (409).",
                )
                .org()
                .param("id", "The member's user id")
                .if_match()
                .error(409)
                .body(MERGE_PATCH, change_body.into())
                .ok(200, "The changed member", Some((JSON, member_ref))),
        )
        .route(
            HttpMethod::Post,
            "/api/v1/orgs/{org}/members/{id}/sign-out",
            post(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member)| async move {
                app.sign_out_member(&member, &id).await?;
                ApiResult::Ok(StatusCode::NO_CONTENT)
            }),
            Doc::new("members", "sign_out_member", "Sign a member out of every browser session (admins and owners)")
                .describe("Their API tokens keep working; revoke those separately. Not for oneself; an owner only by an owner.")
                .org()
                .param("id", "The member's user id")
                .ok(204, "Every session of the member ended", None),
        )
        .route(
            HttpMethod::Get,
            "/api/v1/orgs/{org}/invitations",
            get(|State(app): State<App>, Authed(member), QueryPairs(query)| async move {
                let (limit, cursor) = paging(&query)?;
                let page = app.list_invitations(&member, cursor.as_deref(), limit).await?;
                let items: Vec<InvitationOut> = page.items.iter().map(|i| InvitationOut::new(i, None)).collect();
                ApiResult::Ok(axum::Json(json!({"items": items, "next_cursor": page.next_cursor})))
            }),
            paged(Doc::new("invitations", "list_invitations", "List invitations, newest first (admins and owners)").org(), "^i1\\.[A-Za-z0-9_-]+$")
                .ok(200, "A page of invitations (never their links)", Some((JSON, page_schema(invitation_ref.clone()).into()))),
        )
        .route(
            HttpMethod::Post,
            "/api/v1/orgs/{org}/invitations",
            post(|State(app): State<App>, Authed(member), JsonBody(body)| async move {
                let (email, role) = invitation_input(&body)?;
                let (invitation, secret) = app.invite(&member, &email, &role).await?;
                let location = format!("/api/v1/orgs/{}/invitations/{}", member.org_slug, invitation.id);
                let mut response = (StatusCode::CREATED, axum::Json(InvitationOut::new(&invitation, Some(secret)))).into_response();
                if let Ok(value) = axum::http::HeaderValue::from_str(&location) {
                    response.headers_mut().insert(axum::http::header::LOCATION, value);
                }
                ApiResult::Ok(response)
            }),
            Doc::new("invitations", "create_invitation", "Invite someone by e-mail with a role; the single-use link is in the answer")
                .org()
                .error(409)
                .body(JSON, invite_body.into())
                .ok(201, "The invitation with its link (valid 7 days, shown once)", Some((JSON, invitation_ref.clone()))),
        )
        .route(
            HttpMethod::Delete,
            "/api/v1/orgs/{org}/invitations/{id}",
            delete(|State(app): State<App>, Path((_org, id)): Path<(String, String)>, Authed(member)| async move {
                let revoked = app.revoke_invitation(&member, &id).await?;
                ApiResult::Ok(axum::Json(InvitationOut::new(&revoked, None)))
            }),
            Doc::new("invitations", "revoke_invitation", "Revoke a pending invitation: its link stops working")
                .org()
                .param("id", "The invitation's id")
                .error(409)
                .ok(200, "The revoked invitation", Some((JSON, invitation_ref))),
        )
}

/// Reads `{"role": …, "active": …}`; other keys, nulls and wrong types are refused by name.
fn member_change(body: &Value) -> Result<MemberChange, ValidationErrors> {
    let Some(object) = body.as_object() else {
        return Err(ValidationErrors::single("", "invalid_type", "the body must be a JSON object"));
    };
    let mut errors = ValidationErrors::default();
    let mut change = MemberChange::default();
    for (key, value) in object {
        match (key.as_str(), value) {
            ("role", Value::String(text)) => match Role::parse("role", text) {
                Ok(role) => change.role = Some(role),
                Err(e) => errors.0.extend(e.0),
            },
            ("role", _) => errors.push("role", "invalid_type", "expected one of owner, admin, editor, auditor, viewer"),
            ("active", Value::Bool(active)) => change.active = Some(*active),
            ("active", _) => errors.push("active", "invalid_type", "expected true or false"),
            (other, _) => errors.push(other, "unknown_field", format!("a member has no field {other} that can be changed")),
        }
    }
    errors.into_result()?;
    Ok(change)
}

/// Reads `{"email": …, "role": …}`, both required.
fn invitation_input(body: &Value) -> Result<(String, String), ValidationErrors> {
    let Some(object) = body.as_object() else {
        return Err(ValidationErrors::single("", "invalid_type", "the body must be a JSON object"));
    };
    let mut errors = ValidationErrors::default();
    let (mut email, mut role) = (None, None);
    for (key, value) in object {
        match (key.as_str(), value) {
            ("email", Value::String(text)) => match aims_domain::identity::Email::parse("email", text) {
                Ok(_) => email = Some(text.clone()),
                Err(e) => errors.0.extend(e.0),
            },
            ("role", Value::String(text)) => match Role::parse("role", text) {
                Ok(_) => role = Some(text.clone()),
                Err(e) => errors.0.extend(e.0),
            },
            ("email" | "role", _) => errors.push(key.as_str(), "invalid_type", "expected a string"),
            (other, _) => errors.push(other, "unknown_field", format!("an invitation has no field {other}")),
        }
    }
    if !object.contains_key("email") {
        errors.push("email", "required", "the e-mail address to invite");
    }
    if !object.contains_key("role") {
        errors.push("role", "required", "the role the person will have");
    }
    errors.into_result()?;
    Ok((email.unwrap_or_default(), role.unwrap_or_default()))
}
