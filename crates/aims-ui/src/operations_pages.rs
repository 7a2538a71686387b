//! Operation (clause 8, A.3.3, A.8, A.10): the pages of incidents, concerns, suppliers and
//! supplier reviews are generated from their declarations. An incident's page adds the
//! nonconformities it raised and a form raising one ([`RaiseNonconformity`]); a concern's
//! page and a review's page show what their transitions recorded ([`Recorded`]).

use std::collections::HashMap;

use aims_domain::kinds::{CONCERN, INCIDENT, NONCONFORMITY, SUPPLIER, SUPPLIER_REVIEW};
use aims_domain::policy::Action;
use aims_domain::validate::KindSpec;
use aims_store::model::Record;
use serde_json::{Value, json};

use crate::UiState;
use crate::common::{field, version_of};
use crate::error::UiError;
use crate::forms::{self, Notice};
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section};
use crate::page_spec::{PAGE, PageSection, PageSpec};
use crate::recform::Posted;
use crate::text::{datetime, esc, humanize};

/// The area's lists, linked from each.
const AREA: &[&KindSpec] = &[&INCIDENT, &CONCERN, &SUPPLIER, &SUPPLIER_REVIEW];

pub(crate) static PAGES: &[PageSpec] = &[
    PageSpec {
        kind: &INCIDENT,
        title_field: "title",
        columns: &["severity", "detected_on", "report_by", "owner_id"],
        facts: &["severity", "owner_id", "report_by"],
        sections: &[
            PageSection { heading: "What happened", fields: &["description", "reported_by"] },
            PageSection { heading: "Affected", fields: &["ai_system_ids", "affected_people", "people_affected_count"] },
            PageSection { heading: "Timeline", fields: &["occurred_on", "detected_on", "contained_on", "resolved_on"] },
            PageSection { heading: "Containment", fields: &["containment"] },
            PageSection {
                heading: "External reporting",
                fields: &["external_report_required", "reporting_regime", "report_by", "reported_externally_on"],
            },
            PageSection { heading: "Who was told", fields: &["notified"] },
        ],
        serves: "Clause 8.1, A.8.4",
        intro: "AI incidents: what happened, which AI systems and people it affected, how it was contained, whether and by when it must be reported externally (the report-by date follows from the regime when not entered), who was told, and the nonconformities it raised.",
        section: Section::Operate,
        hooks: Some(&RaiseNonconformity),
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &CONCERN,
        title_field: "subject",
        columns: &["ai_system_name", "owner_id"],
        facts: &["ai_system_name", "owner_id"],
        sections: &[
            PageSection { heading: "The concern", fields: &["description"] },
            PageSection { heading: "Reporter", fields: &["contact_name", "contact_email"] },
            PageSection { heading: "Answer", fields: &["public_answer"] },
            PageSection { heading: "Links", fields: &["ai_system_ids", "incident_ids", "nonconformity_ids", "improvement_ids"] },
        ],
        serves: "A.3.3, A.8.3",
        intro: "Concerns about AI systems, raised by anyone through the public form (/trust/<organisation>/concerns/new, no account needed, anonymous if they wish) or recorded by a member. Each is triaged into an incident, a nonconformity or an improvement, or closed with an answer; the reporter follows its state and the answer through a private link.",
        section: Section::Operate,
        hooks: Some(&Recorded {
            heading: "Triage",
            fields: &[
                ("received_via", "Received through"),
                ("triaged_into", "Triaged into"),
                ("triaged_by", "Triaged by"),
                ("triaged_at", "Triaged at"),
            ],
        }),
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &SUPPLIER,
        title_field: "name",
        columns: &["risk_rating", "next_review_on", "owner_id"],
        facts: &["owner_id", "risk_rating", "review_cadence", "next_review_on"],
        sections: &[PageSection { heading: "AI supplied", fields: &["supplied_ai", "ai_services"] }],
        serves: "Clause 8.1, A.10.3",
        intro: "Suppliers of AI systems, models, data and services: what they provide, how much that puts at risk and when each is reviewed next. The AI systems that use a supplier and its reviews are listed on its page.",
        section: Section::Operate,
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &SUPPLIER_REVIEW,
        title_field: "title",
        columns: &["supplier_id", "reviewed_on", "risk_rating", "outcome"],
        facts: &["supplier_id", "reviewer_id", "reviewed_on", "risk_rating", "outcome"],
        sections: &[
            PageSection {
                heading: "AI due diligence",
                fields: &["model_lineage", "data_provenance", "evaluation_results", "intended_use_boundaries", "security_posture"],
            },
            PageSection {
                heading: "Contract and incident commitments",
                fields: &[
                    "clause_incident_notice",
                    "clause_audit_rights",
                    "clause_data_use",
                    "incident_notice_hours",
                    "incident_commitments",
                ],
            },
            PageSection { heading: "Outcome", fields: &["conditions", "next_review_on", "ai_system_ids"] },
        ],
        serves: "Clause 8.1, A.10.3",
        intro: "Reviews of third-party AI suppliers: model lineage, training-data provenance, evaluation results, intended-use boundaries, security posture, the contract's clauses and incident commitments, with a risk rating and an outcome decided by someone independent of the review.",
        section: Section::Operate,
        hooks: Some(&Recorded {
            heading: "Decision",
            fields: &[("decision_comment", "Comment"), ("decided_by", "Decided by"), ("decided_at", "Decided at")],
        }),
        related: AREA,
        ..PAGE
    },
];

/// What a kind's transitions recorded on the record (who, when, what), shown once set.
pub(crate) struct Recorded {
    heading: &'static str,
    fields: &'static [(&'static str, &'static str)],
}

impl PageHooks for Recorded {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, _: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let (_, names) = ctx.member_names(state).await?;
            Ok(recorded_html(self.heading, self.fields, record, &names))
        })
    }
}

fn recorded_html(heading: &str, fields: &[(&str, &str)], record: &Record, names: &HashMap<String, String>) -> Option<String> {
    let shown: Vec<String> = fields
        .iter()
        .filter_map(|(name, label)| {
            let value = match record.data.get(*name)? {
                Value::String(s) if name.ends_with("_by") => names.get(s).cloned().unwrap_or_else(|| s.clone()),
                Value::String(s) if name.ends_with("_at") => datetime(s),
                Value::String(s) if matches!(*name, "received_via" | "triaged_into") => humanize(s),
                Value::String(s) => s.clone(),
                _ => return None,
            };
            Some(format!(r#"<div><dt>{}</dt><dd class="pre">{}</dd></div>"#, esc(label), esc(&value)))
        })
        .collect();
    if shown.is_empty() {
        return None;
    }
    let id = format!("{}-h", heading.to_lowercase().replace(' ', "-"));
    Some(format!(
        r#"<section class="card" aria-labelledby="{id}"><h2 id="{id}">{}</h2><dl class="facts">{}</dl></section>"#,
        esc(heading),
        shown.concat()
    ))
}

/// An incident's nonconformities, and a form raising one (source `incident`, linked from the
/// incident in the same transaction).
pub(crate) struct RaiseNonconformity;

impl PageHooks for RaiseNonconformity {
    fn panel<'a>(
        &'a self,
        state: &'a UiState,
        ctx: &'a OrgCtx,
        incident: &'a Record,
        refused: Option<&'a PanelRefusal>,
    ) -> PanelFuture<'a> {
        Box::pin(async move {
            let (members, _) = ctx.member_names(state).await?;
            let mut rows = String::new();
            let ids = incident.data.get("nonconformity_ids").and_then(Value::as_array).cloned().unwrap_or_default();
            for id in ids.iter().filter_map(Value::as_str) {
                let nc = match state.app.get_record_by_id(&ctx.member, &NONCONFORMITY, id).await {
                    Ok(nc) if !nc.archived => nc,
                    Ok(_) | Err(aims_app::AppError::NotFound(_)) => continue,
                    Err(e) => return Err(e.into()),
                };
                let nc_state = nc.state.clone().unwrap_or_default();
                rows.push_str(&format!(
                    r#"<li><a href="/orgs/{}/nonconformities/{}">{}</a> <span class="badge badge-{}">{}</span></li>"#,
                    esc(ctx.slug()),
                    esc(&nc.id),
                    esc(&field(&nc, "title")),
                    esc(&nc_state),
                    esc(&humanize(&nc_state))
                ));
            }
            let mut html = String::from(
                r#"<section class="card" id="raise-nonconformity" aria-labelledby="rnc-h"><header class="card-header"><h2 id="rnc-h">Nonconformities raised</h2></header>"#,
            );
            if rows.is_empty() {
                html.push_str(r#"<p class="muted small">No nonconformity raised from this incident yet.</p>"#);
            } else {
                html.push_str(&format!(r#"<ul class="plain-list">{rows}</ul>"#));
            }
            let open = !incident.archived && incident.state.as_deref() != Some("closed");
            if ctx.can(Action::Edit) && open {
                html.push_str(&raise_form(ctx, incident, &members, refused));
            }
            html.push_str("</section>");
            Ok(Some(html))
        })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["raise-nonconformity"]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, posted: Posted) -> ActFuture<'a> {
        match action {
            "raise-nonconformity" => Box::pin(raise(state, ctx, id, posted)),
            _ => Box::pin(async { Err(UiError::NotFound) }),
        }
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        (done == "nonconformity-raised").then(|| Notice::Done("Nonconformity raised and linked to the incident.".into()))
    }
}

fn raise_form(ctx: &OrgCtx, incident: &Record, members: &[aims_store::model::Member], refused: Option<&PanelRefusal>) -> String {
    let typed = |name: &str| refused.map(|r| r.typed.one(name));
    let title = typed("title").unwrap_or_else(|| field(incident, "title"));
    let owner = typed("owner_id").unwrap_or_default();
    let error = refused.and_then(|r| r.errors.get("title"));
    let invalid = if error.is_some() { r#" aria-invalid="true" aria-describedby="rnc-title-error""# } else { "" };
    let error_html = error.map(|m| format!(r#"<p class="field-error" id="rnc-title-error">{}</p>"#, esc(&m))).unwrap_or_default();
    let options: String = members
        .iter()
        .map(|m| {
            let selected = if m.user_id == owner { " selected" } else { "" };
            format!(r#"<option value="{}"{selected}>{}</option>"#, esc(&m.user_id), esc(&m.display_name))
        })
        .collect();
    format!(
        r#"<h3 class="raise-h">Raise a nonconformity</h3>
<form method="post" action="/orgs/{org}/incidents/{id}/raise-nonconformity" class="form form-2col">
<input type="hidden" name="version" value="{version}">
<div class="field field-full"><span class="label-row"><label for="rnc-title">Nonconformity</label><span class="req" aria-hidden="true" title="required">*</span></span>
<input id="rnc-title" name="title" type="text" maxlength="300" required value="{title}"{invalid}>{error_html}</div>
<div class="field"><span class="label-row"><label for="rnc-owner">Owner</label></span>
<select id="rnc-owner" name="owner_id"><option value="">Unassigned</option>{options}</select></div>
<div class="form-actions"><button type="submit" class="btn btn-secondary">Raise nonconformity</button></div>
</form>"#,
        org = esc(ctx.slug()),
        id = esc(&incident.id),
        version = incident.version,
        title = esc(&title),
    )
}

/// Raises the nonconformity from the panel's form, at the version of the page shown.
async fn raise(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    let input = json!({"title": posted.one("title"), "owner_id": forms::text_or_null(&posted.one("owner_id"))});
    match state.app.raise_nonconformity_from_incident(&ctx.member, id, version_of(&posted), &input).await {
        Ok(_) => Ok(Acted::Done { done: "nonconformity-raised", anchor: "raise-nonconformity" }),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: posted, errors }))
        }
    }
}
