//! The gap assessment: the 32 requirements of clauses 4–10 by clause, and one requirement's
//! page with the catalogue guidance and the form that records its status, owner and notes.

use aims_domain::kinds::{GAP_STATUSES, REQUIREMENT};
use aims_domain::policy::Action;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use crate::UiState;
use crate::catalogue::{self, Clause, GAP_ORDER, field};
use crate::charts::Segment;
use crate::error::UiError;
use crate::forms::{self, Choice, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};

#[derive(Template, WebTemplate)]
#[template(path = "requirements.html")]
struct RequirementsPage {
    shell: Shell,
    clauses: Vec<Clause>,
    totals: Vec<Segment>,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let records = catalogue::all(&state.app, &ctx.member, &REQUIREMENT).await?;
    let clauses = catalogue::clauses(ctx.slug(), &records, &names);
    let totals = GAP_ORDER
        .iter()
        .map(|(status, label)| Segment {
            status,
            label,
            count: clauses.iter().flat_map(|c| &c.rows).filter(|r| r.status == *status).count(),
        })
        .collect();
    Ok(RequirementsPage { shell: ctx.shell(Section::Gap), clauses, totals }.into_response())
}

/// The values the edit form shows: the record's, or what was just submitted.
struct RequirementForm {
    version: String,
    status: String,
    owner_id: String,
    notes: String,
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
}

#[derive(Deserialize)]
pub(crate) struct SavedQuery {
    pub saved: Option<String>,
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, reference)): Path<(String, String)>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &REQUIREMENT, &reference).await?;
    let form = RequirementForm {
        version: record.version.to_string(),
        status: field(&record, "status"),
        owner_id: field(&record, "owner_id"),
        notes: field(&record, "notes"),
    };
    let notice = if query.saved.is_some() { Notice::Saved } else { Notice::None };
    render(&state, &ctx, &record, form, notice, FormErrors::default()).await
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
        Ok(_) => {
            return Ok(Redirect::to(&format!("/orgs/{}/requirements/{reference}?saved=1", ctx.slug())).into_response());
        }
        Err(e) => e,
    };
    let (notice, errors) = forms::rejected(error)?;
    let record = state.app.get_record(&ctx.member, &REQUIREMENT, &reference).await?;
    let form = RequirementForm { version: input.version, status: input.status, owner_id: input.owner_id, notes: input.notes };
    render(&state, &ctx, &record, form, notice, errors).await
}

async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    record: &Record,
    form: RequirementForm,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(state).await?;
    let owner_id = field(record, "owner_id");
    let updated_by = record.updated_by.as_ref().and_then(|id| names.get(id)).cloned().unwrap_or_else(|| "the system".into());
    let status = status_for(&notice);
    let page = RequirementPage {
        shell: ctx.shell(Section::Gap),
        can_edit: ctx.can(Action::Edit),
        reference: catalogue::reference(record),
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
        form,
        notice,
        errors,
    };
    Ok((status, page).into_response())
}

/// The HTTP status of a page that shows the outcome of a submission.
pub(crate) fn status_for(notice: &Notice) -> StatusCode {
    match notice {
        Notice::None | Notice::Saved | Notice::Done(_) => StatusCode::OK,
        Notice::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Notice::Stale | Notice::Conflict(_) => StatusCode::CONFLICT,
        Notice::Forbidden(_) => StatusCode::FORBIDDEN,
    }
}

/// The status of a re-shown form: 422 while fields have errors, else as the notice says.
pub(crate) fn form_status(notice: &Notice, errors: &crate::forms::FormErrors) -> StatusCode {
    if errors.is_empty() { status_for(notice) } else { StatusCode::UNPROCESSABLE_ENTITY }
}

/// "- a\n- b" (the catalogue's typical evidence) as a list of items.
pub(crate) fn bullets(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim().trim_start_matches(['-', '*']).trim()).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}
