//! Members of the organisation (who, with which role, active or not, last sign-in), their role
//! changes, deactivation and invitations, for admins and owners; one's own account (display
//! name and password); and the page an invitation link opens.

use aims_app::AppError;
use aims_app::members::MemberChange;
use aims_app::sessions::SessionInfo;
use aims_domain::identity::Role;
use aims_store::members::{Invitation, Membership};
use aims_store::sessions::{DEVICE_KEY, USER_ID_KEY};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use crate::UiState;
use crate::auth::{ClientIp, TOO_MANY, sign_in};
use crate::error::{UiError, internal};
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::text::{date, datetime};

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/orgs/{org}/members", get(page).post(invite))
        .route("/orgs/{org}/members/{id}", post(change))
        .route("/orgs/{org}/members/{id}/sign-out", post(sign_out))
        .route("/orgs/{org}/invitations/{id}/revoke", post(revoke))
        .route("/orgs/{org}/account", get(account_page))
        .route("/orgs/{org}/account/name", post(change_name))
        .route("/orgs/{org}/account/password", post(change_password))
        .route("/orgs/{org}/account/sessions/{handle}/sign-out", post(end_session))
        .route("/orgs/{org}/account/sessions/sign-out-others", post(end_other_sessions))
        .route("/invitations/{secret}", get(invitation_page).post(accept))
}

struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    active: bool,
    last_sign_in: String,
    /// The member's second step: "Authenticator app" or "None".
    mfa: &'static str,
    joined: String,
    version: i64,
    /// The signed-in member's own row: no controls (nobody changes their own membership).
    own: bool,
}

fn member_row(m: &Membership, me: &str) -> MemberRow {
    MemberRow {
        id: m.user_id.clone(),
        name: m.display_name.clone(),
        email: m.email.clone(),
        role: m.role.as_str(),
        active: m.active,
        last_sign_in: m.last_sign_in_at.as_deref().map(datetime).unwrap_or_else(|| "never".into()),
        mfa: if m.totp { "Authenticator app" } else { "None" },
        joined: date(&m.joined_at),
        version: m.version,
        own: m.user_id == me,
    }
}

struct InvitationRow {
    id: String,
    email: String,
    role: &'static str,
    status: &'static str,
    expires: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "members.html")]
struct MembersPage {
    shell: Shell,
    members: Vec<MemberRow>,
    next: Option<String>,
    manage: bool,
    /// Roles the signed-in member may give (an admin cannot make owners).
    roles: Vec<&'static str>,
    invitations: Vec<InvitationRow>,
    invitations_next: Option<String>,
    created_link: Option<String>,
    notice: Notice,
    errors: FormErrors,
    email: String,
    role: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct MembersQuery {
    cursor: Option<String>,
    invitations_cursor: Option<String>,
    done: Option<String>,
}

struct PageState {
    status: StatusCode,
    created_link: Option<String>,
    notice: Notice,
    errors: FormErrors,
    email: String,
    role: String,
}

impl Default for PageState {
    fn default() -> Self {
        Self {
            status: StatusCode::OK,
            created_link: None,
            notice: Notice::None,
            errors: FormErrors::default(),
            email: String::new(),
            role: Role::Viewer.as_str().into(),
        }
    }
}

impl PageState {
    fn refused(e: AppError, email: String, role: String) -> Result<Self, UiError> {
        let (notice, errors) = forms::rejected(e)?;
        let status = forms::form_status(&notice, &errors);
        Ok(Self { status, notice, errors, email, role, created_link: None })
    }
}

const PAGE_SIZE: i64 = 50;

async fn render(state: &UiState, ctx: &OrgCtx, query: &MembersQuery, page: PageState) -> Result<Response, UiError> {
    let listed = state.app.list_members(&ctx.member, query.cursor.as_deref(), PAGE_SIZE).await?;
    let manage = aims_domain::policy::authorize(ctx.member.role, aims_domain::policy::Action::ManageOrganization).is_ok();
    let (invitations, invitations_next) = if manage {
        let now = aims_domain::clock::now_text();
        let listed = state.app.list_invitations(&ctx.member, query.invitations_cursor.as_deref(), PAGE_SIZE).await?;
        let rows = listed.items.iter().map(|i: &Invitation| InvitationRow {
            id: i.id.clone(),
            email: i.email.clone(),
            role: i.role.as_str(),
            status: i.status(&now),
            expires: date(&i.expires_at),
        });
        (rows.collect(), listed.next_cursor)
    } else {
        (Vec::new(), None)
    };
    let roles = Role::ALL.iter().filter(|r| ctx.member.role == Role::Owner || **r != Role::Owner).map(|r| r.as_str()).collect();
    let body = MembersPage {
        shell: ctx.shell(Section::Members),
        members: listed.items.iter().map(|m| member_row(m, &ctx.member.user_id)).collect(),
        next: listed.next_cursor,
        manage,
        roles,
        invitations,
        invitations_next,
        created_link: page.created_link,
        notice: page.notice,
        errors: page.errors,
        email: page.email,
        role: page.role,
    };
    Ok((page.status, body).into_response())
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<MembersQuery>) -> Result<Response, UiError> {
    let notice = match query.done.as_deref() {
        Some("role") => Notice::Done("Role changed. It applies from the member's next request.".into()),
        Some("deactivated") => Notice::Done("Member deactivated. Their sessions and API tokens stop working here at once.".into()),
        Some("reactivated") => Notice::Done("Member reactivated with their role.".into()),
        Some("revoked") => Notice::Done("Invitation revoked: its link no longer works.".into()),
        Some("signed-out") => Notice::Done("Member signed out of every browser session.".into()),
        _ => Notice::None,
    };
    render(&state, &ctx, &query, PageState { notice, ..PageState::default() }).await
}

/// The address people open, from `AIMS_PUBLIC_URL` or else the request's own host.
fn absolute(headers: &HeaderMap, path: &str) -> String {
    if let Ok(base) = std::env::var("AIMS_PUBLIC_URL") {
        return format!("{}{path}", base.trim_end_matches('/'));
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{path}")
}

#[derive(Deserialize)]
pub(crate) struct InviteInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub(crate) async fn invite(
    State(state): State<UiState>,
    ctx: OrgCtx,
    headers: HeaderMap,
    Form(input): Form<InviteInput>,
) -> Result<Response, UiError> {
    let query = MembersQuery::default();
    match state.app.invite(&ctx.member, &input.email, &input.role).await {
        Ok((invitation, secret)) => {
            let link = absolute(&headers, &format!("/invitations/{secret}"));
            let notice =
                Notice::Done(format!("Invitation created for {}. Send them the link below; it works once, for 7 days.", invitation.email));
            render(&state, &ctx, &query, PageState { created_link: Some(link), notice, ..PageState::default() }).await
        }
        Err(e) => render(&state, &ctx, &query, PageState::refused(e, input.email, input.role)?).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct ChangeInput {
    role: Option<String>,
    active: Option<String>,
    #[serde(default)]
    version: i64,
}

pub(crate) async fn change(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(input): Form<ChangeInput>,
) -> Result<Response, UiError> {
    let role = match input.role.as_deref().map(|r| Role::parse("role", r)).transpose() {
        Ok(role) => role,
        Err(errors) => {
            return render(&state, &ctx, &MembersQuery::default(), PageState::refused(errors.into(), String::new(), String::new())?).await;
        }
    };
    let active = input.active.as_deref().map(|a| a == "true");
    let done = match active {
        Some(false) => "deactivated",
        Some(true) => "reactivated",
        None => "role",
    };
    match state.app.change_member(&ctx.member, &id, MemberChange { role, active }, input.version).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/members?done={done}", ctx.member.org_slug)).into_response()),
        Err(e) => render(&state, &ctx, &MembersQuery::default(), PageState::refused(e, String::new(), Role::Viewer.as_str().into())?).await,
    }
}

pub(crate) async fn sign_out(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, UiError> {
    match state.app.sign_out_member(&ctx.member, &id).await {
        Ok(()) => Ok(Redirect::to(&format!("/orgs/{}/members?done=signed-out", ctx.member.org_slug)).into_response()),
        Err(e) => render(&state, &ctx, &MembersQuery::default(), PageState::refused(e, String::new(), Role::Viewer.as_str().into())?).await,
    }
}

pub(crate) async fn revoke(State(state): State<UiState>, ctx: OrgCtx, Path((_, id)): Path<(String, String)>) -> Result<Response, UiError> {
    match state.app.revoke_invitation(&ctx.member, &id).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/members?done=revoked", ctx.member.org_slug)).into_response()),
        Err(e) => render(&state, &ctx, &MembersQuery::default(), PageState::refused(e, String::new(), Role::Viewer.as_str().into())?).await,
    }
}

// ---- one's own account ----

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    display_name: String,
    notice: Notice,
    errors: FormErrors,
    sessions: Vec<SessionInfo>,
}

#[derive(Deserialize, Default)]
pub(crate) struct AccountQuery {
    done: Option<String>,
}

/// The account page, with the person's sessions (the one asking marked).
async fn account(
    state: &UiState,
    session: &Session,
    ctx: &OrgCtx,
    display_name: String,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let current = session.id().map(|id| id.to_string());
    let sessions = state.app.my_sessions(&ctx.member, current.as_deref()).await?;
    let status = forms::form_status(&notice, &errors);
    Ok((status, AccountPage { shell: ctx.shell(Section::Account), display_name, notice, errors, sessions }).into_response())
}

pub(crate) async fn account_page(
    State(state): State<UiState>,
    session: Session,
    ctx: OrgCtx,
    Query(query): Query<AccountQuery>,
) -> Result<Response, UiError> {
    let notice = match query.done.as_deref() {
        Some("name") => Notice::Done("Display name changed.".into()),
        Some("password") => Notice::Done("Password changed. You were signed out of your other sessions.".into()),
        Some("session") => Notice::Done("That session is signed out.".into()),
        Some("others") => Notice::Done("Every other session is signed out.".into()),
        _ => Notice::None,
    };
    let name = ctx.member.display_name.clone();
    account(&state, &session, &ctx, name, notice, FormErrors::default()).await
}

/// Signs out one of one's own sessions.
pub(crate) async fn end_session(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, handle)): Path<(String, String)>,
) -> Result<Response, UiError> {
    state.app.end_my_session(&ctx.member, &handle).await?;
    Ok(Redirect::to(&format!("/orgs/{}/account?done=session", ctx.member.org_slug)).into_response())
}

/// Signs out every session of one's own but this one.
pub(crate) async fn end_other_sessions(State(state): State<UiState>, session: Session, ctx: OrgCtx) -> Result<Response, UiError> {
    let current = session.id().map(|id| id.to_string()).ok_or_else(|| internal("a signed-in request without a session id"))?;
    state.app.end_my_other_sessions(&ctx.member, &current).await?;
    Ok(Redirect::to(&format!("/orgs/{}/account?done=others", ctx.member.org_slug)).into_response())
}

/// Notes the device (a short name from the User-Agent) of a signed-in session that has none
/// yet, so the sessions list can tell sessions apart; once per session, after sign-in.
pub(crate) async fn note_device(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let session = request.extensions().get::<Session>().cloned().filter(|_| !request.uri().path().starts_with("/static/"));
    let user_agent = request.headers().get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let response = next.run(request).await;
    if let Some(session) = session {
        let signed_in = session.get::<String>(USER_ID_KEY).await.ok().flatten().is_some();
        let noted = session.get::<String>(DEVICE_KEY).await.ok().flatten().is_some();
        if signed_in
            && !noted
            && let Err(e) = session.insert(DEVICE_KEY, aims_domain::sso::device_name(&user_agent)).await
        {
            tracing::warn!("noting a session's device: {e}");
        }
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct NameInput {
    #[serde(default)]
    display_name: String,
}

pub(crate) async fn change_name(
    State(state): State<UiState>,
    session: Session,
    ctx: OrgCtx,
    Form(input): Form<NameInput>,
) -> Result<Response, UiError> {
    match state.app.change_display_name(&ctx.member.user_id, &input.display_name).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/account?done=name", ctx.member.org_slug)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            account(&state, &session, &ctx, input.display_name, notice, errors).await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordInput {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub(crate) async fn change_password(
    State(state): State<UiState>,
    ctx: OrgCtx,
    session: Session,
    Form(input): Form<PasswordInput>,
) -> Result<Response, UiError> {
    let keep = session.id().map(|id| id.to_string());
    match state.app.change_own_password(&ctx.member.user_id, &input.current_password, &input.new_password, keep.as_deref()).await {
        Ok(()) => Ok(Redirect::to(&format!("/orgs/{}/account?done=password", ctx.member.org_slug)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            account(&state, &session, &ctx, ctx.member.display_name.clone(), notice, errors).await
        }
    }
}

// ---- the invitation link ----

#[derive(Template, WebTemplate)]
#[template(path = "invitation.html")]
struct InvitationPage {
    org_name: String,
    email: String,
    role: &'static str,
    existing_user: bool,
    display_name: String,
    errors: FormErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "link_gone.html")]
struct LinkGonePage {
    what: &'static str,
}

fn link_gone() -> Response {
    (StatusCode::NOT_FOUND, LinkGonePage { what: "invitation link" }).into_response()
}

pub(crate) async fn invitation_page(State(state): State<UiState>, Path(secret): Path<String>) -> Result<Response, UiError> {
    match state.app.invitation_preview(&secret).await {
        Ok(preview) => Ok(InvitationPage {
            org_name: preview.org_name,
            email: preview.email,
            role: preview.role.as_str(),
            existing_user: preview.existing_user,
            display_name: String::new(),
            errors: FormErrors::default(),
        }
        .into_response()),
        Err(AppError::NotFound(_)) => Ok(link_gone()),
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct AcceptInput {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

/// Accepts the invitation and signs the person in (as themselves: someone else signed in on
/// this browser is signed out first). Attempts are limited per source, as sign-in is.
pub(crate) async fn accept(
    State(state): State<UiState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Path(secret): Path<String>,
    Form(input): Form<AcceptInput>,
) -> Result<Response, UiError> {
    if !state.limiter.allow(ip) {
        return refused_again(&state, &secret, input, StatusCode::TOO_MANY_REQUESTS, FormErrors::single("password", TOO_MANY)).await;
    }
    let name = Some(input.display_name.as_str()).filter(|n| !n.trim().is_empty());
    match state.app.accept_invitation(&secret, &input.password, name).await {
        Ok((user, slug)) => {
            let signed_in: Option<String> = session.get(USER_ID_KEY).await.map_err(internal)?;
            if signed_in.is_some_and(|id| id != user.id) {
                session.flush().await.map_err(internal)?;
            }
            sign_in(&session, &user.id).await?;
            Ok(Redirect::to(&format!("/orgs/{slug}/")).into_response())
        }
        Err(AppError::Validation(errors)) => {
            refused_again(&state, &secret, input, StatusCode::UNPROCESSABLE_ENTITY, FormErrors::from_validation(errors)).await
        }
        Err(AppError::NotFound(_)) => Ok(link_gone()),
        Err(other) => Err(other.into()),
    }
}

/// The invitation page again, with what was typed (never the password) and why it was refused.
async fn refused_again(
    state: &UiState,
    secret: &str,
    input: AcceptInput,
    status: StatusCode,
    errors: FormErrors,
) -> Result<Response, UiError> {
    match state.app.invitation_preview(secret).await {
        Ok(preview) => Ok((
            status,
            InvitationPage {
                org_name: preview.org_name,
                email: preview.email,
                role: preview.role.as_str(),
                existing_user: preview.existing_user,
                display_name: input.display_name,
                errors,
            },
        )
            .into_response()),
        Err(AppError::NotFound(_)) => Ok(link_gone()),
        Err(other) => Err(other.into()),
    }
}
