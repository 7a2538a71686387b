//! AI system impact assessments (6.1.4, 8.4, A.5): about people, groups, society and the
//! environment — never merged with risk. Signed off in revisions by someone other than the
//! author; flagged for re-assessment when the system changes materially.

use super::BASE;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Revisions, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const PARTIES: &[&str] = &["individuals", "groups", "society", "environment"];
pub const AREAS: &[&str] = &["fairness", "privacy", "safety", "security", "transparency", "accountability", "human_rights", "environment"];
pub const SEVERITIES: &[&str] = &["negligible", "minor", "moderate", "major", "severe"];
pub const LIKELIHOODS: &[&str] = &["rare", "unlikely", "possible", "likely", "almost_certain"];
pub const OVERALL_LEVELS: &[&str] = &["low", "medium", "high"];

pub const IMPACT_ASSESSMENT: KindSpec = KindSpec {
    kind: "impact_assessment",
    collection: "impact-assessments",
    label: "Impact assessment",
    plural_label: "Impact assessments",
    fields: &[
        FieldSpec::new("ai_system_id", "AI system", FieldType::Link { kind: "ai_system" }).required(),
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new(
            "affected_parties",
            "Affected parties",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("party", "Who", FieldType::Choice(PARTIES)).required(),
                    FieldSpec::new("description", "Description", FieldType::Text { max: 2_000 }),
                ],
                max_items: 50,
            },
        ),
        FieldSpec::new(
            "impacts",
            "Impacts",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("area", "Area", FieldType::Choice(AREAS)).required(),
                    FieldSpec::new("description", "Impact", FieldType::Text { max: 5_000 }).required(),
                    FieldSpec::new("severity", "Severity", FieldType::Choice(SEVERITIES)).required(),
                    FieldSpec::new("likelihood", "Likelihood", FieldType::Choice(LIKELIHOODS)).required(),
                    FieldSpec::new("mitigation", "Mitigation", FieldType::Text { max: 5_000 }),
                    FieldSpec::new("residual_severity", "Residual severity", FieldType::Choice(SEVERITIES)),
                ],
                max_items: 100,
            },
        ),
        FieldSpec::new("foreseeable_misuse", "Foreseeable misuse", FieldType::Text { max: 10_000 }),
        FieldSpec::new("mitigations", "Mitigations", FieldType::Text { max: 20_000 }),
        FieldSpec::new("residual_impact", "Residual impact", FieldType::Text { max: 10_000 }),
        FieldSpec::new("overall_level", "Overall impact level", FieldType::Choice(OVERALL_LEVELS)).required(),
    ],
    system_fields: &[
        sys("signed_off_by", Shape::UserId),
        sys("signed_off_at", Shape::Timestamp),
        sys("signed_off_revision", Shape::Integer),
        sys("sign_off_comment", Shape::Text),
        sys("reassessment_due", Shape::Bool),
        sys("reassessment_reason", Shape::Text),
    ],
    initial_state: Some("draft"),
    revisions: Revisions::OnTransition,
    workflow: Some(&IMPACT_WORKFLOW),
    ..BASE
};

/// Signing off an edition freezes it as a revision; never by anyone who wrote or changed it.
pub const IMPACT_WORKFLOW: Workflow = Workflow {
    transitions: &[TransitionSpec {
        name: "sign-off",
        label: "Sign off",
        summary: "Sign off this edition; it is frozen as a revision",
        from: &["draft"],
        to: Some("signed_off"),
        permission: Permission::Action(Action::Approve),
        sod: Sod::Independent,
        fields: &[BodyField::optional("comment", "Comment")],
        event: "sign_off",
        approval: true,
        request: false,
    }],
    requester_field: None,
    owner_field: None,
    entries_kind: None,
};
