//! Who may do what: the one authorisation policy of aims. Every request that reads or changes
//! an organisation's records asks [`authorize`] and, for approvals, [`separation_of_duties`].
//! Nothing else in the code base decides permissions.

use std::fmt;

use crate::identity::Role;

/// What a member is trying to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read any record of the organisation, including the activity log.
    Read,
    /// Create, change or archive ordinary records (AI systems, risks, evidence, …).
    Edit,
    /// Approve a lifecycle gate, the SoA or a policy, or sign off an impact assessment.
    Approve,
    /// Accept a residual risk within the organisation's acceptance threshold.
    AcceptRiskWithinThreshold,
    /// Accept a residual risk above the acceptance threshold.
    AcceptRiskAboveThreshold,
    /// Record that a corrective action was effective.
    VerifyEffectiveness,
    /// Plan and run audits, record findings.
    Audit,
    /// Manage the organisation itself: members, settings, every member's API tokens.
    ManageOrganization,
    /// Create, list and revoke one's own API tokens.
    ManageOwnTokens,
    /// Confirm having read a published policy revision.
    Acknowledge,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::Read,
        Action::Edit,
        Action::Approve,
        Action::AcceptRiskWithinThreshold,
        Action::AcceptRiskAboveThreshold,
        Action::VerifyEffectiveness,
        Action::Audit,
        Action::ManageOrganization,
        Action::ManageOwnTokens,
        Action::Acknowledge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Edit => "edit",
            Action::Approve => "approve",
            Action::AcceptRiskWithinThreshold => "accept_risk_within_threshold",
            Action::AcceptRiskAboveThreshold => "accept_risk_above_threshold",
            Action::VerifyEffectiveness => "verify_effectiveness",
            Action::Audit => "audit",
            Action::ManageOrganization => "manage_organization",
            Action::ManageOwnTokens => "manage_own_tokens",
            Action::Acknowledge => "acknowledge",
        }
    }

    /// The roles allowed to take this action, as the product guide sets them by default.
    pub fn allowed_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::Read | Action::ManageOwnTokens | Action::Acknowledge => &[Owner, Admin, Editor, Auditor, Viewer],
            Action::Edit | Action::AcceptRiskWithinThreshold | Action::VerifyEffectiveness => &[Owner, Admin, Editor],
            Action::Approve | Action::ManageOrganization => &[Owner, Admin],
            Action::AcceptRiskAboveThreshold => &[Owner],
            Action::Audit => &[Owner, Admin, Auditor],
        }
    }
}

/// A refusal, naming the rule that refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("rule role-permission: the role {role} may not {action}; allowed: {allowed}")]
    Role { role: Role, action: &'static str, allowed: String },
    #[error("rule separation-of-duties: {0}")]
    SeparationOfDuties(String),
    /// The organisation requires two-step sign-in of the member, who has not enrolled.
    #[error("rule mfa-required: {0}; turn on two-step sign-in on your account page first")]
    MfaRequired(String),
}

/// Role × action: may a member with `role` take `action`?
pub fn authorize(role: Role, action: Action) -> Result<(), Denied> {
    let allowed = action.allowed_roles();
    if allowed.contains(&role) {
        return Ok(());
    }
    Err(Denied::Role { role, action: action.as_str(), allowed: allowed.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ") })
}

/// How a person is involved in the thing being approved or audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Involvement {
    Requester,
    Author,
    Owner,
}

impl fmt::Display for Involvement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Involvement::Requester => "requester",
            Involvement::Author => "author",
            Involvement::Owner => "owner",
        })
    }
}

/// Separation of duties: the approver (or auditor) must not be the requester, author or owner
/// of what is approved (or audited). `involved` lists each involved person with how.
pub fn separation_of_duties<Id: PartialEq + Copy>(actor: Id, involved: &[(Involvement, Option<Id>)]) -> Result<(), Denied> {
    for (how, who) in involved {
        if who.is_some_and(|w| w == actor) {
            return Err(Denied::SeparationOfDuties(format!("the {how} of a record may not approve or audit it")));
        }
    }
    Ok(())
}

/// A change to a membership (its role, or whether it is active), judged once for the API, the
/// pages and the invitations: it needs `ManageOrganization`; nobody changes their own
/// membership, so nobody raises their own role; and only an owner grants the owner role or
/// changes an owner's membership (an admin cannot make or unmake owners).
pub fn may_change_membership(actor: Role, own: bool, current: Option<Role>, new: Role) -> Result<(), Denied> {
    authorize(actor, Action::ManageOrganization)?;
    if own {
        return Err(Denied::SeparationOfDuties("(self) nobody changes their own role or membership".into()));
    }
    let touches_owner = new == Role::Owner || current == Some(Role::Owner);
    if touches_owner && actor != Role::Owner {
        return Err(Denied::Role { role: actor, action: "grant or change the owner role", allowed: Role::Owner.as_str().into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_alone_accepts_above_threshold() {
        for role in Role::ALL {
            assert_eq!(authorize(role, Action::AcceptRiskAboveThreshold).is_ok(), role == Role::Owner);
        }
    }

    #[test]
    fn refusal_names_the_rule() {
        let denied = authorize(Role::Viewer, Action::Edit).unwrap_err();
        assert!(denied.to_string().starts_with("rule role-permission"));
        let sod = separation_of_duties(1, &[(Involvement::Requester, Some(1))]).unwrap_err();
        assert!(sod.to_string().contains("separation-of-duties"));
        assert!(separation_of_duties(1, &[(Involvement::Requester, Some(2)), (Involvement::Owner, None)]).is_ok());
    }

    #[test]
    fn membership_changes_follow_one_rule() {
        for actor in Role::ALL {
            for current in Role::ALL {
                for new in Role::ALL {
                    let verdict = may_change_membership(actor, false, Some(current), new);
                    let expected = match actor {
                        Role::Owner => true,
                        Role::Admin => current != Role::Owner && new != Role::Owner,
                        _ => false,
                    };
                    assert_eq!(verdict.is_ok(), expected, "{actor:?} changing {current:?} to {new:?}");
                    let own = may_change_membership(actor, true, Some(current), new);
                    assert!(own.is_err(), "{actor:?} changed their own membership");
                }
            }
        }
        let own = may_change_membership(Role::Owner, true, Some(Role::Admin), Role::Owner).unwrap_err();
        assert!(own.to_string().starts_with("rule separation-of-duties: (self)"));
    }
}
