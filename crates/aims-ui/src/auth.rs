//! Signing in and out, the first-run setup page and password reset links.
//!
//! Two limits protect sign-in: the service locks an e-mail address after repeated failures
//! (in the database, so it holds across instances), and this module limits attempts per client
//! address (in memory, per instance) so one client cannot spray many addresses.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;

use aims_app::AppError;
use aims_app::setup::SetupForm;
use aims_store::sessions::USER_ID_KEY;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use tower_sessions::Session;

use crate::UiState;
use crate::error::{UiError, internal};
use crate::forms::FormErrors;
use crate::text::safe_next;

/// Attempts per client address and minute on the sign-in, setup and reset forms.
const ATTEMPTS_PER_MINUTE: NonZeroU32 = NonZeroU32::MIN.saturating_add(9);
/// Above this many tracked addresses, forget those whose limit has fully recovered.
const RETAIN_ABOVE: usize = 10_000;

pub(crate) struct AttemptLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl AttemptLimiter {
    pub fn new() -> Self {
        Self(RateLimiter::keyed(Quota::per_minute(ATTEMPTS_PER_MINUTE)))
    }

    /// Counts one attempt from `ip`; `false` when it is over the limit.
    pub(crate) fn allow(&self, ip: IpAddr) -> bool {
        if self.0.len() > RETAIN_ABOVE {
            self.0.retain_recent();
        }
        self.0.check_key(&ip).is_ok()
    }
}

/// The client's address when the server provides it (`into_make_service_with_connect_info`);
/// otherwise one shared key, so the limit still applies, to everyone together.
pub(crate) struct ClientIp(pub(crate) IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(ip))
    }
}

pub(crate) const TOO_MANY: &str = "Too many attempts from your network. Please wait a minute and try again.";

pub(crate) async fn sign_in(session: &Session, user_id: &str) -> Result<(), UiError> {
    // A new session id on sign-in, so an id planted before sign-in is worthless after it.
    session.cycle_id().await.map_err(internal)?;
    session.insert(USER_ID_KEY, user_id).await.map_err(internal)
}

/// The session key of a user who gave the right password and still owes the second step.
/// Only [`USER_ID_KEY`](aims_store::sessions::USER_ID_KEY) signs a session in, so a pending
/// session opens nothing.
pub(crate) const PENDING_USER_KEY: &str = "pending_user_id";
pub(crate) const PENDING_NEXT_KEY: &str = "pending_next";

/// After the right password: keeps the user pending and sends them to the second step.
pub(crate) async fn begin_second_step(session: &Session, user_id: &str, next: Option<&str>) -> Result<Response, UiError> {
    // A new session id here too, so an id planted before sign-in is worthless after it.
    session.cycle_id().await.map_err(internal)?;
    session.insert(PENDING_USER_KEY, user_id).await.map_err(internal)?;
    session.insert(PENDING_NEXT_KEY, next.unwrap_or("/")).await.map_err(internal)?;
    Ok(Redirect::to("/login/second-step").into_response())
}

// ---- sign in / out ----

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: Option<String>,
    info: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    reset: Option<String>,
    signed_out: Option<String>,
}

pub(crate) async fn login_page(session: Session, Query(query): Query<LoginQuery>) -> Result<Response, UiError> {
    let next = safe_next(query.next.as_deref());
    if session.get::<String>(USER_ID_KEY).await.map_err(internal)?.is_some() {
        return Ok(Redirect::to(next.as_deref().unwrap_or("/")).into_response());
    }
    let info = if query.reset.is_some() {
        Some("Your password was changed. Sign in with the new one.")
    } else if query.signed_out.is_some() {
        Some("You are signed out.")
    } else {
        None
    };
    Ok(LoginPage { email: String::new(), next: next.unwrap_or_default(), error: None, info }.into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login(
    State(state): State<UiState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, UiError> {
    let next = safe_next(Some(&form.next));
    let page = |status: StatusCode, error: String| {
        (status, LoginPage { email: form.email.clone(), next: next.clone().unwrap_or_default(), error: Some(error), info: None })
            .into_response()
    };
    if !state.limiter.allow(ip) {
        return Ok(page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY.into()));
    }
    match state.app.login(&form.email, &form.password, &ip.to_string()).await {
        Ok(user) if state.app.needs_second_step(&user.id).await? => begin_second_step(&session, &user.id, next.as_deref()).await,
        Ok(user) => {
            sign_in(&session, &user.id).await?;
            Ok(Redirect::to(next.as_deref().unwrap_or("/")).into_response())
        }
        // One message for unknown address and wrong password alike: no hint which it was.
        Err(AppError::Unauthorized) => Ok(page(StatusCode::UNAUTHORIZED, "The e-mail address or password is not correct.".into())),
        Err(AppError::SignInRefused(why)) => Ok(page(StatusCode::FORBIDDEN, why)),
        Err(AppError::RateLimited(until)) => Ok(page(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins for this account from your network. Please wait and try again after {} UTC.",
                crate::text::time_of_day(&until)
            ),
        )),
        Err(other) => Err(other.into()),
    }
}

pub(crate) async fn logout(session: Session) -> Result<Redirect, UiError> {
    session.flush().await.map_err(internal)?;
    Ok(Redirect::to("/login?signed_out=1"))
}

// ---- first-run setup ----

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    form: SetupValues,
    errors: FormErrors,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct SetupValues {
    #[serde(default)]
    org_name: String,
    #[serde(default)]
    org_slug: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

fn link_gone(what: &'static str) -> Response {
    (StatusCode::NOT_FOUND, LinkGonePage { what }).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "link_gone.html")]
struct LinkGonePage {
    what: &'static str,
}

pub(crate) async fn setup_page(State(state): State<UiState>, Path(secret): Path<String>) -> Result<Response, UiError> {
    if !state.app.setup_link_valid(&secret).await? {
        return Ok(link_gone("setup link"));
    }
    Ok(SetupPage { form: SetupValues::default(), errors: FormErrors::default(), error: None }.into_response())
}

pub(crate) async fn setup(
    State(state): State<UiState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Path(secret): Path<String>,
    Form(form): Form<SetupValues>,
) -> Result<Response, UiError> {
    if !state.limiter.allow(ip) {
        let page = SetupPage { form, errors: FormErrors::default(), error: Some(TOO_MANY.into()) };
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let submitted = SetupForm {
        org_slug: form.org_slug.trim(),
        org_name: &form.org_name,
        display_name: &form.display_name,
        email: &form.email,
        password: &form.password,
    };
    match state.app.complete_setup(&secret, &submitted).await {
        Ok((org, user)) => {
            sign_in(&session, &user.id).await?;
            Ok(Redirect::to(&format!("/orgs/{}/", org.slug)).into_response())
        }
        Err(AppError::Validation(errors)) => {
            let page = SetupPage {
                form: SetupValues { password: String::new(), ..form },
                errors: FormErrors::from_validation(errors),
                error: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AppError::NotFound(_)) => Ok(link_gone("setup link")),
        Err(AppError::Conflict(why)) => {
            let page = SetupPage { form: SetupValues { password: String::new(), ..form }, errors: FormErrors::default(), error: Some(why) };
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

// ---- password reset ----

#[derive(Template, WebTemplate)]
#[template(path = "reset.html")]
struct ResetPage {
    errors: FormErrors,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    #[serde(default)]
    password: String,
}

pub(crate) async fn reset_page(State(state): State<UiState>, Path(secret): Path<String>) -> Result<Response, UiError> {
    if !state.app.password_reset_valid(&secret).await? {
        return Ok(link_gone("password reset link"));
    }
    Ok(ResetPage { errors: FormErrors::default(), error: None }.into_response())
}

pub(crate) async fn reset(
    State(state): State<UiState>,
    ClientIp(ip): ClientIp,
    Path(secret): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, UiError> {
    if !state.limiter.allow(ip) {
        return Ok(
            (StatusCode::TOO_MANY_REQUESTS, ResetPage { errors: FormErrors::default(), error: Some(TOO_MANY.into()) }).into_response()
        );
    }
    match state.app.complete_password_reset(&secret, &form.password).await {
        Ok(_) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, ResetPage { errors: FormErrors::from_validation(errors), error: None }).into_response())
        }
        Err(AppError::NotFound(_)) => Ok(link_gone("password reset link")),
        Err(AppError::SignInRefused(why)) => {
            Ok((StatusCode::FORBIDDEN, ResetPage { errors: FormErrors::default(), error: Some(why) }).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
