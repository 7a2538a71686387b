//! Single sign-on over OpenID Connect, configured per organisation: the settings (`settings/sso`;
//! owners change them, admins read them; the client secret is write-only and sealed with
//! `secretbox`, the organisation id as its associated data), the authorization code flow with
//! PKCE, `state` and `nonce`, and the refusal of password sign-in where SSO is required.
//!
//! **Who an SSO sign-in is.** The provider's subject (`sub`) is linked to one person per
//! organisation (`sso_identities`). A subject seen before is that person, whatever e-mail the
//! provider now sends (it must still be verified and in an allowed domain). A new subject is
//! linked to the local person with the same e-mail address — the provider has verified that
//! address and the organisation allows its domain, so it vouches for the mailbox's owner —
//! unless that person is already linked to another subject here (refused: the identity moved).
//! With no such person, one is created (without a password) if just-in-time membership is on.
//! A person who is not a member becomes one just in time with the mapped or default role
//! (never owner); a deactivated member is refused.
//!
//! **Several organisations.** A password sign-in is refused if *any* organisation the person is
//! an active member of requires SSO and they are not its break-glass owner: a session is the
//! person's, not one organisation's, so a password session would otherwise reach the
//! organisation that forbids it.

use aims_domain::identity::{Email, Role};
use aims_domain::policy::{Action, Denied};
use aims_domain::sso::{SecretChange, SsoSettings};
use aims_domain::{ValidationErrors, clock};
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Actor, Member, Organization, User};
use aims_store::sso::{self as store, SsoRow};
use aims_store::{members, orgs, users};
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::access::{actor, require};
use crate::oidc_http;
use crate::records::ANY_VERSION;
use crate::schedules::process_key;
use crate::secretbox;
use crate::{App, AppError, AppResult};

/// An organisation's SSO settings as shown: never the secret, only whether one is stored.
#[derive(Debug, Clone)]
pub struct SsoView {
    pub settings: SsoSettings,
    pub client_secret_set: bool,
    /// 1 for the defaults of an organisation that never saved settings.
    pub version: i64,
    pub updated_at: Option<String>,
}

/// A sign-in under way, kept in the browser's session between `/sso/{org}` and the callback.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSso {
    pub org: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A finished SSO sign-in.
pub struct SsoSignIn {
    pub user: User,
    pub org_slug: String,
}

type Client = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

fn refused(why: impl Into<String>) -> AppError {
    AppError::SignInRefused(why.into())
}

fn view(row: Option<SsoRow>) -> AppResult<SsoView> {
    let Some(row) = row else {
        return Ok(SsoView { settings: SsoSettings::default(), client_secret_set: false, version: 1, updated_at: None });
    };
    let mut settings: SsoSettings =
        serde_json::from_str(&row.document).map_err(|e| AppError::Internal(format!("stored SSO settings: {e}")))?;
    settings.required = row.required;
    Ok(SsoView { settings, client_secret_set: row.client_secret.is_some(), version: row.version, updated_at: Some(row.updated_at) })
}

/// The change of each field for the activity log; the secret only as "changed" or "removed".
fn changes(before: &SsoSettings, after: &SsoSettings, secret: &SecretChange) -> Value {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (serde_json::to_value(before), serde_json::to_value(after)) else {
        return json!({});
    };
    let mut out = serde_json::Map::new();
    for (field, value) in &new {
        if old.get(field) != Some(value) {
            out.insert(field.clone(), json!({"from": old.get(field), "to": value}));
        }
    }
    match secret {
        SecretChange::Keep => {}
        SecretChange::Set(_) => {
            out.insert("client_secret".into(), json!("changed"));
        }
        SecretChange::Clear => {
            out.insert("client_secret".into(), json!("removed"));
        }
    }
    Value::Object(out)
}

impl App {
    /// An organisation's SSO settings (admins and owners read them).
    pub async fn sso_settings(&self, member: &Member) -> AppResult<SsoView> {
        require(member, Action::ManageOrganization)?;
        view(store::get(&self.db, &member.org_id).await?)
    }

    /// Changes the SSO settings by a JSON merge patch, if still at `if_match`; owners only.
    pub async fn update_sso_settings(&self, member: &Member, patch: &Value, if_match: i64) -> AppResult<SsoView> {
        require(member, Action::ManageOrganization)?;
        if member.role != Role::Owner {
            return Err(Denied::Role { role: member.role, action: "change the single sign-on settings", allowed: "owner".into() }.into());
        }
        let mut tx = self.db.begin_write().await?;
        let stored = store::get_in(&mut tx, &member.org_id).await?;
        let current = view(stored.clone())?;
        if if_match != ANY_VERSION && if_match != current.version {
            return Err(AppError::Stale { expected: if_match, current: current.version });
        }
        let (next, secret) = current.settings.patched(patch)?;
        let sealed = match &secret {
            SecretChange::Keep => stored.as_ref().and_then(|s| s.client_secret.clone()),
            SecretChange::Clear => None,
            SecretChange::Set(plain) => Some(seal(&member.org_id, plain)?),
        };
        if next.enabled && sealed.is_none() {
            return Err(
                ValidationErrors::single("client_secret", "required", "SSO needs the client secret registered with the provider").into()
            );
        }
        let break_glass_user_id = match &next.break_glass_owner {
            Some(email) => Some(self.active_owner_id(&mut tx, &member.org_id, email).await?),
            None => None,
        };
        let document = serde_json::to_string(&next).map_err(|e| AppError::Internal(e.to_string()))?;
        let row =
            SsoRow { document, client_secret: sealed, required: next.required, break_glass_user_id, version: 0, updated_at: String::new() };
        let now = clock::now_text();
        let expected = stored.as_ref().map(|s| s.version);
        if !store::put(&mut tx, &member.org_id, &row, expected, &now).await? {
            return Err(AppError::Conflict("the SSO settings changed meanwhile; reload and try again".into()));
        }
        let event = NewEvent {
            action: "update",
            record_type: "sso_settings",
            record_id: &member.org_id,
            changes: changes(&current.settings, &next, &secret),
        };
        activity::append(&mut tx, &member.org_id, &actor(member), event).await?;
        let updated = view(store::get_in(&mut tx, &member.org_id).await?)?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The user id of an active owner of the organisation with this e-mail; a 422 otherwise.
    async fn active_owner_id(&self, tx: &mut aims_store::WriteTx, org_id: &str, email: &str) -> AppResult<String> {
        let not_owner = || {
            ValidationErrors::single("break_glass_owner", "invalid_value", format!("{email} is not an active owner of this organisation"))
        };
        let user = users::by_email_in(tx, email).await?.ok_or_else(not_owner)?;
        match members::get_in(tx, org_id, &user.id).await? {
            Some(m) if m.active && m.role == Role::Owner => Ok(user.id),
            _ => Err(not_owner().into()),
        }
    }

    /// Refuses a password sign-in (or reset) of someone an organisation requires SSO of.
    pub(crate) async fn refuse_password_where_sso_required(&self, user_id: &str) -> AppResult<()> {
        let orgs = store::requiring_sso(&self.db, user_id).await?;
        if orgs.is_empty() {
            return Ok(());
        }
        Err(refused(format!(
            "{} requires single sign-on: use \u{201c}Sign in with SSO\u{201d} with your organisation's identity provider",
            orgs.join(", ")
        )))
    }

    /// The organisation a person signs in to with SSO: by its slug, or by the domain of their
    /// e-mail address among the organisations that enabled SSO for it.
    pub async fn sso_org_for(&self, input: &str) -> AppResult<Option<String>> {
        let input = input.trim().to_ascii_lowercase();
        if let Some(domain) = aims_domain::sso::email_domain(&input) {
            for (slug, document) in store::all_documents(&self.db).await? {
                let settings: SsoSettings = serde_json::from_str(&document).unwrap_or_default();
                if settings.enabled && settings.allowed_domains.contains(&domain) {
                    return Ok(Some(slug));
                }
            }
            return Ok(None);
        }
        let Some(org) = orgs::by_slug(&self.db, &input).await? else {
            return Ok(None);
        };
        let enabled = view(store::get(&self.db, &org.id).await?)?.settings.enabled;
        Ok(enabled.then_some(org.slug))
    }

    /// The organisation, its enabled settings and its opened client secret.
    async fn sso_config(&self, org_slug: &str) -> AppResult<(Organization, SsoSettings, String)> {
        let not_offered = || refused(format!("single sign-on is not set up for \u{201c}{org_slug}\u{201d}"));
        let org = orgs::by_slug(&self.db, org_slug).await?.ok_or_else(not_offered)?;
        let row = store::get(&self.db, &org.id).await?.ok_or_else(not_offered)?;
        let sealed = row.client_secret.clone();
        let settings = view(Some(row))?.settings;
        if !settings.enabled {
            return Err(not_offered());
        }
        let secret = sealed
            .and_then(|s| process_key().and_then(|key| key.open(&org.id, &s)))
            .ok_or_else(|| AppError::Internal(format!("the SSO client secret of {org_slug} does not open with this server's key")))?;
        Ok((org, settings, secret))
    }

    /// Discovers the provider and builds the client for this organisation.
    async fn oidc_client(&self, settings: &SsoSettings, secret: String, redirect_uri: &str) -> AppResult<Client> {
        let issuer = IssuerUrl::new(settings.issuer_url.clone().unwrap_or_default())
            .map_err(|e| refused(format!("the issuer URL is not valid: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &oidc_http::call)
            .await
            .map_err(|e| refused(format!("the identity provider could not be reached or described itself wrongly: {}", error_chain(&e))))?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| AppError::Internal(format!("redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone().unwrap_or_default()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts an SSO sign-in: the provider's authorization URL to send the browser to, and what
    /// the callback will check (kept in the browser's session, never in the URL).
    pub async fn start_sso(&self, org_slug: &str, redirect_uri: &str) -> AppResult<(String, PendingSso)> {
        let (org, settings, secret) = self.sso_config(org_slug).await?;
        let client = self.oidc_client(&settings, secret, redirect_uri).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge);
        if let Some(claim) = &settings.role_claim {
            // Providers that scope claims by name release the role claim when asked for it.
            request = request.add_scope(Scope::new(claim.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingSso {
            org: org.slug,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        };
        Ok((url.to_string(), pending))
    }

    /// Finishes an SSO sign-in at the callback: checks `state`, exchanges the code (with the
    /// PKCE verifier), validates the ID token (signature, issuer, audience, expiry, nonce),
    /// requires a verified e-mail in an allowed domain, then links or creates the person and
    /// the membership. Every refusal is an [`AppError::SignInRefused`] saying why.
    pub async fn finish_sso(
        &self,
        org_slug: &str,
        pending: Option<PendingSso>,
        state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> AppResult<SsoSignIn> {
        let pending = pending
            .filter(|p| p.org == org_slug)
            .ok_or_else(|| refused("this sign-in was not started in this browser, or it was already used: start again"))?;
        if !same_secret(&pending.state, state) {
            return Err(refused("the identity provider's answer does not belong to this sign-in (state does not match): start again"));
        }
        let (org, settings, secret) = self.sso_config(org_slug).await?;
        let client = self.oidc_client(&settings, secret, redirect_uri).await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| refused(format!("the identity provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&oidc_http::call)
            .await
            .map_err(|e| {
                refused(format!("the identity provider refused the sign-in code (it may have expired or been used): {}", error_chain(&e)))
            })?;
        let id_token = token.id_token().ok_or_else(|| refused("the identity provider sent no ID token"))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce))
            .map_err(|e| refused(format!("the ID token is not valid for this sign-in: {e}")))?;
        let email = claims.email().map(|e| e.as_str().to_owned()).ok_or_else(|| refused("the identity provider sent no e-mail address"))?;
        if claims.email_verified() != Some(true) {
            return Err(refused(format!("the identity provider has not verified {email}")));
        }
        let email = Email::parse("email", &email).map_err(|_| refused(format!("{email} is not an e-mail address")))?;
        if !settings.allows_email(email.as_str()) {
            return Err(refused(format!("{email} is not in a domain allowed to sign in to {}", org.name)));
        }
        let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
        let claim = settings.role_claim.as_deref().and_then(|c| raw_claim(&id_token.to_string(), c));
        let identity =
            Identity { subject: claims.subject().as_str().to_owned(), email, name, role: settings.role_for_claim(claim.as_ref()) };
        let user = self.sign_in_identity(&org, &settings, &identity).await?;
        Ok(SsoSignIn { user, org_slug: org.slug })
    }

    /// Links or creates the person and the membership, in one transaction with their events.
    async fn sign_in_identity(&self, org: &Organization, settings: &SsoSettings, identity: &Identity) -> AppResult<User> {
        let mut tx = self.db.begin_write().await?;
        let now = clock::now_text();
        let email = identity.email.as_str();
        let system = Actor::System("sso");
        let (user_id, linked_now) = match store::linked_user(&mut tx, &org.id, &identity.subject).await? {
            Some(user_id) => (user_id, false),
            None => {
                let user_id = match users::by_email_in(&mut tx, email).await? {
                    Some(user) if store::subject_of(&mut tx, &org.id, &user.id).await?.is_some() => {
                        return Err(refused(format!("{email} is already linked to another identity of the provider in {}", org.name)));
                    }
                    Some(user) => user.id,
                    None if !settings.jit_enabled => {
                        return Err(refused(format!("{email} is not a member of {}: ask an admin to invite you", org.name)));
                    }
                    None => {
                        let id = uuid::Uuid::now_v7().to_string();
                        let name = identity.name.clone().unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
                        let name = aims_domain::identity::parse_name("display_name", &name).unwrap_or_else(|_| email.to_owned());
                        store::insert_user(&mut tx, &id, email, &name, &now).await?;
                        let changes = json!({"email": email, "display_name": name, "via": "sso"});
                        activity::append(
                            &mut tx,
                            &org.id,
                            &system,
                            NewEvent { action: "create", record_type: "user", record_id: &id, changes },
                        )
                        .await?;
                        id
                    }
                };
                store::link(&mut tx, &org.id, &identity.subject, &user_id, &now).await?;
                (user_id, true)
            }
        };
        let user = users::by_id_in(&mut tx, &user_id).await?.ok_or_else(|| refused("the linked person no longer exists"))?;
        if !user.active {
            return Err(refused(format!("{email}'s account is deactivated")));
        }
        let who = Actor::User { id: user.id.clone(), email: user.email.clone() };
        match members::get_in(&mut tx, &org.id, &user_id).await? {
            Some(m) if !m.active => return Err(refused(format!("{email} is a deactivated member of {}", org.name))),
            Some(_) => {}
            None if !settings.jit_enabled => {
                return Err(refused(format!("{email} is not a member of {}: ask an admin to invite you", org.name)));
            }
            None => {
                orgs::upsert_membership(&mut tx, &org.id, &user_id, identity.role, &now).await?;
                let changes = json!({"email": email, "role": identity.role.as_str(), "via": "sso_just_in_time"});
                activity::append(
                    &mut tx,
                    &org.id,
                    &who,
                    NewEvent { action: "create", record_type: "membership", record_id: &user_id, changes },
                )
                .await?;
            }
        }
        let changes = json!({"email": email, "identity_linked": linked_now});
        activity::append(&mut tx, &org.id, &who, NewEvent { action: "sso_sign_in", record_type: "user", record_id: &user_id, changes })
            .await?;
        tx.commit().await?;
        users::record_sign_in(&self.db, &user_id, &now).await?;
        Ok(user)
    }
}

/// Who the provider says signed in.
struct Identity {
    subject: String,
    email: Email,
    name: Option<String>,
    role: Role,
}

fn seal(org_id: &str, plain: &str) -> AppResult<String> {
    let Some(key) = process_key() else {
        return Err(ValidationErrors::single(
            "client_secret",
            "no_secret_key",
            format!("the server has no key to keep secrets with: set {} or {}", secretbox::KEY_ENV, secretbox::KEY_FILE_ENV),
        )
        .into());
    };
    // The organisation id is the associated data: a sealed secret copied to another
    // organisation's row does not open.
    key.seal(org_id, plain)
}

/// Compares two secrets in time that depends only on their lengths.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One claim of an ID token whose signature was already verified: openidconnect's core claims
/// type keeps only the standard claims, so a custom one (the role claim) is read from the
/// token's payload.
fn raw_claim(jwt: &str, claim: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get(claim).cloned()
}

/// An error with its causes, for a refusal page that says what went wrong.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
