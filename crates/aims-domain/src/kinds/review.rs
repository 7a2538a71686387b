//! Management review (9.3): a meeting of top management whose inputs the product assembles from
//! the record itself, the decisions it takes and the actions it raises (in the one `actions`
//! tracker). Closing it freezes the inputs reviewed into the record and a revision, so the pack
//! read later is exactly the one the meeting saw.

use super::BASE;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Revisions, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const MANAGEMENT_REVIEW: KindSpec = KindSpec {
    kind: "management_review",
    collection: "management-reviews",
    label: "Management review",
    plural_label: "Management reviews",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("planned_on", "Planned date", FieldType::Date).required(),
        FieldSpec::new("chair_id", "Chair", FieldType::UserId),
        FieldSpec::new("attendee_ids", "Attendees", FieldType::Ids { kind: "person" }),
        FieldSpec::new("other_attendees", "Other attendees", FieldType::TextList { max_items: 50, max: 200 }),
        FieldSpec::new("agenda", "Agenda", FieldType::Text { max: 20_000 }),
        FieldSpec::new("minutes", "Minutes", FieldType::Text { max: 50_000 }),
        FieldSpec::new("action_ids", "Actions raised", FieldType::Ids { kind: "action" }),
    ],
    system_fields: &[
        sys("held_at", Shape::Timestamp),
        sys("decisions", Shape::Objects),
        sys("closed_at", Shape::Timestamp),
        sys("closed_by", Shape::UserId),
        sys("pack", Shape::Object),
    ],
    revisions: Revisions::OnTransition,
    initial_state: Some("planned"),
    workflow: Some(&MANAGEMENT_REVIEW_WORKFLOW),
    ..BASE
};

/// The body of `decide`: the decision, and the action it raises when an action title is given.
pub const DECISION_FIELDS: &[BodyField] = &[
    BodyField::required("decision", "Decision", "say what was decided"),
    BodyField::optional("action_title", "Action to raise"),
    BodyField::optional("action_owner_id", "Action owner"),
    BodyField::optional("action_due_date", "Action due"),
];

const fn step(
    name: &'static str,
    label: &'static str,
    summary: &'static str,
    from: &'static [&'static str],
    to: Option<&'static str>,
    action: Action,
    fields: &'static [BodyField],
) -> TransitionSpec {
    TransitionSpec {
        name,
        label,
        summary,
        from,
        to,
        permission: Permission::Action(action),
        sod: Sod::None,
        fields,
        event: name,
        approval: false,
        request: false,
    }
}

/// Planned → held (its inputs still live, decisions recorded, each one able to raise an action)
/// → closed (the inputs frozen).
pub const MANAGEMENT_REVIEW_WORKFLOW: Workflow = Workflow {
    transitions: &[
        step(
            "hold",
            "Hold the review",
            "The meeting takes place: record its decisions and actions",
            &["planned"],
            Some("held"),
            Action::Edit,
            &[],
        ),
        step(
            "decide",
            "Record a decision",
            "Record a decision of the review and, if it calls for one, raise an action in the actions tracker",
            &["held"],
            None,
            Action::Edit,
            DECISION_FIELDS,
        ),
        step(
            "close",
            "Close the review",
            "The review is over: its inputs, decisions and actions are frozen as they stand",
            &["held"],
            Some("closed"),
            Action::Approve,
            &[],
        ),
    ],
    requester_field: None,
    owner_field: Some("chair_id"),
    entries_kind: None,
};
