//! Improvement (clause 10) and planned changes (6.3): nonconformities with their correction,
//! root cause, corrective actions (in the one `actions` tracker) and a verification of
//! effectiveness by someone who did not do the work; the improvement register of
//! opportunities with their decisions and outcomes; and changes to the AIMS itself.

use super::BASE;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const NONCONFORMITY_SOURCES: &[&str] = &["audit_finding", "incident", "monitoring", "complaint", "review", "other"];
/// Whether similar nonconformities exist, or could occur, elsewhere (10.2).
pub const SIMILAR_ANSWERS: &[&str] = &["no", "yes", "not_yet_known"];

pub const NONCONFORMITY: KindSpec = KindSpec {
    kind: "nonconformity",
    collection: "nonconformities",
    label: "Nonconformity",
    plural_label: "Nonconformities",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("source", "Source", FieldType::Choice(NONCONFORMITY_SOURCES)).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 20_000 }).required(),
        FieldSpec::new("detected_on", "Detected on", FieldType::Date).required(),
        FieldSpec::new("ai_system_ids", "AI systems affected", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("requirement_refs", "Requirements not met", FieldType::Refs { kind: "requirement" }),
        FieldSpec::new("control_refs", "Controls concerned", FieldType::Refs { kind: "control" }),
        FieldSpec::new("correction", "Correction taken", FieldType::Text { max: 20_000 }),
        FieldSpec::new("root_cause", "Root cause", FieldType::Text { max: 20_000 }),
        FieldSpec::new("similar_elsewhere", "Similar nonconformities elsewhere", FieldType::Choice(SIMILAR_ANSWERS)),
        FieldSpec::new("similar_details", "Where, and what is done about them", FieldType::Text { max: 10_000 }),
        FieldSpec::new("corrective_action_ids", "Corrective actions", FieldType::Ids { kind: "action" }),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
    ],
    system_fields: &[
        sys("effective", Shape::Bool),
        sys("verified_by", Shape::UserId),
        sys("verified_at", Shape::Timestamp),
        sys("verification_comment", Shape::Text),
    ],
    initial_state: Some("open"),
    workflow: Some(&NONCONFORMITY_WORKFLOW),
    ..BASE
};

/// The check of others' work: neither the nonconformity's owner nor anyone who owned one of
/// its corrective actions may judge whether they were effective.
pub const VERIFIER_SOD: Sod = Sod::NotOwner { linked: "corrective_action_ids", linked_label: "corrective actions" };

const VERIFICATION_COMMENT: BodyField =
    BodyField::required("comment", "What was checked", "say what was checked and what it showed about the corrective actions");

/// A step of the owner's work on a nonconformity: an edit, with no decision in it.
const fn work(
    name: &'static str,
    label: &'static str,
    summary: &'static str,
    from: &'static [&'static str],
    to: &'static str,
    request: bool,
) -> TransitionSpec {
    TransitionSpec {
        name,
        label,
        summary,
        from,
        to: Some(to),
        permission: Permission::Action(Action::Edit),
        sod: Sod::None,
        fields: &[],
        event: name,
        approval: false,
        request,
    }
}

/// Open → correction taken → root cause analysed → action planned → verifying → closed. Each
/// step needs what it records (the correction, the root cause and the answer on similar
/// nonconformities, a corrective action, every action finished); only a verification of
/// effectiveness closes it, and one that finds the actions ineffective sends it back.
pub const NONCONFORMITY_WORKFLOW: Workflow = Workflow {
    transitions: &[
        work(
            "correct",
            "Record the correction",
            "Record the correction taken to contain the nonconformity",
            &["open"],
            "correction_taken",
            false,
        ),
        work(
            "analyse",
            "Record the root cause",
            "Record the root cause and whether similar nonconformities exist elsewhere",
            &["correction_taken"],
            "root_cause_analysed",
            false,
        ),
        work(
            "plan",
            "Plan corrective action",
            "Corrective actions are planned in the actions tracker",
            &["root_cause_analysed"],
            "action_planned",
            false,
        ),
        work(
            "request-verification",
            "Ask for verification",
            "Every corrective action is finished: ask someone who did not do the work to verify their effectiveness",
            &["action_planned"],
            "verifying",
            true,
        ),
        TransitionSpec {
            name: "verify",
            label: "Verify effectiveness",
            summary: "The corrective actions were effective: the nonconformity is closed",
            from: &["verifying"],
            to: Some("closed"),
            permission: Permission::Action(Action::VerifyEffectiveness),
            sod: VERIFIER_SOD,
            fields: &[VERIFICATION_COMMENT],
            event: "verify",
            approval: true,
            request: false,
        },
        TransitionSpec {
            name: "not-effective",
            label: "Not effective",
            summary: "The corrective actions did not remove the cause: plan further action",
            from: &["verifying"],
            to: Some("action_planned"),
            permission: Permission::Action(Action::VerifyEffectiveness),
            sod: VERIFIER_SOD,
            fields: &[VERIFICATION_COMMENT],
            event: "not-effective",
            approval: false,
            request: false,
        },
    ],
    requester_field: None,
    owner_field: Some("owner_id"),
    entries_kind: None,
};

pub const IMPROVEMENT_SOURCES: &[&str] = &["audit", "review", "incident", "feedback", "planning", "other"];

pub const IMPROVEMENT: KindSpec = KindSpec {
    kind: "improvement",
    collection: "improvements",
    label: "Improvement",
    plural_label: "Improvements",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("opportunity", "Opportunity", FieldType::Text { max: 20_000 }).required(),
        FieldSpec::new("source", "Source", FieldType::Choice(IMPROVEMENT_SOURCES)).required(),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("outcome", "Outcome", FieldType::Text { max: 20_000 }),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("nonconformity_ids", "Nonconformities", FieldType::Ids { kind: "nonconformity" }),
        FieldSpec::new("action_ids", "Actions", FieldType::Ids { kind: "action" }),
        FieldSpec::new("requirement_refs", "Requirements", FieldType::Refs { kind: "requirement" }),
        FieldSpec::new("control_refs", "Controls", FieldType::Refs { kind: "control" }),
    ],
    system_fields: &[
        sys("decision", Shape::Text),
        sys("decided_by", Shape::UserId),
        sys("decided_at", Shape::Timestamp),
        sys("decision_rationale", Shape::Text),
    ],
    initial_state: Some("proposed"),
    workflow: Some(&IMPROVEMENT_WORKFLOW),
    ..BASE
};

const RATIONALE: BodyField = BodyField::required("rationale", "Rationale", "say why");

/// Proposed → accepted or rejected (a decision with its rationale) → implemented (with its
/// outcome recorded).
pub const IMPROVEMENT_WORKFLOW: Workflow = Workflow {
    transitions: &[
        TransitionSpec {
            name: "accept",
            label: "Accept",
            summary: "Decide to take up the opportunity",
            from: &["proposed"],
            to: Some("accepted"),
            permission: Permission::Action(Action::Approve),
            sod: Sod::None,
            fields: &[RATIONALE],
            event: "accept",
            approval: true,
            request: false,
        },
        TransitionSpec {
            name: "reject",
            label: "Reject",
            summary: "Decide not to take up the opportunity",
            from: &["proposed"],
            to: Some("rejected"),
            permission: Permission::Action(Action::Approve),
            sod: Sod::None,
            fields: &[RATIONALE],
            event: "reject",
            approval: false,
            request: false,
        },
        TransitionSpec {
            name: "implement",
            label: "Mark implemented",
            summary: "The improvement is in place; its outcome is recorded",
            from: &["accepted"],
            to: Some("implemented"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[],
            event: "implement",
            approval: false,
            request: false,
        },
    ],
    requester_field: None,
    owner_field: Some("owner_id"),
    entries_kind: None,
};

pub const CHANGE: KindSpec = KindSpec {
    kind: "change",
    collection: "changes",
    label: "Planned change",
    plural_label: "Planned changes",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("purpose", "Purpose", FieldType::Text { max: 20_000 }).required(),
        FieldSpec::new("consequences", "Potential consequences", FieldType::Text { max: 20_000 }),
        FieldSpec::new("resources", "Resources", FieldType::Text { max: 10_000 }),
        FieldSpec::new("owner_id", "Responsible", FieldType::UserId),
        FieldSpec::new("responsibilities", "Responsibilities", FieldType::Text { max: 10_000 }),
        FieldSpec::new("planned_on", "Planned date", FieldType::Date),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("requirement_refs", "Requirements", FieldType::Refs { kind: "requirement" }),
        FieldSpec::new("control_refs", "Controls", FieldType::Refs { kind: "control" }),
    ],
    system_fields: &[sys("completed_at", Shape::Timestamp), sys("closing_note", Shape::Text)],
    initial_state: Some("planned"),
    workflow: Some(&CHANGE_WORKFLOW),
    ..BASE
};

/// Planned → in progress → done, or cancelled on the way.
pub const CHANGE_WORKFLOW: Workflow = Workflow {
    transitions: &[
        TransitionSpec {
            name: "start",
            label: "Start",
            summary: "Work on the change has begun",
            from: &["planned"],
            to: Some("in_progress"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[],
            event: "start",
            approval: false,
            request: false,
        },
        TransitionSpec {
            name: "complete",
            label: "Mark done",
            summary: "The change is made",
            from: &["in_progress"],
            to: Some("done"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[BodyField::optional("note", "Note")],
            event: "complete",
            approval: false,
            request: false,
        },
        TransitionSpec {
            name: "cancel",
            label: "Cancel",
            summary: "The change will not be made",
            from: &["planned", "in_progress"],
            to: Some("cancelled"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[BodyField::required("note", "Reason", "say why the change is cancelled")],
            event: "cancel",
            approval: false,
            request: false,
        },
    ],
    requester_field: None,
    owner_field: Some("owner_id"),
    entries_kind: None,
};
