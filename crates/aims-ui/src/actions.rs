//! The one actions tracker: every owned, dated task whatever raised it (a gap in the clause
//! assessment, a risk treatment, a corrective action, a management-review decision). The list
//! shows the signed-in member's own open actions first (overdue ones on top), then every open
//! action with filters; one action's page edits it, marks it done and shows what raised it.

use std::cmp::Ordering;
use std::collections::HashMap;

use aims_domain::clock;
use aims_domain::kinds::ACTION;
use aims_domain::kinds::risk::{ACTION_SOURCES, ACTION_STATUSES};
use aims_domain::policy::Action;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::catalogue;
use crate::common::{NewPageText, NewRecordPage, field, version_of};
use crate::error::UiError;
use crate::forms::{self, Choice, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted, record_label};
use crate::text::{datetime, humanize};

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/orgs/{org}/actions", get(list))
        .route("/orgs/{org}/actions/new", get(new_form).post(create))
        .route("/orgs/{org}/actions/{id}", get(detail).post(save))
        .route("/orgs/{org}/actions/{id}/done", post(mark_done))
}

/// Statuses of an action still to be done.
const OPEN: [&str; 2] = ["open", "in_progress"];

pub(crate) fn today() -> String {
    clock::format_date(clock::today())
}

fn is_open(record: &Record) -> bool {
    OPEN.contains(&field(record, "status").as_str())
}

/// An open action whose due date has passed.
pub(crate) fn is_overdue(record: &Record, today: &str) -> bool {
    let due = field(record, "due_date");
    is_open(record) && !due.is_empty() && due.as_str() < today
}

/// Who should see it first: overdue, then by due date (undated last), then oldest first.
fn by_urgency(today: &str) -> impl Fn(&&Record, &&Record) -> Ordering + '_ {
    move |a, b| {
        let key = |r: &Record| {
            let due = field(r, "due_date");
            (!is_overdue(r, today), due.is_empty(), due, r.seq)
        };
        key(a).cmp(&key(b))
    }
}

/// "Open · due 2026-05-01", for lists elsewhere (the control and requirement pages).
pub(crate) fn summary(record: &Record) -> String {
    let due = field(record, "due_date");
    let status = humanize(&field(record, "status"));
    if due.is_empty() { status } else { format!("{status} · due {due}") }
}

/// The signed-in member's open actions and how many of them are overdue (the dashboard card).
pub(crate) async fn my_counts(state: &UiState, ctx: &OrgCtx) -> Result<(usize, usize), UiError> {
    let today = today();
    let records = catalogue::all(&state.app, &ctx.member, &ACTION).await?;
    let mine: Vec<&Record> = records.iter().filter(|r| is_open(r) && field(r, "owner_id") == ctx.member.user_id).collect();
    let overdue = mine.iter().filter(|r| is_overdue(r, &today)).count();
    Ok((mine.len(), overdue))
}

// ---- the tracker ----

pub(crate) struct ActionRow {
    pub href: String,
    pub title: String,
    pub source: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    pub status: String,
    pub status_label: String,
}

pub(crate) fn action_row(slug: &str, r: &Record, names: &HashMap<String, String>, today: &str) -> ActionRow {
    let owner_id = field(r, "owner_id");
    let status = field(r, "status");
    ActionRow {
        href: format!("/orgs/{slug}/actions/{}", r.id),
        title: field(r, "title"),
        source: source_label(&field(r, "source")),
        owner: if owner_id.is_empty() { String::new() } else { names.get(&owner_id).cloned().unwrap_or_else(|| "a former member".into()) },
        due: field(r, "due_date"),
        overdue: is_overdue(r, today),
        status_label: humanize(&status),
        status,
    }
}

/// What raised an action, for people.
fn source_label(code: &str) -> String {
    match code {
        "gap_assessment" => "Gap assessment".into(),
        "risk_treatment" => "Risk treatment".into(),
        "corrective_action" => "Corrective action".into(),
        "management_review" => "Management review".into(),
        "audit_finding" => "Audit finding".into(),
        "other" | "" => "Other".into(),
        other => humanize(other),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    owner: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "actions.html")]
struct ActionsPage {
    shell: Shell,
    can_edit: bool,
    mine: Vec<ActionRow>,
    mine_overdue: usize,
    rows: Vec<ActionRow>,
    filtered: bool,
    status_choices: Vec<Choice>,
    source_choices: Vec<Choice>,
    owner_choices: Vec<Choice>,
    /// What the second list holds, in words ("Open actions", "Done actions" …).
    heading: String,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<ListQuery>) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(&state).await?;
    let records = catalogue::all(&state.app, &ctx.member, &ACTION).await?;
    let today = today();
    let slug = ctx.slug();

    let mut mine: Vec<&Record> = records.iter().filter(|r| is_open(r) && field(r, "owner_id") == ctx.member.user_id).collect();
    mine.sort_by(by_urgency(&today));
    let mine_overdue = mine.iter().filter(|r| is_overdue(r, &today)).count();

    // "" is every open action; "any" every action whatever its status.
    let status = if query.status == "any" || ACTION_STATUSES.contains(&query.status.as_str()) { query.status.as_str() } else { "" };
    let source = if ACTION_SOURCES.contains(&query.source.as_str()) { query.source.as_str() } else { "" };
    let owner = query.owner.as_str();
    let mut all: Vec<&Record> = records
        .iter()
        .filter(|r| match status {
            "" => is_open(r),
            "any" => true,
            s => field(r, "status") == s,
        })
        .filter(|r| source.is_empty() || field(r, "source") == source)
        .filter(|r| match owner {
            "" => true,
            "none" => field(r, "owner_id").is_empty(),
            id => field(r, "owner_id") == id,
        })
        .collect();
    all.sort_by(by_urgency(&today));

    let mut status_choices = vec![Choice { value: String::new(), label: "Open or in progress".into(), selected: status.is_empty() }];
    status_choices.extend(forms::choices(ACTION_STATUSES, status));
    status_choices.push(Choice { value: "any".into(), label: "Any status".into(), selected: status == "any" });
    let mut source_choices = vec![Choice { value: String::new(), label: "Any source".into(), selected: source.is_empty() }];
    source_choices.extend(ACTION_SOURCES.iter().map(|s| Choice { value: (*s).to_owned(), label: source_label(s), selected: *s == source }));
    let mut owner_choices = vec![
        Choice { value: String::new(), label: "Anyone".into(), selected: owner.is_empty() },
        Choice { value: "none".into(), label: "Unassigned".into(), selected: owner == "none" },
    ];
    owner_choices.extend(members.iter().map(|m| Choice {
        value: m.user_id.clone(),
        label: m.display_name.clone(),
        selected: m.user_id == owner,
    }));
    let heading = match status {
        "" => "All open actions".to_owned(),
        "any" => "All actions".to_owned(),
        s => format!("{} actions", humanize(s)),
    };
    Ok(ActionsPage {
        shell: ctx.shell(Section::Actions),
        can_edit: ctx.can(Action::Edit),
        mine: mine.iter().map(|r| action_row(slug, r, &names, &today)).collect(),
        mine_overdue,
        rows: all.iter().map(|r| action_row(slug, r, &names, &today)).collect(),
        filtered: !(status.is_empty() && source.is_empty() && owner.is_empty()),
        status_choices,
        source_choices,
        owner_choices,
        heading,
    }
    .into_response())
}

// ---- new action ----

pub(crate) async fn new_form(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(system): Query<crate::common::ForSystem>,
) -> Result<Response, UiError> {
    let mut values = Map::from_iter([("owner_id".to_owned(), json!(ctx.member.user_id))]);
    system.prefill(&mut values);
    render_new(&state, &ctx, values, Notice::None, FormErrors::default()).await
}

async fn render_new(
    state: &UiState,
    ctx: &OrgCtx,
    values: Map<String, Value>,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let options = Options::load(&state.app, &ctx.member, ACTION.fields).await?;
    let text = NewPageText {
        section: Section::Actions,
        eyebrow: "Actions",
        title: "New action",
        intro: "One owned, dated task. Say what raised it and link the requirements, controls, risks or AI systems it serves, so it shows up there too.",
        back_label: "Actions",
        submit: "Create action",
    };
    let back = format!("/orgs/{}/actions", ctx.slug());
    Ok(NewRecordPage::respond(ctx, text, back, ACTION.fields, (&values, &errors, &options), notice))
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let body = Posted(pairs).to_json(ACTION.fields, &[], false);
    match state.app.create_record(&ctx.member, &ACTION, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/actions/{}?done=created", ctx.slug(), record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_new(&state, &ctx, body, notice, errors).await
        }
    }
}

// ---- one action ----

/// A record the action links to: what raised it or what it serves.
struct RaisedBy {
    kind: &'static str,
    href: String,
    reference: String,
    title: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "action.html")]
struct ActionPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    title: String,
    description: String,
    version: i64,
    status: String,
    status_label: String,
    source: String,
    owner: String,
    due: String,
    overdue: bool,
    completed_on: String,
    updated: String,
    created: String,
    raised: Vec<RaisedBy>,
    evidence: Vec<RaisedBy>,
    form_html: String,
    others: Vec<String>,
    done_date: String,
    done_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    done: String,
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let (notice, section) = match query.done.as_str() {
        "created" => (Notice::Done("Action created.".into()), "top"),
        "saved" => (Notice::Saved, "top"),
        "closed" => (Notice::Done("Marked done.".into()), "done"),
        _ => (Notice::None, "top"),
    };
    render(&state, &ctx, &id, None, notice, section, FormErrors::default(), today()).await
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    values: Option<Map<String, Value>>,
    notice: Notice,
    notice_section: &'static str,
    errors: FormErrors,
    done_date: String,
) -> Result<Response, UiError> {
    let (record, linked) = state.app.trace(&ctx.member, &ACTION, id).await?;
    let mut options = Options::load(&state.app, &ctx.member, ACTION.fields).await?;
    options.label_linked(&state.app, &ctx.member, ACTION.fields, &record.data).await?;
    let (_, names) = ctx.member_names(state).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "a former member".into());
    let slug = ctx.slug();
    let today = today();

    let mut raised = Vec::new();
    let mut evidence = Vec::new();
    for link in linked.iter().filter(|l| !l.record.archived) {
        let r = &link.record;
        let reference = r.reference.clone().unwrap_or_default();
        let item = |kind: &'static str, href: String| RaisedBy { kind, href, reference: reference.clone(), title: record_label(r) };
        match (r.kind.as_str(), link.outgoing) {
            ("requirement", true) => raised.push(item("Requirement", format!("/orgs/{slug}/requirements/{reference}"))),
            ("control", true) => raised.push(item("Control", format!("/orgs/{slug}/controls/{reference}"))),
            ("risk", true) => raised.push(item("Risk", format!("/orgs/{slug}/risks/{}", r.id))),
            ("ai_system", true) => raised.push(item("AI system", format!("/orgs/{slug}/ai-systems/{}", r.id))),
            ("evidence", false) => evidence.push(item("Evidence", format!("/orgs/{slug}/evidence/{}", r.id))),
            _ => {}
        }
    }
    let order = |k: &str| ["Requirement", "Control", "Risk", "AI system"].iter().position(|x| *x == k).unwrap_or(9);
    raised.sort_by(|a, b| order(a.kind).cmp(&order(b.kind)).then_with(|| a.reference.cmp(&b.reference)));

    let shown: Vec<&str> = ACTION.fields.iter().map(|f| f.name).collect();
    let (form_errors, done_error) =
        if notice_section == "done" { (FormErrors::default(), errors.get("completed_on")) } else { (errors, None) };
    let status_code = field(&record, "status");
    let owner_id = field(&record, "owner_id");
    let http_status = if form_errors.is_empty() && done_error.is_none() {
        crate::forms::status_for(&notice)
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ActionPage {
        shell: ctx.shell(Section::Actions),
        can_edit: ctx.can(Action::Edit),
        id: record.id.clone(),
        title: field(&record, "title"),
        description: field(&record, "description"),
        version: record.version,
        status_label: humanize(&status_code),
        overdue: is_overdue(&record, &today),
        status: status_code,
        source: source_label(&field(&record, "source")),
        owner: if owner_id.is_empty() { String::new() } else { name_of(&owner_id) },
        due: field(&record, "due_date"),
        completed_on: field(&record, "completed_on"),
        updated: format!(
            "{} by {}",
            datetime(&record.updated_at),
            record.updated_by.as_deref().map_or_else(|| "the system".into(), name_of)
        ),
        created: format!(
            "{} by {}",
            crate::text::date(&record.created_at),
            record.created_by.as_deref().map_or_else(|| "the system".into(), name_of)
        ),
        raised,
        evidence,
        form_html: recform::render(ACTION.fields, &[], &values.unwrap_or_else(|| record.data.clone()), &form_errors, &options),
        others: form_errors.others(&shown),
        done_date,
        done_error,
        notice,
        notice_section,
    };
    Ok((http_status, page).into_response())
}

pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let patch = posted.to_json(ACTION.fields, &[], true);
    match recform::save_changed(&state.app, &ctx.member, &ACTION, &id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/actions/{id}?done=saved", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render(&state, &ctx, &id, Some(patch), notice, "top", errors, today()).await
        }
    }
}

/// Marks the action done on the given date (a done action records when it was completed).
pub(crate) async fn mark_done(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let completed_on = posted.one("completed_on");
    let patch = json!({ "status": "done", "completed_on": forms::text_or_null(&completed_on) });
    match state.app.patch_record(&ctx.member, &ACTION, &id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/actions/{id}?done=closed#done", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render(&state, &ctx, &id, None, notice, "done", errors, completed_on).await
        }
    }
}
