//! The UI's one error type and its error pages. Form handlers deal with validation and stale
//! versions themselves (they re-render the form); everything else that stops a page ends here.

use aims_app::AppError;
use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::text::encode_query_value;

#[derive(Debug)]
pub(crate) enum UiError {
    /// Not signed in: go to the sign-in page and come back to `next` afterwards.
    SignIn {
        next: String,
    },
    NotFound,
    /// The organisation requires two-step sign-in of the member, who has not enrolled: go to
    /// the enrolment page of that organisation's account area.
    Enrol {
        org: String,
    },
    /// The policy refused; the message names the rule.
    Forbidden(String),
    /// Anything unexpected. The cause is logged, never shown.
    Internal(String),
}

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(_) => UiError::NotFound,
            AppError::Forbidden(denied) => UiError::Forbidden(denied.to_string()),
            other => UiError::Internal(other.to_string()),
        }
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> UiError {
    UiError::Internal(e.to_string())
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    message: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            UiError::SignIn { next } => {
                return Redirect::to(&format!("/login?next={}", encode_query_value(&next))).into_response();
            }
            UiError::Enrol { org } => {
                return Redirect::to(&format!("/orgs/{org}/account/two-step?required=1")).into_response();
            }
            UiError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing here, or it belongs to an organisation you are not a member of.".to_owned(),
            ),
            UiError::Forbidden(rule) => (StatusCode::FORBIDDEN, "Not allowed", rule),
            UiError::Internal(cause) => {
                tracing::error!(%cause, "UI request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The request could not be completed. Please try again; if it keeps failing, tell your administrator.".to_owned(),
                )
            }
        };
        (status, ErrorPage { title, message }).into_response()
    }
}

/// A 404 page for paths nobody serves; the server may use it as its fallback outside `/api`.
pub async fn not_found() -> Response {
    UiError::NotFound.into_response()
}
