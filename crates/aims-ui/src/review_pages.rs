//! Management review (9.3): the pages of management reviews are generated from their
//! declaration; a review's page adds its inputs, assembled from the record while the review is
//! open and read from the frozen pack once it is closed, and its decisions with the form that
//! records one and raises its action in the actions tracker ([`ReviewPanel`]).

use std::collections::HashMap;

use aims_domain::kinds::{ACTION, MANAGEMENT_REVIEW};
use aims_domain::policy::Action;
use aims_store::model::Record;
use aims_store::records::LinkSide;
use askama::Template;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::charts::{self, TrendPoint, TrendTarget};
use crate::common::version_of;
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section};
use crate::page_spec::{Badge, PAGE, PageSection, PageSpec};
use crate::recform::Posted;
use crate::text::{datetime, humanize};

pub(crate) static PAGES: &[PageSpec] = &[PageSpec {
    kind: &MANAGEMENT_REVIEW,
    title_field: "title",
    columns: &["planned_on", "chair_id"],
    state_column: true,
    badges: &[Badge::OverdueActions { link: LinkSide::Outgoing("action_ids") }],
    facts: &["planned_on", "chair_id"],
    sections: &[
        PageSection { heading: "Attendance", fields: &["attendee_ids", "other_attendees"] },
        PageSection { heading: "Meeting", fields: &["agenda", "minutes"] },
    ],
    serves: "Clause 9.3",
    intro: "Top management's reviews of the AI management system: the inputs are assembled from the record itself, the decisions and actions are recorded, and a closed review keeps the pack exactly as it was reviewed.",
    section: Section::Review,
    // The decisions list the actions they raised, with their state in the tracker.
    hidden: &["action_ids"],
    hooks: Some(&ReviewPanel),
    related: crate::improvement_pages::AREA,
    ..PAGE
}];

// ---- the inputs, read from the assembled pack ----

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn n(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// "3 high · 2 medium" from the pack's `[{value, count}]`, or "none recorded".
fn groups(v: &Value, key: &str) -> String {
    let parts: Vec<String> =
        items(v, key).iter().map(|g| format!("{} {}", n(g, "count"), humanize(s(g, "value")).to_lowercase())).collect();
    if parts.is_empty() { "none recorded".into() } else { parts.join(" · ") }
}

struct Linked {
    href: String,
    title: String,
    /// State or status, as a badge class and its words.
    status: String,
    status_label: String,
    note: String,
    flagged: bool,
}

struct ObjectiveView {
    href: String,
    title: String,
    status: String,
    status_label: &'static str,
    chart: String,
}

#[derive(Template)]
#[template(path = "review_inputs.html")]
struct Inputs {
    frozen: bool,
    assembled: String,
    since: String,
    previous_review: Option<(String, String)>,
    prev_actions: Vec<Linked>,
    prev_open: i64,
    prev_overdue: i64,
    prev_done: i64,
    issues: Vec<Linked>,
    issues_total: i64,
    parties: Vec<Linked>,
    parties_total: i64,
    ncs: Vec<Linked>,
    nc_overdue: i64,
    nc_closed: Vec<Linked>,
    objectives: Vec<ObjectiveView>,
    audits: i64,
    findings: i64,
    audit_states: String,
    finding_states: String,
    risk_total: i64,
    risk_levels: String,
    risk_statuses: String,
    above_threshold: i64,
    impacts: i64,
    impact_states: String,
    reassessment_due: i64,
    suppliers: i64,
    supplier_reviews: Option<i64>,
    ratings: String,
    improvement_states: String,
    improvements_open: Vec<Linked>,
}

fn href(slug: &str, collection: &str, id: &str) -> String {
    format!("/orgs/{slug}/{collection}/{id}")
}

fn changed(slug: &str, collection: &str, v: &Value) -> Vec<Linked> {
    items(v, "changed")
        .iter()
        .map(|c| Linked {
            href: href(slug, collection, s(c, "id")),
            title: s(c, "title").to_owned(),
            status: if c["new"].as_bool() == Some(true) { "new".into() } else { "changed".into() },
            status_label: if c["new"].as_bool() == Some(true) { "New".into() } else { "Changed".into() },
            note: s(c, "updated_on").to_owned(),
            flagged: false,
        })
        .collect()
}

fn objective_view(slug: &str, i: usize, o: &Value) -> ObjectiveView {
    let points: Vec<TrendPoint> = items(o, "points")
        .iter()
        .filter_map(|p| Some(TrendPoint { date: s(p, "date").to_owned(), value: p.get("value")?.as_f64()? }))
        .collect();
    let goal = TrendTarget {
        target: o.get("target").and_then(Value::as_f64).unwrap_or(0.0),
        at_most: s(o, "direction") == "at_most",
        baseline: o.get("baseline").and_then(Value::as_f64),
        unit: s(o, "unit"),
    };
    let title = s(o, "title");
    let (status, status_label) = match s(o, "status") {
        "on_track" => ("on_track", "On track"),
        "off_track" => ("off_track", "Off track"),
        _ => ("no_data", "No data"),
    };
    ObjectiveView {
        href: href(slug, "objectives", s(o, "id")),
        title: title.to_owned(),
        status: status.into(),
        status_label,
        chart: charts::trend(&format!("review-trend-{i}"), &format!("{title}: measurements"), &points, &goal),
    }
}

fn inputs_view(slug: &str, pack: &Value, frozen: bool) -> Inputs {
    let prev = &pack["previous_actions"];
    let context = &pack["context"];
    let ncs = &pack["nonconformities"];
    let audits = &pack["audits"];
    let risks = &pack["risks"];
    let suppliers = &pack["suppliers"];
    let improvements = &pack["improvements"];
    Inputs {
        frozen,
        assembled: datetime(s(pack, "assembled_at")),
        since: s(pack, "since").to_owned(),
        previous_review: pack
            .get("previous_review")
            .filter(|p| p.is_object())
            .map(|p| (href(slug, "management-reviews", s(p, "id")), s(p, "title").to_owned())),
        prev_actions: items(prev, "items")
            .iter()
            .map(|a| Linked {
                href: href(slug, "actions", s(a, "id")),
                title: s(a, "title").to_owned(),
                status: s(a, "status").to_owned(),
                status_label: humanize(s(a, "status")),
                note: s(a, "due_date").to_owned(),
                flagged: a["overdue"].as_bool() == Some(true),
            })
            .collect(),
        prev_open: n(prev, "open"),
        prev_overdue: n(prev, "overdue"),
        prev_done: n(prev, "done"),
        issues: changed(slug, "context-issues", &context["issues"]),
        issues_total: n(&context["issues"], "total"),
        parties: changed(slug, "interested-parties", &context["parties"]),
        parties_total: n(&context["parties"], "total"),
        ncs: items(ncs, "open")
            .iter()
            .map(|r| {
                let overdue = n(r, "overdue_actions");
                Linked {
                    href: href(slug, "nonconformities", s(r, "id")),
                    title: s(r, "title").to_owned(),
                    status: s(r, "state").to_owned(),
                    status_label: humanize(s(r, "state")),
                    note: format!("{} corrective action{}", n(r, "actions"), if n(r, "actions") == 1 { "" } else { "s" }),
                    flagged: overdue > 0,
                }
            })
            .collect(),
        nc_overdue: n(ncs, "overdue_actions"),
        nc_closed: items(ncs, "closed_since")
            .iter()
            .map(|r| Linked {
                href: href(slug, "nonconformities", s(r, "id")),
                title: s(r, "title").to_owned(),
                status: "closed".into(),
                status_label: "Closed".into(),
                note: s(r, "closed_on").to_owned(),
                flagged: false,
            })
            .collect(),
        objectives: items(&pack["objectives"], "items").iter().enumerate().map(|(i, o)| objective_view(slug, i, o)).collect(),
        audits: n(audits, "audits"),
        findings: n(audits, "findings"),
        audit_states: groups(audits, "audits_by_state"),
        finding_states: groups(audits, "findings_by_state"),
        risk_total: n(risks, "total"),
        risk_levels: groups(risks, "by_level"),
        risk_statuses: groups(risks, "by_status"),
        above_threshold: n(risks, "above_threshold"),
        impacts: n(risks, "impact_assessments"),
        impact_states: groups(risks, "impacts_by_state"),
        reassessment_due: n(risks, "reassessment_due"),
        suppliers: n(suppliers, "suppliers"),
        supplier_reviews: suppliers.get("reviews").and_then(Value::as_i64),
        ratings: groups(suppliers, "ratings"),
        improvement_states: groups(improvements, "by_state"),
        improvements_open: items(improvements, "open")
            .iter()
            .map(|r| Linked {
                href: href(slug, "improvements", s(r, "id")),
                title: s(r, "title").to_owned(),
                status: s(r, "state").to_owned(),
                status_label: humanize(s(r, "state")),
                note: String::new(),
                flagged: false,
            })
            .collect(),
    }
}

// ---- decisions ----

struct DecisionRow {
    text: String,
    action: Option<Linked>,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "review_decisions.html")]
struct Decisions {
    org_slug: String,
    id: String,
    version: i64,
    rows: Vec<DecisionRow>,
    can_decide: bool,
    planned: bool,
    members: Vec<(String, String)>,
    typed_decision: String,
    typed_title: String,
    typed_owner: String,
    typed_due: String,
    errors: FormErrors,
}

/// A review's decisions, each with the action it raised (as it stands now in the tracker).
async fn decision_rows(
    state: &UiState,
    ctx: &OrgCtx,
    review: &Record,
    names: &HashMap<String, String>,
) -> Result<Vec<DecisionRow>, UiError> {
    let today = crate::common::today();
    let mut rows = Vec::new();
    for d in review.data.get("decisions").and_then(Value::as_array).into_iter().flatten() {
        let action = match d.get("action_id").and_then(Value::as_str) {
            Some(id) => match state.app.get_record_by_id(&ctx.member, &ACTION, id).await {
                Ok(a) => Some(Linked {
                    href: href(ctx.slug(), "actions", &a.id),
                    title: crate::common::field(&a, "title"),
                    status: crate::common::field(&a, "status"),
                    status_label: humanize(&crate::common::field(&a, "status")),
                    note: crate::common::field(&a, "due_date"),
                    flagged: crate::actions::is_overdue(&a, &today),
                }),
                Err(aims_app::AppError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let by = s(d, "recorded_by");
        rows.push(DecisionRow {
            text: s(d, "text").to_owned(),
            action,
            by: names.get(by).cloned().unwrap_or_else(|| by.to_owned()),
            at: datetime(s(d, "recorded_at")),
        });
    }
    Ok(rows)
}

/// A review's inputs (live, or frozen once closed) and its decisions, with the form that
/// records one and raises its action.
pub(crate) struct ReviewPanel;

const DECIDE: &str = "decide";

impl PageHooks for ReviewPanel {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, review: &'a Record, refused: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let (members, names) = ctx.member_names(state).await?;
            let held = review.state.as_deref() == Some("held");
            let typed = |name: &str| refused.map(|r| r.typed.one(name)).unwrap_or_default();
            let decisions = Decisions {
                org_slug: ctx.slug().to_owned(),
                id: review.id.clone(),
                version: review.version,
                rows: decision_rows(state, ctx, review, &names).await?,
                can_decide: held && !review.archived && ctx.can(Action::Edit),
                planned: review.state.as_deref() == Some("planned"),
                members: members.into_iter().map(|m| (m.user_id, m.display_name)).collect(),
                typed_decision: typed("decision"),
                typed_title: typed("action_title"),
                typed_owner: typed("action_owner_id"),
                typed_due: typed("action_due_date"),
                errors: refused.map(|r| r.errors.clone()).unwrap_or_default(),
            };
            let frozen = review.state.as_deref() == Some("closed");
            let pack = state.app.review_inputs(&ctx.member, review).await?;
            let inputs = inputs_view(ctx.slug(), &pack, frozen);
            let render = |e: askama::Error| UiError::Internal(e.to_string());
            Ok(Some(format!("{}{}", decisions.render().map_err(render)?, inputs.render().map_err(render)?)))
        })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["decisions"]
    }

    fn own_transitions(&self) -> &'static [&'static str] {
        &[DECIDE]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, posted: Posted) -> ActFuture<'a> {
        match action {
            "decisions" => Box::pin(decide(state, ctx, id, posted)),
            _ => Box::pin(async { Err(UiError::NotFound) }),
        }
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        (done == "decided").then(|| Notice::Done("Decision recorded.".into()))
    }
}

/// Records a decision (and its action) through the review's `decide` transition, at the
/// version of the page shown.
async fn decide(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    let mut body = Map::new();
    for name in ["decision", "action_title", "action_owner_id", "action_due_date"] {
        body.insert(name.into(), forms::text_or_null(&posted.one(name)));
    }
    match state.app.transition(&ctx.member, &MANAGEMENT_REVIEW, id, DECIDE, version_of(&posted), &json!(body)).await {
        Ok(_) => Ok(Acted::Done { done: "decided", anchor: "decisions" }),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: posted, errors }))
        }
    }
}
