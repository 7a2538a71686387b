//! Members managed by the organisation: the members list (role, whether active here, last
//! sign-in), role changes and deactivation under one rule (`policy::may_change_membership`),
//! invitations by single-use link, and a person's own display name and password. Every change
//! is one activity event in each organisation concerned; no event holds a link or a password.

use aims_domain::identity::{Email, NewPassword, Role, parse_name};
use aims_domain::policy::{self, Action};
use aims_domain::{ValidationErrors, clock};
use aims_store::activity::{self, NewEvent};
use aims_store::members::{self, Invitation, Membership, NewInvitation};
use aims_store::model::{Actor, Member, User};
use aims_store::{orgs, users};
use base64::Engine;
use serde_json::json;
use time::Duration;

use crate::access::{actor, require};
use crate::records::ANY_VERSION;
use crate::secrets::{self, hash_password, verify_password};
use crate::{App, AppError, AppResult};

/// How long an invitation link stays usable.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// One page of a listing, with the cursor of the next page.
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What a membership change asks for; `None` leaves it as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemberChange {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// What an invitation link offers, shown before it is accepted.
pub struct InvitationPreview {
    pub org_slug: String,
    pub org_name: String,
    pub email: String,
    pub role: Role,
    /// The address already has an account: accepting asks for its password, not a new one.
    pub existing_user: bool,
}

const MEMBER_CURSOR: &str = "m1.";
const INVITATION_CURSOR: &str = "i1.";

fn encode_cursor(prefix: &str, key: &str) -> String {
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key))
}

fn decode_cursor(prefix: &str, cursor: &str) -> AppResult<String> {
    cursor
        .strip_prefix(prefix)
        .and_then(|rest| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(rest).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| AppError::Validation(ValidationErrors::single("cursor", "invalid", "not a cursor of this list")))
}

/// Cuts a page read with one extra row, naming the next page by its last row's key.
fn paged<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String, prefix: &str) -> Paged<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next_cursor = if more { rows.last().map(|last| encode_cursor(prefix, &key(last))) } else { None };
    Paged { items: rows, next_cursor }
}

impl App {
    /// The organisation's members in e-mail order, a page at a time.
    pub async fn list_members(&self, member: &Member, cursor: Option<&str>, limit: i64) -> AppResult<Paged<Membership>> {
        require(member, Action::Read)?;
        let after = cursor.map(|c| decode_cursor(MEMBER_CURSOR, c)).transpose()?;
        let rows = members::page(&self.db, &member.org_id, after.as_deref(), limit).await?;
        Ok(paged(rows, limit, |m| m.email.clone(), MEMBER_CURSOR))
    }

    pub async fn get_member(&self, member: &Member, user_id: &str) -> AppResult<Membership> {
        require(member, Action::Read)?;
        members::get(&self.db, &member.org_id, user_id).await?.ok_or_else(|| AppError::NotFound(format!("member {user_id}")))
    }

    /// Changes a member's role or whether they are active here, if still at `if_match`
    /// (`ANY_VERSION`: whatever it is). Deactivation takes effect on the member's next request
    /// (tokens and sessions are checked against the membership); the organisation always keeps
    /// an active owner.
    pub async fn change_member(&self, member: &Member, user_id: &str, change: MemberChange, if_match: i64) -> AppResult<Membership> {
        require(member, Action::ManageOrganization)?;
        let mut tx = self.db.begin_write().await?;
        let current =
            members::get_in(&mut tx, &member.org_id, user_id).await?.ok_or_else(|| AppError::NotFound(format!("member {user_id}")))?;
        let role = change.role.unwrap_or(current.role);
        let active = change.active.unwrap_or(current.active);
        policy::may_change_membership(member.role, member.user_id == user_id, Some(current.role), role)?;
        if if_match != ANY_VERSION && if_match != current.version {
            return Err(AppError::Stale { expected: if_match, current: current.version });
        }
        if role == current.role && active == current.active {
            return Ok(current);
        }
        let loses_owner = current.role == Role::Owner && current.active && (role != Role::Owner || !active);
        if loses_owner && members::active_owners(&mut tx, &member.org_id).await? <= 1 {
            return Err(AppError::Conflict("the organisation must keep an active owner: make someone else owner first".into()));
        }
        let now = clock::now_text();
        if !members::update(&mut tx, &member.org_id, user_id, role, active, current.version, &now).await? {
            return Err(AppError::Conflict("the membership changed meanwhile; reload and try again".into()));
        }
        let mut changes = serde_json::Map::new();
        changes.insert("email".into(), json!(current.email));
        if role != current.role {
            changes.insert("role".into(), json!({"from": current.role.as_str(), "to": role.as_str()}));
        }
        if active != current.active {
            changes.insert("active".into(), json!({"from": current.active, "to": active}));
        }
        let action = match (active != current.active, active) {
            (true, false) => "deactivate",
            (true, true) => "reactivate",
            _ => "update",
        };
        let event = NewEvent { action, record_type: "membership", record_id: user_id, changes: changes.into() };
        activity::append(&mut tx, &member.org_id, &actor(member), event).await?;
        let updated = members::get_in(&mut tx, &member.org_id, user_id).await?.ok_or_else(|| AppError::NotFound("member".into()))?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The organisation's invitations, newest first (admins and owners).
    pub async fn list_invitations(&self, member: &Member, cursor: Option<&str>, limit: i64) -> AppResult<Paged<Invitation>> {
        require(member, Action::ManageOrganization)?;
        let before = cursor.map(|c| decode_cursor(INVITATION_CURSOR, c)).transpose()?;
        let before = match before.as_deref().map(|key| key.split_once('|')) {
            Some(None) => return Err(AppError::Validation(ValidationErrors::single("cursor", "invalid", "not a cursor of this list"))),
            Some(Some(pair)) => Some(pair),
            None => None,
        };
        let rows = members::invitations_page(&self.db, &member.org_id, before, limit).await?;
        Ok(paged(rows, limit, |i| format!("{}|{}", i.created_at, i.id), INVITATION_CURSOR))
    }

    /// Invites an address with a role; returns the invitation and the secret of its link
    /// (`/invitations/{secret}`), which is stored only as its SHA-256.
    pub async fn invite(&self, member: &Member, email: &str, role: &str) -> AppResult<(Invitation, String)> {
        let mut errors = ValidationErrors::default();
        let email = Email::parse("email", email).map_err(|e| errors.0.extend(e.0)).ok();
        let role = Role::parse("role", role).map_err(|e| errors.0.extend(e.0)).ok();
        let (Some(email), Some(role)) = (email, role) else {
            require(member, Action::ManageOrganization)?;
            return Err(AppError::Validation(errors));
        };
        policy::may_change_membership(member.role, false, None, role)?;
        let mut tx = self.db.begin_write().await?;
        let existing = users::by_email_in(&mut tx, email.as_str()).await?;
        let membership = match existing {
            Some(user) => members::get_in(&mut tx, &member.org_id, &user.id).await?,
            None => None,
        };
        if let Some(membership) = membership {
            let what = if membership.active { "is already a member" } else { "is a deactivated member: reactivate them instead" };
            return Err(AppError::Conflict(format!("{email} {what}")));
        }
        let secret = secrets::random_token("invite_")?;
        let now = clock::now();
        let id = uuid::Uuid::now_v7().to_string();
        let (created_at, expires_at) = (clock::format(now), clock::format(now + INVITATION_LIFETIME));
        let new = NewInvitation {
            id: &id,
            org_id: &member.org_id,
            email: email.as_str(),
            role,
            token_hash: &secrets::token_hash(&secret),
            invited_by: Some(&member.user_id),
            now: &created_at,
            expires_at: &expires_at,
        };
        members::insert_invitation(&mut tx, new).await?;
        let changes = json!({"email": email.as_str(), "role": role.as_str(), "expires_at": expires_at});
        activity::append(
            &mut tx,
            &member.org_id,
            &actor(member),
            NewEvent { action: "invite", record_type: "invitation", record_id: &id, changes },
        )
        .await?;
        let invitation =
            members::invitation_in(&mut tx, &member.org_id, &id).await?.ok_or_else(|| AppError::NotFound("invitation".into()))?;
        tx.commit().await?;
        Ok((invitation, secret))
    }

    /// Revokes a pending invitation: its link stops working.
    pub async fn revoke_invitation(&self, member: &Member, id: &str) -> AppResult<Invitation> {
        require(member, Action::ManageOrganization)?;
        let mut tx = self.db.begin_write().await?;
        let invitation =
            members::invitation_in(&mut tx, &member.org_id, id).await?.ok_or_else(|| AppError::NotFound(format!("invitation {id}")))?;
        let now = clock::now_text();
        if !members::revoke_invitation(&mut tx, &member.org_id, id, &now).await? {
            return Err(AppError::Conflict(format!("the invitation is {} and can no longer be revoked", invitation.status(&now))));
        }
        let changes = json!({"email": invitation.email, "revoked": true});
        activity::append(
            &mut tx,
            &member.org_id,
            &actor(member),
            NewEvent { action: "revoke", record_type: "invitation", record_id: id, changes },
        )
        .await?;
        let revoked = members::invitation_in(&mut tx, &member.org_id, id).await?.ok_or_else(|| AppError::NotFound("invitation".into()))?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// What a pending invitation link offers; a used, revoked, expired or unknown link is 404.
    pub async fn invitation_preview(&self, secret: &str) -> AppResult<InvitationPreview> {
        let gone = || AppError::NotFound("invitation (it may have been used, revoked or expired)".into());
        let (org_id, invitation) = members::invitation_by_token(&self.db, &secrets::token_hash(secret)).await?.ok_or_else(gone)?;
        if invitation.status(&clock::now_text()) != "pending" {
            return Err(gone());
        }
        let org = orgs::by_id(&self.db, &org_id).await?.ok_or_else(gone)?;
        let existing_user = users::by_email(&self.db, &invitation.email).await?.is_some();
        Ok(InvitationPreview { org_slug: org.slug, org_name: org.name, email: invitation.email, role: invitation.role, existing_user })
    }

    /// Accepts an invitation: a new person chooses a display name and password; someone who
    /// already has an account confirms with their password. The link works once.
    pub async fn accept_invitation(&self, secret: &str, password: &str, display_name: Option<&str>) -> AppResult<(User, String)> {
        let preview = self.invitation_preview(secret).await?;
        let email = Email::parse("email", &preview.email)?;
        let new_user = if preview.existing_user {
            let stored = users::password_hash(&self.db, email.as_str()).await?.and_then(|(_, hash)| hash);
            let valid = verify_password(password.to_owned(), stored.unwrap_or_else(|| secrets::DUMMY_HASH.to_owned())).await;
            if !valid {
                return Err(AppError::Validation(ValidationErrors::single(
                    "password",
                    "wrong_password",
                    format!("this is not the password of {email}; sign in once to check it, or ask for a password reset"),
                )));
            }
            None
        } else {
            let mut errors = ValidationErrors::default();
            let name = parse_name("display_name", display_name.unwrap_or_default()).map_err(|e| errors.0.extend(e.0)).ok();
            let password = NewPassword::parse("password", password).map_err(|e| errors.0.extend(e.0)).ok();
            let (Some(name), Some(password)) = (name, password) else {
                return Err(AppError::Validation(errors));
            };
            Some((name, hash_password(password.expose().to_owned()).await?))
        };
        let mut tx = self.db.begin_write().await?;
        let provisional = Actor::System("invitation");
        let org = orgs::by_slug(&self.db, &preview.org_slug).await?.ok_or_else(|| AppError::NotFound("organisation".into()))?;
        self.create_member_in(&mut tx, &org.id, &email, preview.role, new_user, &provisional).await?;
        let user = users::by_email_in(&mut tx, email.as_str()).await?.ok_or_else(|| AppError::NotFound("user".into()))?;
        let now = clock::now_text();
        let (_, invitation) = members::accept_invitation(&mut tx, &secrets::token_hash(secret), &user.id, &now)
            .await?
            .ok_or_else(|| AppError::NotFound("invitation (it may have been used, revoked or expired)".into()))?;
        let changes = json!({"email": invitation.email, "role": invitation.role.as_str(), "accepted": true});
        let accepted_by = Actor::User { id: user.id.clone(), email: user.email.clone() };
        let event = NewEvent { action: "accept", record_type: "invitation", record_id: &invitation.id, changes };
        activity::append(&mut tx, &org.id, &accepted_by, event).await?;
        tx.commit().await?;
        // Accepting signs the person in.
        users::record_sign_in(&self.db, &user.id, &now).await?;
        Ok((user, org.slug))
    }

    /// Changes one's own display name (logged in each organisation one belongs to).
    pub async fn change_display_name(&self, user_id: &str, display_name: &str) -> AppResult<User> {
        let name = parse_name("display_name", display_name)?;
        let user = users::by_id(&self.db, user_id).await?.ok_or_else(|| AppError::NotFound("user".into()))?;
        if user.display_name == name {
            return Ok(user);
        }
        let mut tx = self.db.begin_write().await?;
        users::set_display_name(&mut tx, user_id, &name, &clock::now_text()).await?;
        let who = Actor::User { id: user.id.clone(), email: user.email.clone() };
        for org_id in users::org_ids(&mut tx, user_id).await? {
            let changes = json!({"display_name": {"from": user.display_name, "to": name}});
            activity::append(&mut tx, &org_id, &who, NewEvent { action: "update", record_type: "user", record_id: user_id, changes })
                .await?;
        }
        tx.commit().await?;
        users::by_id(&self.db, user_id).await?.ok_or_else(|| AppError::NotFound("user".into()))
    }

    /// Changes one's own password after checking the current one; every other session of the
    /// person ends (`keep_session`: the one making the change, which stays signed in).
    pub async fn change_own_password(&self, user_id: &str, current: &str, new: &str, keep_session: Option<&str>) -> AppResult<()> {
        let mut errors = ValidationErrors::default();
        let new = NewPassword::parse("new_password", new).map_err(|e| errors.0.extend(e.0)).ok();
        let user = users::by_id(&self.db, user_id).await?.ok_or_else(|| AppError::NotFound("user".into()))?;
        let stored = users::password_hash(&self.db, &user.email).await?.and_then(|(_, hash)| hash);
        if !verify_password(current.to_owned(), stored.unwrap_or_else(|| secrets::DUMMY_HASH.to_owned())).await {
            errors.push("current_password", "wrong_password", "this is not your current password");
        }
        let Some(new) = new.filter(|_| errors.0.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let hash = hash_password(new.expose().to_owned()).await?;
        let mut tx = self.db.begin_write().await?;
        let now = clock::now_text();
        users::set_password(&mut tx, user_id, &hash, &now).await?;
        users::end_other_sessions(&mut tx, user_id, keep_session).await?;
        let who = Actor::User { id: user.id.clone(), email: user.email.clone() };
        for org_id in users::org_ids(&mut tx, user_id).await? {
            let changes = json!({"password": "changed", "other_sessions_ended": true});
            let event = NewEvent { action: "change_password", record_type: "user", record_id: user_id, changes };
            activity::append(&mut tx, &org_id, &who, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
