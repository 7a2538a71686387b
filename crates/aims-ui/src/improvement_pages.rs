//! Improvement (clause 10) and planned changes (6.3): the pages of nonconformities,
//! improvements and changes are generated from their declarations; a nonconformity's page adds
//! its corrective actions, with their due dates and which are overdue, and a form that raises
//! one in the actions tracker ([`CorrectiveActions`]).

use std::collections::HashMap;

use aims_domain::kinds::{ACTION, CHANGE, IMPROVEMENT, MANAGEMENT_REVIEW, NONCONFORMITY};
use aims_domain::policy::Action;
use aims_store::model::Record;
use aims_store::records::LinkSide;
use askama::Template;
use serde_json::{Value, json};

use crate::UiState;
use crate::common::{field, today, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section};
use crate::page_spec::{Badge, PAGE, PageSection, PageSpec};
use crate::recform::Posted;
use crate::text::{datetime, esc, humanize};

const VERIFICATION_HEADING: &str = "Verification of effectiveness";
const VERIFICATION: &[(&str, &str)] = &[
    ("effective", "Effective"),
    ("verification_comment", "What was checked"),
    ("verified_by", "Verified by"),
    ("verified_at", "Verified at"),
];

/// The area's lists, linked from each.
pub(crate) const AREA: &[&aims_domain::validate::KindSpec] = &[&NONCONFORMITY, &IMPROVEMENT, &CHANGE, &MANAGEMENT_REVIEW];

pub(crate) static PAGES: &[PageSpec] = &[
    PageSpec {
        kind: &NONCONFORMITY,
        title_field: "title",
        columns: &["source", "detected_on", "owner_id"],
        state_column: true,
        badges: &[Badge::OverdueActions { link: LinkSide::Outgoing("corrective_action_ids") }],
        facts: &["source", "detected_on", "owner_id"],
        sections: &[
            PageSection { heading: "Correction", fields: &["correction"] },
            PageSection { heading: "Cause", fields: &["root_cause", "similar_elsewhere", "similar_details"] },
        ],
        serves: "Clause 10.2",
        intro: "Nonconformities from audits, incidents, monitoring, complaints and reviews: the correction taken, the root cause, the corrective actions and the check that they worked, by someone who did not do the work.",
        section: Section::Improve,
        hooks: Some(&CorrectiveActions),
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &IMPROVEMENT,
        title_field: "title",
        columns: &["source", "owner_id"],
        state_column: true,
        badges: &[Badge::OverdueActions { link: LinkSide::Outgoing("action_ids") }],
        facts: &["source", "owner_id"],
        sections: &[
            PageSection { heading: "Outcome", fields: &["outcome"] },
            PageSection {
                heading: "Links",
                fields: &["ai_system_ids", "nonconformity_ids", "action_ids", "requirement_refs", "control_refs"],
            },
        ],
        serves: "Clause 10.1",
        intro: "Opportunities to improve the AI management system, from audits, reviews, incidents, feedback and planning, with the decision taken on each and its outcome.",
        section: Section::Improve,
        hooks: Some(&Recorded {
            heading: "Decision",
            fields: &[
                ("decision", "Decision"),
                ("decision_rationale", "Rationale"),
                ("decided_by", "Decided by"),
                ("decided_at", "Decided at"),
            ],
        }),
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &CHANGE,
        title_field: "title",
        columns: &["planned_on", "owner_id"],
        state_column: true,
        facts: &["planned_on", "owner_id"],
        sections: &[PageSection { heading: "Resources and responsibilities", fields: &["resources", "responsibilities"] }],
        serves: "Clause 6.3",
        intro: "Changes to the AI management system itself, planned before they are made: their purpose and potential consequences, the resources they need and who is responsible.",
        section: Section::Improve,
        hooks: Some(&Recorded { heading: "Outcome", fields: &[("closing_note", "Note"), ("completed_at", "Completed at")] }),
        related: AREA,
        ..PAGE
    },
];

/// What a kind's transitions recorded on the record (who decided, when, why), shown once set:
/// the generated pages show the fields people write, not those the system writes.
pub(crate) struct Recorded {
    pub heading: &'static str,
    pub fields: &'static [(&'static str, &'static str)],
}

impl PageHooks for Recorded {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, _: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let (_, names) = ctx.member_names(state).await?;
            Ok(recorded_html(self.heading, self.fields, record, &names))
        })
    }
}

/// A card of the recorded fields that are set, or `None` when none is.
pub(crate) fn recorded_html(heading: &str, fields: &[(&str, &str)], record: &Record, names: &HashMap<String, String>) -> Option<String> {
    let shown: Vec<String> = fields
        .iter()
        .filter_map(|(name, label)| {
            let value = match record.data.get(*name)? {
                Value::Bool(b) => if *b { "Yes" } else { "No" }.to_owned(),
                Value::String(s) if name.ends_with("_by") => names.get(s).cloned().unwrap_or_else(|| s.clone()),
                Value::String(s) if name.ends_with("_at") => datetime(s),
                Value::String(s) => humanize_value(name, s),
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

/// A recorded code (`accepted`) as words; free text as it is.
fn humanize_value(name: &str, value: &str) -> String {
    if name == "decision" { humanize(value) } else { value.to_owned() }
}

/// One corrective action as the panel lists it.
struct Row {
    href: String,
    title: String,
    owner: String,
    due: String,
    status: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "corrective_actions_panel.html")]
struct Panel {
    org_slug: String,
    id: String,
    version: i64,
    rows: Vec<Row>,
    overdue: usize,
    can_raise: bool,
    members: Vec<(String, String)>,
    typed_title: String,
    typed_owner: String,
    typed_due: String,
    errors: FormErrors,
}

/// A nonconformity's corrective actions (with due dates, overdue ones marked) and a form that
/// raises one in the actions tracker.
pub(crate) struct CorrectiveActions;

impl PageHooks for CorrectiveActions {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, nc: &'a Record, refused: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let (members, names) = ctx.member_names(state).await?;
            let rows = rows(state, ctx, nc, &names).await?;
            let typed = |name: &str| refused.map(|r| r.typed.one(name)).unwrap_or_default();
            let panel = Panel {
                org_slug: ctx.slug().to_owned(),
                id: nc.id.clone(),
                version: nc.version,
                overdue: rows.iter().filter(|r| r.overdue).count(),
                rows,
                can_raise: ctx.can(Action::Edit) && !nc.archived && nc.state.as_deref() != Some("closed"),
                members: members.into_iter().map(|m| (m.user_id, m.display_name)).collect(),
                typed_title: typed("title"),
                typed_owner: typed("owner_id"),
                typed_due: typed("due_date"),
                errors: refused.map(|r| r.errors.clone()).unwrap_or_default(),
            };
            let mut html = panel.render().map_err(|e| UiError::Internal(e.to_string()))?;
            html.extend(recorded_html(VERIFICATION_HEADING, VERIFICATION, nc, &names));
            Ok(Some(html))
        })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["corrective-actions"]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, posted: Posted) -> ActFuture<'a> {
        match action {
            "corrective-actions" => Box::pin(raise(state, ctx, id, posted)),
            _ => Box::pin(async { Err(UiError::NotFound) }),
        }
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        (done == "raised").then(|| Notice::Done("Corrective action raised in the actions tracker.".into()))
    }
}

/// The nonconformity's corrective actions in the order it lists them (an archived or vanished
/// one is left out).
async fn rows(state: &UiState, ctx: &OrgCtx, nc: &Record, names: &HashMap<String, String>) -> Result<Vec<Row>, UiError> {
    let today = today();
    let ids: Vec<&str> =
        nc.data.get("corrective_action_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let action = match state.app.get_record_by_id(&ctx.member, &ACTION, id).await {
            Ok(action) if !action.archived => action,
            Ok(_) | Err(aims_app::AppError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let owner = field(&action, "owner_id");
        rows.push(Row {
            href: format!("/orgs/{}/actions/{}", ctx.slug(), action.id),
            title: field(&action, "title"),
            owner: names.get(&owner).cloned().unwrap_or_default(),
            due: field(&action, "due_date"),
            status: field(&action, "status"),
            overdue: crate::actions::is_overdue(&action, &today),
        });
    }
    Ok(rows)
}

/// Raises a corrective action from the panel's form, at the version of the page shown.
async fn raise(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    let input = json!({
        "title": posted.one("title"),
        "owner_id": forms::text_or_null(&posted.one("owner_id")),
        "due_date": forms::text_or_null(&posted.one("due_date")),
    });
    match state.app.raise_corrective_action(&ctx.member, id, version_of(&posted), &input).await {
        Ok(_) => Ok(Acted::Done { done: "raised", anchor: "corrective-actions" }),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: posted, errors }))
        }
    }
}
