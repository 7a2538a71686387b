//! The Statement of Applicability: the 38 Annex A controls by group plus the organisation's own
//! controls, one control's page with guidance and the form that records applicability,
//! justification, implementation, owner and last review, and the form for a new own control.

use aims_app::AppError;
use aims_domain::kinds::{CONTROL, IMPLEMENTATION_STATUSES};
use aims_domain::policy::Action;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::catalogue::{self, ControlGroup, ControlRow, field, is_annex_a};
use crate::charts::Segment;
use crate::error::UiError;
use crate::forms::{self, Choice, FormErrors, Notice};
use crate::gap::{SavedQuery, bullets, status_for};
use crate::layout::{OrgCtx, Section, Shell};

#[derive(Template, WebTemplate)]
#[template(path = "controls.html")]
struct ControlsPage {
    shell: Shell,
    can_edit: bool,
    groups: Vec<ControlGroup>,
    own: Vec<ControlRow>,
    totals: Vec<Segment>,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let records = catalogue::all(&state.app, &ctx.member, &CONTROL).await?;
    let (groups, own) = catalogue::control_groups(ctx.slug(), &records, &names);
    let totals = catalogue::soa_segments(groups.iter().flat_map(|g| &g.rows));
    Ok(ControlsPage { shell: ctx.shell(Section::Soa), can_edit: ctx.can(Action::Edit), groups, own, totals }.into_response())
}

/// The values the edit form shows: the record's, or what was just submitted.
#[derive(Deserialize)]
pub(crate) struct ControlInput {
    #[serde(default)]
    version: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    applicable: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    implementation_status: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    last_reviewed_on: String,
}

impl ControlInput {
    fn from_record(record: &Record) -> Self {
        let applicable = record.data.get("applicable") != Some(&Value::Bool(false));
        Self {
            version: record.version.to_string(),
            title: field(record, "title"),
            description: field(record, "description"),
            applicable: if applicable { "yes" } else { "no" }.into(),
            justification: field(record, "justification"),
            implementation_status: field(record, "implementation_status"),
            owner_id: field(record, "owner_id"),
            last_reviewed_on: field(record, "last_reviewed_on"),
        }
    }

    /// The merge patch of the form. Title and description of an Annex A control come from the
    /// catalogue and are not sent (the service refuses changes to them).
    fn patch(&self, own: bool) -> Value {
        let mut patch = Map::new();
        if own {
            patch.insert("title".into(), json!(self.title));
            patch.insert("description".into(), forms::text_or_null(&self.description));
        }
        patch.insert("applicable".into(), json!(self.applicable != "no"));
        patch.insert("justification".into(), forms::text_or_null(&self.justification));
        patch.insert("implementation_status".into(), json!(self.implementation_status));
        patch.insert("owner_id".into(), forms::text_or_null(&self.owner_id));
        patch.insert("last_reviewed_on".into(), forms::text_or_null(&self.last_reviewed_on));
        Value::Object(patch)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "control.html")]
struct ControlPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    errors: FormErrors,
    own: bool,
    reference: String,
    title: String,
    description: String,
    group: String,
    group_title: String,
    guidance: String,
    evidence: Vec<String>,
    row: ControlRow,
    justification: String,
    version: i64,
    updated: String,
    form: ControlInput,
    status_choices: Vec<Choice>,
    owner_choices: Vec<Choice>,
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, reference)): Path<(String, String)>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, UiError> {
    let record = state.app.get_record(&ctx.member, &CONTROL, &reference).await?;
    let notice = if query.saved.is_some() { Notice::Saved } else { Notice::None };
    let form = ControlInput::from_record(&record);
    render(&state, &ctx, &record, form, notice, FormErrors::default()).await
}

pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, reference)): Path<(String, String)>,
    Form(input): Form<ControlInput>,
) -> Result<Response, UiError> {
    let current = state.app.get_record(&ctx.member, &CONTROL, &reference).await?;
    let patch = input.patch(!is_annex_a(&current));
    // A form without a readable version cannot prove it saw the current record: treat as stale.
    let outcome = match input.version.trim().parse::<i64>() {
        Ok(version) => state.app.patch_record(&ctx.member, &CONTROL, &reference, version, &patch).await,
        Err(_) => Err(AppError::Stale { expected: 0, current: current.version }),
    };
    let error = match outcome {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/orgs/{}/controls/{reference}?saved=1", ctx.slug())).into_response());
        }
        Err(e) => e,
    };
    let (notice, errors) = forms::rejected(error)?;
    let record = state.app.get_record(&ctx.member, &CONTROL, &reference).await?;
    render(&state, &ctx, &record, input, notice, errors).await
}

async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    record: &Record,
    form: ControlInput,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(state).await?;
    let updated_by = record.updated_by.as_ref().and_then(|id| names.get(id)).cloned().unwrap_or_else(|| "the system".into());
    let status = status_for(&notice);
    let page = ControlPage {
        shell: ctx.shell(Section::Soa),
        can_edit: ctx.can(Action::Edit),
        own: !is_annex_a(record),
        reference: catalogue::reference(record),
        title: field(record, "title"),
        description: field(record, "description"),
        group: field(record, "group"),
        group_title: field(record, "group_title"),
        guidance: field(record, "guidance"),
        evidence: bullets(&field(record, "typical_evidence")),
        row: catalogue::control_row(ctx.slug(), record, &names),
        justification: field(record, "justification"),
        version: record.version,
        updated: format!("{} by {updated_by}", crate::text::datetime(&record.updated_at)),
        status_choices: forms::choices(IMPLEMENTATION_STATUSES, &form.implementation_status),
        owner_choices: forms::owner_choices(&members, &form.owner_id),
        form,
        notice,
        errors,
    };
    Ok((status, page).into_response())
}

// ---- new own control ----

#[derive(Deserialize, Default)]
pub(crate) struct NewControlInput {
    #[serde(default, rename = "ref")]
    reference: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "control_new.html")]
struct NewControlPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    errors: FormErrors,
    form: NewControlInput,
}

pub(crate) async fn new_form(ctx: OrgCtx) -> Response {
    NewControlPage {
        shell: ctx.shell(Section::Soa),
        can_edit: ctx.can(Action::Edit),
        notice: Notice::None,
        errors: FormErrors::default(),
        form: NewControlInput::default(),
    }
    .into_response()
}

/// The path segment the new-control form lives at; an own control cannot take it as its
/// reference, or its page would be unreachable.
const RESERVED_REF: &str = "new";

pub(crate) async fn create(State(state): State<UiState>, ctx: OrgCtx, Form(input): Form<NewControlInput>) -> Result<Response, UiError> {
    let reference = input.reference.trim().to_owned();
    let outcome = if reference.eq_ignore_ascii_case(RESERVED_REF) {
        Err(AppError::Validation(aims_domain::ValidationErrors::single("ref", "reserved", "“new” cannot be used as a reference")))
    } else {
        let body = json!({"ref": reference, "title": input.title, "description": forms::text_or_null(&input.description)});
        state.app.create_record(&ctx.member, &CONTROL, &body).await
    };
    let error = match outcome {
        Ok(record) => {
            let reference = catalogue::reference(&record);
            return Ok(Redirect::to(&format!("/orgs/{}/controls/{reference}?saved=1", ctx.slug())).into_response());
        }
        Err(e) => e,
    };
    let (notice, errors) = match error {
        AppError::Conflict(_) => (Notice::Invalid, FormErrors::single("ref", "another control already has this reference")),
        other => forms::rejected(other)?,
    };
    let status = crate::gap::form_status(&notice, &errors);
    let page = NewControlPage { shell: ctx.shell(Section::Soa), can_edit: ctx.can(Action::Edit), notice, errors, form: input };
    Ok((status, page).into_response())
}
