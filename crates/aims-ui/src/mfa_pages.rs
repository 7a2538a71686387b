//! Two-step sign-in pages: the second step after the password (`/login/second-step`), the
//! enrolment and management page of one's account (`/orgs/{org}/account/two-step`), and the
//! organisation's rule (`/orgs/{org}/settings/security`, owners change it).

use aims_app::AppError;
use aims_app::mfa::{MfaStatus, TotpEnrolment};
use aims_domain::identity::Role;
use aims_domain::mfa::MfaRequired;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use crate::UiState;
use crate::auth::{ClientIp, PENDING_NEXT_KEY, PENDING_USER_KEY, TOO_MANY, sign_in};
use crate::error::{UiError, internal};
use crate::forms::{FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::text::safe_next;

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/login/second-step", get(second_step_page).post(second_step))
        .route("/orgs/{org}/account/two-step", get(two_step_page))
        .route("/orgs/{org}/account/two-step/start", post(start))
        .route("/orgs/{org}/account/two-step/confirm", post(confirm))
        .route("/orgs/{org}/account/two-step/recovery-codes", post(regenerate))
        .route("/orgs/{org}/account/two-step/off", post(turn_off))
        .route("/orgs/{org}/settings/security", get(security_page).post(security_save))
}

// ---- the second step ----

#[derive(Template, WebTemplate)]
#[template(path = "second_step.html")]
struct SecondStepPage {
    error: Option<String>,
}

async fn pending_user(session: &Session) -> Result<Option<String>, UiError> {
    session.get::<String>(PENDING_USER_KEY).await.map_err(internal)
}

pub(crate) async fn second_step_page(session: Session) -> Result<Response, UiError> {
    if pending_user(&session).await?.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(SecondStepPage { error: None }.into_response())
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
}

pub(crate) async fn second_step(
    State(state): State<UiState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Result<Response, UiError> {
    let Some(user_id) = pending_user(&session).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let page = |status: StatusCode, error: String| (status, SecondStepPage { error: Some(error) }).into_response();
    if !state.limiter.allow(ip) {
        return Ok(page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY.into()));
    }
    match state.app.second_step(&user_id, &form.code, &ip.to_string()).await {
        Ok(_) => {
            let next: Option<String> = session.get(PENDING_NEXT_KEY).await.map_err(internal)?;
            session.remove::<String>(PENDING_USER_KEY).await.map_err(internal)?;
            session.remove::<String>(PENDING_NEXT_KEY).await.map_err(internal)?;
            sign_in(&session, &user_id).await?;
            let next = safe_next(next.as_deref()).unwrap_or_else(|| "/".into());
            Ok(Redirect::to(&next).into_response())
        }
        Err(AppError::Unauthorized) => {
            Ok(page(StatusCode::UNAUTHORIZED, "That code is not correct, or was used already. Try the next code from your app.".into()))
        }
        Err(AppError::RateLimited(until)) => Ok(page(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many wrong codes from your network. Please wait and try again after {} UTC.", crate::text::time_of_day(&until)),
        )),
        Err(other) => Err(other.into()),
    }
}

// ---- one's own two-step sign-in ----

#[derive(Template, WebTemplate)]
#[template(path = "two_step.html")]
struct TwoStepPage {
    shell: Shell,
    status: MfaStatus,
    /// The organisation's rule, when it requires this member to enrol.
    required: Option<&'static str>,
    enrolment: Option<TotpEnrolment>,
    /// Recovery codes just made, shown this once.
    recovery_codes: Vec<String>,
    notice: Notice,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub(crate) struct TwoStepQuery {
    done: Option<String>,
}

async fn render(state: &UiState, ctx: &OrgCtx, notice: Notice, errors: FormErrors, codes: Vec<String>) -> Result<Response, UiError> {
    let user = state.app.account_user(&ctx.member.user_id).await?;
    let status = state.app.mfa_status(&user.id).await?;
    let enrolment = if status.totp { None } else { state.app.pending_totp(&user).await? };
    let required = state.app.mfa_missing(&ctx.member).await?.map(MfaRequired::describe);
    let code = crate::forms::form_status(&notice, &errors);
    let page = TwoStepPage { shell: ctx.shell(Section::Account), status, required, enrolment, recovery_codes: codes, notice, errors };
    Ok((code, page).into_response())
}

pub(crate) async fn two_step_page(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(query): Query<TwoStepQuery>,
) -> Result<Response, UiError> {
    let notice = match query.done.as_deref() {
        Some("off") => Notice::Done("Two-step sign-in is off. Your recovery codes were deleted.".into()),
        _ => Notice::None,
    };
    render(&state, &ctx, notice, FormErrors::default(), Vec::new()).await
}

pub(crate) async fn start(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let user = state.app.account_user(&ctx.member.user_id).await?;
    match state.app.start_totp(&user).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/account/two-step", ctx.slug())).into_response()),
        Err(AppError::Conflict(why)) => render(&state, &ctx, Notice::Conflict(why), FormErrors::default(), Vec::new()).await,
        Err(other) => Err(other.into()),
    }
}

/// Re-renders with the service's field errors, or passes other errors on.
async fn refused(state: &UiState, ctx: &OrgCtx, e: AppError) -> Result<Response, UiError> {
    match e {
        AppError::Validation(errors) => render(state, ctx, Notice::Invalid, FormErrors::from_validation(errors), Vec::new()).await,
        AppError::Conflict(why) => render(state, ctx, Notice::Invalid, FormErrors::single("code", &why), Vec::new()).await,
        other => Err(other.into()),
    }
}

pub(crate) async fn confirm(State(state): State<UiState>, ctx: OrgCtx, Form(form): Form<CodeForm>) -> Result<Response, UiError> {
    let user = state.app.account_user(&ctx.member.user_id).await?;
    match state.app.confirm_totp(&user, &form.code).await {
        Ok(codes) => {
            let notice = Notice::Done("Two-step sign-in is on. Keep your recovery codes somewhere safe.".into());
            render(&state, &ctx, notice, FormErrors::default(), codes).await
        }
        Err(e) => refused(&state, &ctx, e).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct ProofForm {
    #[serde(default)]
    proof: String,
}

pub(crate) async fn regenerate(State(state): State<UiState>, ctx: OrgCtx, Form(form): Form<ProofForm>) -> Result<Response, UiError> {
    let user = state.app.account_user(&ctx.member.user_id).await?;
    match state.app.regenerate_recovery_codes(&user, &form.proof).await {
        Ok(codes) => {
            let notice = Notice::Done("New recovery codes made; the old ones no longer work.".into());
            render(&state, &ctx, notice, FormErrors::default(), codes).await
        }
        Err(e) => refused(&state, &ctx, e).await,
    }
}

pub(crate) async fn turn_off(State(state): State<UiState>, ctx: OrgCtx, Form(form): Form<ProofForm>) -> Result<Response, UiError> {
    let user = state.app.account_user(&ctx.member.user_id).await?;
    match state.app.disable_totp(&user, &form.proof).await {
        Ok(()) => Ok(Redirect::to(&format!("/orgs/{}/account/two-step?done=off", ctx.slug())).into_response()),
        Err(e) => refused(&state, &ctx, e).await,
    }
}

// ---- the organisation's rule ----

struct RuleChoice {
    value: &'static str,
    label: &'static str,
}

const CHOICES: [RuleChoice; 3] = [
    RuleChoice { value: "off", label: "Optional — members choose" },
    RuleChoice { value: "admins", label: "Required of owners and admins" },
    RuleChoice { value: "everyone", label: "Required of every member" },
];

#[derive(Template, WebTemplate)]
#[template(path = "security_settings.html")]
struct SecurityPage {
    shell: Shell,
    current: &'static str,
    version: i64,
    choices: &'static [RuleChoice],
    may_change: bool,
    notice: Notice,
}

#[derive(Deserialize, Default)]
pub(crate) struct SavedQuery {
    done: Option<String>,
}

async fn security(state: &UiState, ctx: &OrgCtx, notice: Notice) -> Result<Response, UiError> {
    let settings = state.app.security_settings(&ctx.member).await?;
    let status = crate::forms::form_status(&notice, &FormErrors::default());
    let page = SecurityPage {
        shell: ctx.shell(Section::Members),
        current: settings.mfa_required.as_str(),
        version: settings.version,
        choices: &CHOICES,
        may_change: ctx.member.role == Role::Owner,
        notice,
    };
    Ok((status, page).into_response())
}

pub(crate) async fn security_page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<SavedQuery>) -> Result<Response, UiError> {
    let notice = if query.done.is_some() { Notice::Saved } else { Notice::None };
    security(&state, &ctx, notice).await
}

#[derive(Deserialize)]
pub(crate) struct RuleForm {
    #[serde(default)]
    mfa_required: String,
    #[serde(default)]
    version: i64,
}

pub(crate) async fn security_save(State(state): State<UiState>, ctx: OrgCtx, Form(form): Form<RuleForm>) -> Result<Response, UiError> {
    match state.app.change_security_settings(&ctx.member, &form.mfa_required, form.version).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/settings/security?done=1", ctx.slug())).into_response()),
        Err(AppError::Stale { .. }) => security(&state, &ctx, Notice::Stale).await,
        Err(AppError::Validation(_)) => security(&state, &ctx, Notice::Invalid).await,
        Err(other) => Err(other.into()),
    }
}
