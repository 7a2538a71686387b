//! Single sign-on in the browser: the "Sign in with SSO" entry (organisation or e-mail), the
//! hand-off to the organisation's identity provider and its callback, and the owners' settings
//! page `/orgs/{org}/settings/sso`. What the callback checks lives in `aims_app::sso`; here the
//! pending sign-in (state, nonce, PKCE verifier) is kept in the session, used once.

use aims_app::AppError;
use aims_app::sso::{PendingSso, SsoView};
use aims_domain::identity::Role;
use aims_domain::{FieldError, ValidationErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower_sessions::Session;

use crate::UiState;
use crate::auth::{ClientIp, TOO_MANY, sign_in};
use crate::error::{UiError, internal};
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};

/// The session key of a sign-in under way.
const PENDING_KEY: &str = "sso_pending";

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/sso", post(choose))
        .route("/sso/{org}", get(start))
        .route("/sso/{org}/callback", get(callback))
        .route("/orgs/{org}/settings/sso", get(settings_page).post(settings_save))
}

fn callback_url(org: &str) -> String {
    format!("{}/sso/{org}/callback", aims_app::notify::public_url())
}

#[derive(Template, WebTemplate)]
#[template(path = "sso_refused.html")]
struct RefusedPage {
    why: String,
}

fn refused_page(status: StatusCode, why: String) -> Response {
    (status, RefusedPage { why }).into_response()
}

/// The hand-off to the provider: a page that refreshes to it (with a link, for browsers that do
/// not), rather than a redirect, because the sign-in form's `form-action 'self'` policy would
/// stop a form submission redirected to another origin.
#[derive(Template, WebTemplate)]
#[template(path = "sso_hand_off.html")]
struct HandOffPage {
    provider_url: String,
}

#[derive(Deserialize)]
pub(crate) struct ChooseForm {
    #[serde(default)]
    organisation: String,
}

/// From the sign-in page: the organisation's slug or one's e-mail address leads to the
/// organisation's provider.
pub(crate) async fn choose(
    State(state): State<UiState>,
    ClientIp(ip): ClientIp,
    Form(form): Form<ChooseForm>,
) -> Result<Response, UiError> {
    if !state.limiter.allow(ip) {
        return Ok(refused_page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY.into()));
    }
    match state.app.sso_org_for(&form.organisation).await? {
        Some(slug) => Ok(Redirect::to(&format!("/sso/{slug}")).into_response()),
        None => Ok(refused_page(
            StatusCode::NOT_FOUND,
            format!(
                "No organisation offers single sign-on for \u{201c}{}\u{201d}. Check the organisation's short name or your work e-mail address.",
                form.organisation.trim()
            ),
        )),
    }
}

pub(crate) async fn start(State(state): State<UiState>, session: Session, Path(org): Path<String>) -> Result<Response, UiError> {
    match state.app.start_sso(&org, &callback_url(&org)).await {
        Ok((url, pending)) => {
            session.insert(PENDING_KEY, &pending).await.map_err(internal)?;
            Ok(HandOffPage { provider_url: url }.into_response())
        }
        Err(AppError::SignInRefused(why)) => Ok(refused_page(StatusCode::FORBIDDEN, why)),
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub(crate) async fn callback(
    State(state): State<UiState>,
    session: Session,
    Path(org): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, UiError> {
    // Used once, whatever happens next: a replayed callback finds nothing pending.
    let pending: Option<PendingSso> = session.remove(PENDING_KEY).await.map_err(internal)?;
    if let Some(error) = query.error {
        let detail = query.error_description.map(|d| format!(": {d}")).unwrap_or_default();
        return Ok(refused_page(StatusCode::FORBIDDEN, format!("The identity provider did not sign you in ({error}{detail}).")));
    }
    let (Some(returned_state), Some(code)) = (query.state, query.code) else {
        return Ok(refused_page(StatusCode::BAD_REQUEST, "The identity provider's answer lacks its code or state: start again.".into()));
    };
    match state.app.finish_sso(&org, pending, &returned_state, &code, &callback_url(&org)).await {
        Ok(done) => {
            sign_in(&session, &done.user.id).await?;
            Ok(Redirect::to(&format!("/orgs/{}/", done.org_slug)).into_response())
        }
        Err(AppError::SignInRefused(why)) => Ok(refused_page(StatusCode::FORBIDDEN, why)),
        Err(other) => Err(other.into()),
    }
}

// ---- the settings page ----

#[derive(Template, WebTemplate)]
#[template(path = "sso_settings.html")]
struct SettingsPage {
    shell: Shell,
    form: SettingsForm,
    secret_set: bool,
    can_change: bool,
    redirect_uri: String,
    roles: Vec<(&'static str, bool)>,
    notice: Notice,
    errors: FormErrors,
}

/// The settings form as posted (and as shown again when refused).
#[derive(Deserialize, Default, Clone)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    issuer_url: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    allowed_domains: String,
    #[serde(default)]
    jit_enabled: Option<String>,
    #[serde(default)]
    default_role: String,
    #[serde(default)]
    role_claim: String,
    #[serde(default)]
    role_map: String,
    #[serde(default)]
    required: Option<String>,
    #[serde(default)]
    break_glass_owner: String,
    #[serde(default)]
    version: i64,
}

impl SettingsForm {
    fn from_view(view: &SsoView) -> Self {
        let s = &view.settings;
        let on = |b: bool| b.then(|| "on".to_owned());
        Self {
            enabled: on(s.enabled),
            issuer_url: s.issuer_url.clone().unwrap_or_default(),
            client_id: s.client_id.clone().unwrap_or_default(),
            client_secret: String::new(),
            allowed_domains: s.allowed_domains.join("\n"),
            jit_enabled: on(s.jit_enabled),
            default_role: s.default_role.as_str().into(),
            role_claim: s.role_claim.clone().unwrap_or_default(),
            role_map: s.role_map.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join("\n"),
            required: on(s.required),
            break_glass_owner: s.break_glass_owner.clone().unwrap_or_default(),
            version: view.version,
        }
    }

    /// The merge patch this form asks for; an empty secret keeps the stored one.
    fn patch(&self) -> Result<Value, ValidationErrors> {
        let text = |t: &str| if t.trim().is_empty() { Value::Null } else { json!(t.trim()) };
        let domains: Vec<&str> = self.allowed_domains.split([',', '\n', ' ']).map(str::trim).filter(|d| !d.is_empty()).collect();
        let mut role_map = Map::new();
        let mut errors = ValidationErrors::default();
        for line in self.role_map.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.split_once('=') {
                Some((value, role)) => {
                    role_map.insert(value.trim().to_owned(), json!(role.trim()));
                }
                None => errors.push(
                    "role_map",
                    "invalid_format",
                    format!("\u{201c}{line}\u{201d}: write one mapping a line, as claim value = role"),
                ),
            }
        }
        errors.into_result()?;
        let mut patch = json!({
            "enabled": self.enabled.is_some(),
            "issuer_url": text(&self.issuer_url),
            "client_id": text(&self.client_id),
            "allowed_domains": domains,
            "jit_enabled": self.jit_enabled.is_some(),
            "default_role": self.default_role.trim(),
            "role_claim": text(&self.role_claim),
            "role_map": role_map,
            "required": self.required.is_some(),
            "break_glass_owner": text(&self.break_glass_owner),
        });
        if !self.client_secret.trim().is_empty() {
            patch["client_secret"] = json!(self.client_secret);
        }
        Ok(patch)
    }
}

fn render(ctx: &OrgCtx, view: &SsoView, form: SettingsForm, notice: Notice, errors: FormErrors) -> Response {
    let status = forms::form_status(&notice, &errors);
    let roles = Role::ALL.iter().filter(|r| **r != Role::Owner).map(|r| (r.as_str(), r.as_str() == form.default_role)).collect();
    let page = SettingsPage {
        shell: ctx.shell(Section::Members),
        secret_set: view.client_secret_set,
        can_change: ctx.member.role == Role::Owner,
        redirect_uri: callback_url(&ctx.member.org_slug),
        roles,
        form,
        notice,
        errors,
    };
    (status, page).into_response()
}

#[derive(Deserialize, Default)]
pub(crate) struct SettingsQuery {
    saved: Option<String>,
}

pub(crate) async fn settings_page(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(query): Query<SettingsQuery>,
) -> Result<Response, UiError> {
    let view = state.app.sso_settings(&ctx.member).await?;
    let notice = if query.saved.is_some() { Notice::Saved } else { Notice::None };
    Ok(render(&ctx, &view, SettingsForm::from_view(&view), notice, FormErrors::default()))
}

/// Field names the form shows errors at: a domain's or a mapping's error at its text area.
fn for_form(errors: ValidationErrors) -> FormErrors {
    let fields = errors.0.into_iter().map(|e| {
        let field = if e.field.starts_with("role_map") { "role_map".to_owned() } else { e.field };
        FieldError { field, ..e }
    });
    FormErrors::from_validation(ValidationErrors(fields.collect()))
}

pub(crate) async fn settings_save(State(state): State<UiState>, ctx: OrgCtx, Form(form): Form<SettingsForm>) -> Result<Response, UiError> {
    let view = state.app.sso_settings(&ctx.member).await?;
    let shown = SettingsForm { client_secret: String::new(), ..form.clone() };
    let patch = match form.patch() {
        Ok(patch) => patch,
        Err(errors) => return Ok(render(&ctx, &view, shown, Notice::Invalid, for_form(errors))),
    };
    match state.app.update_sso_settings(&ctx.member, &patch, form.version).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/settings/sso?saved=1", ctx.member.org_slug)).into_response()),
        Err(AppError::Validation(errors)) => Ok(render(&ctx, &view, shown, Notice::Invalid, for_form(errors))),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            Ok(render(&ctx, &view, shown, notice, errors))
        }
    }
}
