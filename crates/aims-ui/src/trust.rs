//! The public concern pages (A.3.3, A.8.3), for anyone and without an account: a form raising
//! a concern about one of the organisation's AI systems (`/trust/{org}/concerns/new`) and the
//! private status page its link opens, which shows the concern's state and the organisation's
//! answer, nothing else. Sending goes through the same service as the API's public intake,
//! with the same limit per client address.
//!
//! Beside them, the organisation's trust page (`/trust/{org}`) lists the AI systems whose
//! transparency disclosure (A.8) is published, each with its own page
//! (`/trust/{org}/ai-systems/{id}`): read-only, without scripts, printable, and showing only the
//! fields chosen for publication. Anything else is the same 404.

use aims_app::AppError;
use aims_app::trust::PublicDisclosure;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::UiState;
use crate::auth::ClientIp;
use crate::error::UiError;
use crate::forms::FormErrors;

pub(crate) fn routes() -> axum::Router<UiState> {
    axum::Router::new()
        .route("/trust/{org}/concerns", axum::routing::post(send))
        .route("/trust/{org}/concerns/new", get(form))
        .route("/trust/{org}/concerns/{token}", get(status))
        .route("/trust/{org}", get(trust_page))
        .route("/trust/{org}/ai-systems/{id}", get(disclosure_page))
}

/// A published disclosure as its pages show it.
struct ShownDisclosure {
    id: String,
    name: String,
    summary: String,
    intended_use: String,
    limitations: String,
    oversight_mode: Option<&'static str>,
    oversight: String,
    version: i64,
    updated: String,
}

impl From<PublicDisclosure> for ShownDisclosure {
    fn from(d: PublicDisclosure) -> Self {
        Self {
            oversight_mode: d.oversight_mode.as_deref().map(oversight_words),
            updated: crate::text::date(&d.updated_at),
            id: d.id,
            name: d.name,
            summary: d.summary,
            intended_use: d.intended_use,
            limitations: d.limitations,
            oversight: d.oversight,
            version: d.version,
        }
    }
}

/// An oversight mode in a reader's words.
fn oversight_words(mode: &str) -> &'static str {
    match mode {
        "human_in_the_loop" => "A person takes every decision (human in the loop)",
        "human_on_the_loop" => "People monitor it and can step in (human on the loop)",
        "human_in_command" => "People decide when and how it is used (human in command)",
        "none" => "It runs without human review of each outcome",
        _ => "Human oversight as described below",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "trust_page.html")]
struct TrustPageView {
    org_slug: String,
    org_name: String,
    systems: Vec<ShownDisclosure>,
    updated: Option<String>,
    public_key: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "trust_system.html")]
struct DisclosureView {
    org_slug: String,
    org_name: String,
    s: ShownDisclosure,
    concern_href: String,
}

pub(crate) async fn trust_page(State(state): State<UiState>, Path(org): Path<String>) -> Result<Response, UiError> {
    let page = state.app.public_trust_page(&org).await?;
    Ok(TrustPageView {
        org_slug: page.org_slug,
        org_name: page.org_name,
        systems: page.systems.into_iter().map(ShownDisclosure::from).collect(),
        updated: page.updated_at.as_deref().map(crate::text::date),
        public_key: page.public_key,
    }
    .into_response())
}

pub(crate) async fn disclosure_page(State(state): State<UiState>, Path((org, id)): Path<(String, String)>) -> Result<Response, UiError> {
    let (org_name, disclosure) = state.app.public_disclosure(&org, &id).await?;
    let concern_href = format!("/trust/{org}/concerns/new?ai_system={}", crate::text::encode_query_value(&disclosure.name));
    Ok(DisclosureView { org_slug: org, org_name, s: disclosure.into(), concern_href }.into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct ConcernForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    ai_system_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "trust_concern_new.html")]
struct FormPage {
    org_slug: String,
    org_name: String,
    typed: ConcernForm,
    errors: FormErrors,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "trust_concern_status.html")]
struct StatusPage {
    org_slug: String,
    org_name: String,
    state: String,
    answer: Option<String>,
    sent: bool,
}

impl StatusPage {
    /// The state in the reporter's words.
    fn state_words(&self) -> &'static str {
        match self.state.as_str() {
            "received" => "Received: it has not been looked at yet.",
            "triaged" => "Being handled: the organisation is looking into it.",
            "closed" => "Closed: the organisation has answered.",
            _ => "Received.",
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct FormQuery {
    /// The AI system a disclosure page's "raise a concern" link names.
    ai_system: Option<String>,
}

pub(crate) async fn form(
    State(state): State<UiState>,
    Path(org): Path<String>,
    Query(query): Query<FormQuery>,
) -> Result<Response, UiError> {
    let org_name = state.app.public_org_name(&org).await?;
    let typed = ConcernForm { ai_system_name: query.ai_system.unwrap_or_default(), ..ConcernForm::default() };
    Ok(FormPage { org_slug: org, org_name, typed, errors: FormErrors::default(), error: None }.into_response())
}

fn text_or_null(value: &str) -> serde_json::Value {
    crate::forms::text_or_null(value)
}

pub(crate) async fn send(
    State(state): State<UiState>,
    ClientIp(ip): ClientIp,
    Path(org): Path<String>,
    Form(typed): Form<ConcernForm>,
) -> Result<Response, UiError> {
    let org_name = state.app.public_org_name(&org).await?;
    let input = json!({
        "subject": typed.subject,
        "description": typed.description,
        "ai_system_name": text_or_null(&typed.ai_system_name),
        "contact_name": text_or_null(&typed.contact_name),
        "contact_email": text_or_null(&typed.contact_email),
    });
    let refused = |status: StatusCode, errors: FormErrors, error: String, typed: ConcernForm| {
        (status, FormPage { org_slug: org.clone(), org_name: org_name.clone(), typed, errors, error: Some(error) }).into_response()
    };
    match state.app.submit_public_concern(&ip.to_string(), &org, &input).await {
        Ok(received) => Ok(Redirect::to(&format!("/trust/{org}/concerns/{}?sent=1", received.token)).into_response()),
        Err(AppError::Validation(errors)) => Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            FormErrors::from_validation(errors),
            "Please check the fields marked below.".into(),
            typed,
        )),
        Err(AppError::RateLimited(_)) => Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            FormErrors::default(),
            "Too many concerns were sent from your address just now. Please wait a few minutes and send it again.".into(),
            typed,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct StatusQuery {
    sent: Option<String>,
}

pub(crate) async fn status(
    State(state): State<UiState>,
    Path((org, token)): Path<(String, String)>,
    Query(query): Query<StatusQuery>,
) -> Result<Response, UiError> {
    let org_name = state.app.public_org_name(&org).await?;
    let status = state.app.public_concern_status(&org, &token).await?;
    let page = StatusPage { org_slug: org, org_name, state: status.state, answer: status.answer, sent: query.sent.is_some() };
    Ok(page.into_response())
}
