//! Documented information (7.5, 5.2, A.2): evidence files and policies.

use super::BASE;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Revisions, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const EVIDENCE_TYPES: &[&str] =
    &["document", "record", "report", "test_result", "screenshot", "log_extract", "certificate", "contract", "minutes", "other"];

/// A piece of evidence: an uploaded file (content-addressed by SHA-256) with what it supports.
/// Every change, and every new file, freezes a revision, so an auditor can see what was
/// on file when.
pub const EVIDENCE: KindSpec = KindSpec {
    kind: "evidence",
    collection: "evidence",
    label: "Evidence",
    plural_label: "Evidence",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("evidence_type", "Kind of evidence", FieldType::Choice(EVIDENCE_TYPES)).required().default_text("document"),
        FieldSpec::new("description", "Description", FieldType::Text { max: 10_000 }),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("review_by", "Review by", FieldType::Date),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("risk_ids", "Risks", FieldType::Ids { kind: "risk" }),
        FieldSpec::new("impact_assessment_ids", "Impact assessments", FieldType::Ids { kind: "impact_assessment" }),
        FieldSpec::new("dataset_ids", "Datasets", FieldType::Ids { kind: "dataset" }),
        FieldSpec::new("supplier_ids", "Suppliers", FieldType::Ids { kind: "supplier" }),
        FieldSpec::new("policy_ids", "Policies", FieldType::Ids { kind: "policy" }),
        FieldSpec::new("objective_ids", "Objectives", FieldType::Ids { kind: "objective" }),
        FieldSpec::new("action_ids", "Actions", FieldType::Ids { kind: "action" }),
        FieldSpec::new("control_refs", "Controls", FieldType::Refs { kind: "control" }),
        FieldSpec::new("requirement_refs", "Requirements", FieldType::Refs { kind: "requirement" }),
    ],
    system_fields: &[
        sys("file_name", Shape::Text),
        sys("content_type", Shape::Text),
        sys("size_bytes", Shape::Integer),
        sys("sha256", Shape::Text),
        sys("file_revision", Shape::Integer),
        sys("uploaded_at", Shape::Timestamp),
        sys("uploaded_by", Shape::UserId),
    ],
    revisions: Revisions::EveryChange,
    uploads: true,
    ..BASE
};

pub const POLICY_TOPICS: &[&str] = &[
    "ai_policy",
    "acceptable_use",
    "data",
    "transparency",
    "fairness",
    "security",
    "privacy",
    "human_oversight",
    "third_party",
    "incident_response",
    "other",
];
pub const POLICY_STATES: &[&str] = &["draft", "in_review", "approved", "published", "retired"];

/// A policy (the AI policy of 5.2 or a topic policy under A.2): its text moves draft → in
/// review → approved → published → retired; each published edition is frozen as a revision
/// that people acknowledge.
pub const POLICY: KindSpec = KindSpec {
    kind: "policy",
    collection: "policies",
    label: "Policy",
    plural_label: "Policies",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("topic", "Topic", FieldType::Choice(POLICY_TOPICS)).required().default_text("other"),
        FieldSpec::new("summary", "Summary", FieldType::Text { max: 2_000 }),
        FieldSpec::new("body", "Text", FieldType::Text { max: 200_000 }).required(),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("next_review_on", "Next review", FieldType::Date),
        FieldSpec::new("control_refs", "Controls", FieldType::Refs { kind: "control" }),
        FieldSpec::new("requirement_refs", "Requirements", FieldType::Refs { kind: "requirement" }),
    ],
    system_fields: &[
        sys("edition_authors", Shape::UserIds),
        sys("submitted_by", Shape::UserId),
        sys("approved_by", Shape::UserId),
        sys("approved_at", Shape::Timestamp),
        sys("published_by", Shape::UserId),
        sys("published_at", Shape::Timestamp),
        sys("published_revision", Shape::Integer),
        sys("retired_at", Shape::Timestamp),
        sys("acknowledgements", Shape::Objects),
        sys("workflow_notes", Shape::Objects),
    ],
    revisions: Revisions::OnTransition,
    initial_state: Some("draft"),
    workflow: Some(&POLICY_WORKFLOW),
    ..BASE
};

const fn policy_step(
    name: &'static str,
    label: &'static str,
    summary: &'static str,
    from: &'static [&'static str],
    to: &'static str,
    permission: Action,
    sod: Sod,
    fields: &'static [BodyField],
) -> TransitionSpec {
    TransitionSpec {
        name,
        label,
        summary,
        from,
        to: Some(to),
        permission: Permission::Action(permission),
        sod,
        fields,
        event: name,
        approval: false,
        request: false,
    }
}

/// An edition is submitted by its authors, approved or sent back by someone independent of it,
/// then published (frozen as a revision) and in time retired; everyone acknowledges the
/// revision in force.
pub const POLICY_WORKFLOW: Workflow = Workflow {
    transitions: &[
        TransitionSpec {
            request: true,
            ..policy_step(
                "submit",
                "Submit for review",
                "Ask for this edition to be approved",
                &["draft"],
                "in_review",
                Action::Edit,
                Sod::None,
                &[BodyField::optional("comment", "Comment")],
            )
        },
        TransitionSpec {
            approval: true,
            ..policy_step(
                "approve",
                "Approve",
                "Approve the edition in review",
                &["in_review"],
                "approved",
                Action::Approve,
                Sod::Independent,
                &[BodyField::optional("comment", "Comment")],
            )
        },
        policy_step(
            "reject",
            "Send back",
            "Send the edition back to draft, saying what must change",
            &["in_review"],
            "draft",
            Action::Approve,
            Sod::Independent,
            &[BodyField::required("reason", "What must change", "say what must change")],
        ),
        policy_step(
            "publish",
            "Publish",
            "Put the approved edition in force; it is frozen as a revision",
            &["approved"],
            "published",
            Action::Approve,
            Sod::None,
            &[],
        ),
        policy_step(
            "retire",
            "Retire",
            "Take the policy out of force",
            &["published"],
            "retired",
            Action::Approve,
            Sod::None,
            &[BodyField::optional("reason", "Reason")],
        ),
        TransitionSpec {
            to: None,
            ..policy_step(
                "acknowledge",
                "Acknowledge",
                "Confirm having read the revision in force",
                &["published", "draft", "in_review", "approved", "retired"],
                "published",
                Action::Acknowledge,
                Sod::None,
                &[],
            )
        },
    ],
    requester_field: Some("submitted_by"),
    owner_field: Some("owner_id"),
    entries_kind: None,
};
