//! The public concern intake (A.3.3, A.8.3): `POST /api/v1/public/{org}/concerns` takes a
//! concern from anyone, without an account, and answers 201 with a private status URL; `GET`
//! of that URL shows the concern's state and the organisation's answer, nothing else.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use aims_app::App;
use aims_domain::kinds::CONCERN;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::error::ApiResult;
use crate::input::JsonBody;
use crate::openapi::{ApiBuilder, Doc, nullable, string};

/// The client's address when the server provides it; otherwise one shared key, so the limit
/// still applies, to everyone together.
pub struct Source(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(Source(ip))
    }
}

/// The API path of a concern's status.
pub fn status_path(org: &str, token: &str) -> String {
    format!("/api/v1/public/{org}/concerns/{token}")
}

pub fn register(api: ApiBuilder) -> ApiBuilder {
    api.route(
        HttpMethod::Post,
        "/api/v1/public/{org}/concerns",
        post(|State(app): State<App>, Source(ip): Source, Path(org): Path<String>, JsonBody(body): JsonBody| async move {
            let received = app.submit_public_concern(&ip.to_string(), &org, &body).await?;
            let status_url = status_path(&org, &received.token);
            let page = format!("/trust/{org}/concerns/{}", received.token);
            let mut response =
                (StatusCode::CREATED, axum::Json(json!({"status_url": status_url, "status_page": page, "state": received.state})))
                    .into_response();
            if let Ok(location) = HeaderValue::from_str(&status_url) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            ApiResult::Ok(response)
        }),
        Doc::new(
            "concerns",
            "raise_public_concern",
            "Raise a concern about an AI system without an account (anonymously unless a contact is given)",
        )
        .describe(
            "Rate-limited per client address. The answer holds a private status URL: keep it, it is the only way to follow \
             the concern and is not shown again.",
        )
        .public()
        .param("org", "The organisation's slug")
        .body("application/json", RefOr::T(public_input_schema()))
        .error(429)
        .ok(201, "Received: the private status URL", Some(("application/json", RefOr::T(received_schema())))),
    )
    .route(
        HttpMethod::Get,
        "/api/v1/public/{org}/concerns/{token}",
        get(|State(app): State<App>, Path((org, token)): Path<(String, String)>| async move {
            ApiResult::Ok(axum::Json(app.public_concern_status(&org, &token).await?))
        }),
        Doc::new("concerns", "public_concern_status", "The state of a concern and the organisation's answer, by its private status URL")
            .public()
            .param("org", "The organisation's slug")
            .param("token", "The token of the status URL")
            .ok(200, "The state and the answer, if any", Some(("application/json", RefOr::T(status_schema())))),
    )
}

fn object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object)
}

fn public_input_schema() -> Schema {
    let mut schema = object();
    for name in aims_domain::kinds::operations::PUBLIC_CONCERN_FIELDS {
        let max = CONCERN.field(name).and_then(|f| match f.ty {
            aims_domain::validate::FieldType::Text { max } => Some(max),
            _ => None,
        });
        let text = ObjectBuilder::new().schema_type(Type::String).max_length(max);
        schema = schema.property(*name, text);
    }
    schema
        .required("subject")
        .required("description")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)))
        .into()
}

fn received_schema() -> Schema {
    object()
        .property("status_url", string())
        .property("status_page", string())
        .property("state", string())
        .required("status_url")
        .required("status_page")
        .required("state")
        .into()
}

fn status_schema() -> Schema {
    object().property("state", string()).property("answer", nullable(string())).required("state").required("answer").into()
}
