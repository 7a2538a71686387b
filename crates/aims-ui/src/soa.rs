//! The Statement of Applicability: the 38 Annex A controls by group plus the organisation's own
//! controls with the SoA's approval (approve, what changed since, the frozen revisions), one
//! control's page with guidance, traceability and the form that records applicability,
//! justification, implementation, owner, AI systems covered and last review, and the form for a
//! new own control.

use std::collections::HashMap;

use aims_app::AppError;
use aims_domain::kinds::{CONTROL, EVIDENCE, IMPLEMENTATION_STATUSES, SOA};
use aims_domain::policy::Action;
use aims_domain::validate::FieldSpec;
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
use crate::catalogue::{self, ControlGroup, ControlRow, field, is_annex_a};
use crate::charts::Segment;
use crate::common::{done_notice, version_of};
use crate::error::UiError;
use crate::forms::status_for;
use crate::forms::{self, Choice, FormErrors, Notice};
use crate::gap::{SavedQuery, bullets};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted, record_label};
use crate::text::humanize;

/// The SoA's approval as the page header shows it.
struct SoaStatus {
    /// "Approved — revision 2 by Ada Admin on 2026-03-01", or "Not yet approved".
    headline: String,
    approved: bool,
    version: i64,
    /// Entries changed (or added) since the last approval, newest first.
    changed: Vec<ChangedEntry>,
    revisions: Vec<SoaRevisionRow>,
}

struct ChangedEntry {
    reference: String,
    title: String,
    href: String,
    when: String,
    by: String,
}

struct SoaRevisionRow {
    n: i64,
    href: String,
    when: String,
    by: String,
    summary: String,
    comment: String,
}

/// What the SoA table shows: every control, or one of the views auditors ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    All,
    ApplicableWithoutEvidence,
    ImplementedWithoutEvidence,
    Excluded,
}

impl View {
    const ALL: [View; 4] = [View::All, View::ApplicableWithoutEvidence, View::ImplementedWithoutEvidence, View::Excluded];

    fn parse(text: &str) -> View {
        View::ALL.into_iter().find(|v| v.param() == text).unwrap_or(View::All)
    }

    /// The `show=` value in the address.
    fn param(self) -> &'static str {
        match self {
            View::All => "",
            View::ApplicableWithoutEvidence => "applicable-without-evidence",
            View::ImplementedWithoutEvidence => "implemented-without-evidence",
            View::Excluded => "excluded",
        }
    }

    fn label(self) -> &'static str {
        match self {
            View::All => "All controls",
            View::ApplicableWithoutEvidence => "Applicable without evidence",
            View::ImplementedWithoutEvidence => "Implemented without evidence",
            View::Excluded => "Excluded",
        }
    }

    fn keeps(self, row: &ControlRow) -> bool {
        match self {
            View::All => true,
            View::ApplicableWithoutEvidence => row.applicable && row.evidence == 0,
            View::ImplementedWithoutEvidence => row.applicable && row.status == "implemented" && row.evidence == 0,
            View::Excluded => !row.applicable,
        }
    }
}

/// One of the SoA's views as a link: label, address, how many controls it shows, current?
struct ViewLink {
    label: &'static str,
    href: String,
    count: usize,
    current: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct SoaQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    show: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "controls.html")]
struct ControlsPage {
    shell: Shell,
    views: Vec<ViewLink>,
    view_label: &'static str,
    filtered: bool,
    can_edit: bool,
    can_approve: bool,
    notice: Notice,
    soa: SoaStatus,
    comment: String,
    groups: Vec<ControlGroup>,
    own: Vec<ControlRow>,
    totals: Vec<Segment>,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<SoaQuery>) -> Result<Response, UiError> {
    let notice = match query.done.as_str() {
        "approved" => Notice::Done("Statement of Applicability approved: every entry is frozen in the new revision below.".into()),
        other => done_notice(other),
    };
    render_list(&state, &ctx, notice, String::new(), View::parse(&query.show)).await
}

/// How many evidence items name each control, by reference.
async fn evidence_counts(state: &UiState, ctx: &OrgCtx) -> Result<HashMap<String, usize>, UiError> {
    let mut counts = HashMap::new();
    for item in catalogue::all(&state.app, &ctx.member, &EVIDENCE).await? {
        let refs = item.data.get("control_refs").and_then(Value::as_array);
        for reference in refs.into_iter().flatten().filter_map(Value::as_str) {
            *counts.entry(reference.to_owned()).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

async fn render_list(state: &UiState, ctx: &OrgCtx, notice: Notice, comment: String, view: View) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(state).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "a former member".into());
    let records = catalogue::all(&state.app, &ctx.member, &CONTROL).await?;
    let (mut groups, mut own) = catalogue::control_groups(ctx.slug(), &records, &names);
    let evidence = evidence_counts(state, ctx).await?;
    for row in groups.iter_mut().flat_map(|g| g.rows.iter_mut()).chain(own.iter_mut()) {
        row.evidence = evidence.get(&row.reference).copied().unwrap_or(0);
    }
    let totals = catalogue::soa_segments(groups.iter().flat_map(|g| &g.rows));
    let views = View::ALL
        .into_iter()
        .map(|v| ViewLink {
            label: v.label(),
            href: match v.param() {
                "" => format!("/orgs/{}/controls", ctx.slug()),
                param => format!("/orgs/{}/controls?show={param}#soa-table", ctx.slug()),
            },
            count: groups.iter().flat_map(|g| &g.rows).chain(&own).filter(|r| v.keeps(r)).count(),
            current: v == view,
        })
        .collect();
    for group in &mut groups {
        group.rows.retain(|r| view.keeps(r));
    }
    groups.retain(|g| !g.rows.is_empty());
    own.retain(|r| view.keeps(r));

    let soa = state.app.get_singleton(&ctx.member, &SOA).await?;
    let approved_at = field(&soa, "approved_at");
    let approved = !approved_at.is_empty();
    let headline = if approved {
        format!(
            "Approved — revision {} by {} on {}",
            field(&soa, "approved_revision"),
            name_of(&field(&soa, "approved_by")),
            crate::text::date(&approved_at)
        )
    } else {
        "Not yet approved".to_owned()
    };
    let mut changed: Vec<(&Record, ChangedEntry)> = records
        .iter()
        .filter(|r| approved && r.updated_at > approved_at)
        .map(|r| {
            let reference = catalogue::reference(r);
            let entry = ChangedEntry {
                href: format!("/orgs/{}/controls/{reference}", ctx.slug()),
                reference,
                title: field(r, "title"),
                when: crate::text::datetime(&r.updated_at),
                by: r.updated_by.as_deref().map_or_else(|| "the system".into(), name_of),
            };
            (r, entry)
        })
        .collect();
    changed.sort_by(|a, b| b.0.updated_at.cmp(&a.0.updated_at));
    let revisions = state
        .app
        .revisions(&ctx.member, &SOA, &soa.id)
        .await?
        .into_iter()
        .rev()
        .map(|r| {
            let summary = r.data.get("summary");
            let count = |k: &str| summary.and_then(|s| s.get(k)).and_then(Value::as_i64).unwrap_or(0);
            SoaRevisionRow {
                n: r.n,
                href: format!("/orgs/{}/soa/revisions/{}", ctx.slug(), r.n),
                when: crate::text::datetime(&r.created_at),
                by: r.created_by.as_deref().map(name_of).unwrap_or_default(),
                summary: format!("{} controls · {} applicable · {} excluded", count("controls"), count("applicable"), count("excluded")),
                comment: r.data.get("approval_comment").and_then(Value::as_str).unwrap_or_default().to_owned(),
            }
        })
        .collect();
    let status = crate::forms::status_for(&notice);
    let page = ControlsPage {
        shell: ctx.shell(Section::Soa),
        views,
        view_label: view.label(),
        filtered: view != View::All,
        can_edit: ctx.can(Action::Edit),
        can_approve: ctx.can(Action::Approve),
        notice,
        soa: SoaStatus { headline, approved, version: soa.version, changed: changed.into_iter().map(|(_, e)| e).collect(), revisions },
        comment,
        groups,
        own,
        totals,
    };
    Ok((status, page).into_response())
}

/// Approves the SoA as it stands: the service freezes every entry in a new revision. Only
/// admins and owners may; anyone else's post is refused by the service and the page says why.
pub(crate) async fn approve(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let comment = posted.one("comment");
    let body = if comment.is_empty() { json!({}) } else { json!({ "comment": comment }) };
    let soa = state.app.get_singleton(&ctx.member, &SOA).await?;
    match state.app.transition(&ctx.member, &SOA, &soa.id, "approve", version_of(&posted), &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/controls?done=approved#soa-status", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, _) = forms::rejected(e)?;
            render_list(&state, &ctx, notice, comment, View::All).await
        }
    }
}

// ---- one approved revision ----

struct FrozenEntry {
    reference: String,
    title: String,
    applicable: bool,
    justification: String,
    status: String,
    status_label: String,
    owner: String,
    risks: usize,
    evidence: usize,
}

struct FrozenGroup {
    reference: String,
    title: String,
    entries: Vec<FrozenEntry>,
}

#[derive(Template, WebTemplate)]
#[template(path = "soa_revision.html")]
struct SoaRevisionPage {
    shell: Shell,
    n: i64,
    latest: i64,
    approved_by: String,
    approved_at: String,
    comment: String,
    controls: i64,
    applicable: i64,
    excluded: i64,
    groups: Vec<FrozenGroup>,
}

/// One approved revision of the SoA, rendered from what the revision froze (never from the
/// controls as they are now), so it reads the same however the entries change later. Only
/// owner names are looked up, by the user ids the revision holds.
pub(crate) async fn revision(State(state): State<UiState>, ctx: OrgCtx, Path((_, n)): Path<(String, i64)>) -> Result<Response, UiError> {
    let soa = state.app.get_singleton(&ctx.member, &SOA).await?;
    let revision = state.app.revision(&ctx.member, &SOA, &soa.id, n).await?;
    let latest = state.app.revisions(&ctx.member, &SOA, &soa.id).await?.iter().map(|r| r.n).max().unwrap_or(n);
    let (_, names) = ctx.member_names(&state).await?;
    let data = &revision.data;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut groups: Vec<FrozenGroup> = Vec::new();
    let mut own = Vec::new();
    for entry in data.get("entries").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let owner_id = text(entry.get("owner_id"));
        let status = text(entry.get("implementation_status"));
        let count = |k: &str| entry.get(k).and_then(Value::as_array).map_or(0, Vec::len);
        let frozen = FrozenEntry {
            reference: text(entry.get("ref")),
            title: text(entry.get("title")),
            applicable: entry.get("applicable") != Some(&Value::Bool(false)),
            justification: text(entry.get("justification")),
            status_label: humanize(&status),
            status,
            owner: if owner_id.is_empty() {
                String::new()
            } else {
                names.get(&owner_id).cloned().unwrap_or_else(|| "a former member".into())
            },
            risks: count("risk_ids"),
            evidence: count("evidence_ids"),
        };
        if text(entry.get("source")) != "iso42001" {
            own.push(frozen);
            continue;
        }
        let group = text(entry.get("group"));
        match groups.iter_mut().find(|g| g.reference == group) {
            Some(g) => g.entries.push(frozen),
            None => groups.push(FrozenGroup { reference: group, title: text(entry.get("group_title")), entries: vec![frozen] }),
        }
    }
    if !own.is_empty() {
        groups.push(FrozenGroup { reference: String::new(), title: "Own controls".into(), entries: own });
    }
    let summary = data.get("summary");
    let count = |k: &str| summary.and_then(|s| s.get(k)).and_then(Value::as_i64).unwrap_or(0);
    let approved_by = text(data.get("approved_by"));
    Ok(SoaRevisionPage {
        shell: ctx.shell(Section::Soa),
        n: revision.n,
        latest,
        approved_by: names.get(&approved_by).cloned().unwrap_or_else(|| "a former member".into()),
        approved_at: crate::text::datetime(&text(data.get("approved_at"))),
        comment: text(data.get("approval_comment")),
        controls: count("controls"),
        applicable: count("applicable"),
        excluded: count("excluded"),
        groups,
    }
    .into_response())
}

/// Routes of the SoA added with its approval (the list and control pages are routed in
/// `lib.rs`).
pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/orgs/{org}/soa/approve", post(approve)).route("/orgs/{org}/soa/revisions/{n}", get(revision))
}

/// The values the edit form shows: the record's, or what was just submitted.
pub(crate) struct ControlInput {
    version: String,
    title: String,
    description: String,
    applicable: String,
    justification: String,
    implementation_status: String,
    owner_id: String,
    last_reviewed_on: String,
    ai_system_ids: Vec<String>,
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
            ai_system_ids: ids(record.data.get("ai_system_ids")),
        }
    }

    fn from_posted(posted: &Posted) -> Self {
        let systems = posted.to_json(std::slice::from_ref(systems_field()), &[], true);
        Self {
            version: posted.one("version"),
            title: posted.one("title"),
            description: posted.one("description"),
            applicable: posted.one("applicable"),
            justification: posted.one("justification"),
            implementation_status: posted.one("implementation_status"),
            owner_id: posted.one("owner_id"),
            last_reviewed_on: posted.one("last_reviewed_on"),
            ai_system_ids: ids(systems.get("ai_system_ids")),
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
        patch.insert("ai_system_ids".into(), json!(self.ai_system_ids));
        Value::Object(patch)
    }
}

/// The control's "AI systems covered" field (declared by the kind).
fn systems_field() -> &'static FieldSpec {
    CONTROL.fields.iter().find(|f| f.name == "ai_system_ids").unwrap_or(&CONTROL.fields[0])
}

fn ids(value: Option<&Value>) -> Vec<String> {
    value.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

/// A linked record in a traceability list.
pub(crate) struct TraceRow {
    pub href: String,
    pub title: String,
    pub detail: String,
    /// "via risk …" for AI systems reached through a risk rather than linked directly.
    pub via: String,
}

/// What links to a control, by kind, as its page shows it.
#[derive(Default)]
struct Trace {
    risks: Vec<TraceRow>,
    evidence: Vec<TraceRow>,
    systems: Vec<TraceRow>,
    actions: Vec<TraceRow>,
    records: Vec<TraceRow>,
    policies: Vec<TraceRow>,
}

impl Trace {
    fn total(&self) -> usize {
        self.risks.len() + self.evidence.len() + self.systems.len() + self.actions.len() + self.records.len() + self.policies.len()
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
    systems_html: String,
    trace: Trace,
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
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let input = ControlInput::from_posted(&Posted(pairs));
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

/// The control's links both ways: the risks whose treatment selected it, its evidence, the AI
/// systems it covers (directly, or through a selecting risk), actions, lifecycle records and
/// policies.
async fn trace(state: &UiState, ctx: &OrgCtx, reference: &str, options: &mut Options) -> Result<Trace, UiError> {
    let (_, linked) = state.app.trace(&ctx.member, &CONTROL, reference).await?;
    let slug = ctx.slug();
    // The AI systems named through a selecting risk or a lifecycle record, looked up by id
    // (an organisation may have more than a form lists).
    let named: Vec<Value> = linked
        .iter()
        .filter(|l| !l.record.archived)
        .flat_map(|l| {
            let mut systems = ids(l.record.data.get("ai_system_ids"));
            systems.push(field(&l.record, "ai_system_id"));
            systems
        })
        .filter(|id| !id.is_empty())
        .map(Value::String)
        .collect();
    let wanted = Map::from_iter([("ai_system_ids".to_owned(), Value::Array(named))]);
    options.label_linked(&state.app, &ctx.member, std::slice::from_ref(systems_field()), &wanted).await?;
    let options = &*options;
    let system_name = |id: &str| {
        let label = options.label("ai_system", id);
        (label != id).then_some(label)
    };
    let mut trace = Trace::default();
    let mut via_risk: Vec<(String, String)> = Vec::new();
    for link in linked.iter().filter(|l| !l.record.archived) {
        let r = &link.record;
        let title = record_label(r);
        match (r.kind.as_str(), link.outgoing) {
            ("risk", false) => {
                for system in ids(r.data.get("ai_system_ids")) {
                    via_risk.push((system, title.clone()));
                }
                let residual = field(r, "residual_level");
                trace.risks.push(TraceRow {
                    href: format!("/orgs/{slug}/risks/{}", r.id),
                    detail: [
                        humanize(&field(r, "treatment")),
                        if residual.is_empty() { String::new() } else { format!("residual {residual}") },
                    ]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
                    title,
                    via: String::new(),
                });
            }
            ("evidence", false) => trace.evidence.push(TraceRow {
                href: format!("/orgs/{slug}/evidence/{}", r.id),
                detail: humanize(&field(r, "evidence_type")),
                title,
                via: String::new(),
            }),
            ("ai_system", true) => trace.systems.push(TraceRow {
                href: format!("/orgs/{slug}/ai-systems/{}", r.id),
                detail: crate::text::stage_label(&field(r, "lifecycle_stage")),
                title,
                via: String::new(),
            }),
            ("action", false) => trace.actions.push(TraceRow {
                href: format!("/orgs/{slug}/actions/{}", r.id),
                detail: crate::actions::summary(r),
                title,
                via: String::new(),
            }),
            ("lifecycle_record", false) => trace.records.push(TraceRow {
                href: format!("/orgs/{slug}/ai-systems/{}#records", field(r, "ai_system_id")),
                detail: [crate::text::stage_label(&field(r, "record_type")), system_name(&field(r, "ai_system_id")).unwrap_or_default()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
                title,
                via: String::new(),
            }),
            ("policy", false) => trace.policies.push(TraceRow {
                href: format!("/orgs/{slug}/policies/{}", r.id),
                detail: humanize(r.state.as_deref().unwrap_or_default()),
                title,
                via: String::new(),
            }),
            _ => {}
        }
    }
    // Systems reached through a selecting risk, unless the control names them itself.
    for (system, risk) in via_risk {
        if let Some(row) = trace.systems.iter_mut().find(|s| s.href.ends_with(&format!("/ai-systems/{system}"))) {
            if !row.via.is_empty() && !row.via.contains(&risk) {
                row.via = format!("{}, {risk}", row.via);
            }
            continue;
        }
        if let Some(name) = system_name(&system) {
            trace.systems.push(TraceRow {
                href: format!("/orgs/{slug}/ai-systems/{system}"),
                title: name,
                detail: String::new(),
                via: risk,
            });
        }
    }
    Ok(trace)
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
    let mut options = Options::load(&state.app, &ctx.member, std::slice::from_ref(systems_field())).await?;
    let reference = catalogue::reference(record);
    let trace = trace(state, ctx, &reference, &mut options).await?;
    let updated_by = record.updated_by.as_ref().and_then(|id| names.get(id)).cloned().unwrap_or_else(|| "the system".into());
    let status = status_for(&notice);
    let systems_values = Map::from_iter([("ai_system_ids".to_owned(), json!(form.ai_system_ids))]);
    let page = ControlPage {
        shell: ctx.shell(Section::Soa),
        can_edit: ctx.can(Action::Edit),
        own: !is_annex_a(record),
        reference,
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
        systems_html: recform::render(std::slice::from_ref(systems_field()), &[], &systems_values, &errors, &options),
        trace,
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
    let status = crate::forms::form_status(&notice, &errors);
    let page = NewControlPage { shell: ctx.shell(Section::Soa), can_edit: ctx.can(Action::Edit), notice, errors, form: input };
    Ok((status, page).into_response())
}
