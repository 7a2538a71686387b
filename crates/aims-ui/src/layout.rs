//! What every signed-in page shares: who is signed in, for which organisation, the sidebar and
//! the top bar. Signing in and membership are extractors, so a handler that takes [`OrgCtx`]
//! cannot run for a stranger: they are sent to the sign-in page, or get a 404 for an
//! organisation they do not belong to (its existence is not revealed).

use std::collections::HashMap;

use aims_domain::policy::{self, Action};
use aims_store::model::Member;
use aims_store::sessions::USER_ID_KEY;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tower_sessions::Session;

use crate::UiState;
use crate::error::{UiError, internal};

/// The signed-in user of a request.
pub(crate) struct SignedIn {
    pub user_id: String,
}

impl FromRequestParts<UiState> for SignedIn {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, UiError> {
        let session = Session::from_request_parts(parts, state).await.map_err(|(_, why)| internal(why))?;
        let user_id: Option<String> = session.get(USER_ID_KEY).await.map_err(internal)?;
        match user_id {
            Some(user_id) => Ok(SignedIn { user_id }),
            None => {
                let next = parts.uri.path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_else(|| "/".into());
                Err(UiError::SignIn { next })
            }
        }
    }
}

/// A signed-in member acting in the organisation named by the `{org}` path segment, with
/// their other memberships for the switcher.
pub(crate) struct OrgCtx {
    pub member: Member,
    pub memberships: Vec<Member>,
}

impl FromRequestParts<UiState> for OrgCtx {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, UiError> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| UiError::NotFound)?;
        let slug = params.iter().find(|(name, _)| *name == "org").map(|(_, value)| value.to_owned()).ok_or(UiError::NotFound)?;
        let member = state.app.member(&slug, &signed_in.user_id).await?;
        // Under the organisation's two-step rule, an unenrolled member reaches only their
        // account pages (where they enrol) until they have enrolled.
        let account_area = format!("/orgs/{slug}/account");
        if !parts.uri.path().starts_with(&account_area) && state.app.mfa_missing(&member).await?.is_some() {
            return Err(UiError::Enrol { org: slug });
        }
        let memberships = state.app.memberships(&signed_in.user_id).await?;
        Ok(OrgCtx { member, memberships })
    }
}

impl OrgCtx {
    pub fn slug(&self) -> &str {
        &self.member.org_slug
    }

    /// May this member change records? The service decides in the end; this only hides forms
    /// that would certainly be refused.
    pub fn can(&self, action: Action) -> bool {
        policy::authorize(self.member.role, action).is_ok()
    }

    pub fn shell(&self, section: Section) -> Shell {
        let orgs = self
            .memberships
            .iter()
            .map(|m| OrgLink {
                slug: m.org_slug.clone(),
                name: m.org_name.clone(),
                role: m.role.as_str(),
                current: m.org_id == self.member.org_id,
            })
            .collect();
        Shell {
            org_slug: self.member.org_slug.clone(),
            org_name: self.member.org_name.clone(),
            user_name: self.member.display_name.clone(),
            user_email: self.member.email.clone(),
            role: self.member.role.as_str(),
            orgs,
            section,
        }
    }

    /// Display names of the organisation's members by user id (owners, actors).
    pub async fn member_names(&self, state: &UiState) -> Result<(Vec<Member>, HashMap<String, String>), UiError> {
        let members = state.app.members(&self.member).await?;
        let names = members.iter().map(|m| (m.user_id.clone(), m.display_name.clone())).collect();
        Ok((members, names))
    }
}

/// The sidebar entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Dashboard,
    Readiness,
    Gap,
    Soa,
    AiSystems,
    Risks,
    Evidence,
    Policies,
    Objectives,
    People,
    Improve,
    Audit,
    Review,
    Reviews,
    Operate,
    Actions,
    Reports,
    Activity,
    Tokens,
    Members,
    Account,
}

pub(crate) struct OrgLink {
    pub slug: String,
    pub name: String,
    pub role: &'static str,
    pub current: bool,
}

/// The frame around every signed-in page.
pub(crate) struct Shell {
    pub org_slug: String,
    pub org_name: String,
    pub user_name: String,
    pub user_email: String,
    pub role: &'static str,
    pub orgs: Vec<OrgLink>,
    pub section: Section,
}

/// A sidebar link.
pub(crate) struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub icon: &'static str,
    pub active: bool,
}

impl Shell {
    pub fn nav(&self) -> Vec<NavItem> {
        let base = format!("/orgs/{}", self.org_slug);
        let item =
            |path: &str, label, icon, section| NavItem { href: format!("{base}{path}"), label, icon, active: self.section == section };
        vec![
            item("/", "Dashboard", "home", Section::Dashboard),
            item("/readiness", "Readiness", "check-circle", Section::Readiness),
            item("/requirements", "Gap assessment", "check-square", Section::Gap),
            item("/controls", "Statement of Applicability", "shield", Section::Soa),
            item("/ai-systems", "AI systems", "cpu", Section::AiSystems),
            item("/risks", "Risks", "alert", Section::Risks),
            item("/evidence", "Evidence", "paperclip", Section::Evidence),
            item("/policies", "Policies", "file", Section::Policies),
            item("/objectives", "Objectives", "target", Section::Objectives),
            item("/people", "People & competence", "users", Section::People),
            item("/incidents", "Operation", "flag", Section::Operate),
            item("/audits", "Audit", "search", Section::Audit),
            item("/nonconformities", "Improvement", "trending-up", Section::Improve),
            item("/management-reviews", "Management review", "briefcase", Section::Review),
            item("/reviews-due", "Recurring reviews", "clock", Section::Reviews),
            item("/actions", "Actions", "check-circle", Section::Actions),
            item("/reports", "Reports", "file", Section::Reports),
            item("/activity", "Activity log", "list", Section::Activity),
        ]
    }

    pub fn tokens_item(&self) -> NavItem {
        NavItem {
            href: format!("/orgs/{}/tokens", self.org_slug),
            label: "API tokens",
            icon: "key",
            active: self.section == Section::Tokens,
        }
    }

    pub fn members_item(&self) -> NavItem {
        NavItem {
            href: format!("/orgs/{}/members", self.org_slug),
            label: "Members",
            icon: "users",
            active: self.section == Section::Members,
        }
    }

    pub fn account_href(&self) -> String {
        format!("/orgs/{}/account", self.org_slug)
    }

    pub fn org_initial(&self) -> String {
        self.org_name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().collect()).unwrap_or_default()
    }

    pub fn initials(&self) -> String {
        self.user_name.split_whitespace().filter_map(|w| w.chars().next()).take(2).flat_map(char::to_uppercase).collect()
    }
}

/// Headers for every UI response: a strict content security policy (all assets are our own
/// files; no inline script or style is used), no framing, and no caching of pages that show an
/// organisation's records (static files set their own long cache lifetime).
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
