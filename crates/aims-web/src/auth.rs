//! Who is calling: an API token (`Authorization: Bearer …`) or a browser session cookie. The
//! extractor resolves the membership for the `{org}` of the path; a caller who is not a member
//! of that organisation gets 404, as if it did not exist. A browser session is refused (403
//! naming the rule) while the organisation requires two-step sign-in of a member who has not
//! enrolled.

use aims_app::{App, AppError};
use aims_store::model::Member;
use aims_store::sessions::{COOKIE_NAME, DbSessionStore, SECURE_COOKIE_NAME};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The member a request acts for.
pub struct Authed(pub Member);

impl<S: Send + Sync> FromRequestParts<S> for Authed
where
    App: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = <App as axum::extract::FromRef<S>>::from_ref(state);
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound("organisation".into()))?;
        let org = params.iter().find(|(name, _)| *name == "org").map(|(_, value)| value.to_owned()).unwrap_or_default();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = bearer_token(value).ok_or(AppError::Unauthorized)?;
            return Ok(Authed(app.authenticate_token(token.trim(), &org).await?));
        }
        let cookie = session_cookie(parts).ok_or(AppError::Unauthorized)?;
        let user_id = DbSessionStore::new(app.db.clone()).user_of(&cookie).await.ok_or(AppError::Unauthorized)?;
        let member = app.member(&org, &user_id).await?;
        // A browser session of a member the organisation requires two-step sign-in of, who has
        // not enrolled, may do nothing until they have (bearer tokens are unaffected).
        app.require_mfa_if_enforced(&member).await?;
        Ok(Authed(member))
    }
}

/// The value of the browser session cookie, if the request carries one.
fn session_cookie(parts: &Parts) -> Option<String> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE_NAME || name == SECURE_COOKIE_NAME).then(|| value.trim_matches('"').to_owned())
    })
}

/// The caller's credentials before they are checked: a bearer token (checked later, possibly
/// in the same database round trip as the work), or the member a session resolves to.
pub enum Credentials {
    Token(String),
    Member(Member),
}

impl<S: Send + Sync> FromRequestParts<S> for Credentials
where
    App: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = bearer_token(value).ok_or(AppError::Unauthorized)?;
            return Ok(Credentials::Token(token.trim().to_owned()));
        }
        let Authed(member) = Authed::from_request_parts(parts, state).await?;
        Ok(Credentials::Member(member))
    }
}

/// The token of `Authorization: Bearer <token>`; the scheme's case does not matter (RFC 9110
/// §11.1).
fn bearer_token(value: &axum::http::HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, token) = text.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;
    use axum::http::HeaderValue;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in ["Bearer abc", "bearer abc", "BEARER abc"] {
            assert_eq!(bearer_token(&HeaderValue::from_static(header)), Some("abc"), "{header}");
        }
        assert_eq!(bearer_token(&HeaderValue::from_static("Basic abc")), None);
        assert_eq!(bearer_token(&HeaderValue::from_static("Bearer")), None);
    }
}
