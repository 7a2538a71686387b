//! API tokens: 256 random bits shown once, stored as SHA-256, acting for one membership with
//! its current role, revocable with effect on the next request.

use aims_domain::identity::Email;
use aims_domain::policy::Action;
use aims_domain::{ValidationErrors, clock};
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Actor, ApiToken, Member};
use aims_store::tokens::{self, NewToken, TokenAuth};
use aims_store::{orgs, users};
use serde_json::json;
use time::Duration;

use crate::access::require;
use crate::secrets::{random_token, token_hash};
use crate::{App, AppError, AppResult};

pub const TOKEN_PREFIX: &str = "aims_";
/// A token's last use is written at most this often, so reads do not turn into writes.
const LAST_USED_GRANULARITY: Duration = Duration::minutes(1);

/// Whether two stored timestamps fall in the same minute (they share `YYYY-MM-DDTHH:MM`); two
/// such times are less than [`LAST_USED_GRANULARITY`] apart.
fn same_minute(a: &str, b: &str) -> bool {
    const MINUTE_PREFIX: usize = "YYYY-MM-DDTHH:MM".len();
    a.get(..MINUTE_PREFIX).is_some_and(|minute| b.get(..MINUTE_PREFIX) == Some(minute))
}

/// Cheap shape check before any hashing or query.
pub(crate) fn plausible_token(secret: &str) -> bool {
    secret.starts_with(TOKEN_PREFIX) && secret.len() <= 100
}

/// A token just created: its record and the secret, which is never shown again.
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

impl App {
    /// Creates a token for `member` (the caller's own membership through the API; any member
    /// through the CLI, which acts as the system).
    pub async fn create_token(
        &self,
        member: &Member,
        name: Option<&str>,
        expires_days: Option<i64>,
        actor: &Actor,
    ) -> AppResult<CreatedToken> {
        // A token outlives the session that made it: under the organisation's two-step rule,
        // only an enrolled member may mint one.
        self.require_mfa_if_enforced(member).await?;
        let mut errors = ValidationErrors::default();
        let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("API token").to_owned();
        if name.chars().count() > 100 {
            errors.push("name", "too_long", "at most 100 characters");
        }
        if let Some(days) = expires_days {
            if !(1..=3650).contains(&days) {
                errors.push("expires_days", "out_of_range", "between 1 and 3650 days");
            }
        }
        errors.into_result()?;
        let secret = random_token(TOKEN_PREFIX)?;
        let now = clock::now();
        let created_at = clock::format(now);
        let expires_at = expires_days.map(|d| clock::format(now + Duration::days(d)));
        let id = uuid::Uuid::now_v7().to_string();
        let hash = token_hash(&secret);
        let mut tx = self.db.begin_write().await?;
        tokens::insert(
            &mut tx,
            &NewToken {
                id: &id,
                org_id: &member.org_id,
                user_id: &member.user_id,
                name: &name,
                token_hash: &hash,
                created_at: &created_at,
                expires_at: expires_at.as_deref(),
            },
        )
        .await?;
        let changes = json!({"name": name, "user": member.email, "expires_at": expires_at});
        activity::append(&mut tx, &member.org_id, actor, NewEvent { action: "create", record_type: "api_token", record_id: &id, changes })
            .await?;
        tx.commit().await?;
        let token = ApiToken {
            id,
            org_id: member.org_id.clone(),
            user_id: member.user_id.clone(),
            name,
            created_at,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        Ok(CreatedToken { token, secret })
    }

    /// The membership of `email` in `org_slug`, for CLI commands that act on it.
    pub async fn member_by_email(&self, email: &str, org_slug: &str) -> AppResult<Member> {
        let email = Email::parse("email", email)?;
        let user = users::by_email(&self.db, email.as_str()).await?.ok_or_else(|| AppError::NotFound(format!("user {email}")))?;
        orgs::member(&self.db, org_slug, &user.id).await?.ok_or_else(|| AppError::NotFound(format!("membership of {email} in {org_slug}")))
    }

    /// Resolves a bearer token for a request to `org_slug`. Checked against the database on
    /// every request (the hot reads of `records` reuse a check only together with a read that
    /// proves it still holds), so a revocation takes effect on the very next one. A valid token of
    /// another organisation gets "not found", as if the organisation did not exist.
    pub async fn authenticate_token(&self, secret: &str, org_slug: &str) -> AppResult<Member> {
        if !plausible_token(secret) {
            return Err(AppError::Unauthorized);
        }
        let now = clock::now();
        let now_text = clock::format(now);
        let auth: Option<TokenAuth> = tokens::authenticate(&self.db, &token_hash(secret), &now_text).await?;
        let auth = auth.ok_or(AppError::Unauthorized)?;
        if auth.member.org_slug != org_slug {
            return Err(AppError::NotFound(format!("organisation {org_slug}")));
        }
        self.note_token_use(&auth, now, &now_text);
        Ok(auth.member)
    }

    /// Records that a token was used, at most once a minute, off the request path (a busy
    /// writer must not delay reads). `now_text` is `now` in its stored form.
    pub(crate) fn note_token_use(&self, auth: &TokenAuth, now: time::OffsetDateTime, now_text: &str) {
        // A use recorded in the same minute of the clock is surely recent enough; seeing that
        // from the texts spares formatting a second timestamp on nearly every request.
        if auth.last_used_at.as_deref().is_some_and(|used| same_minute(used, now_text)) {
            return;
        }
        let stale_before = clock::format(now - LAST_USED_GRANULARITY);
        if auth.last_used_at.as_deref().is_some_and(|used| used >= stale_before.as_str()) {
            return;
        }
        self.token_checks.note_use(&auth.token_id, now_text);
        let db = self.db.clone();
        let (token_id, now) = (auth.token_id.clone(), now_text.to_owned());
        tokio::spawn(async move {
            if let Err(e) = tokens::touch(&db, &token_id, &now, &stale_before).await {
                tracing::warn!(error = %e, "could not record token use");
            }
        });
    }

    /// Tokens the member may see: their own, or (admins and owners) everyone's.
    pub async fn list_tokens(&self, member: &Member, all: bool) -> AppResult<Vec<ApiToken>> {
        require(member, Action::ManageOwnTokens)?;
        if all {
            require(member, Action::ManageOrganization)?;
        }
        Ok(tokens::list(&self.db, &member.org_id, (!all).then_some(member.user_id.as_str())).await?)
    }

    pub async fn list_tokens_of(&self, member: &Member) -> AppResult<Vec<ApiToken>> {
        Ok(tokens::list(&self.db, &member.org_id, Some(&member.user_id)).await?)
    }

    /// Revokes a token of the member's organisation: one's own, or any (admins and owners).
    pub async fn revoke_token(&self, member: &Member, token_id: &str) -> AppResult<ApiToken> {
        require(member, Action::ManageOwnTokens)?;
        let token =
            tokens::get_in_org(&self.db, &member.org_id, token_id).await?.ok_or_else(|| AppError::NotFound(format!("token {token_id}")))?;
        if token.user_id != member.user_id {
            require(member, Action::ManageOrganization)?;
        }
        self.revoke_token_by_id(&token.id, &crate::access::actor(member)).await
    }

    /// Revokes a token by id (the CLI's `aims token revoke`).
    pub async fn revoke_token_by_id(&self, token_id: &str, actor: &Actor) -> AppResult<ApiToken> {
        let mut tx = self.db.begin_write().await?;
        let token = tokens::get(&mut tx, token_id).await?.ok_or_else(|| AppError::NotFound(format!("token {token_id}")))?;
        let now = clock::now_text();
        if !tokens::revoke(&mut tx, token_id, &now).await? {
            return Err(AppError::Conflict(format!("token {token_id} is already revoked")));
        }
        let changes = json!({"revoked_at": {"from": null, "to": now}});
        activity::append(
            &mut tx,
            &token.org_id,
            actor,
            NewEvent { action: "revoke", record_type: "api_token", record_id: token_id, changes },
        )
        .await?;
        tx.commit().await?;
        Ok(ApiToken { revoked_at: Some(now), ..token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_minute_compares_the_minute_of_stored_timestamps() {
        let at = time::macros::datetime!(2026-12-03 11:40:59.999999 UTC);
        let text = clock::format(at);
        assert!(same_minute(&clock::format(at - Duration::seconds(59)), &text));
        assert!(!same_minute(&clock::format(at - Duration::seconds(60)), &text));
        // One microsecond apart, either side of a minute: not the same minute, though recent.
        assert!(!same_minute(&clock::format(at + Duration::microseconds(1)), &text));
        assert!(!same_minute("", &text));
    }
}
