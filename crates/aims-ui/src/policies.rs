//! Policies (5.2, A.2): the list with states, review dates and acknowledgements; a policy's
//! page with its text, the workflow draft → in review → approved → published → retired (the
//! buttons each role may use) with what was said at each step, acknowledgements of the revision
//! in force (also while its next edition is prepared), the revisions and a readable comparison
//! of two of them.

use aims_domain::clock;
use aims_domain::kinds::POLICY;
use aims_domain::kinds::documents::POLICY_STATES;
use aims_domain::policy::Action;
use aims_domain::validate::FieldSpec;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::common::{NewRecordPage, field, version_of};
use crate::error::UiError;
use crate::evidence::{catalogue_options, changed_only, is_past, picker, posted_list};
use crate::forms::{self, Choice, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted, esc};
use crate::text::{datetime, encode_query_value, humanize, state_label};

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/orgs/{org}/policies", get(list))
        .route("/orgs/{org}/policies/new", get(new_form).post(create))
        .route("/orgs/{org}/policies/{id}", get(detail).post(save))
        .route("/orgs/{org}/policies/{id}/diff", get(diff))
        .route("/orgs/{org}/policies/{id}/revisions/{n}", get(revision))
        .route("/orgs/{org}/policies/{id}/{transition}", post(transition))
}

/// The ordinary fields of the form, in the order shown; the text and the catalogue links
/// follow with their own controls.
const FORM_FIELDS: &[&str] = &["title", "topic", "owner_id", "next_review_on", "summary"];
const REF_FIELDS: &[&str] = &["control_refs", "requirement_refs"];

fn specs(names: &[&str]) -> Vec<FieldSpec> {
    names.iter().filter_map(|n| POLICY.field(n).copied()).collect()
}

fn today() -> String {
    clock::format_date(clock::today())
}

fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A policy text as paragraphs: blank lines separate them; line breaks inside one are kept
/// (the template shows them with `white-space: pre-wrap`). Never HTML.
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

fn acknowledgements(record_data: &Map<String, Value>) -> Vec<(String, String, i64, String)> {
    record_data
        .get("acknowledgements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["user_id"].as_str().unwrap_or_default().to_owned(),
                a["email"].as_str().unwrap_or_default().to_owned(),
                a["revision"].as_i64().unwrap_or(0),
                a["at"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn published_revision(record: &Record) -> Option<i64> {
    record.data.get("published_revision").and_then(Value::as_i64)
}

/// The policy form: the fields, a large box for the text, and pickers for the catalogue.
async fn form_html(state: &UiState, ctx: &OrgCtx, values: &Map<String, Value>, errors: &FormErrors) -> Result<String, UiError> {
    let options = Options::load(&state.app, &ctx.member, &[]).await?;
    let mut html = recform::render(&specs(FORM_FIELDS), &[], values, errors, &options);
    let body = values.get("body").and_then(Value::as_str).unwrap_or_default();
    let (attrs, error) = match errors.get("body") {
        Some(message) => (
            r#" aria-invalid="true" aria-describedby="body-hint body-error""#.to_owned(),
            format!(r#"<p class="field-error" id="body-error">{}</p>"#, esc(&message)),
        ),
        None => (r#" aria-describedby="body-hint""#.to_owned(), String::new()),
    };
    html.push_str(&format!(
        r#"<div class="field field-full"><span class="label-row"><label for="body">Text</label><span class="req" aria-hidden="true" title="required">*</span></span><textarea id="body" name="body" rows="16" maxlength="200000" required class="policy-text-input"{attrs}>{}</textarea><p class="hint" id="body-hint">Plain text. Leave an empty line between paragraphs; line breaks are kept.</p>{error}</div>"#,
        esc(body)
    ));
    let (controls, requirements) = catalogue_options(state, ctx).await?;
    let list = |name: &str| -> Vec<String> {
        values.get(name).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    };
    html.push_str(r#"<div class="pickers" role="group" aria-labelledby="implements-legend"><p class="pickers-title" id="implements-legend">What it implements</p><div class="picker-grid">"#);
    html.push_str(&picker("control_refs", "Controls", &controls, &list("control_refs"), errors));
    html.push_str(&picker("requirement_refs", "Requirements", &requirements, &list("requirement_refs"), errors));
    html.push_str("</div></div>");
    Ok(html)
}

fn posted_json(posted: &Posted, patch: bool) -> Map<String, Value> {
    let mut names = FORM_FIELDS.to_vec();
    names.push("body");
    let mut json = posted.to_json(&specs(&names), &[], patch);
    // The text keeps its own spacing (leading indentation, trailing newline aside).
    if let Some((_, body)) = posted.0.iter().find(|(k, _)| k == "body") {
        let body = body.replace("\r\n", "\n");
        let body = body.trim_end();
        json.insert("body".into(), if body.trim().is_empty() { Value::Null } else { Value::String(body.to_owned()) });
        if !patch && body.trim().is_empty() {
            json.remove("body");
        }
    }
    for refs in REF_FIELDS {
        json.insert((*refs).to_owned(), Value::Array(posted_list(posted, refs).into_iter().map(Value::String).collect()));
    }
    json
}

// ---- the list ----

struct PolicyRow {
    href: String,
    title: String,
    summary: String,
    topic: String,
    state: String,
    state_label: String,
    published: String,
    published_on: String,
    next_review: String,
    overdue: bool,
    acks: String,
    mine_pending: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "policies.html")]
struct ListPage {
    shell: Shell,
    can_edit: bool,
    rows: Vec<PolicyRow>,
    pending: usize,
    published: usize,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (members, _) = ctx.member_names(&state).await?;
    let records = crate::catalogue::all(&state.app, &ctx.member, &POLICY).await?;
    let today = today();
    let me = ctx.member.user_id.clone();
    let rows: Vec<PolicyRow> = records
        .iter()
        .map(|r| {
            let state_code = r.state.clone().unwrap_or_default();
            let current = published_revision(r);
            let acks = acknowledgements(&r.data);
            let next_review = field(r, "next_review_on");
            let live = state_code != "retired";
            let (acks_text, mine_pending) = match (current, state_code.as_str()) {
                (Some(n), state) if state != "retired" => {
                    let count = acks.iter().filter(|a| a.2 == n).count();
                    (format!("{count} of {}", members.len()), !acks.iter().any(|a| a.0 == me && a.2 == n))
                }
                _ => (String::new(), false),
            };
            PolicyRow {
                href: format!("/orgs/{}/policies/{}", ctx.slug(), r.id),
                title: field(r, "title"),
                summary: field(r, "summary"),
                topic: humanize(&field(r, "topic")).replace("Ai ", "AI "),
                state_label: state_label(&state_code),
                published: match current {
                    // A new edition is being prepared: say which revision still applies.
                    Some(n) if live && state_code != "published" => format!("Revision {n} in force"),
                    Some(n) => format!("Revision {n}"),
                    None => String::new(),
                },
                published_on: crate::text::date(&field(r, "published_at")),
                overdue: live && is_past(&next_review, &today),
                next_review,
                acks: acks_text,
                mine_pending,
                state: state_code,
            }
        })
        .collect();
    let pending = rows.iter().filter(|r| r.mine_pending).count();
    let published = rows.iter().filter(|r| r.state == "published").count();
    Ok(ListPage { shell: ctx.shell(Section::Policies), can_edit: ctx.can(Action::Edit), rows, pending, published }.into_response())
}

// ---- a new policy ----

pub(crate) async fn new_form(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let values = Map::from_iter([("owner_id".to_owned(), json!(ctx.member.user_id))]);
    render_new(&state, &ctx, values, Notice::None, FormErrors::default()).await
}

async fn render_new(
    state: &UiState,
    ctx: &OrgCtx,
    values: Map<String, Value>,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let mut shown = FORM_FIELDS.to_vec();
    shown.extend(["body", "control_refs", "requirement_refs"]);
    let status = crate::forms::form_status(&notice, &errors);
    let page = NewRecordPage {
        shell: ctx.shell(Section::Policies),
        can_edit: ctx.can(Action::Edit),
        eyebrow: "Policies · 5.2, A.2",
        title: "New policy",
        intro: "Write the policy as a draft. When it is ready, submit it for review: an admin or owner who did not write it approves it, then it is published for everyone to acknowledge.",
        back_href: format!("/orgs/{}/policies", ctx.slug()),
        back_label: "Policies",
        submit: "Create draft",
        form_html: form_html(state, ctx, &values, &errors).await?,
        others: errors.others(&shown),
        notice,
        hidden: Vec::new(),
    };
    Ok((status, page).into_response())
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let body = posted_json(&Posted(pairs), false);
    match state.app.create_record(&ctx.member, &POLICY, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/policies/{}?done=created", ctx.slug(), record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_new(&state, &ctx, body, notice, errors).await
        }
    }
}

// ---- one policy ----

struct AckRow {
    who: String,
    revision: i64,
    when: String,
}

/// What was said at a step of the workflow (a submission note, why it was sent back).
struct NoteRow {
    action: String,
    label: String,
    who: String,
    when: String,
    note: String,
}

/// How the history names a step of the workflow.
fn step_label(action: &str) -> String {
    match action {
        "submit" => "Submitted for review".into(),
        "approve" => "Approved".into(),
        "reject" => "Sent back to draft".into(),
        "publish" => "Published".into(),
        "retire" => "Retired".into(),
        other => humanize(other),
    }
}

/// Notes shown before the rest folds away.
const RECENT_NOTES: usize = 4;

/// The workflow notes, newest first.
fn workflow_notes(data: &Map<String, Value>, name_of: &dyn Fn(&str) -> String) -> Vec<NoteRow> {
    let text = |item: &Value, key: &str| item.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut notes: Vec<NoteRow> = data
        .get("workflow_notes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|item| !text(item, "note").trim().is_empty())
        .map(|item| {
            let action = text(item, "action");
            let who = name_of(&text(item, "by"));
            NoteRow {
                label: step_label(&action),
                action,
                who: if who.is_empty() { "someone".into() } else { who },
                when: crate::text::date(&text(item, "at")),
                note: text(item, "note"),
            }
        })
        .collect();
    notes.reverse();
    notes
}

struct RevisionRow {
    n: i64,
    href: String,
    when: String,
    by: String,
    compare_previous: Option<String>,
    compare_current: Option<String>,
}

/// A catalogue link of the policy.
struct RefLink {
    href: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "policy.html")]
struct PolicyPage {
    shell: Shell,
    can_edit: bool,
    can_approve: bool,
    can_acknowledge: bool,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    title: String,
    topic: String,
    version: i64,
    state: String,
    state_label: String,
    updated: String,
    steps: Vec<(&'static str, String, &'static str)>,
    summary: String,
    paragraphs: Vec<String>,
    owner: String,
    next_review: String,
    review_overdue: bool,
    controls: Vec<RefLink>,
    requirements: Vec<RefLink>,
    current_revision: Option<i64>,
    next_revision: i64,
    authors: String,
    i_am_author: bool,
    submitted_by: String,
    approved: String,
    published: String,
    retired: String,
    my_ack: String,
    /// A published revision is in force (published, or its next edition being prepared).
    in_force: bool,
    /// Acknowledgements of the revision in force (of the last one, once retired).
    acks: Vec<AckRow>,
    /// Acknowledgements of revisions before it.
    earlier_acks: Vec<AckRow>,
    ack_summary: String,
    recent_notes: Vec<NoteRow>,
    older_notes: Vec<NoteRow>,
    not_yet: Vec<String>,
    revisions: Vec<RevisionRow>,
    edit_html: String,
    edit_open: bool,
    others: Vec<String>,
    reason: String,
    reason_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn done_notice(code: &str, record: &Record) -> (Notice, &'static str) {
    let n = published_revision(record).unwrap_or(0);
    let (text, section) = match code {
        "created" => ("Draft created. Submit it for review when it is ready.".to_owned(), "top"),
        "saved" => return (Notice::Saved, "edit"),
        "new_edition" => (
            "Saved as a new draft edition. It needs review and approval again before it is published; the published revision stays in force until then."
                .to_owned(),
            "edit",
        ),
        "unchanged" => ("Nothing changed, so nothing was saved.".to_owned(), "edit"),
        "submit" => ("Submitted for review. An admin or owner who did not write this edition approves it.".to_owned(), "workflow"),
        "approve" => ("Approved. It can now be published.".to_owned(), "workflow"),
        "reject" => ("Sent back to draft.".to_owned(), "workflow"),
        "publish" => (format!("Published as revision {n}. Members can now acknowledge it."), "workflow"),
        "retire" => ("Policy retired. Its revisions stay readable.".to_owned(), "workflow"),
        "acknowledge" => (format!("Thank you: your acknowledgement of revision {n} is recorded."), "ack"),
        _ => return (Notice::None, "top"),
    };
    (Notice::Done(text), section)
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &POLICY, &id).await?;
    let (notice, section) = done_notice(&query.done, &record);
    render(&state, &ctx, &record, None, notice, section, FormErrors::default(), String::new()).await
}

fn ref_links(slug: &str, record: &Record, name: &str, path: &str) -> Vec<RefLink> {
    record
        .data
        .get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|r| RefLink { href: format!("/orgs/{slug}/{path}/{}", encode_query_value(r).replace('/', "%2F")), label: r.to_owned() })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    record: &Record,
    values: Option<Map<String, Value>>,
    notice: Notice,
    notice_section: &'static str,
    errors: FormErrors,
    reason: String,
) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(state).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| if id.is_empty() { String::new() } else { "former member".into() });
    let slug = ctx.slug().to_owned();
    let state_code = record.state.clone().unwrap_or_else(|| "draft".into());
    let position = POLICY_STATES.iter().position(|s| *s == state_code).unwrap_or(0);
    let steps = POLICY_STATES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let status = match i.cmp(&position) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "todo",
            };
            (*s, state_label(s), status)
        })
        .collect();
    let current_revision = published_revision(record);
    let me = ctx.member.user_id.clone();
    let acks_all = acknowledgements(&record.data);
    let my_ack = match current_revision {
        Some(n) => acks_all
            .iter()
            .find(|a| a.0 == me && a.2 == n)
            .map(|a| format!("You acknowledged revision {n} on {}.", datetime(&a.3)))
            .unwrap_or_default(),
        None => String::new(),
    };
    let (ack_summary, not_yet) = match current_revision {
        Some(n) => {
            let done: Vec<&str> = acks_all.iter().filter(|a| a.2 == n).map(|a| a.0.as_str()).collect();
            let missing = members.iter().filter(|m| !done.contains(&m.user_id.as_str())).map(|m| m.display_name.clone()).collect();
            (format!("{} of {} members have acknowledged revision {n}.", done.len(), members.len()), missing)
        }
        None => (String::new(), Vec::new()),
    };
    let (acks, earlier_acks): (Vec<AckRow>, Vec<AckRow>) = acks_all
        .iter()
        .rev()
        .map(|(user, email, revision, at)| AckRow {
            who: names.get(user).cloned().unwrap_or_else(|| email.clone()),
            revision: *revision,
            when: datetime(at),
        })
        .partition(|a| Some(a.revision) == current_revision);
    let mut recent_notes = workflow_notes(&record.data, &name_of);
    let older_notes = recent_notes.split_off(recent_notes.len().min(RECENT_NOTES));
    let history = state.app.revisions(&ctx.member, &POLICY, &record.id).await?;
    let editing = state_code != "published" && state_code != "retired";
    let revisions = history
        .iter()
        .rev()
        .map(|r| {
            let by = r.data.get("published_by").and_then(Value::as_str).map(&name_of).unwrap_or_default();
            RevisionRow {
                n: r.n,
                href: format!("/orgs/{slug}/policies/{}/revisions/{}", record.id, r.n),
                when: datetime(r.data.get("published_at").and_then(Value::as_str).unwrap_or(&r.created_at)),
                by,
                compare_previous: (r.n > 1).then(|| format!("/orgs/{slug}/policies/{}/diff?from={}&to={}", record.id, r.n - 1, r.n)),
                compare_current: (editing && Some(r.n) == current_revision)
                    .then(|| format!("/orgs/{slug}/policies/{}/diff?from={}&to=current", record.id, r.n)),
            }
        })
        .collect();
    let authors: Vec<String> = record
        .data
        .get("edition_authors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let when_by = |by: &str, at: &str| {
        let who = name_of(&field(record, by));
        if who.is_empty() { String::new() } else { format!("{who} on {}", datetime(&field(record, at))) }
    };
    let next_review = field(record, "next_review_on");
    let can_edit = ctx.can(Action::Edit) && state_code != "retired";
    // Without the edit form, its notices go to the top of the page.
    let notice_section = if notice_section == "edit" && !can_edit { "top" } else { notice_section };
    let edit_open = notice_section == "edit" && !errors.is_empty();
    let form_values = values.unwrap_or_else(|| record.data.clone());
    let edit_html = if can_edit { form_html(state, ctx, &form_values, &errors).await? } else { String::new() };
    let mut shown = FORM_FIELDS.to_vec();
    shown.extend(["body", "control_refs", "requirement_refs"]);
    let reason_error = if notice_section == "workflow" { errors.get("reason") } else { None };
    let status = if notice_section == "workflow" || notice_section == "ack" {
        crate::forms::status_for(&notice)
    } else {
        crate::forms::form_status(&notice, &errors)
    };
    let status = if reason_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { status };
    let page = PolicyPage {
        shell: ctx.shell(Section::Policies),
        can_edit,
        can_approve: ctx.can(Action::Approve),
        can_acknowledge: ctx.can(Action::Acknowledge),
        id: record.id.clone(),
        title: field(record, "title"),
        topic: humanize(&field(record, "topic")).replace("Ai ", "AI "),
        version: record.version,
        state_label: state_label(&state_code),
        updated: format!(
            "{} by {}",
            datetime(&record.updated_at),
            record.updated_by.as_deref().map_or_else(|| "the system".into(), &name_of)
        ),
        steps,
        summary: field(record, "summary"),
        paragraphs: paragraphs(&field(record, "body")),
        owner: name_of(&field(record, "owner_id")),
        review_overdue: state_code != "retired" && is_past(&next_review, &today()),
        next_review,
        controls: ref_links(&slug, record, "control_refs", "controls"),
        requirements: ref_links(&slug, record, "requirement_refs", "requirements"),
        next_revision: current_revision.unwrap_or(0) + 1,
        current_revision,
        i_am_author: authors.contains(&me),
        authors: authors.iter().map(|a| name_of(a)).collect::<Vec<_>>().join(", "),
        submitted_by: name_of(&field(record, "submitted_by")),
        approved: when_by("approved_by", "approved_at"),
        published: when_by("published_by", "published_at"),
        retired: if field(record, "retired_at").is_empty() { String::new() } else { datetime(&field(record, "retired_at")) },
        my_ack,
        in_force: current_revision.is_some() && state_code != "retired",
        acks,
        earlier_acks,
        ack_summary,
        recent_notes,
        older_notes,
        not_yet,
        revisions,
        edit_html,
        edit_open,
        others: if notice_section == "workflow" || notice_section == "ack" { Vec::new() } else { errors.others(&shown) },
        reason,
        reason_error,
        state: state_code,
        notice,
        notice_section,
    };
    Ok((status, page).into_response())
}

pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let wanted = posted_json(&posted, true);
    let record = state.app.get_record(&ctx.member, &POLICY, &id).await?;
    let version = version_of(&posted);
    let patch = changed_only(&record.data, wanted.clone());
    if patch.is_empty() && version == record.version {
        return Ok(Redirect::to(&format!("/orgs/{}/policies/{id}?done=unchanged#edit", ctx.slug())).into_response());
    }
    match state.app.patch_record(&ctx.member, &POLICY, &id, version, &Value::Object(patch)).await {
        Ok(updated) => {
            let done =
                if record.state.as_deref() != Some("draft") && updated.state.as_deref() == Some("draft") { "new_edition" } else { "saved" };
            Ok(Redirect::to(&format!("/orgs/{}/policies/{id}?done={done}#edit", ctx.slug())).into_response())
        }
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render(&state, &ctx, &record, Some(wanted), notice, "edit", errors, String::new()).await
        }
    }
}

pub(crate) async fn transition(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id, name)): Path<(String, String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let optional = |key: &str| {
        let text = posted.one(key);
        if text.is_empty() { json!({}) } else { json!({ key: text }) }
    };
    let (body, section) = match name.as_str() {
        "submit" | "approve" => (optional("comment"), "workflow"),
        "reject" => (json!({ "reason": posted.one("reason") }), "workflow"),
        "publish" => (json!({}), "workflow"),
        "retire" => (optional("reason"), "workflow"),
        "acknowledge" => (json!({}), "ack"),
        _ => return Err(UiError::NotFound),
    };
    match state.app.transition(&ctx.member, &POLICY, &id, &name, version_of(&posted), &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/policies/{id}?done={name}#{section}", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let notice = match notice {
                Notice::Conflict(why) => Notice::Conflict(format!("{}.", sentence(&why))),
                other => other,
            };
            let record = state.app.get_record(&ctx.member, &POLICY, &id).await?;
            let reason = if name == "reject" { posted.one("reason") } else { String::new() };
            render(&state, &ctx, &record, None, notice, section, errors, reason).await
        }
    }
}

// ---- a frozen revision ----

#[derive(Template, WebTemplate)]
#[template(path = "policy_revision.html")]
struct RevisionPage {
    shell: Shell,
    id: String,
    policy_title: String,
    title: String,
    topic: String,
    n: i64,
    published: String,
    approved: String,
    summary: String,
    paragraphs: Vec<String>,
    compare_previous: Option<String>,
    compare_current: String,
}

pub(crate) async fn revision(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id, n)): Path<(String, String, String)>,
) -> Result<Response, UiError> {
    let n: i64 = n.parse().map_err(|_| UiError::NotFound)?;
    let record = state.app.get_record(&ctx.member, &POLICY, &id).await?;
    let revision = state.app.revision(&ctx.member, &POLICY, &record.id, n).await?;
    let (_, names) = ctx.member_names(&state).await?;
    let data = &revision.data;
    let text = |f: &str| data.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
    let when_by = |by: &str, at: &str| {
        let who = names.get(&text(by)).cloned().unwrap_or_default();
        if who.is_empty() { String::new() } else { format!("{who} on {}", datetime(&text(at))) }
    };
    let slug = ctx.slug();
    Ok(RevisionPage {
        shell: ctx.shell(Section::Policies),
        policy_title: field(&record, "title"),
        title: text("title"),
        topic: humanize(&text("topic")).replace("Ai ", "AI "),
        n,
        published: when_by("published_by", "published_at"),
        approved: when_by("approved_by", "approved_at"),
        summary: text("summary"),
        paragraphs: paragraphs(&text("body")),
        compare_previous: (n > 1).then(|| format!("/orgs/{slug}/policies/{}/diff?from={}&to={n}", record.id, n - 1)),
        compare_current: format!("/orgs/{slug}/policies/{}/diff?from={n}&to=current", record.id),
        id: record.id,
    }
    .into_response())
}

// ---- comparing revisions ----

#[derive(Deserialize, Default)]
pub(crate) struct DiffQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

struct FieldChange {
    label: String,
    from: String,
    to: String,
}

/// One line of the text comparison.
struct Line {
    op: String,
    text: String,
}

/// Lines shown, or a run of unchanged lines folded away.
struct Block {
    lines: Vec<Line>,
    folded: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "policy_diff.html")]
struct DiffPage {
    shell: Shell,
    id: String,
    title: String,
    nothing: bool,
    from_label: String,
    to_label: String,
    from_choices: Vec<Choice>,
    to_choices: Vec<Choice>,
    fields: Vec<FieldChange>,
    blocks: Vec<Block>,
    added: usize,
    removed: usize,
}

/// Unchanged lines kept around each change.
const CONTEXT: usize = 3;

/// Groups the lines into shown blocks and folded runs of unchanged lines far from a change.
fn fold(lines: Vec<Line>) -> Vec<Block> {
    let changed: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| l.op != "equal").map(|(i, _)| i).collect();
    let near = |i: usize| changed.iter().any(|c| c.abs_diff(i) <= CONTEXT);
    let mut blocks: Vec<Block> = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        let folded = !near(i);
        match blocks.last_mut() {
            Some(block) if block.folded == folded => block.lines.push(line),
            _ => blocks.push(Block { lines: vec![line], folded }),
        }
    }
    // A short fold hides nothing worth hiding.
    let mut merged: Vec<Block> = Vec::new();
    for block in blocks {
        let block = if block.folded && block.lines.len() < 4 { Block { folded: false, ..block } } else { block };
        match merged.last_mut() {
            Some(last) if !last.folded && !block.folded => last.lines.extend(block.lines),
            _ => merged.push(block),
        }
    }
    merged
}

fn show_value(spec: Option<&FieldSpec>, value: &Value, options: &Options) -> String {
    match spec {
        Some(spec) => {
            let shown = recform::show(spec, Some(value), options);
            if spec.name == "topic" { shown.replace("Ai ", "AI ") } else { shown }
        }
        None => match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        },
    }
}

pub(crate) async fn diff(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &POLICY, &id).await?;
    let history = state.app.revisions(&ctx.member, &POLICY, &record.id).await?;
    let numbers: Vec<i64> = history.iter().map(|r| r.n).collect();
    let last = numbers.last().copied();
    let edited = record.state.as_deref() != Some("published") && record.state.as_deref() != Some("retired");
    // Defaults: the published revision against the draft being edited, else the last two.
    let from = query.from.trim().parse::<i64>().ok().or(match (last, edited) {
        (Some(n), true) => Some(n),
        (Some(n), false) if n > 1 => Some(n - 1),
        (Some(n), false) => Some(n),
        (None, _) => None,
    });
    let to: Option<i64> = match query.to.trim() {
        "" if query.from.trim().is_empty() && !edited => last,
        "" | "current" => None,
        other => Some(other.parse::<i64>().map_err(|_| UiError::NotFound)?),
    };
    let title = field(&record, "title");
    let choice = |n: i64, selected: bool| Choice { value: n.to_string(), label: format!("Revision {n}"), selected };
    let Some(from) = from else {
        return Ok(DiffPage {
            shell: ctx.shell(Section::Policies),
            id: record.id,
            title,
            nothing: true,
            from_label: String::new(),
            to_label: String::new(),
            from_choices: Vec::new(),
            to_choices: Vec::new(),
            fields: Vec::new(),
            blocks: Vec::new(),
            added: 0,
            removed: 0,
        }
        .into_response());
    };
    let result = state.app.policy_diff(&ctx.member, &record.id, from, to).await?;
    let options = Options::load(&state.app, &ctx.member, &[]).await?;
    let fields = result["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|change| {
            let name = change["field"].as_str().unwrap_or_default();
            let spec = POLICY.field(name);
            FieldChange {
                label: spec.map_or_else(|| humanize(name), |s| s.label.to_owned()),
                from: show_value(spec, &change["from"], &options),
                to: show_value(spec, &change["to"], &options),
            }
        })
        .collect();
    let lines: Vec<Line> = result["body"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| Line { op: l["op"].as_str().unwrap_or("equal").to_owned(), text: l["text"].as_str().unwrap_or_default().to_owned() })
        .collect();
    let added = lines.iter().filter(|l| l.op == "insert").count();
    let removed = lines.iter().filter(|l| l.op == "delete").count();
    let mut from_choices: Vec<Choice> = numbers.iter().map(|n| choice(*n, *n == from)).collect();
    if from_choices.is_empty() {
        from_choices.push(choice(from, true));
    }
    let mut to_choices: Vec<Choice> = numbers.iter().map(|n| choice(*n, Some(*n) == to)).collect();
    to_choices.push(Choice {
        value: "current".into(),
        label: format!("Current edition ({})", state_label(record.state.as_deref().unwrap_or("draft")).to_lowercase()),
        selected: to.is_none(),
    });
    Ok(DiffPage {
        shell: ctx.shell(Section::Policies),
        id: record.id,
        title,
        nothing: false,
        from_label: format!("Revision {from}"),
        to_label: to.map_or_else(|| "the current edition".to_owned(), |n| format!("revision {n}")),
        from_choices,
        to_choices,
        fields,
        blocks: fold(lines),
        added,
        removed,
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines_and_keep_line_breaks() {
        let text = "Purpose\nWe use AI responsibly.\n\n\n  \nScope:\n- lending\n- support\n";
        assert_eq!(paragraphs(text), vec!["Purpose\nWe use AI responsibly.".to_owned(), "Scope:\n- lending\n- support".to_owned()]);
        assert!(paragraphs("").is_empty());
    }

    #[test]
    fn long_unchanged_runs_are_folded() {
        let mut lines: Vec<Line> = (0..20).map(|i| Line { op: "equal".into(), text: format!("line {i}") }).collect();
        lines[10].op = "insert".into();
        let blocks = fold(lines);
        assert_eq!(blocks.len(), 3);
        assert!(blocks[0].folded && blocks[0].lines.len() == 7);
        assert!(!blocks[1].folded && blocks[1].lines.len() == 7);
        assert!(blocks[2].folded && blocks[2].lines.len() == 6);
    }
}
