//! The gap assessment: the 32 requirements of clauses 4–10 by clause with their progress, and
//! one requirement's page with the catalogue guidance, the form that records its status, owner
//! and notes, a guided walk through the requirements in document order, the evidence and
//! actions linked to it, and a form that turns the gap into an owned, dated action.

use std::collections::HashMap;

use aims_domain::kinds::{ACTION, GAP_STATUSES, REQUIREMENT};
use aims_domain::policy::Action;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::catalogue::{self, Clause, GAP_ORDER, field};
use crate::charts::Segment;
use crate::error::UiError;
use crate::forms::{self, Choice, FormErrors, Notice, form_status};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::record_label;

/// Routes of the gap assessment added with the guided walk (the list and requirement pages
/// are routed in `lib.rs`).
pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/orgs/{org}/requirements/{reference}/actions", post(create_action))
}

#[derive(Template, WebTemplate)]
#[template(path = "requirements.html")]
struct RequirementsPage {
    shell: Shell,
    clauses: Vec<Clause>,
    totals: Vec<Segment>,
    /// Where the guided walk continues: the first requirement not yet in place.
    walk: Option<(String, String)>,
    walk_label: &'static str,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let records = catalogue::all(&state.app, &ctx.member, &REQUIREMENT).await?;
    let slug = ctx.slug();
    let clauses = catalogue::clauses(slug, &records, &names);
    let totals: Vec<Segment> = GAP_ORDER
        .iter()
        .map(|(status, label)| Segment {
            status,
            label,
            count: clauses.iter().flat_map(|c| &c.rows).filter(|r| r.status == *status).count(),
        })
        .collect();
    let all_rows: Vec<_> = clauses.iter().flat_map(|c| &c.rows).collect();
    let open = all_rows.iter().find(|r| r.status != "in_place");
    let (walk, walk_label) = match (open, all_rows.first()) {
        (Some(row), _) if totals.iter().any(|s| s.status != "missing" && s.count > 0) => {
            (Some((row.href.clone(), row.reference.clone())), "Continue the walk")
        }
        (Some(row), _) => (Some((row.href.clone(), row.reference.clone())), "Start the guided walk"),
        (None, Some(first)) => (Some((first.href.clone(), first.reference.clone())), "Review from the start"),
        (None, None) => (None, ""),
    };
    Ok(RequirementsPage { shell: ctx.shell(Section::Gap), clauses, totals, walk, walk_label }.into_response())
}

/// The values the edit form shows: the record's, or what was just submitted.
struct RequirementForm {
    version: String,
    status: String,
    owner_id: String,
    notes: String,
}

/// The "turn this gap into an action" form: what was typed, and its errors.
#[derive(Default)]
struct ActionForm {
    title: String,
    owner_id: String,
    due_date: String,
    errors: FormErrors,
    open: bool,
}

/// A neighbour in the guided walk.
struct Step {
    href: String,
    reference: String,
    title: String,
}

/// A record linked to the requirement.
struct LinkedRow {
    href: String,
    title: String,
    detail: String,
    overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "requirement.html")]
struct RequirementPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    errors: FormErrors,
    reference: String,
    title: String,
    clause: String,
    clause_title: String,
    guidance: String,
    evidence: Vec<String>,
    status: String,
    owner: String,
    notes: String,
    version: i64,
    updated: String,
    form: RequirementForm,
    status_choices: Vec<Choice>,
    owner_choices: Vec<Choice>,
    position: usize,
    count: usize,
    previous: Option<Step>,
    next: Option<Step>,
    linked_evidence: Vec<LinkedRow>,
    linked_actions: Vec<LinkedRow>,
    linked_policies: Vec<LinkedRow>,
    action: ActionForm,
    action_owner_choices: Vec<Choice>,
}

#[derive(Deserialize)]
pub(crate) struct SavedQuery {
    pub saved: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct DetailQuery {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    done: String,
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, reference)): Path<(String, String)>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &REQUIREMENT, &reference).await?;
    let form = RequirementForm {
        version: record.version.to_string(),
        status: field(&record, "status"),
        owner_id: field(&record, "owner_id"),
        notes: field(&record, "notes"),
    };
    let notice = if query.done == "action" {
        Notice::Done("Action created — it is listed under Actions below and in the actions tracker.".into())
    } else if query.saved == "1" {
        Notice::Saved
    } else if !query.saved.is_empty() {
        // "Save and go to next" names the requirement it saved; only a real one is repeated.
        match state.app.get_record(&ctx.member, &REQUIREMENT, &query.saved).await {
            Ok(saved) => Notice::Done(format!("Saved {}. This is the next requirement.", catalogue::reference(&saved))),
            Err(_) => Notice::Saved,
        }
    } else {
        Notice::None
    };
    render(&state, &ctx, &record, form, notice, FormErrors::default(), ActionForm::default()).await
}

#[derive(Deserialize)]
pub(crate) struct RequirementInput {
    #[serde(default)]
    version: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    notes: String,
    /// `next` when "Save and go to next" was pressed.
    #[serde(default)]
    then: String,
}

pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, reference)): Path<(String, String)>,
    Form(input): Form<RequirementInput>,
) -> Result<Response, UiError> {
    let patch = json!({
        "status": input.status,
        "owner_id": forms::text_or_null(&input.owner_id),
        "notes": forms::text_or_null(&input.notes),
    });
    // A form without a readable version cannot prove it saw the current record: treat as stale.
    let outcome = match input.version.trim().parse::<i64>() {
        Ok(version) => state.app.patch_record(&ctx.member, &REQUIREMENT, &reference, version, &patch).await,
        Err(_) => Err(aims_app::AppError::Stale { expected: 0, current: 0 }),
    };
    let error = match outcome {
        Ok(saved) => {
            let slug = ctx.slug();
            if input.then == "next" {
                let all = catalogue::all(&state.app, &ctx.member, &REQUIREMENT).await?;
                let here = all.iter().position(|r| r.id == saved.id);
                if let Some(next) = here.and_then(|i| all.get(i + 1)) {
                    let saved_ref = crate::text::encode_query_value(&catalogue::reference(&saved));
                    return Ok(Redirect::to(&format!("/orgs/{slug}/requirements/{}?saved={saved_ref}", catalogue::reference(next)))
                        .into_response());
                }
            }
            return Ok(Redirect::to(&format!("/orgs/{slug}/requirements/{reference}?saved=1")).into_response());
        }
        Err(e) => e,
    };
    let (notice, errors) = forms::rejected(error)?;
    let record = state.app.get_record(&ctx.member, &REQUIREMENT, &reference).await?;
    let form = RequirementForm { version: input.version, status: input.status, owner_id: input.owner_id, notes: input.notes };
    render(&state, &ctx, &record, form, notice, errors, ActionForm::default()).await
}

#[derive(Deserialize)]
pub(crate) struct ActionInput {
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_date: String,
}

/// Turns the requirement's gap into an action in the one tracker: raised by the gap
/// assessment and linked to this requirement, so it shows here and under Actions.
pub(crate) async fn create_action(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, reference)): Path<(String, String)>,
    Form(input): Form<ActionInput>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &REQUIREMENT, &reference).await?;
    let reference = catalogue::reference(&record);
    let mut body = Map::new();
    body.insert("title".into(), json!(input.title.trim()));
    body.insert("source".into(), json!("gap_assessment"));
    body.insert("status".into(), json!("open"));
    body.insert("requirement_refs".into(), json!([reference]));
    for (name, value) in [("owner_id", &input.owner_id), ("due_date", &input.due_date)] {
        if !value.trim().is_empty() {
            body.insert(name.into(), json!(value.trim()));
        }
    }
    match state.app.create_record(&ctx.member, &ACTION, &Value::Object(body)).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/requirements/{reference}?done=action#actions", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let form = RequirementForm {
                version: record.version.to_string(),
                status: field(&record, "status"),
                owner_id: field(&record, "owner_id"),
                notes: field(&record, "notes"),
            };
            let action = ActionForm { title: input.title, owner_id: input.owner_id, due_date: input.due_date, errors, open: true };
            render(&state, &ctx, &record, form, notice, FormErrors::default(), action).await
        }
    }
}

async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    record: &Record,
    form: RequirementForm,
    notice: Notice,
    errors: FormErrors,
    action: ActionForm,
) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(state).await?;
    let slug = ctx.slug();
    let owner_id = field(record, "owner_id");
    let updated_by = record.updated_by.as_ref().and_then(|id| names.get(id)).cloned().unwrap_or_else(|| "the system".into());

    // The walk: neighbours in document order.
    let all = catalogue::all(&state.app, &ctx.member, &REQUIREMENT).await?;
    let here = all.iter().position(|r| r.id == record.id);
    let step = |r: &Record| {
        let reference = catalogue::reference(r);
        Step { href: format!("/orgs/{slug}/requirements/{reference}"), reference, title: field(r, "title") }
    };
    let previous = here.and_then(|i| i.checked_sub(1)).and_then(|i| all.get(i)).map(step);
    let next = here.and_then(|i| all.get(i + 1)).map(step);

    let reference = catalogue::reference(record);
    let (linked_evidence, linked_actions, linked_policies) = linked(state, ctx, &reference, &names).await?;

    let status = if action.errors.is_empty() { form_status(&notice, &errors) } else { StatusCode::UNPROCESSABLE_ENTITY };
    let action_owner_choices = forms::owner_choices(&members, &action.owner_id);
    let page = RequirementPage {
        shell: ctx.shell(Section::Gap),
        can_edit: ctx.can(Action::Edit),
        reference,
        title: field(record, "title"),
        clause: field(record, "clause"),
        clause_title: field(record, "clause_title"),
        guidance: field(record, "guidance"),
        evidence: bullets(&field(record, "typical_evidence")),
        status: field(record, "status"),
        owner: if owner_id.is_empty() { String::new() } else { names.get(&owner_id).cloned().unwrap_or_else(|| "former member".into()) },
        notes: field(record, "notes"),
        version: record.version,
        updated: format!("{} by {updated_by}", crate::text::datetime(&record.updated_at)),
        status_choices: forms::choices(GAP_STATUSES, &form.status),
        owner_choices: forms::owner_choices(&members, &form.owner_id),
        position: here.map_or(0, |i| i + 1),
        count: all.len(),
        previous,
        next,
        linked_evidence,
        linked_actions,
        linked_policies,
        action,
        action_owner_choices,
        form,
        notice,
        errors,
    };
    Ok((status, page).into_response())
}

/// Evidence, actions and policies that name the requirement.
async fn linked(
    state: &UiState,
    ctx: &OrgCtx,
    reference: &str,
    names: &HashMap<String, String>,
) -> Result<(Vec<LinkedRow>, Vec<LinkedRow>, Vec<LinkedRow>), UiError> {
    let (_, links) = state.app.trace(&ctx.member, &REQUIREMENT, reference).await?;
    let slug = ctx.slug();
    let today = crate::actions::today();
    let mut evidence = Vec::new();
    let mut actions: Vec<(&Record, LinkedRow)> = Vec::new();
    let mut policies = Vec::new();
    for link in links.iter().filter(|l| !l.record.archived && !l.outgoing) {
        let r = &link.record;
        match r.kind.as_str() {
            "evidence" => evidence.push(LinkedRow {
                href: format!("/orgs/{slug}/evidence/{}", r.id),
                title: record_label(r),
                detail: crate::text::humanize(&field(r, "evidence_type")),
                overdue: false,
            }),
            "action" => {
                let owner = names.get(&field(r, "owner_id")).cloned();
                let detail = [Some(crate::actions::summary(r)), owner].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                actions.push((
                    r,
                    LinkedRow {
                        href: format!("/orgs/{slug}/actions/{}", r.id),
                        title: record_label(r),
                        detail,
                        overdue: crate::actions::is_overdue(r, &today),
                    },
                ));
            }
            "policy" => policies.push(LinkedRow {
                href: format!("/orgs/{slug}/policies/{}", r.id),
                title: record_label(r),
                detail: crate::text::humanize(r.state.as_deref().unwrap_or_default()),
                overdue: false,
            }),
            _ => {}
        }
    }
    actions.sort_by_key(|(r, _)| r.seq);
    Ok((evidence, actions.into_iter().map(|(_, row)| row).collect(), policies))
}

/// "- a\n- b" (the catalogue's typical evidence) as a list of items.
pub(crate) fn bullets(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim().trim_start_matches(['-', '*']).trim()).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}
