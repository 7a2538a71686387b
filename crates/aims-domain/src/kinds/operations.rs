//! Operation (clause 8, A.3.3, A.8, A.10): reviews of third-party AI suppliers with their AI
//! due diligence, AI incidents with their timeline and external reporting, and concerns raised
//! by anyone (through the public intake or recorded by a member) and triaged into an incident,
//! a nonconformity, an improvement or a closed answer.

use serde_json::{Map, Value};

use super::BASE;
use crate::ValidationErrors;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

/// How much a supplier, or one of its services, puts at risk.
pub const RISK_RATINGS: &[&str] = &["low", "medium", "high", "critical"];
pub const REVIEW_CADENCES: &[&str] = &["quarterly", "half_yearly", "yearly", "every_two_years"];
pub const COMPONENT_TYPES: &[&str] = &["model", "model_api", "dataset", "platform", "tooling", "service", "other"];
/// Where a contract stands on a clause the due diligence looks for.
pub const CLAUSE_STATUSES: &[&str] = &["agreed", "partial", "missing", "not_applicable"];
pub const REVIEW_OUTCOMES: &[&str] = &["approved", "approved_with_conditions", "rejected"];

pub const SUPPLIER_REVIEW: KindSpec = KindSpec {
    kind: "supplier_review",
    collection: "supplier-reviews",
    label: "Supplier review",
    plural_label: "Supplier reviews",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("supplier_id", "Supplier", FieldType::Link { kind: "supplier" }).required(),
        FieldSpec::new("reviewer_id", "Reviewer", FieldType::UserId),
        FieldSpec::new("reviewed_on", "Review date", FieldType::Date).required(),
        FieldSpec::new("ai_system_ids", "AI systems relying on it", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("model_lineage", "Model lineage", FieldType::Text { max: 10_000 }),
        FieldSpec::new("data_provenance", "Training-data provenance", FieldType::Text { max: 10_000 }),
        FieldSpec::new("evaluation_results", "Evaluation results", FieldType::Text { max: 10_000 }),
        FieldSpec::new("intended_use_boundaries", "Intended-use boundaries", FieldType::Text { max: 10_000 }),
        FieldSpec::new("security_posture", "Security posture", FieldType::Text { max: 10_000 }),
        FieldSpec::new("clause_incident_notice", "Contract: incident notice", FieldType::Choice(CLAUSE_STATUSES)),
        FieldSpec::new("clause_audit_rights", "Contract: audit rights", FieldType::Choice(CLAUSE_STATUSES)),
        FieldSpec::new("clause_data_use", "Contract: limits on use of our data", FieldType::Choice(CLAUSE_STATUSES)),
        FieldSpec::new("incident_notice_hours", "Incident notice within (hours)", FieldType::Integer { min: 1, max: 8_760 }),
        FieldSpec::new("incident_commitments", "Incident commitments", FieldType::Text { max: 10_000 }),
        FieldSpec::new("risk_rating", "Risk rating", FieldType::Choice(RISK_RATINGS)),
        FieldSpec::new("outcome", "Outcome", FieldType::Choice(REVIEW_OUTCOMES)),
        FieldSpec::new("conditions", "Conditions and follow-up", FieldType::Text { max: 10_000 }),
        FieldSpec::new("next_review_on", "Next review", FieldType::Date),
    ],
    system_fields: &[sys("decided_by", Shape::UserId), sys("decided_at", Shape::Timestamp), sys("decision_comment", Shape::Text)],
    initial_state: Some("draft"),
    workflow: Some(&SUPPLIER_REVIEW_WORKFLOW),
    ..BASE
};

/// Draft → submitted (the reviewer asks for a decision) → completed, decided by someone
/// independent of the review (not its reviewer, author or anyone who changed it since), or
/// returned to draft.
pub const SUPPLIER_REVIEW_WORKFLOW: Workflow = Workflow {
    transitions: &[
        TransitionSpec {
            name: "submit",
            label: "Submit for decision",
            summary: "The due diligence is recorded: ask someone independent to decide on the outcome",
            from: &["draft"],
            to: Some("submitted"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[],
            event: "submit",
            approval: false,
            request: true,
        },
        TransitionSpec {
            name: "complete",
            label: "Approve and complete",
            summary: "Agree with the review's outcome and risk rating: the review is complete",
            from: &["submitted"],
            to: Some("completed"),
            permission: Permission::Action(Action::Approve),
            sod: Sod::Independent,
            fields: &[BodyField::optional("comment", "Comment")],
            event: "complete",
            approval: true,
            request: false,
        },
        TransitionSpec {
            name: "return",
            label: "Return to the reviewer",
            summary: "The review needs more work before a decision",
            from: &["submitted"],
            to: Some("draft"),
            permission: Permission::Action(Action::Approve),
            sod: Sod::None,
            fields: &[BodyField::required("comment", "What is missing", "say what the review still needs")],
            event: "return",
            approval: false,
            request: false,
        },
    ],
    requester_field: None,
    owner_field: Some("reviewer_id"),
    entries_kind: None,
};

pub const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];
/// What an incident may have to be reported under, which sets the deadline (see
/// [`report_days`]).
pub const REPORTING_REGIMES: &[&str] = &[
    "eu_ai_act_serious_incident",
    "eu_ai_act_widespread_or_critical_infrastructure",
    "eu_ai_act_death",
    "gdpr_personal_data_breach",
    "other",
];

/// Days from detection within which a regime expects the report: the EU AI Act's serious
/// incidents (15 days; 2 for a widespread infringement or a disruption of critical
/// infrastructure; 10 for a death) and a personal data breach under the GDPR (72 hours, so
/// the third day). `None` when the deadline is not set by the regime (entered by hand).
pub fn report_days(regime: &str) -> Option<i64> {
    match regime {
        "eu_ai_act_serious_incident" => Some(15),
        "eu_ai_act_widespread_or_critical_infrastructure" => Some(2),
        "eu_ai_act_death" => Some(10),
        "gdpr_personal_data_breach" => Some(3),
        _ => None,
    }
}

pub const INCIDENT: KindSpec = KindSpec {
    kind: "incident",
    collection: "incidents",
    label: "Incident",
    plural_label: "Incidents",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("description", "What happened", FieldType::Text { max: 20_000 }).required(),
        FieldSpec::new("severity", "Severity", FieldType::Choice(SEVERITIES)),
        FieldSpec::new("owner_id", "Incident owner", FieldType::UserId),
        FieldSpec::new("reported_by", "Reported by", FieldType::Text { max: 300 }),
        FieldSpec::new("ai_system_ids", "AI systems affected", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("affected_people", "People affected, and how", FieldType::Text { max: 10_000 }),
        FieldSpec::new("people_affected_count", "Number of people affected", FieldType::Integer { min: 0, max: 10_000_000_000 }),
        FieldSpec::new("occurred_on", "Occurred on", FieldType::Date),
        FieldSpec::new("detected_on", "Detected on", FieldType::Date).required(),
        FieldSpec::new("contained_on", "Contained on", FieldType::Date),
        FieldSpec::new("resolved_on", "Resolved on", FieldType::Date),
        FieldSpec::new("containment", "Containment", FieldType::Text { max: 20_000 }),
        FieldSpec::new("external_report_required", "Must be reported externally", FieldType::Bool).required().default_bool(false),
        FieldSpec::new("reporting_regime", "Reported under", FieldType::Choice(REPORTING_REGIMES)),
        FieldSpec::new("report_by", "Report by", FieldType::Date),
        FieldSpec::new("reported_externally_on", "Reported externally on", FieldType::Date),
        FieldSpec::new(
            "notified",
            "Who was told",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("party", "Party", FieldType::Text { max: 300 }).required(),
                    FieldSpec::new("notified_on", "Told on", FieldType::Date),
                    FieldSpec::new("how", "How", FieldType::Text { max: 500 }),
                ],
                max_items: 200,
            },
        ),
        FieldSpec::new("nonconformity_ids", "Nonconformities raised", FieldType::Ids { kind: "nonconformity" }),
    ],
    rules: &[external_report_needs_regime],
    initial_state: Some("reported"),
    workflow: Some(&INCIDENT_WORKFLOW),
    ..BASE
};

fn external_report_needs_regime(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    let required = document.get("external_report_required") == Some(&Value::Bool(true));
    if required && document.get("reporting_regime").is_none_or(Value::is_null) {
        errors.push("reporting_regime", "required_with", "say what the incident must be reported under");
    }
}

/// An incident's steps: plain work on the record, each needing what it records (the
/// prerequisites are in `aims-app`).
const fn step(
    name: &'static str,
    label: &'static str,
    summary: &'static str,
    from: &'static [&'static str],
    to: &'static str,
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
        request: false,
    }
}

/// Reported → triaged → contained → resolved → closed.
pub const INCIDENT_WORKFLOW: Workflow = Workflow {
    transitions: &[
        step("triage", "Triage", "Severity and owner are set: the incident is being handled", &["reported"], "triaged"),
        step("contain", "Mark contained", "The harm is stopped from spreading; the containment is recorded", &["triaged"], "contained"),
        step("resolve", "Mark resolved", "The AI system works as intended again", &["triaged", "contained"], "resolved"),
        step("close", "Close", "Everything owed is done, including any external report", &["resolved"], "closed"),
    ],
    requester_field: None,
    owner_field: Some("owner_id"),
    entries_kind: None,
};

/// What a concern was triaged into (the system field `triaged_into`).
pub const TRIAGE_TARGETS: &[&str] = &["incident", "nonconformity", "improvement"];

/// The fields a member of the public may send (all else is the organisation's).
pub const PUBLIC_CONCERN_FIELDS: &[&str] = &["subject", "ai_system_name", "description", "contact_name", "contact_email"];

pub const CONCERN: KindSpec = KindSpec {
    kind: "concern",
    collection: "concerns",
    label: "Concern",
    plural_label: "Concerns",
    fields: &[
        FieldSpec::new("subject", "Subject", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("ai_system_name", "AI system or service concerned", FieldType::Text { max: 300 }),
        FieldSpec::new("description", "The concern", FieldType::Text { max: 10_000 }).required(),
        FieldSpec::new("contact_name", "Contact name", FieldType::Text { max: 200 }),
        FieldSpec::new("contact_email", "Contact e-mail", FieldType::Text { max: 254 }),
        FieldSpec::new("owner_id", "Handled by", FieldType::UserId),
        FieldSpec::new("ai_system_ids", "AI systems concerned", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("public_answer", "Answer shown to the reporter", FieldType::Text { max: 10_000 }),
        FieldSpec::new("internal_notes", "Internal notes", FieldType::Text { max: 20_000 }),
        FieldSpec::new("incident_ids", "Incidents", FieldType::Ids { kind: "incident" }),
        FieldSpec::new("nonconformity_ids", "Nonconformities", FieldType::Ids { kind: "nonconformity" }),
        FieldSpec::new("improvement_ids", "Improvements", FieldType::Ids { kind: "improvement" }),
    ],
    system_fields: &[
        sys("received_via", Shape::Text),
        sys("triaged_into", Shape::Text),
        sys("triaged_by", Shape::UserId),
        sys("triaged_at", Shape::Timestamp),
    ],
    initial_state: Some("received"),
    workflow: Some(&CONCERN_WORKFLOW),
    ..BASE
};

const TRIAGE_NOTE: BodyField = BodyField::optional("note", "Note for the new record");

const fn triage(name: &'static str, label: &'static str, summary: &'static str) -> TransitionSpec {
    TransitionSpec {
        name,
        label,
        summary,
        from: &["received"],
        to: Some("triaged"),
        permission: Permission::Action(Action::Edit),
        sod: Sod::None,
        fields: &[TRIAGE_NOTE],
        event: name,
        approval: false,
        request: false,
    }
}

/// Received → triaged into an incident, a nonconformity or an improvement (each creates the
/// linked record in the same transaction), or closed with an answer to the reporter.
pub const CONCERN_WORKFLOW: Workflow = Workflow {
    transitions: &[
        triage("to-incident", "Triage into an incident", "Open an AI incident from the concern and link it"),
        triage("to-nonconformity", "Triage into a nonconformity", "Raise a nonconformity from the concern and link it"),
        triage("to-improvement", "Triage into an improvement", "Propose an improvement from the concern and link it"),
        TransitionSpec {
            name: "close",
            label: "Close with an answer",
            summary: "Answer the reporter; the answer is shown on their status page",
            from: &["received", "triaged"],
            to: Some("closed"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[BodyField::required("answer", "Answer to the reporter", "write the answer the reporter will read")],
            event: "close",
            approval: false,
            request: false,
        },
    ],
    requester_field: None,
    owner_field: Some("owner_id"),
    entries_kind: None,
};
