//! Lifecycle gates and records (A.6): moving an AI system between stages is requested, then
//! approved or rejected by someone else; gates can require lifecycle records first.

use super::BASE;
use super::inventory::LIFECYCLE_STAGES;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const RECORD_TYPES: &[&str] = &[
    "requirements_specification",
    "design_documentation",
    "verification_validation",
    "deployment_plan",
    "operation_monitoring",
    "technical_documentation",
    "event_logging",
];

/// A kind of lifecycle record as people read it: `deployment_plan` is "Deployment plan".
pub fn record_type_label(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The Annex A control each kind of lifecycle record evidences (A.6.2.2–A.6.2.8).
pub fn control_of(record_type: &str) -> Option<&'static str> {
    let index = RECORD_TYPES.iter().position(|t| *t == record_type)?;
    ["A.6.2.2", "A.6.2.3", "A.6.2.4", "A.6.2.5", "A.6.2.6", "A.6.2.7", "A.6.2.8"].get(index).copied()
}

pub const GATE_STATES: &[&str] = &["requested", "approved", "rejected", "cancelled"];

pub const GATE: KindSpec = KindSpec {
    kind: "gate",
    collection: "gates",
    label: "Lifecycle gate",
    plural_label: "Lifecycle gates",
    fields: &[
        FieldSpec::new("ai_system_id", "AI system", FieldType::Link { kind: "ai_system" }).required(),
        FieldSpec::new("to_stage", "Move to stage", FieldType::Choice(LIFECYCLE_STAGES)).required(),
        FieldSpec::new("reason", "Why now", FieldType::Text { max: 10_000 }).required(),
    ],
    system_fields: &[
        sys("from_stage", Shape::Text),
        sys("requested_by", Shape::UserId),
        sys("decided_by", Shape::UserId),
        sys("decided_at", Shape::Timestamp),
        sys("decision_reason", Shape::Text),
        sys("system_snapshot", Shape::Object),
        sys("missing_records", Shape::TextList),
    ],
    initial_state: Some("requested"),
    workflow: Some(&GATE_WORKFLOW),
    ..BASE
};

const GATE_REASON: BodyField = BodyField::optional("reason", "Reason");

/// A gate is requested by creating it; someone independent of it approves or rejects it; the
/// requester (or an approver) may withdraw it while it is requested.
pub const GATE_WORKFLOW: Workflow = Workflow {
    transitions: &[
        TransitionSpec {
            name: "approve",
            label: "Approve",
            summary: "Approve the move to the requested stage; the AI system moves on",
            from: &["requested"],
            to: Some("approved"),
            permission: Permission::Action(Action::Approve),
            sod: Sod::Independent,
            fields: &[GATE_REASON],
            event: "approve",
            approval: true,
            request: false,
        },
        TransitionSpec {
            name: "reject",
            label: "Reject",
            summary: "Refuse the move; the AI system stays in its stage",
            from: &["requested"],
            to: Some("rejected"),
            permission: Permission::Action(Action::Approve),
            sod: Sod::Independent,
            fields: &[BodyField::required("reason", "Reason", "say why the gate is rejected")],
            event: "reject",
            approval: false,
            request: false,
        },
        TransitionSpec {
            name: "cancel",
            label: "Withdraw",
            summary: "Withdraw the request (its requester, or an approver)",
            from: &["requested"],
            to: Some("cancelled"),
            permission: Permission::RequesterOr { own: Action::Edit, other: Action::Approve },
            sod: Sod::None,
            fields: &[GATE_REASON],
            event: "cancel",
            approval: false,
            request: false,
        },
    ],
    requester_field: Some("requested_by"),
    owner_field: None,
    entries_kind: None,
};

pub const LIFECYCLE_RECORD: KindSpec = KindSpec {
    kind: "lifecycle_record",
    collection: "lifecycle-records",
    label: "Lifecycle record",
    plural_label: "Lifecycle records",
    fields: &[
        FieldSpec::new("ai_system_id", "AI system", FieldType::Link { kind: "ai_system" }).required(),
        FieldSpec::new("record_type", "Kind of record", FieldType::Choice(RECORD_TYPES)).required(),
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("summary", "Summary", FieldType::Text { max: 20_000 }),
        FieldSpec::new("location", "Where the document lives", FieldType::Text { max: 1_000 }),
        FieldSpec::new("recorded_on", "Date", FieldType::Date),
        FieldSpec::new("control_refs", "Controls evidenced", FieldType::Refs { kind: "control" }),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
    ],
    ..BASE
};

pub const GATE_REQUIREMENT: KindSpec = KindSpec {
    kind: "gate_requirement",
    collection: "gate-requirements",
    label: "Gate requirement",
    plural_label: "Gate requirements",
    fields: &[
        FieldSpec::new("to_stage", "Stage", FieldType::Choice(LIFECYCLE_STAGES)).required(),
        FieldSpec::new("required_record_types", "Records required before approval", FieldType::ChoiceList(RECORD_TYPES)),
        FieldSpec::new("notes", "Notes", FieldType::Text { max: 5_000 }),
    ],
    ..BASE
};

/// The gate requirements every new organisation starts with.
pub const DEFAULT_GATE_REQUIREMENTS: &[(&str, &[&str])] = &[
    ("development", &["requirements_specification"]),
    ("verification_validation", &["requirements_specification", "design_documentation"]),
    ("deployment", &["verification_validation", "deployment_plan", "technical_documentation"]),
    ("operation", &["operation_monitoring", "event_logging"]),
];
