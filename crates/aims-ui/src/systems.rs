//! The AI system inventory: the register, the form that registers a system, and one system's
//! whole picture — details, lifecycle gates (request, approve, reject), lifecycle records,
//! resources, datasets, linked risks, impact assessments and recent activity.

use aims_domain::kinds::inventory::LIFECYCLE_STAGES;
use aims_domain::kinds::{AI_SYSTEM, DATASET, GATE, LIFECYCLE_RECORD, RESOURCE};
use aims_domain::policy::Action;
use aims_store::activity::ActivityFilter;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted, record_label};
use crate::text::{datetime, humanize};

/// `?done=` after a successful post: what to say, and in which part of the page.
#[derive(Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

pub(crate) fn done_notice(code: &str) -> Notice {
    let text = match code {
        "" => return Notice::None,
        "saved" => return Notice::Saved,
        "registered" => "AI system registered.",
        "gate" => "Gate requested. Someone else with the approval role decides it.",
        "approve" => "Gate approved: the system moved to its new stage.",
        "reject" => "Gate rejected.",
        "cancel" => "Gate cancelled.",
        "record" => "Lifecycle record added.",
        "resource" => "Resource added.",
        "dataset" => "Dataset added and linked to this system.",
        "created" => "Created.",
        "accepted" => "Residual risk accepted.",
        "signed" => "Impact assessment signed off.",
        _ => return Notice::None,
    };
    Notice::Done(text.into())
}

/// Which part of the AI system page a notice belongs to.
fn done_section(code: &str) -> &'static str {
    match code {
        "gate" | "approve" | "reject" | "cancel" => "gates",
        "record" => "records",
        "resource" => "resources",
        "dataset" => "datasets",
        _ => "top",
    }
}

pub(crate) fn version_of(posted: &Posted) -> i64 {
    posted.one("version").parse().unwrap_or(-1)
}

pub(crate) fn field(record: &Record, name: &str) -> String {
    match record.data.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

pub(crate) fn stage_label(stage: &str) -> String {
    match stage {
        "verification_validation" => "Verification & validation".into(),
        other => humanize(other),
    }
}

// ---- the register ----

struct SystemRow {
    href: String,
    name: String,
    stage: String,
    stage_label: String,
    risk_category: String,
    owner: String,
    oversight: String,
    oversight_gap: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "ai_systems.html")]
struct SystemsPage {
    shell: Shell,
    can_edit: bool,
    rows: Vec<SystemRow>,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let page = state.app.list_records(&ctx.member, &AI_SYSTEM, false, 0, 200).await?;
    let rows = page
        .items
        .iter()
        .map(|r| {
            let stage = field(r, "lifecycle_stage");
            let oversight = field(r, "human_oversight_mode");
            let high = field(r, "eu_ai_act_risk_category") == "high";
            SystemRow {
                href: format!("/orgs/{}/ai-systems/{}", ctx.slug(), r.id),
                name: field(r, "name"),
                stage_label: stage_label(&stage),
                stage,
                risk_category: humanize(&field(r, "eu_ai_act_risk_category")),
                owner: names.get(&field(r, "owner_id")).cloned().unwrap_or_default(),
                oversight_gap: high && (oversight.is_empty() || oversight == "none" || field(r, "human_oversight_rationale").is_empty()),
                oversight: humanize(&oversight),
            }
        })
        .collect();
    Ok(SystemsPage { shell: ctx.shell(Section::AiSystems), can_edit: ctx.can(Action::Edit), rows }.into_response())
}

// ---- a generic "new record" page ----

#[derive(Template, WebTemplate)]
#[template(path = "record_new.html")]
pub(crate) struct NewRecordPage {
    pub shell: Shell,
    pub can_edit: bool,
    pub eyebrow: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub back_href: String,
    pub back_label: &'static str,
    pub submit: &'static str,
    pub notice: Notice,
    pub form_html: String,
    pub others: Vec<String>,
    pub hidden: Vec<(String, String)>,
}

/// The words of a "new record" page.
pub(crate) struct NewPageText {
    pub section: Section,
    pub eyebrow: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub back_label: &'static str,
    pub submit: &'static str,
}

impl NewRecordPage {
    /// A new-record form for a kind's fields (re-shown with what was typed and its errors),
    /// answered with the status the outcome calls for.
    pub(crate) fn respond(
        ctx: &OrgCtx,
        text: NewPageText,
        back_href: String,
        fields: &[aims_domain::validate::FieldSpec],
        form: (&Map<String, Value>, &FormErrors, &Options),
        notice: Notice,
    ) -> Response {
        let (values, errors, options) = form;
        let shown: Vec<&str> = fields.iter().map(|f| f.name).collect();
        let status = crate::gap::form_status(&notice, errors);
        let page = NewRecordPage {
            shell: ctx.shell(text.section),
            can_edit: ctx.can(Action::Edit),
            eyebrow: text.eyebrow,
            title: text.title,
            intro: text.intro,
            back_href,
            back_label: text.back_label,
            submit: text.submit,
            form_html: recform::render(fields, &[], values, errors, options),
            others: errors.others(&shown),
            notice,
            hidden: Vec::new(),
        };
        (status, page).into_response()
    }
}

pub(crate) async fn new_form(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    // Whoever registers a system owns it until they say otherwise.
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
    let options = Options::load(&state.app, &ctx.member, AI_SYSTEM.fields).await?;
    let text = NewPageText {
        section: Section::AiSystems,
        eyebrow: "AI system inventory",
        title: "Register AI system",
        intro: "Describe the system as it is intended to be used. It starts in the idea stage; later stages are reached through approved lifecycle gates.",
        back_label: "AI systems",
        submit: "Register AI system",
    };
    let back = format!("/orgs/{}/ai-systems", ctx.slug());
    Ok(NewRecordPage::respond(ctx, text, back, AI_SYSTEM.fields, (&values, &errors, &options), notice))
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let body = posted.to_json(AI_SYSTEM.fields, &[], false);
    match state.app.create_record(&ctx.member, &AI_SYSTEM, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/ai-systems/{}?done=registered", ctx.slug(), record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_new(&state, &ctx, body, notice, errors).await
        }
    }
}

// ---- one AI system ----

/// A form on the AI system page that was just posted and refused: its values and errors.
#[derive(Default)]
struct Refused {
    form: &'static str,
    values: Map<String, Value>,
    errors: FormErrors,
}

struct GateRow {
    id: String,
    version: i64,
    from: String,
    to: String,
    state: String,
    reason: String,
    requested: String,
    decided: String,
    decision_reason: String,
}

struct LinkRow {
    href: String,
    title: String,
    detail: String,
    badge: Option<(String, String)>,
}

pub(crate) struct AssessmentRow {
    href: String,
    title: String,
    state: String,
    state_label: String,
    overall: String,
    signed: String,
    due_reason: Option<String>,
}

struct ActivityRow {
    when: String,
    actor: String,
    action: String,
    fields: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ai_system.html")]
struct SystemPage {
    shell: Shell,
    can_edit: bool,
    can_approve: bool,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    name: String,
    version: i64,
    stage: String,
    stages: Vec<(String, String, &'static str)>,
    facts: Vec<(&'static str, String)>,
    updated: String,
    details_form: String,
    details_open: bool,
    details_others: Vec<String>,
    gates: Vec<GateRow>,
    gate_form: String,
    gate_open: bool,
    gate_pending: bool,
    records: Vec<LinkRow>,
    record_form: String,
    record_open: bool,
    resources: Vec<LinkRow>,
    resource_form: String,
    resource_open: bool,
    datasets: Vec<LinkRow>,
    dataset_form: String,
    dataset_open: bool,
    risks: Vec<LinkRow>,
    assessments: Vec<AssessmentRow>,
    activity: Vec<ActivityRow>,
}

impl SystemPage {
    fn due(&self) -> Vec<&AssessmentRow> {
        self.assessments.iter().filter(|a| a.due_reason.is_some()).collect()
    }
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    render_system(&state, &ctx, &id, done_notice(&query.done), done_section(&query.done), Refused::default()).await
}

async fn render_system(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    notice: Notice,
    notice_section: &'static str,
    refused: Refused,
) -> Result<Response, UiError> {
    let app = &state.app;
    let member = &ctx.member;
    let (system, linked) = app.trace(member, &AI_SYSTEM, id).await?;
    let mut all_fields: Vec<_> = AI_SYSTEM.fields.to_vec();
    all_fields.extend(RESOURCE.fields.iter().copied());
    all_fields.extend(LIFECYCLE_RECORD.fields.iter().copied());
    all_fields.extend(DATASET.fields.iter().copied());
    let options = Options::load(app, member, &all_fields).await?;
    let (_, names) = ctx.member_names(state).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "someone".into());
    let slug = ctx.slug();
    let values_for = |form: &str, record: Option<&Record>| -> Map<String, Value> {
        if refused.form == form { refused.values.clone() } else { record.map(|r| r.data.clone()).unwrap_or_default() }
    };
    let no_errors = FormErrors::default();
    let errors_for = |form: &str| if refused.form == form { &refused.errors } else { &no_errors };

    let stage = field(&system, "lifecycle_stage");
    let current = LIFECYCLE_STAGES.iter().position(|s| *s == stage).unwrap_or(0);
    let stages = LIFECYCLE_STAGES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                (*s).to_owned(),
                stage_label(s),
                if i < current {
                    "done"
                } else if i == current {
                    "current"
                } else {
                    "next"
                },
            )
        })
        .collect();
    let facts = [
        "purpose",
        "intended_use",
        "eu_ai_act_risk_category",
        "eu_ai_act_role",
        "owner_id",
        "human_oversight_mode",
        "ai_roles",
        "data_categories",
    ]
    .iter()
    .filter_map(|f| AI_SYSTEM.field(f))
    .map(|f| (f.label, recform::show(f, system.data.get(f.name), &options)))
    .collect();

    let live: Vec<&Record> = linked.iter().map(|l| &l.record).filter(|r| !r.archived).collect();
    let of_kind = |kind: &str| -> Vec<&Record> { live.iter().copied().filter(|r| r.kind == kind).collect() };

    let mut gates: Vec<GateRow> = of_kind("gate")
        .into_iter()
        .map(|g| GateRow {
            id: g.id.clone(),
            version: g.version,
            from: stage_label(&field(g, "from_stage")),
            to: stage_label(&field(g, "to_stage")),
            state: g.state.clone().unwrap_or_default(),
            reason: field(g, "reason"),
            requested: format!("{} · {}", name_of(&field(g, "requested_by")), datetime(&g.created_at)),
            decided: if field(g, "decided_by").is_empty() {
                String::new()
            } else {
                format!("{} · {}", name_of(&field(g, "decided_by")), datetime(&field(g, "decided_at")))
            },
            decision_reason: field(g, "decision_reason"),
        })
        .collect();
    gates.reverse();
    let gate_form = {
        let mut values = values_for("gate", None);
        if !values.contains_key("to_stage") {
            if let Some(next) = LIFECYCLE_STAGES.get(current + 1) {
                values.insert("to_stage".into(), json!(next));
            }
        }
        recform::render(GATE.fields, &["ai_system_id"], &values, errors_for("gate"), &options)
    };

    let records = of_kind("lifecycle_record")
        .into_iter()
        .map(|r| LinkRow {
            href: String::new(),
            title: field(r, "title"),
            detail: [humanize(&field(r, "record_type")), field(r, "recorded_on"), field(r, "location")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            badge: None,
        })
        .collect();
    let record_form =
        recform::render(LIFECYCLE_RECORD.fields, &["ai_system_id"], &values_for("record", None), errors_for("record"), &options);

    let children = app.list_children(member, &RESOURCE, &system.id, 0, 200).await?;
    let resources = children
        .items
        .iter()
        .filter(|r| !r.archived)
        .map(|r| LinkRow {
            href: String::new(),
            title: field(r, "name"),
            detail: [field(r, "description"), names.get(&field(r, "owner_id")).cloned().unwrap_or_default()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            badge: Some(("type".into(), humanize(&field(r, "resource_type")))),
        })
        .collect();
    let resource_form = recform::render(RESOURCE.fields, &[], &values_for("resource", None), errors_for("resource"), &options);

    let datasets = of_kind("dataset")
        .into_iter()
        .map(|d| {
            let personal = d.data.get("personal_data") == Some(&Value::Bool(true));
            LinkRow {
                href: String::new(),
                title: record_label(d),
                detail: [field(d, "source"), field(d, "provenance")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · "),
                badge: personal.then(|| ("personal".into(), "Personal data".into())),
            }
        })
        .collect();

    let risks = of_kind("risk")
        .into_iter()
        .map(|r| {
            let residual = field(r, "residual_level");
            let inherent = field(r, "inherent_level");
            LinkRow {
                href: format!("/orgs/{slug}/risks/{}", r.id),
                title: field(r, "title"),
                detail: format!(
                    "Inherent {} · residual {} · {}",
                    if inherent.is_empty() { "not rated".into() } else { inherent },
                    if residual.is_empty() { "not rated".to_owned() } else { residual.clone() },
                    humanize(r.state.as_deref().unwrap_or_default())
                ),
                badge: None,
            }
        })
        .collect();

    let assessments = of_kind("impact_assessment").into_iter().map(|a| assessment_row(slug, a, &name_of)).collect();

    let filter = ActivityFilter { record_id: Some(system.id.clone()), ..ActivityFilter::default() };
    let events = app.list_activity(member, &filter, 0, Some(200)).await?;
    let activity = events
        .items
        .iter()
        .rev()
        .take(8)
        .map(|e| ActivityRow {
            when: datetime(&e.at),
            actor: e.actor.clone(),
            action: humanize(&e.action),
            fields: match &e.changes {
                Value::Object(map) if e.action != "create" => map
                    .keys()
                    .map(|k| AI_SYSTEM.field(k).map_or_else(|| humanize(k), |f| f.label.to_owned()))
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            },
        })
        .collect();

    let details_errors = errors_for("details");
    let shown: Vec<&str> = AI_SYSTEM.fields.iter().map(|f| f.name).collect();
    let updated_by = system.updated_by.as_deref().map(&name_of).unwrap_or_else(|| "the system".into());
    let status = crate::gap::form_status(&notice, &refused.errors);
    let page = SystemPage {
        shell: ctx.shell(Section::AiSystems),
        can_edit: ctx.can(Action::Edit),
        can_approve: ctx.can(Action::Approve),
        notice_section,
        id: system.id.clone(),
        name: field(&system, "name"),
        version: system.version,
        stage,
        stages,
        facts,
        updated: format!("{} by {updated_by}", datetime(&system.updated_at)),
        details_form: recform::render(AI_SYSTEM.fields, &[], &values_for("details", Some(&system)), details_errors, &options),
        details_open: refused.form == "details",
        details_others: details_errors.others(&shown),
        gate_pending: gates.iter().any(|g| g.state == "requested"),
        gates,
        gate_form,
        gate_open: refused.form == "gate",
        records,
        record_form,
        record_open: refused.form == "record",
        resources,
        resource_form,
        resource_open: refused.form == "resource",
        datasets,
        dataset_form: recform::render(DATASET.fields, &[], &values_for("dataset", None), errors_for("dataset"), &options),
        dataset_open: refused.form == "dataset",
        risks,
        assessments,
        activity,
        notice,
    };
    Ok((status, page).into_response())
}

pub(crate) fn assessment_row(slug: &str, a: &Record, name_of: &dyn Fn(&str) -> String) -> AssessmentRow {
    let state = a.state.clone().unwrap_or_default();
    let revision = a.data.get("signed_off_revision").and_then(Value::as_i64);
    let signed = match revision {
        Some(n) => format!(
            "Revision {n} signed off by {} on {}",
            name_of(&field(a, "signed_off_by")),
            crate::text::date(&field(a, "signed_off_at"))
        ),
        None => "Never signed off".into(),
    };
    AssessmentRow {
        href: format!("/orgs/{slug}/impact-assessments/{}", a.id),
        title: field(a, "title"),
        state_label: humanize(&state),
        state,
        overall: humanize(&field(a, "overall_level")),
        signed,
        due_reason: (a.data.get("reassessment_due") == Some(&Value::Bool(true))).then(|| field(a, "reassessment_reason")),
    }
}

/// Saves the details form.
pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let patch = posted.to_json(AI_SYSTEM.fields, &[], true);
    match state.app.patch_record(&ctx.member, &AI_SYSTEM, &id, version_of(&posted), &Value::Object(patch.clone())).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/ai-systems/{id}?done=saved", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_system(&state, &ctx, &id, notice, "details", Refused { form: "details", values: patch, errors }).await
        }
    }
}

/// Adds a gate request, a lifecycle record or a resource from the AI system page.
pub(crate) async fn add(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id, what)): Path<(String, String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let (form, spec, done) = match what.as_str() {
        "gates" => ("gate", &GATE, "gate"),
        "lifecycle-records" => ("record", &LIFECYCLE_RECORD, "record"),
        "resources" => ("resource", &RESOURCE, "resource"),
        "datasets" => ("dataset", &DATASET, "dataset"),
        _ => return Err(UiError::NotFound),
    };
    let mut body = posted.to_json(spec.fields, &["ai_system_id"], false);
    let outcome = if spec.kind == "resource" {
        state.app.create_child_record(&ctx.member, &RESOURCE, &id, &Value::Object(body.clone())).await
    } else if spec.kind == "dataset" {
        add_dataset(&state, &ctx, &id, version_of(&posted), &body).await
    } else {
        body.insert("ai_system_id".into(), json!(id));
        state.app.create_record(&ctx.member, spec, &Value::Object(body.clone())).await
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/ai-systems/{id}?done={done}#{}", ctx.slug(), done_section(done))).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_system(&state, &ctx, &id, notice, done_section(done), Refused { form, values: body, errors }).await
        }
    }
}

/// Creates a dataset and links it to the AI system (at the version the page showed).
async fn add_dataset(
    state: &UiState,
    ctx: &OrgCtx,
    system_id: &str,
    version: i64,
    body: &Map<String, Value>,
) -> Result<Record, aims_app::AppError> {
    let system = state.app.get_record(&ctx.member, &AI_SYSTEM, system_id).await?;
    if system.version != version {
        return Err(aims_app::AppError::Stale { expected: version, current: system.version });
    }
    let dataset = state.app.create_record(&ctx.member, &DATASET, &Value::Object(body.clone())).await?;
    let mut ids = system.data.get("dataset_ids").and_then(Value::as_array).cloned().unwrap_or_default();
    ids.push(json!(dataset.id));
    state.app.patch_record(&ctx.member, &AI_SYSTEM, system_id, version, &json!({ "dataset_ids": ids })).await?;
    Ok(dataset)
}

/// Approves, rejects or cancels a requested gate.
pub(crate) async fn decide(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, gate_id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let decision = posted.one("decision");
    if !["approve", "reject", "cancel"].contains(&decision.as_str()) {
        return Err(UiError::NotFound);
    }
    let gate = state.app.get_record(&ctx.member, &GATE, &gate_id).await?;
    let system_id = field(&gate, "ai_system_id");
    let reason = posted.one("reason");
    let body = if reason.is_empty() { json!({}) } else { json!({ "reason": reason }) };
    match state.app.transition(&ctx.member, &GATE, &gate_id, &decision, version_of(&posted), &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/ai-systems/{system_id}?done={decision}#gates", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = match forms::rejected(e)? {
                // A refused decision's field error (a rejection needs a reason) reads best as the banner.
                (Notice::Invalid, errors) => {
                    (Notice::Conflict(errors.get("reason").unwrap_or_else(|| "The decision was refused.".into())), FormErrors::default())
                }
                other => other,
            };
            render_system(&state, &ctx, &system_id, notice, "gates", Refused { form: "decision", values: Map::new(), errors }).await
        }
    }
}
