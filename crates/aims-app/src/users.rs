//! People: users, their memberships, sign-in, deactivation and password resets.

use aims_domain::identity::{Email, NewPassword, Role, parse_name};
use aims_domain::{ValidationErrors, clock, signin};
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Actor, Member, User};
use aims_store::onetime::{self, Purpose};
use aims_store::{WriteTx, orgs, throttle, users};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::secrets::{self, hash_password, verify_password};
use crate::{App, AppError, AppResult};

const RESET_LINK_LIFETIME: Duration = Duration::hours(24);

/// What `create_member` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOutcome {
    CreatedUser,
    AddedMembership,
    ChangedRole { from: Role },
    Unchanged,
}

impl App {
    /// Creates a user with a membership, or adds/changes the membership of an existing user
    /// (whose password then stays as it is).
    pub async fn create_member(
        &self,
        email: &str,
        org_slug: &str,
        role: &str,
        password: &str,
        display_name: Option<&str>,
        actor: &Actor,
    ) -> AppResult<MemberOutcome> {
        let mut errors = ValidationErrors::default();
        let email = Email::parse("email", email).map_err(|e| errors.0.extend(e.0)).ok();
        let role = Role::parse("role", role).map_err(|e| errors.0.extend(e.0)).ok();
        let (Some(email), Some(role)) = (email, role) else {
            return Err(AppError::Validation(errors));
        };
        let org = self.org_by_slug(org_slug).await?;
        let existing = users::by_email(&self.db, email.as_str()).await?;
        let new_user = match existing {
            Some(_) => None,
            None => {
                let password = NewPassword::parse("password", password)?;
                let name = match display_name {
                    Some(name) => parse_name("display_name", name)?,
                    None => default_display_name(&email),
                };
                Some((name, hash_password(password.expose().to_owned()).await?))
            }
        };
        let mut tx = self.db.begin_write().await?;
        let outcome = self.create_member_in(&mut tx, &org.id, &email, role, new_user, actor).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub(crate) async fn create_member_in(
        &self,
        tx: &mut WriteTx,
        org_id: &str,
        email: &Email,
        role: Role,
        new_user: Option<(String, String)>,
        actor: &Actor,
    ) -> AppResult<MemberOutcome> {
        let now = clock::now_text();
        let (user_id, created) = match users::by_email_in(tx, email.as_str()).await? {
            Some(user) => (user.id, false),
            None => {
                let (name, hash) = new_user.ok_or_else(|| AppError::Conflict("the user was created concurrently".into()))?;
                let id = uuid::Uuid::now_v7().to_string();
                users::insert(tx, &id, email.as_str(), &name, &hash, &now).await?;
                let changes = json!({"email": email.as_str(), "display_name": name});
                activity::append(tx, org_id, actor, NewEvent { action: "create", record_type: "user", record_id: &id, changes }).await?;
                (id, true)
            }
        };
        let previous = orgs::upsert_membership(tx, org_id, &user_id, role, &now).await?;
        let (action, outcome) = match previous {
            None if created => ("create", MemberOutcome::CreatedUser),
            None => ("create", MemberOutcome::AddedMembership),
            Some(from) if from == role => return Ok(MemberOutcome::Unchanged),
            Some(from) => ("update", MemberOutcome::ChangedRole { from }),
        };
        let changes = match previous {
            Some(from) => {
                json!({"email": email.as_str(), "role": {"from": from.as_str(), "to": role.as_str()}})
            }
            None => json!({"email": email.as_str(), "role": role.as_str()}),
        };
        activity::append(tx, org_id, actor, NewEvent { action, record_type: "membership", record_id: &user_id, changes }).await?;
        Ok(outcome)
    }

    /// Signs in with e-mail and password from `source` (the client's address). Failed attempts
    /// are counted per account and source together; after a few, each further attempt from that
    /// pair waits longer (`aims_domain::signin`), while the account's owner, signing in from
    /// elsewhere, is never held up by them.
    pub async fn login(&self, email: &str, password: &str, source: &str) -> AppResult<User> {
        self.login_at(email, password, source, clock::now()).await
    }

    /// [`App::login`] at a given time (tests step the clock instead of sleeping).
    pub async fn login_at(&self, email: &str, password: &str, source: &str, now: OffsetDateTime) -> AppResult<User> {
        let email = Email::parse("email", email).map_err(|_| AppError::Unauthorized)?;
        let failures = throttle::failures(&self.db, email.as_str(), source)
            .await?
            .and_then(|(count, last)| Some(signin::Failures { count, last_at: clock::parse_stored(&last)? }));
        if let Some(until) = signin::wait_until(failures, now) {
            tracing::warn!(email = %email, source, failures = failures.map_or(0, |f| f.count), "sign-in throttled");
            return Err(AppError::RateLimited(clock::format(until)));
        }
        let found = users::password_hash(&self.db, email.as_str()).await?;
        let stored = found.as_ref().and_then(|(_, hash)| hash.clone()).unwrap_or_else(|| secrets::DUMMY_HASH.to_owned());
        let valid = verify_password(password.to_owned(), stored).await;
        match found {
            Some((user, Some(_))) if valid => {
                // With a second step to come, earlier failures stay counted until it passes:
                // otherwise re-entering the password would reset the count of wrong codes.
                if failures.is_some() && !self.needs_second_step(&user.id).await? {
                    throttle::clear(&self.db, email.as_str(), source).await?;
                }
                // Only once the password is right: the refusal names the organisation.
                self.refuse_password_where_sso_required(&user.id).await?;
                users::record_sign_in(&self.db, &user.id, &clock::format(now)).await?;
                Ok(user)
            }
            _ => {
                let failed = signin::after_failure(failures, now);
                throttle::record(&self.db, email.as_str(), source, failed.count, &clock::format(failed.last_at)).await?;
                tracing::info!(email = %email, source, failures = failed.count, "sign-in failed");
                Err(AppError::Unauthorized)
            }
        }
    }

    /// Deactivates a user: their sessions and API tokens stop working at once.
    pub async fn deactivate_user(&self, email: &str, actor: &Actor) -> AppResult<u64> {
        let email = Email::parse("email", email)?;
        let user = users::by_email(&self.db, email.as_str()).await?.ok_or_else(|| AppError::NotFound(format!("user {email}")))?;
        let mut tx = self.db.begin_write().await?;
        let now = clock::now_text();
        let revoked = users::deactivate(&mut tx, &user.id, &now).await?;
        for org_id in users::org_ids(&mut tx, &user.id).await? {
            let changes = json!({"active": {"from": user.active, "to": false}, "tokens_revoked": revoked, "sessions_ended": true});
            activity::append(&mut tx, &org_id, actor, NewEvent { action: "deactivate", record_type: "user", record_id: &user.id, changes })
                .await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Issues a single-use password reset link for a user; returns the secret part of the path.
    pub async fn issue_password_reset(&self, email: &str, actor: &Actor) -> AppResult<String> {
        let email = Email::parse("email", email)?;
        let user = users::by_email(&self.db, email.as_str()).await?.ok_or_else(|| AppError::NotFound(format!("user {email}")))?;
        let secret = secrets::random_token("reset_")?;
        let now = clock::now();
        onetime::insert(
            &self.db,
            &secrets::token_hash(&secret),
            Purpose::PasswordReset,
            Some(&user.id),
            &clock::format(now),
            &clock::format(now + RESET_LINK_LIFETIME),
        )
        .await?;
        let mut tx = self.db.begin_write().await?;
        for org_id in users::org_ids(&mut tx, &user.id).await? {
            let changes = json!({"password_reset_link": "issued", "expires_in_hours": RESET_LINK_LIFETIME.whole_hours()});
            activity::append(
                &mut tx,
                &org_id,
                actor,
                NewEvent { action: "request_password_reset", record_type: "user", record_id: &user.id, changes },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(secret)
    }

    /// Is a reset link still usable?
    pub async fn password_reset_valid(&self, secret: &str) -> AppResult<bool> {
        Ok(onetime::peek(&self.db, &secrets::token_hash(secret), Purpose::PasswordReset, &clock::now_text()).await?.is_some())
    }

    /// Uses a reset link to set a new password; ends the user's existing sessions.
    pub async fn complete_password_reset(&self, secret: &str, password: &str) -> AppResult<User> {
        let password = NewPassword::parse("password", password)?;
        let hash = hash_password(password.expose().to_owned()).await?;
        let mut tx = self.db.begin_write().await?;
        let now = clock::now_text();
        let user_id = onetime::consume(&mut tx, &secrets::token_hash(secret), Purpose::PasswordReset, &now)
            .await?
            .flatten()
            .ok_or_else(|| AppError::NotFound("reset link (it may have been used or expired)".into()))?;
        // Dropping the transaction keeps the link unused: it works once SSO is no longer required.
        self.refuse_password_where_sso_required(&user_id).await?;
        users::set_password(&mut tx, &user_id, &hash, &now).await?;
        users::end_sessions(&mut tx, &user_id).await?;
        let user = users::by_id(&self.db, &user_id).await?.ok_or_else(|| AppError::NotFound("user".into()))?;
        let actor = Actor::User { id: user.id.clone(), email: user.email.clone() };
        for org_id in users::org_ids(&mut tx, &user_id).await? {
            let changes = json!({"password": "changed", "sessions_ended": true});
            activity::append(
                &mut tx,
                &org_id,
                &actor,
                NewEvent { action: "reset_password", record_type: "user", record_id: &user_id, changes },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// The membership a signed-in user holds in an organisation.
    pub async fn member(&self, org_slug: &str, user_id: &str) -> AppResult<Member> {
        orgs::member(&self.db, org_slug, user_id).await?.ok_or_else(|| AppError::NotFound(format!("organisation {org_slug}")))
    }

    pub async fn memberships(&self, user_id: &str) -> AppResult<Vec<Member>> {
        Ok(orgs::memberships_of(&self.db, user_id).await?)
    }

    pub async fn members(&self, member: &Member) -> AppResult<Vec<Member>> {
        crate::access::require(member, aims_domain::policy::Action::Read)?;
        Ok(orgs::members(&self.db, &member.org_id).await?)
    }
}

/// "jane.doe@x.example" → "Jane Doe".
fn default_display_name(email: &Email) -> String {
    let local = email.as_str().split('@').next().unwrap_or_default();
    local
        .split(['.', '_', '-', '+'])
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use aims_domain::signin;
    use time::macros::datetime;

    use super::*;

    const OWNER: &str = "owner@acme.example";
    const RIGHT: &str = "correct horse battery staple";

    async fn app_with_owner() -> App {
        let path = std::env::temp_dir().join(format!("aims-signin-{}.db", uuid::Uuid::new_v4().simple()));
        let (app, _) = App::open(&format!("sqlite:{}", path.display())).await.expect("open");
        let system = Actor::System("test");
        app.create_org("acme", "Acme", &system).await.expect("org");
        app.create_member(OWNER, "acme", "owner", RIGHT, None, &system).await.expect("owner");
        app
    }

    #[tokio::test]
    async fn strangers_failing_elsewhere_never_hold_up_the_owner() {
        let app = app_with_owner().await;
        let now = datetime!(2026-03-01 09:00 UTC);
        for attempt in 0..12 {
            let at = now + Duration::seconds(attempt * 1000);
            let refused = app.login_at(OWNER, "guess", "203.0.113.9", at).await;
            assert!(matches!(refused, Err(AppError::Unauthorized | AppError::RateLimited(_))), "{refused:?}");
        }
        let stranger = app.login_at(OWNER, RIGHT, "203.0.113.9", now + Duration::seconds(11_000)).await;
        assert!(matches!(stranger, Err(AppError::RateLimited(_))), "the guessing source waits even with the right password");
        let owner = app.login_at(OWNER, RIGHT, "198.51.100.7", now + Duration::seconds(11_000)).await.expect("owner signs in");
        assert_eq!(owner.email, OWNER);
    }

    #[tokio::test]
    async fn failures_from_one_source_wait_longer_each_time() {
        let app = app_with_owner().await;
        let source = "192.0.2.1";
        let mut now = datetime!(2026-03-01 09:00 UTC);
        for _ in 0..signin::FREE_FAILURES {
            assert!(matches!(app.login_at(OWNER, "guess", source, now).await, Err(AppError::Unauthorized)));
        }
        for delay in [1, 2, 4, 8] {
            let Err(AppError::RateLimited(until)) = app.login_at(OWNER, RIGHT, source, now).await else { panic!("must wait") };
            assert_eq!(until, clock::format(now + Duration::seconds(delay)));
            now += Duration::seconds(delay);
            assert!(matches!(app.login_at(OWNER, "guess", source, now).await, Err(AppError::Unauthorized)), "tried once the delay is over");
        }
        now += Duration::seconds(16);
        app.login_at(OWNER, RIGHT, source, now).await.expect("the right password after the wait");
        app.login_at(OWNER, "guess", source, now).await.expect_err("wrong");
        assert!(matches!(app.login_at(OWNER, "guess", source, now).await, Err(AppError::Unauthorized)), "a success starts the count again");
    }
}
