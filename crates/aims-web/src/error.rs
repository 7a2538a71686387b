//! The API's one error type, mapped to RFC 9457 `application/problem+json` in exactly one
//! place ([`ApiError::into_response`]). Server faults are logged and answered opaquely.

use aims_app::AppError;
use aims_domain::{FieldError, ValidationErrors};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("{0}")]
    BadRequest(String),
    #[error("expected {0}")]
    UnsupportedMediaType(&'static str),
    #[error("this change needs an If-Match header with the record's current version (its ETag)")]
    PreconditionRequired,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    NotFound(String),
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::App(AppError::Validation(e))
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per offending field (empty when no field is to blame).
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
    pub code: String,
}

impl From<&FieldError> for ProblemField {
    fn from(e: &FieldError) -> Self {
        Self { field: e.field.clone(), message: e.message.clone(), code: e.code.clone() }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::App(e) => match e {
                AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::Forbidden(_) | AppError::SignInRefused(_) => StatusCode::FORBIDDEN,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Stale { .. } => StatusCode::PRECONDITION_FAILED,
                AppError::Unauthorized => StatusCode::UNAUTHORIZED,
                AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
                AppError::UnsupportedFile(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let errors = match self {
            ApiError::App(AppError::Validation(v)) => v.0.iter().map(ProblemField::from).collect(),
            _ => Vec::new(),
        };
        let detail = match self {
            _ if status.is_server_error() => "an internal error occurred; it has been logged".to_owned(),
            ApiError::App(AppError::Unauthorized) => "a valid API token (Authorization: Bearer …) or session is required".to_owned(),
            other => other.to_string(),
        };
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        problem_response(status, &self.problem(), matches!(self, ApiError::App(AppError::Unauthorized)))
    }
}

/// Renders a problem document with its status.
pub fn problem_response(status: StatusCode, problem: &Problem, bearer_challenge: bool) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if bearer_challenge {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

pub type ApiResult<T> = Result<T, ApiError>;
