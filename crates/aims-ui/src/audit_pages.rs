//! Internal and external audit (9.2): the pages of audit programmes, audits, findings and
//! certificates are generated from their declarations. An audit's page adds its checklist,
//! generated from its scope, with a form per item recording its result, notes and evidence
//! ([`Checklist`]), the audit's findings, and its report once closed. A finding raises its
//! nonconformity through the generated transition button.

use std::collections::HashMap;

use aims_domain::kinds::audit::{RECORD_RESULT, RESULTS};
use aims_domain::kinds::{AUDIT, AUDIT_PROGRAMME, CERTIFICATE, FINDING};
use aims_store::model::Record;
use aims_store::page_json::Filter;
use askama::Template;
use serde_json::{Value, json};

use crate::UiState;
use crate::common::version_of;
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::improvement_pages::{Recorded, recorded_html};
use crate::layout::{OrgCtx, Section};
use crate::page_spec::{PAGE, PageSection, PageSpec};
use crate::recform::Posted;
use crate::text::humanize;

/// The area's four lists, linked from each.
const AREA: &[&aims_domain::validate::KindSpec] = &[&AUDIT_PROGRAMME, &AUDIT, &FINDING, &CERTIFICATE];

pub(crate) static PAGES: &[PageSpec] = &[
    PageSpec {
        kind: &AUDIT_PROGRAMME,
        title_field: "title",
        columns: &["frequency", "period_from", "period_to", "owner_id"],
        facts: &["frequency", "period_from", "period_to", "owner_id"],
        sections: &[
            PageSection { heading: "Scope", fields: &["scope"] },
            PageSection { heading: "Criteria and methods", fields: &["criteria", "methods"] },
        ],
        serves: "Clause 9.2.2",
        intro: "The audit programme: how often the AI management system is audited, what each audit covers, against which criteria and by which methods.",
        section: Section::Audit,
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &AUDIT,
        title_field: "title",
        columns: &["audit_type", "planned_start", "lead_auditor_id"],
        facts: &["audit_type", "programme_id", "period_from", "period_to", "lead_auditor_id"],
        sections: &[
            PageSection { heading: "Scope", fields: &["requirement_refs", "control_refs", "ai_system_ids", "business_units"] },
            PageSection {
                heading: "Team and audited period",
                fields: &["lead_auditor_id", "co_auditor_id", "auditees", "period_from", "period_to"],
            },
            PageSection { heading: "Plan", fields: &["planned_start", "planned_end", "criteria", "certification_body"] },
        ],
        serves: "Clause 9.2",
        intro: "Internal audits and the certification body's audits: what each covers, who audits it (never someone who owns or changed what is audited in the audited period), the checklist generated from its scope with a result per item, its findings and its report.",
        section: Section::Audit,
        hooks: Some(&Checklist),
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &FINDING,
        title_field: "title",
        columns: &["classification", "audit_id"],
        facts: &["classification", "audit_id", "nonconformity_id"],
        sections: &[
            PageSection { heading: "What was found", fields: &["description", "checklist_item"] },
            PageSection { heading: "Links", fields: &["requirement_refs", "control_refs", "ai_system_ids", "evidence_ids"] },
        ],
        serves: "Clause 9.2",
        intro: "What auditors found: conformities, minor and major nonconformities, observations and opportunities for improvement. A minor or major nonconformity raises a nonconformity in the corrective-action process.",
        section: Section::Audit,
        hooks: Some(&Recorded { heading: "Nonconformity raised", fields: &[("raised_by", "Raised by"), ("raised_at", "Raised at")] }),
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &CERTIFICATE,
        title_field: "title",
        columns: &["certification_body", "issued_on", "expires_on"],
        facts: &["certification_body", "standard", "issued_on", "expires_on"],
        sections: &[PageSection { heading: "Certified scope", fields: &["scope", "certificate_number", "audit_ids"] }],
        serves: "Clause 9.2",
        intro: "Certificates issued by a certification body on the three-year cycle: Stage 1 and Stage 2 audits, yearly surveillance audits and recertification.",
        section: Section::Audit,
        hooks: Some(&Recorded { heading: "Status", fields: &[("status_reason", "Reason")] }),
        related: AREA,
        ..PAGE
    },
];

const REPORT: &[(&str, &str)] = &[("report_summary", "Report summary"), ("closed_by", "Closed by"), ("closed_at", "Closed at")];
const FIELDWORK: &[(&str, &str)] = &[("started_at", "Started at")];

/// One checklist item as the panel shows it.
struct Item {
    key: String,
    /// A safe id suffix for the row's form controls.
    slug: String,
    label: String,
    kind: &'static str,
    result: String,
    notes: String,
    evidence: String,
    recorded_by: String,
}

/// One finding of the audit as the panel lists it.
struct FindingRow {
    href: String,
    title: String,
    classification: String,
}

#[derive(Template)]
#[template(path = "audit_checklist_panel.html")]
struct Panel {
    org_slug: String,
    id: String,
    version: i64,
    items: Vec<Item>,
    results: Vec<(&'static str, String)>,
    can_record: bool,
    why_not: Option<String>,
    typed_item: String,
    typed_result: String,
    typed_notes: String,
    typed_evidence: String,
    errors: FormErrors,
    findings: Vec<FindingRow>,
    new_finding: String,
}

/// An audit's checklist with a form per item for its auditors, its findings and its report.
pub(crate) struct Checklist;

impl PageHooks for Checklist {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, audit: &'a Record, refused: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let (_, names) = ctx.member_names(state).await?;
            let choices = state.app.transition_choices(&ctx.member, &AUDIT, &audit.id).await?;
            let choice = choices.iter().find(|c| c.name == RECORD_RESULT);
            let can_record = !audit.archived && choice.is_some_and(|c| c.allowed());
            // The state rules recording out for everyone (before the start, once closed): nothing to explain.
            let why_not = choice.and_then(|c| c.refusal.as_ref()).filter(|r| r.rule != "state").map(|r| r.detail.clone());
            let typed = |name: &str| refused.map(|r| r.typed.one(name)).unwrap_or_default();
            let panel = Panel {
                org_slug: ctx.slug().to_owned(),
                id: audit.id.clone(),
                version: audit.version,
                items: items(audit, &names),
                results: RESULTS.iter().map(|r| (*r, humanize(r))).collect(),
                can_record,
                why_not,
                typed_item: typed("item"),
                typed_result: typed("result"),
                typed_notes: typed("notes"),
                typed_evidence: typed("evidence"),
                errors: refused.map(|r| r.errors.clone()).unwrap_or_default(),
                findings: findings(state, ctx, audit).await?,
                new_finding: format!("/orgs/{}/findings/new", ctx.slug()),
            };
            let mut html = panel.render().map_err(|e| UiError::Internal(e.to_string()))?;
            html.extend(recorded_html("Fieldwork", FIELDWORK, audit, &names));
            html.extend(recorded_html("Audit report", REPORT, audit, &names));
            Ok(Some(html))
        })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["checklist"]
    }

    fn own_transitions(&self) -> &'static [&'static str] {
        &[RECORD_RESULT]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, posted: Posted) -> ActFuture<'a> {
        match action {
            "checklist" => Box::pin(record(state, ctx, id, posted)),
            _ => Box::pin(async { Err(UiError::NotFound) }),
        }
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        (done == "recorded").then(|| Notice::Done("Result recorded.".into()))
    }
}

fn items(audit: &Record, names: &HashMap<String, String>) -> Vec<Item> {
    let text = |item: &Value, f: &str| item.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
    audit
        .data
        .get("checklist")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, item)| Item {
            key: text(item, "item"),
            slug: format!("ci{i}"),
            label: text(item, "label"),
            kind: match item.get("kind").and_then(Value::as_str) {
                Some("requirement") => "Clause",
                Some("control") => "Control",
                _ => "AI system",
            },
            result: text(item, "result"),
            notes: text(item, "notes"),
            evidence: text(item, "evidence"),
            recorded_by: names.get(&text(item, "recorded_by")).cloned().unwrap_or_default(),
        })
        .collect()
}

/// Every live finding of the audit, in the order they were raised.
async fn findings(state: &UiState, ctx: &OrgCtx, audit: &Record) -> Result<Vec<FindingRow>, UiError> {
    let filters = [Filter::Link { field: "audit_id", id: audit.id.clone() }];
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let page = state.app.list_records_where(&ctx.member, &FINDING, false, &filters, after, 200).await?;
        rows.extend(page.items.iter().map(|f| FindingRow {
            href: format!("/orgs/{}/findings/{}", ctx.slug(), f.id),
            title: f.data.get("title").and_then(Value::as_str).unwrap_or_default().to_owned(),
            classification: f.data.get("classification").and_then(Value::as_str).unwrap_or_default().to_owned(),
        }));
        match page.next_after {
            Some(seq) => after = seq,
            None => return Ok(rows),
        }
    }
}

/// Records one item's result from its row's form, at the version of the page shown.
async fn record(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    let body = json!({
        "item": posted.one("item"),
        "result": posted.one("result"),
        "notes": forms::text_or_null(&posted.one("notes")),
        "evidence": forms::text_or_null(&posted.one("evidence")),
    });
    match state.app.transition(&ctx.member, &AUDIT, id, RECORD_RESULT, version_of(&posted), &body).await {
        Ok(_) => Ok(Acted::Done { done: "recorded", anchor: "checklist" }),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: posted, errors }))
        }
    }
}
