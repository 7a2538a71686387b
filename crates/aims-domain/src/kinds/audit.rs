//! Internal and external audit (9.2): the audit programme, audits with their scope, auditors,
//! audited period, generated checklist and report, the findings auditors raise (which raise
//! nonconformities), and the certificate a certification body issues on its three-year cycle.
//! Every kind here is written with the `audit` permission (owner, admin, auditor): an auditor
//! records audits and findings and still cannot change what they audit.

use serde_json::{Map, Value};

use super::BASE;
use crate::ValidationErrors;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const PROGRAMME_FREQUENCIES: &[&str] = &["quarterly", "half_yearly", "yearly", "every_two_years"];

pub const AUDIT_PROGRAMME: KindSpec = KindSpec {
    kind: "audit_programme",
    collection: "audit-programmes",
    label: "Audit programme",
    plural_label: "Audit programmes",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("period_from", "Programme from", FieldType::Date).required(),
        FieldSpec::new("period_to", "Programme to", FieldType::Date).required(),
        FieldSpec::new("frequency", "Frequency", FieldType::Choice(PROGRAMME_FREQUENCIES)).required(),
        FieldSpec::new("scope", "Scope", FieldType::Text { max: 20_000 }).required(),
        FieldSpec::new("criteria", "Audit criteria", FieldType::Text { max: 20_000 }),
        FieldSpec::new("methods", "Methods", FieldType::Text { max: 20_000 }),
        FieldSpec::new("owner_id", "Programme owner", FieldType::UserId),
    ],
    rules: &[period_in_order],
    write: Action::Audit,
    ..BASE
};

/// Internal audits and the certification body's audits on the three-year cycle.
pub const AUDIT_TYPES: &[&str] = &["internal", "certification_stage_1", "certification_stage_2", "surveillance", "recertification"];

/// The result of a checklist item and the classification of a finding.
pub const RESULTS: &[&str] = &["conforming", "minor_nonconformity", "major_nonconformity", "observation", "opportunity_for_improvement"];

/// The classifications that are nonconformities (and so may raise one).
pub const NONCONFORMING: &[&str] = &["minor_nonconformity", "major_nonconformity"];

/// The fields naming an audit's auditors (each must hold the audit permission and be
/// independent of what the audit covers).
pub const AUDITOR_FIELDS: &[&str] = &["lead_auditor_id", "co_auditor_id"];

/// The fields that set what an audit covers (its checklist follows them).
pub const SCOPE_FIELDS: &[&str] = &["requirement_refs", "control_refs", "ai_system_ids"];

pub const AUDIT: KindSpec = KindSpec {
    kind: "audit",
    collection: "audits",
    label: "Audit",
    plural_label: "Audits",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("audit_type", "Type", FieldType::Choice(AUDIT_TYPES)).required(),
        FieldSpec::new("programme_id", "Audit programme", FieldType::Link { kind: "audit_programme" }),
        FieldSpec::new("requirement_refs", "Clauses in scope", FieldType::Refs { kind: "requirement" }),
        FieldSpec::new("control_refs", "Annex A controls in scope", FieldType::Refs { kind: "control" }),
        FieldSpec::new("ai_system_ids", "AI systems in scope", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("business_units", "Business units", FieldType::TextList { max_items: 50, max: 200 }),
        FieldSpec::new("period_from", "Audited period from", FieldType::Date).required(),
        FieldSpec::new("period_to", "Audited period to", FieldType::Date).required(),
        FieldSpec::new("lead_auditor_id", "Lead auditor", FieldType::UserId).required(),
        FieldSpec::new("co_auditor_id", "Co-auditor", FieldType::UserId),
        FieldSpec::new("auditees", "Auditees", FieldType::TextList { max_items: 50, max: 200 }),
        FieldSpec::new("planned_start", "Planned start", FieldType::Date),
        FieldSpec::new("planned_end", "Planned end", FieldType::Date),
        FieldSpec::new("criteria", "Audit criteria", FieldType::Text { max: 20_000 }),
        FieldSpec::new("certification_body", "Certification body", FieldType::Text { max: 300 }),
    ],
    system_fields: &[
        sys("checklist", Shape::Objects),
        sys("started_at", Shape::Timestamp),
        sys("report_summary", Shape::Text),
        sys("closed_by", Shape::UserId),
        sys("closed_at", Shape::Timestamp),
    ],
    rules: &[period_in_order, planned_in_order, auditors_differ],
    initial_state: Some("planned"),
    workflow: Some(&AUDIT_WORKFLOW),
    write: Action::Audit,
    ..BASE
};

/// The transition that records one checklist item's result (the checklist panel's form).
pub const RECORD_RESULT: &str = "record-result";

const fn audit_step(
    name: &'static str,
    label: &'static str,
    summary: &'static str,
    from: &'static [&'static str],
    to: Option<&'static str>,
    fields: &'static [BodyField],
) -> TransitionSpec {
    TransitionSpec {
        name,
        label,
        summary,
        from,
        to,
        permission: Permission::Action(Action::Audit),
        sod: Sod::None,
        fields,
        event: name,
        approval: false,
        request: false,
    }
}

/// Planned → in progress → reporting → closed. Results are recorded while the audit runs or
/// is reported on; reporting needs every checklist item answered; closing needs the report.
pub const AUDIT_WORKFLOW: Workflow = Workflow {
    transitions: &[
        audit_step("start", "Start the audit", "The audit's fieldwork begins", &["planned"], Some("in_progress"), &[]),
        audit_step(
            RECORD_RESULT,
            "Record a result",
            "Record the result of one checklist item, with notes and evidence (an auditor of this audit, independent of what it covers)",
            &["in_progress", "reporting"],
            None,
            &[
                BodyField::required("item", "Checklist item", "name the checklist item (its key, such as requirement:9.2)"),
                BodyField::required("result", "Result", "choose the result"),
                BodyField::optional("notes", "Notes"),
                BodyField::optional("evidence", "Evidence"),
            ],
        ),
        audit_step(
            "report",
            "Move to reporting",
            "Fieldwork is done and every checklist item has a result: write the report",
            &["in_progress"],
            Some("reporting"),
            &[],
        ),
        audit_step(
            "close",
            "Close with the report",
            "The audit is closed with its report summary",
            &["reporting"],
            Some("closed"),
            &[BodyField::required("summary", "Report summary", "summarise the audit's conclusions for the report")],
        ),
    ],
    requester_field: None,
    owner_field: None,
    entries_kind: None,
};

pub const FINDING: KindSpec = KindSpec {
    kind: "finding",
    collection: "findings",
    label: "Finding",
    plural_label: "Findings",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("audit_id", "Audit", FieldType::Link { kind: "audit" }).required(),
        FieldSpec::new("classification", "Classification", FieldType::Choice(RESULTS)).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 20_000 }).required(),
        FieldSpec::new("checklist_item", "Checklist item", FieldType::Text { max: 200 }),
        FieldSpec::new("requirement_refs", "Requirements", FieldType::Refs { kind: "requirement" }),
        FieldSpec::new("control_refs", "Controls", FieldType::Refs { kind: "control" }),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("evidence_ids", "Evidence", FieldType::Ids { kind: "evidence" }),
        FieldSpec::new("nonconformity_id", "Nonconformity raised", FieldType::Link { kind: "nonconformity" }),
    ],
    system_fields: &[sys("raised_by", Shape::UserId), sys("raised_at", Shape::Timestamp)],
    initial_state: Some("recorded"),
    workflow: Some(&FINDING_WORKFLOW),
    write: Action::Audit,
    ..BASE
};

/// The transition raising a nonconformity from a minor or major finding.
pub const RAISE_NONCONFORMITY: &str = "raise-nonconformity";

pub const FINDING_WORKFLOW: Workflow = Workflow {
    transitions: &[audit_step(
        RAISE_NONCONFORMITY,
        "Raise nonconformity",
        "A minor or major nonconformity goes into the nonconformity process (10.2), linked to this finding",
        &["recorded"],
        Some("nonconformity_raised"),
        &[],
    )],
    requester_field: None,
    owner_field: None,
    entries_kind: None,
};

pub const CERTIFICATE_STATES: &[&str] = &["active", "suspended", "withdrawn", "expired"];

pub const CERTIFICATE: KindSpec = KindSpec {
    kind: "certificate",
    collection: "certificates",
    label: "Certificate",
    plural_label: "Certificates",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("certification_body", "Certification body", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("standard", "Standard", FieldType::Text { max: 200 }).required().default_text("ISO/IEC 42001:2023"),
        FieldSpec::new("certificate_number", "Certificate number", FieldType::Text { max: 100 }),
        FieldSpec::new("scope", "Certified scope", FieldType::Text { max: 20_000 }).required(),
        FieldSpec::new("issued_on", "Issued on", FieldType::Date).required(),
        FieldSpec::new("expires_on", "Expires on", FieldType::Date).required(),
        FieldSpec::new("audit_ids", "Certification audits", FieldType::Ids { kind: "audit" }),
    ],
    system_fields: &[sys("status_reason", Shape::Text)],
    rules: &[three_year_cycle],
    initial_state: Some("active"),
    workflow: Some(&CERTIFICATE_WORKFLOW),
    write: Action::Audit,
    ..BASE
};

const REASON: BodyField = BodyField::required("reason", "Reason", "say why, as the certification body stated it");

pub const CERTIFICATE_WORKFLOW: Workflow = Workflow {
    transitions: &[
        audit_step("suspend", "Suspend", "The certification body suspended the certificate", &["active"], Some("suspended"), &[REASON]),
        audit_step("reinstate", "Reinstate", "The suspension is lifted", &["suspended"], Some("active"), &[REASON]),
        audit_step(
            "withdraw",
            "Withdraw",
            "The certification body withdrew the certificate",
            &["active", "suspended"],
            Some("withdrawn"),
            &[REASON],
        ),
        audit_step(
            "expire",
            "Mark expired",
            "The certificate reached its expiry without recertification",
            &["active", "suspended"],
            Some("expired"),
            &[BodyField::optional("reason", "Note")],
        ),
    ],
    requester_field: None,
    owner_field: None,
    entries_kind: None,
};

fn date<'a>(document: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    document.get(field).and_then(Value::as_str)
}

fn period_in_order(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    // Dates are normalised to YYYY-MM-DD, so text order is date order.
    if let (Some(from), Some(to)) = (date(document, "period_from"), date(document, "period_to"))
        && to < from
    {
        errors.push("period_to", "before_start", "the period ends on or after it starts");
    }
}

fn planned_in_order(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    if let (Some(from), Some(to)) = (date(document, "planned_start"), date(document, "planned_end"))
        && to < from
    {
        errors.push("planned_end", "before_start", "the audit ends on or after it starts");
    }
}

fn auditors_differ(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    if let (Some(lead), Some(co)) = (date(document, "lead_auditor_id"), date(document, "co_auditor_id"))
        && lead == co
    {
        errors.push("co_auditor_id", "same_as_lead", "the co-auditor is someone other than the lead auditor");
    }
}

/// A certificate runs at most three years (ISO/IEC 17021-1's certification cycle) and expires
/// after it was issued.
fn three_year_cycle(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    let (Some(issued), Some(expires)) = (date(document, "issued_on"), date(document, "expires_on")) else { return };
    if expires <= issued {
        errors.push("expires_on", "before_start", "a certificate expires after it was issued");
        return;
    }
    let limit = crate::clock::parse_date(issued)
        .and_then(|d| d.replace_year(d.year() + 3).ok().or_else(|| d.next_day()?.replace_year(d.year() + 3).ok()));
    if let Some(limit) = limit.map(crate::clock::format_date)
        && expires > limit.as_str()
    {
        errors.push("expires_on", "beyond_cycle", format!("a certificate runs at most three years: expires on or before {limit}"));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_certificate_runs_at_most_three_years() {
        let ok = json!({"title": "C", "certification_body": "B", "scope": "S", "issued_on": "2026-03-01", "expires_on": "2029-03-01"});
        assert!(CERTIFICATE.validate_create(&ok, &[]).is_ok());
        let long = json!({"title": "C", "certification_body": "B", "scope": "S", "issued_on": "2026-03-01", "expires_on": "2029-03-02"});
        let errors = CERTIFICATE.validate_create(&long, &[]).unwrap_err();
        assert!(errors.0.iter().any(|e| e.field == "expires_on"), "{errors:?}");
    }
}
