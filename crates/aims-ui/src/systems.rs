//! The AI system inventory: the register, the form that registers a system, and one system's
//! whole picture — details, lifecycle gates (request, approve, reject), lifecycle records,
//! resources, datasets, linked risks, impact assessments, its traceability (controls, evidence,
//! actions, objectives, communications and policies) and recent activity.

use aims_domain::kinds::inventory::LIFECYCLE_STAGES;
use std::collections::HashMap;

use aims_domain::kinds::{AI_SYSTEM, CONTROL, DATASET, GATE, LIFECYCLE_RECORD, POLICY, RESOURCE};
use aims_domain::policy::Action;
use aims_store::activity::ActivityFilter;
use aims_store::model::Record;
use aims_store::records::LinkedRecord;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::common::{DoneQuery, NewPageText, NewRecordPage, done_notice, field, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted, record_label};
use crate::text::{datetime, encode_query_value, humanize, stage_label};

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
    listing: crate::lists::Listing,
    path: String,
}

/// The register: a page of AI systems (searchable by name), or all of them as CSV.
pub(crate) async fn list(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(params): Query<crate::lists::ListParams>,
) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(&state).await?;
    let path = format!("/orgs/{}/ai-systems", ctx.slug());
    if params.wants_csv() {
        let header = ["id", "name", "lifecycle_stage", "eu_ai_act_risk_category", "owner", "human_oversight_mode", "intended_use"];
        let row = move |r: &Record| {
            vec![
                r.id.clone(),
                field(r, "name"),
                field(r, "lifecycle_stage"),
                field(r, "eu_ai_act_risk_category"),
                names.get(&field(r, "owner_id")).cloned().unwrap_or_default(),
                field(r, "human_oversight_mode"),
                field(r, "intended_use"),
            ]
        };
        return Ok(crate::lists::csv(state.app.clone(), ctx.member.clone(), &AI_SYSTEM, &params, Vec::new(), "ai-systems", &header, row));
    }
    let (records, mut listing) = crate::lists::page(&state.app, &ctx.member, &AI_SYSTEM, &params, Vec::new(), &path).await?;
    crate::lists::filter_bar(&state.app, &ctx.member, &AI_SYSTEM, &members, &mut listing).await?;
    listing.offer_orders(&[
        ("name", "Name"),
        ("lifecycle_stage", "Lifecycle stage"),
        ("eu_ai_act_risk_category", "EU AI Act risk"),
        ("human_oversight_mode", "Human oversight"),
        ("updated", "Updated"),
    ]);
    let rows = records
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
    Ok(SystemsPage { shell: ctx.shell(Section::AiSystems), can_edit: ctx.can(Action::Edit), rows, listing, path }.into_response())
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
    /// The reason typed into this gate's decision form when the decision was refused, given back.
    typed_reason: String,
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
    /// The public disclosure page's address when the disclosure is published (A.8).
    public_href: Option<String>,
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
    risks_more: i64,
    assessments: Vec<AssessmentRow>,
    trace: SystemTrace,
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
    let mut options = Options::load(app, member, &all_fields).await?;
    options.label_linked(app, member, AI_SYSTEM.fields, &system.data).await?;
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
            typed_reason: if refused.form == "decision" && refused.values.get("gate_id").and_then(Value::as_str) == Some(g.id.as_str()) {
                refused.values.get("reason").and_then(Value::as_str).unwrap_or_default().to_owned()
            } else {
                String::new()
            },
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
        recform::render_in("gate-", GATE.fields, &["ai_system_id"], &values, errors_for("gate"), &options)
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
    let record_form = recform::render_in(
        "record-",
        LIFECYCLE_RECORD.fields,
        &["ai_system_id"],
        &values_for("record", None),
        errors_for("record"),
        &options,
    );

    // Every resource, read a page at a time: a system has few, but none may go unshown.
    let mut children = Vec::new();
    let mut after = 0;
    loop {
        let page = app.list_children(member, &RESOURCE, &system.id, after, aims_domain::cursor::MAX_LIMIT).await?;
        children.extend(page.items);
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    let resources = children
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
    let resource_form =
        recform::render_in("resource-", RESOURCE.fields, &[], &values_for("resource", None), errors_for("resource"), &options);

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
    let trace = system_trace(state, ctx, &system, &linked).await?;

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
    let status = crate::forms::form_status(&notice, &refused.errors);
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
        public_href: aims_domain::kinds::inventory::disclosure_published(&system.data)
            .then(|| format!("/trust/{slug}/ai-systems/{}", system.id)),
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
        dataset_form: recform::render_in("dataset-", DATASET.fields, &[], &values_for("dataset", None), errors_for("dataset"), &options),
        dataset_open: refused.form == "dataset",
        risks,
        risks_more: beyond_shown(&linked, "risk", false),
        assessments,
        trace,
        activity,
        notice,
    };
    Ok((status, page).into_response())
}

// ---- traceability ----

/// One record in the AI system's traceability panel.
pub(crate) struct TraceItem {
    href: Option<String>,
    /// A catalogue reference shown before the title (controls).
    reference: String,
    title: String,
    detail: String,
    /// A status badge: its class and its words.
    badge: Option<(String, String)>,
    /// Why it is listed when it does not name the system itself ("via risk: …").
    via: String,
}

/// A group of the traceability panel; an empty one is shown as one short line saying where
/// to start.
pub(crate) struct TraceGroup {
    id: &'static str,
    heading: &'static str,
    items: Vec<TraceItem>,
    /// Linked records beyond those shown (a trace returns a limited number per group).
    more: i64,
    more_href: String,
    /// A few words next to the heading ("1 open · 1 overdue").
    note: String,
    /// The line shown instead of an empty group; an empty text hides the group altogether.
    empty: &'static str,
    start_href: String,
    start_label: &'static str,
}

impl TraceGroup {
    fn new(id: &'static str, heading: &'static str, empty: &'static str) -> Self {
        Self {
            id,
            heading,
            items: Vec::new(),
            more: 0,
            more_href: String::new(),
            note: String::new(),
            empty,
            start_href: String::new(),
            start_label: "",
        }
    }

    fn start(mut self, href: String, label: &'static str) -> Self {
        self.start_href = href;
        self.start_label = label;
        self
    }

    fn count(&self) -> i64 {
        i64::try_from(self.items.len()).unwrap_or(i64::MAX).saturating_add(self.more)
    }

    fn is_empty(&self) -> bool {
        self.count() == 0
    }
}

/// What an AI system is traced to beyond its own cards: controls, evidence, actions,
/// objectives, communications and the policies those name.
pub(crate) struct SystemTrace {
    groups: Vec<TraceGroup>,
}

impl SystemTrace {
    fn filled(&self) -> Vec<&TraceGroup> {
        self.groups.iter().filter(|g| !g.is_empty()).collect()
    }

    fn empty(&self) -> Vec<&TraceGroup> {
        self.groups.iter().filter(|g| g.is_empty() && !g.empty.is_empty()).collect()
    }

    fn total(&self) -> i64 {
        self.groups.iter().map(TraceGroup::count).sum()
    }
}

/// How many records of a kind linked to the system (in one direction) the trace left out.
fn beyond_shown(linked: &[LinkedRecord], kind: &str, outgoing: bool) -> i64 {
    let mut groups: HashMap<&str, (i64, i64)> = HashMap::new();
    for link in linked.iter().filter(|l| l.record.kind == kind && l.outgoing == outgoing) {
        let entry = groups.entry(link.field.as_str()).or_insert((link.group_total, 0));
        entry.1 += 1;
    }
    groups.values().map(|(total, shown)| (total - shown).max(0)).sum()
}

fn ids_of(record: &Record, name: &str) -> Vec<String> {
    record.data.get(name).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// A catalogue reference in a path segment.
fn ref_segment(reference: &str) -> String {
    encode_query_value(reference).replace('/', "%2F")
}

/// Orders catalogue references as people read them: A.9 before A.10.
fn reference_key(reference: &str) -> Vec<(u8, u64, String)> {
    let mut key = Vec::new();
    let mut chars = reference.chars().peekable();
    while let Some(&c) = chars.peek() {
        let mut run = String::new();
        let digits = c.is_ascii_digit();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() != digits {
                break;
            }
            run.push(c);
            chars.next();
        }
        key.push(if digits { (0, run.parse().unwrap_or(u64::MAX), String::new()) } else { (1, 0, run.to_lowercase()) });
    }
    key
}

/// At most this many records are fetched one by one; more, and the whole kind is read once.
const FETCH_ONE_BY_ONE: usize = 20;

/// The controls with these references, by reference (missing ones are left out).
async fn controls_by_ref(state: &UiState, ctx: &OrgCtx, refs: &[String]) -> Result<HashMap<String, Record>, UiError> {
    let mut found = HashMap::new();
    if refs.len() > FETCH_ONE_BY_ONE {
        for record in crate::catalogue::all(&state.app, &ctx.member, &CONTROL).await? {
            let reference = crate::catalogue::reference(&record);
            if refs.contains(&reference) {
                found.insert(reference, record);
            }
        }
        return Ok(found);
    }
    for reference in refs {
        match state.app.get_record(&ctx.member, &CONTROL, reference).await {
            Ok(record) => {
                found.insert(reference.clone(), record);
            }
            Err(aims_app::AppError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(found)
}

/// The control row of the panel: reference, title and implementation status.
fn control_item(slug: &str, reference: &str, record: Option<&Record>, via: String) -> TraceItem {
    let badge = record.map(|r| {
        if r.archived {
            ("cancelled".to_owned(), "Archived".to_owned())
        } else if r.data.get("applicable") == Some(&Value::Bool(false)) {
            ("excluded".to_owned(), "Excluded".to_owned())
        } else {
            let status = field(r, "implementation_status");
            let label = humanize(&status);
            (status, label)
        }
    });
    TraceItem {
        href: Some(format!("/orgs/{slug}/controls/{}", ref_segment(reference))),
        reference: reference.to_owned(),
        title: record.map(|r| field(r, "title")).unwrap_or_default(),
        detail: String::new(),
        badge: badge.filter(|(status, _)| !status.is_empty()),
        via,
    }
}

/// The AI system's links beyond its own cards, both ways: controls that name it or that its
/// risks selected, evidence, actions, objectives, communications, and the policies those name.
async fn system_trace(state: &UiState, ctx: &OrgCtx, system: &Record, linked: &[LinkedRecord]) -> Result<SystemTrace, UiError> {
    let slug = ctx.slug();
    let can_edit = ctx.can(Action::Edit);
    let today = crate::actions::today();
    let incoming = |kind: &str| -> Vec<&Record> {
        linked.iter().filter(|l| !l.outgoing && l.record.kind == kind && !l.record.archived).map(|l| &l.record).collect()
    };
    let for_system = format!("ai_system_id={}", encode_query_value(&system.id));

    // Controls: those naming the system, then those its risks selected.
    let mut controls = TraceGroup::new("trace-controls", "Controls", "No controls yet")
        .start(format!("/orgs/{slug}/controls"), "choose them in the Statement of Applicability");
    let direct: Vec<&Record> = incoming("control");
    let mut via_risk: Vec<(String, Vec<String>)> = Vec::new();
    for risk in incoming("risk") {
        for reference in ids_of(risk, "control_refs") {
            match via_risk.iter_mut().find(|(r, _)| *r == reference) {
                Some((_, risks)) => risks.push(field(risk, "title")),
                None => via_risk.push((reference, vec![field(risk, "title")])),
            }
        }
    }
    let direct_refs: Vec<String> = direct.iter().map(|r| crate::catalogue::reference(r)).collect();
    let to_fetch: Vec<String> = via_risk.iter().map(|(r, _)| r.clone()).filter(|r| !direct_refs.contains(r)).collect();
    let fetched = controls_by_ref(state, ctx, &to_fetch).await?;
    let mut rows: Vec<(String, TraceItem)> = Vec::new();
    for record in &direct {
        let reference = crate::catalogue::reference(record);
        let via = match via_risk.iter().find(|(r, _)| *r == reference) {
            Some((_, risks)) => format!("directly and via risk: {}", risks.join(", ")),
            None => String::new(),
        };
        rows.push((reference.clone(), control_item(slug, &reference, Some(record), via)));
    }
    for (reference, risks) in &via_risk {
        if direct_refs.contains(reference) {
            continue;
        }
        let via = format!("via risk: {}", risks.join(", "));
        rows.push((reference.clone(), control_item(slug, reference, fetched.get(reference), via)));
    }
    rows.sort_by_cached_key(|(reference, _)| reference_key(reference));
    controls.items = rows.into_iter().map(|(_, item)| item).collect();
    controls.more = beyond_shown(linked, "control", false);
    controls.more_href = format!("/orgs/{slug}/controls");
    let implemented = controls.items.iter().filter(|i| i.badge.as_ref().is_some_and(|(s, _)| s == "implemented")).count();
    if !controls.items.is_empty() {
        controls.note = format!("{implemented} of {} implemented", controls.items.len());
    }

    // Evidence, with its file and review date.
    let mut evidence = TraceGroup::new("trace-evidence", "Evidence", "No evidence yet")
        .start(format!("/orgs/{slug}/evidence?{for_system}#upload"), if can_edit { "upload evidence" } else { "see all evidence" });
    let mut overdue = 0;
    for record in incoming("evidence") {
        let review_by = field(record, "review_by");
        let late = crate::evidence::is_past(&review_by, &today);
        overdue += usize::from(late);
        evidence.items.push(TraceItem {
            href: Some(format!("/orgs/{slug}/evidence/{}", record.id)),
            reference: String::new(),
            title: field(record, "title"),
            detail: [
                field(record, "file_name"),
                if review_by.is_empty() { "no review date".to_owned() } else { format!("review by {review_by}") },
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
            badge: late.then(|| ("overdue".to_owned(), "Review overdue".to_owned())),
            via: String::new(),
        });
    }
    evidence.more = beyond_shown(linked, "evidence", false);
    evidence.more_href = format!("/orgs/{slug}/evidence");
    if overdue > 0 {
        evidence.note = format!("{overdue} overdue for review");
    }

    // Actions: open ones first, overdue on top.
    let mut actions = TraceGroup::new("trace-actions", "Actions", "No actions yet").start(
        if can_edit { format!("/orgs/{slug}/actions/new?{for_system}") } else { format!("/orgs/{slug}/actions") },
        if can_edit { "add an action" } else { "open the actions tracker" },
    );
    let mut records = incoming("action");
    let open = |r: &Record| ["open", "in_progress"].contains(&field(r, "status").as_str());
    records.sort_by_key(|r| (!crate::actions::is_overdue(r, &today), !open(r), r.seq));
    let open_count = records.iter().filter(|r| open(r)).count();
    let overdue_count = records.iter().filter(|r| crate::actions::is_overdue(r, &today)).count();
    for record in records {
        let late = crate::actions::is_overdue(record, &today);
        actions.items.push(TraceItem {
            href: Some(format!("/orgs/{slug}/actions/{}", record.id)),
            reference: String::new(),
            title: field(record, "title"),
            detail: crate::actions::summary(record),
            badge: late.then(|| ("overdue".to_owned(), "Overdue".to_owned())),
            via: String::new(),
        });
    }
    actions.more = beyond_shown(linked, "action", false);
    actions.more_href = format!("/orgs/{slug}/actions");
    if !actions.items.is_empty() {
        actions.note =
            if overdue_count > 0 { format!("{open_count} open · {overdue_count} overdue") } else { format!("{open_count} open") };
    }

    // Objectives and communications, and the policies they name.
    let mut policy_via: Vec<(String, Vec<String>)> = Vec::new();
    let mut name_policies = |record: &Record, what: &str, title: String| {
        for id in ids_of(record, "policy_ids") {
            let why = format!("{what} {title}");
            match policy_via.iter_mut().find(|(p, _)| *p == id) {
                Some((_, whys)) => whys.push(why),
                None => policy_via.push((id, vec![why])),
            }
        }
    };
    let mut objectives = TraceGroup::new("trace-objectives", "Objectives", "No objectives yet").start(
        if can_edit { format!("/orgs/{slug}/objectives/new?{for_system}") } else { format!("/orgs/{slug}/objectives") },
        if can_edit { "set an objective" } else { "see all objectives" },
    );
    for record in incoming("objective") {
        let title = field(record, "title");
        name_policies(record, "objective:", title.clone());
        let (status, label) = crate::objectives::status_of(record);
        objectives.items.push(TraceItem {
            href: Some(format!("/orgs/{slug}/objectives/{}", record.id)),
            reference: String::new(),
            title,
            detail: field(record, "metric"),
            badge: Some((status.to_owned(), label.to_owned())),
            via: String::new(),
        });
    }
    objectives.more = beyond_shown(linked, "objective", false);
    objectives.more_href = format!("/orgs/{slug}/objectives");

    let mut communications = TraceGroup::new("trace-communications", "Communications", "No communications planned").start(
        if can_edit { format!("/orgs/{slug}/communications/new?{for_system}") } else { format!("/orgs/{slug}/communications") },
        if can_edit { "plan one" } else { "see the communication plan" },
    );
    for record in incoming("communication") {
        let title = field(record, "subject");
        name_policies(record, "communication:", title.clone());
        let next = field(record, "next_on");
        let late = crate::communications::is_overdue(record, &today);
        communications.items.push(TraceItem {
            href: Some(format!("/orgs/{slug}/communications/{}", record.id)),
            reference: String::new(),
            title,
            detail: [field(record, "audience"), if next.is_empty() { String::new() } else { format!("next {next}") }]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            badge: late.then(|| ("overdue".to_owned(), "Overdue".to_owned())),
            via: String::new(),
        });
    }
    communications.more = beyond_shown(linked, "communication", false);
    communications.more_href = format!("/orgs/{slug}/communications");

    // Policies never name an AI system themselves: only those reached through the above show.
    let mut policies = TraceGroup::new("trace-policies", "Policies", "");
    for (id, whys) in policy_via.into_iter().take(FETCH_ONE_BY_ONE) {
        let record = match state.app.get_record(&ctx.member, &POLICY, &id).await {
            Ok(record) if !record.archived => record,
            Ok(_) | Err(aims_app::AppError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let state_code = record.state.clone().unwrap_or_default();
        policies.items.push(TraceItem {
            href: Some(format!("/orgs/{slug}/policies/{}", record.id)),
            reference: String::new(),
            title: field(&record, "title"),
            detail: String::new(),
            badge: Some((state_code.clone(), crate::text::state_label(&state_code))),
            via: format!("via {}", whys.join(", ")),
        });
    }

    Ok(SystemTrace { groups: vec![controls, evidence, actions, objectives, communications, policies] })
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
    match recform::save_changed(&state.app, &ctx.member, &AI_SYSTEM, &id, version_of(&posted), &patch).await {
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
            let typed = Map::from_iter([("gate_id".to_owned(), json!(gate_id)), ("reason".to_owned(), json!(reason))]);
            render_system(&state, &ctx, &system_id, notice, "gates", Refused { form: "decision", values: typed, errors }).await
        }
    }
}
