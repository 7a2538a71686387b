//! API tokens of the signed-in member: list, create (the secret is shown once, in the response
//! to the create form, and never stored in clear), revoke.

use aims_app::access::actor;
use aims_store::model::ApiToken;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::UiState;
use crate::error::UiError;
use crate::forms::status_for;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::text::{date, datetime};

struct TokenRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
    expires: String,
    state: &'static str,
    active: bool,
}

fn token_row(token: &ApiToken, now: &str) -> TokenRow {
    let expired = token.expires_at.as_deref().is_some_and(|e| e <= now);
    let (state, active) = match (&token.revoked_at, expired) {
        (Some(_), _) => ("revoked", false),
        (None, true) => ("expired", false),
        (None, false) => ("active", true),
    };
    TokenRow {
        id: token.id.clone(),
        name: token.name.clone(),
        created: date(&token.created_at),
        last_used: token.last_used_at.as_deref().map(datetime).unwrap_or_else(|| "never".into()),
        expires: token.expires_at.as_deref().map(date).unwrap_or_else(|| "never".into()),
        state,
        active,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
struct TokensPage {
    shell: Shell,
    tokens: Vec<TokenRow>,
    created_secret: Option<String>,
    notice: Notice,
    errors: FormErrors,
    name: String,
    expires_days: String,
}

async fn render(state: &UiState, ctx: &OrgCtx, page: PageState) -> Result<Response, UiError> {
    let now = aims_domain::clock::now_text();
    let tokens = state.app.list_tokens_of(&ctx.member).await?.iter().rev().map(|t| token_row(t, &now)).collect();
    let status = page.status;
    let body = TokensPage {
        shell: ctx.shell(Section::Tokens),
        tokens,
        created_secret: page.created_secret,
        notice: page.notice,
        errors: page.errors,
        name: page.name,
        expires_days: page.expires_days,
    };
    Ok((status, body).into_response())
}

struct PageState {
    status: StatusCode,
    created_secret: Option<String>,
    notice: Notice,
    errors: FormErrors,
    name: String,
    expires_days: String,
}

impl PageState {
    /// The page after a refused create: the form keeps what was typed.
    fn refused(notice: Notice, errors: FormErrors, input: CreateInput) -> Self {
        Self { status: status_for(&notice), notice, errors, name: input.name, expires_days: input.expires_days, created_secret: None }
    }
}

impl Default for PageState {
    fn default() -> Self {
        Self {
            status: StatusCode::OK,
            created_secret: None,
            notice: Notice::None,
            errors: FormErrors::default(),
            name: String::new(),
            expires_days: "90".into(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct TokensQuery {
    revoked: Option<String>,
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<TokensQuery>) -> Result<Response, UiError> {
    let notice =
        if query.revoked.is_some() { Notice::Done("Token revoked. It stops working with the next request.".into()) } else { Notice::None };
    render(&state, &ctx, PageState { notice, ..PageState::default() }).await
}

#[derive(Deserialize)]
pub(crate) struct CreateInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_days: String,
}

pub(crate) async fn create(State(state): State<UiState>, ctx: OrgCtx, Form(input): Form<CreateInput>) -> Result<Response, UiError> {
    let days = match input.expires_days.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(days) => Some(days),
            Err(_) => {
                let errors = FormErrors::single("expires_days", "a whole number of days, or empty for no expiry");
                return render(&state, &ctx, PageState::refused(Notice::Invalid, errors, input)).await;
            }
        },
    };
    match state.app.create_token(&ctx.member, Some(&input.name), days, &actor(&ctx.member)).await {
        Ok(created) => render(&state, &ctx, PageState { created_secret: Some(created.secret), ..PageState::default() }).await,
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render(&state, &ctx, PageState::refused(notice, errors, input)).await
        }
    }
}

pub(crate) async fn revoke(State(state): State<UiState>, ctx: OrgCtx, Path((_, id)): Path<(String, String)>) -> Result<Response, UiError> {
    match state.app.revoke_token(&ctx.member, &id).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/tokens?revoked=1", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render(&state, &ctx, PageState { status: status_for(&notice), notice, errors, ..PageState::default() }).await
        }
    }
}
