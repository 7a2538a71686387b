//! The catalogue rows of every organisation: gap-assessment entries for the clause
//! requirements and Statement of Applicability entries for the Annex A (and own) controls.

use serde_json::{Map, Value};

use super::BASE;
use crate::ValidationErrors;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Revisions, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const GAP_STATUSES: &[&str] = &["missing", "partial", "in_place"];
pub const IMPLEMENTATION_STATUSES: &[&str] = &["not_started", "planned", "partial", "implemented"];

/// A gap-assessment entry: one per leaf requirement of clauses 4–10 per organisation.
pub const REQUIREMENT: KindSpec = KindSpec {
    kind: "requirement",
    collection: "requirements",
    label: "Requirement",
    plural_label: "Requirements",
    fields: &[
        FieldSpec::new("status", "Status", FieldType::Choice(GAP_STATUSES)).required().default_text("missing"),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("notes", "Notes", FieldType::Text { max: 20_000 }),
    ],
    system_fields: &[
        sys("ref", Shape::Text),
        sys("title", Shape::Text),
        sys("clause", Shape::Text),
        sys("clause_title", Shape::Text),
        sys("guidance", Shape::Text),
        sys("typical_evidence", Shape::Text),
        sys("urn", Shape::Text),
    ],
    addressed_by_ref: true,
    creatable: false,
    ..BASE
};

/// A Statement of Applicability entry: one per Annex A control, plus the organisation's own.
pub const CONTROL: KindSpec = KindSpec {
    kind: "control",
    collection: "controls",
    label: "Control",
    plural_label: "Controls",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 20_000 }),
        FieldSpec::new("applicable", "Applicable", FieldType::Bool).required().default_bool(true),
        FieldSpec::new("justification", "Justification", FieldType::Text { max: 20_000 }),
        FieldSpec::new("implementation_status", "Implementation status", FieldType::Choice(IMPLEMENTATION_STATUSES))
            .required()
            .default_text("not_started"),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("last_reviewed_on", "Last review", FieldType::Date),
        FieldSpec::new("ai_system_ids", "AI systems covered", FieldType::Ids { kind: "ai_system" }),
    ],
    system_fields: &[
        sys("ref", Shape::Text),
        sys("group", Shape::Text),
        sys("group_title", Shape::Text),
        sys("guidance", Shape::Text),
        sys("typical_evidence", Shape::Text),
        sys("urn", Shape::Text),
        sys("source", Shape::Text),
    ],
    rules: &[exclusion_needs_justification],
    addressed_by_ref: true,
    ..BASE
};

/// The Statement of Applicability as a whole: one per organisation. Approving it freezes a
/// revision holding every entry exactly as it stood, however the entries change later.
pub const SOA: KindSpec = KindSpec {
    kind: "soa",
    collection: "soa",
    label: "Statement of Applicability",
    plural_label: "Statement of Applicability",
    fields: &[FieldSpec::new("notes", "Notes for the approver", FieldType::Text { max: 20_000 })],
    system_fields: &[
        sys("approved_by", Shape::UserId),
        sys("approved_at", Shape::Timestamp),
        sys("approved_revision", Shape::Integer),
        sys("approval_comment", Shape::Text),
    ],
    revisions: Revisions::OnTransition,
    singleton: true,
    creatable: false,
    initial_state: Some("draft"),
    workflow: Some(&SOA_WORKFLOW),
    ..BASE
};

/// Approving the SoA freezes every entry as a revision; never by anyone who changed it or one
/// of its entries (the controls) since the previous approval.
pub const SOA_WORKFLOW: Workflow = Workflow {
    transitions: &[TransitionSpec {
        name: "approve",
        label: "Approve",
        summary: "Approve the Statement of Applicability as it stands; every entry is frozen as a revision",
        from: &["draft", "approved"],
        to: Some("approved"),
        permission: Permission::Action(Action::Approve),
        sod: Sod::Independent,
        fields: &[BodyField::optional("comment", "Comment")],
        event: "approve",
        approval: true,
        request: false,
    }],
    requester_field: None,
    owner_field: None,
    entries_kind: Some("control"),
};

/// Fields of an Annex A control that come from the catalogue and cannot be changed.
pub const CATALOGUE_CONTROL_FIXED: &[&str] = &["title", "description"];

fn exclusion_needs_justification(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    let excluded = document.get("applicable") == Some(&Value::Bool(false));
    let justified = document.get("justification").and_then(Value::as_str).is_some_and(|j| !j.trim().is_empty());
    if excluded && !justified {
        errors.push("justification", "required_when_excluded", "an excluded control needs a justification");
    }
}

/// An organisation's own control reference: 1–40 characters of letters, digits, `.`, `-`, `_`,
/// and never `A.` followed by a digit (that space belongs to Annex A).
pub fn parse_own_control_ref(field: &str, text: &str) -> Result<String, ValidationErrors> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationErrors::single(field, "required", "a reference is required"));
    }
    if text.len() > 40 || !text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
        return Err(ValidationErrors::single(field, "invalid_format", "1–40 letters, digits, '.', '-' or '_'"));
    }
    let reserved = text.strip_prefix("A.").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    if reserved {
        return Err(ValidationErrors::single(field, "reserved", "references A.<digit>… are reserved for Annex A controls"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exclusion_without_justification_is_refused() {
        let errors = CONTROL.validate_create(&json!({"title": "X", "applicable": false}), &[]).unwrap_err();
        assert_eq!(errors.0[0].field, "justification");
        let ok = CONTROL.validate_create(&json!({"title": "X", "applicable": false, "justification": "No models trained"}), &[]);
        assert!(ok.is_ok());
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = REQUIREMENT
            .validate_patch(&Map::new(), &json!({"status": "done", "owner_id": "x", "notes": 5, "version": 3, "colour": 1}))
            .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        for expected in ["status", "owner_id", "notes", "version", "colour"] {
            assert!(fields.contains(&expected), "{expected} in {fields:?}");
        }
    }

    #[test]
    fn own_refs() {
        assert!(parse_own_control_ref("ref", "SEC-01").is_ok());
        assert!(parse_own_control_ref("ref", "A.x").is_ok());
        assert_eq!(parse_own_control_ref("ref", "A.6.9").unwrap_err().0[0].code, "reserved");
        assert!(parse_own_control_ref("ref", "bad ref").is_err());
    }
}
