//! The one place services consult the authorisation policy.

use aims_domain::policy::{self, Action, Involvement};
use aims_store::model::{Actor, Member};

use crate::AppResult;

/// Refuses unless the member's role allows `action` (403 naming the rule).
pub fn require(member: &Member, action: Action) -> AppResult<()> {
    policy::authorize(member.role, action)?;
    Ok(())
}

/// Refuses when the member is the requester, author or owner of what they approve or audit.
pub fn require_separation(member: &Member, involved: &[(Involvement, Option<&str>)]) -> AppResult<()> {
    policy::separation_of_duties(member.user_id.as_str(), involved)?;
    Ok(())
}

/// The actor a member's changes are attributed to.
pub fn actor(member: &Member) -> Actor {
    Actor::User { id: member.user_id.clone(), email: member.email.clone() }
}
