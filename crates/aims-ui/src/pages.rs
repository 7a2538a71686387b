//! Record pages from declarations: a [`PageSpec`] beside a kind's `KindSpec` names its title
//! field, list columns, the clause or control it serves and a short intro; [`routes`] registers
//! the same list, new, detail and save handlers for every declared kind, as the API registers
//! its routes. The list pages by cursor, searches with `?q=` and downloads as CSV; the detail
//! shows every field, the records linked both ways, and an edit form that saves only what
//! changed.

use aims_domain::kinds::{
    self, ACTION, COMMUNICATION, COMPETENCE, CONTEXT_ISSUE, DATASET, GATE, GATE_REQUIREMENT, IMPACT_ASSESSMENT, INTERESTED_PARTY,
    LIFECYCLE_RECORD, OBJECTIVE, RISK_SOURCE, SCOPE, TRAINING,
};
use aims_domain::validate::{FieldSpec, Revisions};
use aims_domain::workflow::TransitionSpec;
use aims_store::model::Record;
use aims_store::page_json::Filter;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::UiState;
use crate::common::{DoneQuery, NewPageText, NewRecordPage, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::hooks::{Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section, Shell};
use crate::lists::{self, ListParams, Listing};
pub(crate) use crate::page_spec::{Badge, PAGE, PageSection, PageSpec};
use crate::recform::{self, Options, Posted, record_label};
use crate::text::{datetime, humanize};

/// One of a hook panel's forms, posted: done, the record's page; refused, the page again with
/// what was typed.
async fn hook_action(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
    page: &'static PageSpec,
    action: &'static str,
) -> Result<Response, UiError> {
    let hooks = page.hooks.ok_or(UiError::NotFound)?;
    match hooks.act(&state, &ctx, &id, action, Posted(pairs)).await? {
        Acted::Done { done, anchor } => {
            Ok(Redirect::to(&format!("/orgs/{}/{}/{id}?done={done}#{anchor}", ctx.slug(), page.kind.collection)).into_response())
        }
        Acted::Refused(notice, refusal) => render(&state, &ctx, &id, page, notice, Refused::Panel(refusal)).await,
    }
}

/// The kinds whose pages are generated.
pub(crate) static PAGES: &[PageSpec] = &[
    PageSpec {
        kind: &CONTEXT_ISSUE,
        title_field: "title",
        columns: &["issue_type", "category", "owner_id"],
        facts: &["issue_type", "owner_id", "review_on"],
        sections: &[PageSection { heading: "Effect on the AIMS", fields: &["effect_on_aims"] }],
        serves: "Clause 4.1",
        intro: "External and internal issues that bear on the AI management system's purpose and its ability to achieve its intended results.",
        section: Section::Gap,
        ..PAGE
    },
    PageSpec {
        kind: &INTERESTED_PARTY,
        title_field: "name",
        columns: &["category", "addressed_by_aims"],
        facts: &["category", "addressed_by_aims"],
        sections: &[PageSection { heading: "How the AIMS addresses them", fields: &["how_addressed", "requirement_refs"] }],
        serves: "Clause 4.2",
        intro: "The parties whose needs and expectations the AI management system takes into account, and which of them it addresses.",
        section: Section::Gap,
        ..PAGE
    },
    PageSpec {
        kind: &RISK_SOURCE,
        title_field: "title",
        columns: &["category"],
        facts: &[],
        serves: "Clause 6.1.2",
        intro: "The library of risk sources the risk assessment draws on.",
        section: Section::Risks,
        ..PAGE
    },
    PageSpec {
        kind: &DATASET,
        title_field: "name",
        columns: &["personal_data", "owner_id"],
        facts: &["owner_id", "personal_data"],
        sections: &[PageSection {
            heading: "Provenance and quality",
            fields: &["source", "acquisition", "provenance", "quality_checks", "preparation_steps"],
        }],
        serves: "A.7",
        intro: "Data sets used to develop, test and run AI systems: where they come from and how their quality is checked.",
        section: Section::AiSystems,
        ..PAGE
    },
    PageSpec {
        kind: &GATE,
        title_field: "to_stage",
        columns: &["ai_system_id"],
        facts: &["ai_system_id", "to_stage"],
        serves: "A.6.2",
        intro: "Requests to move an AI system to its next life-cycle stage, and their decisions. A gate is requested from the AI system's page and decided by someone independent of it.",
        section: Section::AiSystems,
        hooks: Some(&GatePrerequisites),
        ..PAGE
    },
    PageSpec {
        kind: &GATE_REQUIREMENT,
        title_field: "to_stage",
        columns: &["required_record_types"],
        facts: &[],
        serves: "A.6.2",
        intro: "What must be recorded before an AI system may enter a life-cycle stage.",
        section: Section::AiSystems,
        ..PAGE
    },
    PageSpec {
        kind: &LIFECYCLE_RECORD,
        title_field: "title",
        columns: &["ai_system_id", "record_type", "recorded_on"],
        facts: &["ai_system_id", "record_type", "recorded_on"],
        serves: "A.6.2",
        intro: "Records kept along an AI system's life cycle: design decisions, verification results, deployment and monitoring notes.",
        section: Section::AiSystems,
        ..PAGE
    },
    PageSpec {
        kind: &IMPACT_ASSESSMENT,
        title_field: "title",
        columns: &["ai_system_id"],
        facts: &[],
        serves: "A.5",
        intro: "Assessments of the impacts of AI systems on individuals, groups and society.",
        section: Section::Risks,
        detail: false,
        ..PAGE
    },
    PageSpec {
        kind: &ACTION,
        title_field: "title",
        columns: &["source", "owner_id", "due_date", "status"],
        facts: &["status", "source", "owner_id", "due_date"],
        sections: &[PageSection { heading: "What it serves", fields: &["requirement_refs", "control_refs", "risk_ids", "ai_system_ids"] }],
        serves: "Clauses 6.1, 9.3, 10.2",
        section: Section::Actions,
        // The tracker (the member's own actions first, with its filters) and the new form,
        // which can start from an AI system, are the actions module's own.
        list: false,
        hooks: Some(&crate::actions::Completion),
        ..PAGE
    },
    PageSpec {
        kind: &OBJECTIVE,
        title_field: "title",
        columns: &["metric", "owner_id", "due_date"],
        facts: &["metric", "owner_id", "due_date"],
        sections: &[PageSection { heading: "Target", fields: &["direction", "target", "unit", "baseline"] }],
        serves: "Clauses 6.2, 9.1",
        section: Section::Objectives,
        // The list (where each stands, with sparklines) and the new form, which can start from
        // an AI system, are the objectives module's own.
        list: false,
        hooks: Some(&crate::objectives::Measurements),
        ..PAGE
    },
    PageSpec {
        kind: &COMPETENCE,
        title_field: "name",
        facts: &["renewal_months"],
        serves: "Clause 7.2",
        section: Section::People,
        columns: &["required_for_roles", "renewal_months"],
        intro: "What people in AI-related roles must know or be able to do, and how often it must be renewed. The people page shows who lacks which.",
        hooks: Some(&crate::people::WhoLacksIt),
        ..PAGE
    },
    PageSpec {
        kind: &TRAINING,
        title_field: "title",
        facts: &["person_id", "training_type", "completed_on", "expires_on"],
        serves: "Clause 7.2",
        section: Section::People,
        columns: &["person_id", "training_type", "completed_on", "expires_on"],
        intro: "Training, certifications and experience that show a person holds the competences their role requires.",
        ..PAGE
    },
    PageSpec {
        kind: &COMMUNICATION,
        title_field: "subject",
        facts: &["audience", "channel", "frequency"],
        serves: "Clause 7.4",
        section: Section::People,
        // The plan (with what is due) and its new form are the communications module's own.
        list: false,
        hidden: &["records"],
        list_label: Some("Communication plan"),
        hooks: Some(&crate::communications::Communicated),
        ..PAGE
    },
];

/// The scope of the AI management system (4.3): one record per organisation, with revisions.
static SCOPE_PAGE: PageSpec = PageSpec {
    kind: &SCOPE,
    title_field: "statement",
    sections: &[
        PageSection {
            heading: "What is in scope",
            fields: &["ai_roles", "ai_system_ids", "business_units", "geographies", "intended_uses"],
        },
        PageSection { heading: "Out of scope", fields: &["out_of_scope"] },
    ],
    serves: "Clause 4.3",
    intro: "The boundaries and applicability of the AI management system: the roles the organisation plays, the AI systems, units and places it covers, and what it leaves out and why.",
    section: Section::Gap,
    ..PAGE
};

/// A gate's prerequisites, shown while it is requested and after: the lifecycle records its
/// target stage requires (the gate requirements) and whether the AI system has each yet.
struct GatePrerequisites;

impl PageHooks for GatePrerequisites {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, gate: &'a Record, _: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let text = |name: &str| gate.data.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
            let (to_stage, system_id) = (text("to_stage"), text("ai_system_id"));
            let by_stage = [Filter::Field { field: "to_stage", value: to_stage.clone() }];
            let requirements = state.app.list_records_where(&ctx.member, &GATE_REQUIREMENT, false, &by_stage, 0, 100).await?;
            let required: Vec<String> = requirements
                .items
                .iter()
                .flat_map(|r| r.data.get("required_record_types").and_then(Value::as_array).cloned().unwrap_or_default())
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let of_system = [Filter::Link { field: "ai_system_id", id: system_id }];
            let present: Vec<String> = state
                .app
                .list_records_where(&ctx.member, &LIFECYCLE_RECORD, false, &of_system, 0, 1_000)
                .await?
                .items
                .iter()
                .filter_map(|r| r.data.get("record_type").and_then(Value::as_str).map(str::to_owned))
                .collect();
            let stage = recform::esc(&humanize(&to_stage).to_lowercase());
            let mut html = String::from(r#"<section class="card" aria-labelledby="prereq-h"><h2 id="prereq-h">Prerequisites</h2>"#);
            if required.is_empty() {
                html.push_str(&format!(r#"<p class="muted small">No lifecycle records are required before {stage}.</p></section>"#));
                return Ok(Some(html));
            }
            html.push_str(&format!(r#"<p class="small">Before a move to {stage} is approved, the AI system needs these lifecycle records:</p><ul class="prereqs">"#));
            for record_type in &required {
                let (mark, note) = if present.contains(record_type) { ("ok", "recorded") } else { ("missing", "missing") };
                html.push_str(&format!(
                    r#"<li class="prereq-{mark}">{} <span class="badge badge-{mark}">{note}</span></li>"#,
                    recform::esc(&humanize(record_type))
                ));
            }
            html.push_str("</ul></section>");
            Ok(Some(html))
        })
    }
}

/// Every kind whose pages are generated: those listed in `PAGES` and the scope.
pub(crate) fn declared() -> impl Iterator<Item = &'static PageSpec> {
    PAGES
        .iter()
        .chain([&SCOPE_PAGE])
        .chain(crate::improvement_pages::PAGES)
        .chain(crate::review_pages::PAGES)
        .chain(crate::audit_pages::PAGES)
        .chain(crate::schedule_pages::PAGES)
        .chain(crate::operations_pages::PAGES)
        .chain(crate::maturity_pages::PAGES)
}

/// The routes of every declared kind: list, new, detail and edit, archive, transitions and
/// revisions (a singleton kind, such as the scope, has its one record at the list's place).
pub(crate) fn routes() -> Router<UiState> {
    let mut router = Router::new();
    for page in declared() {
        let base = format!("/orgs/{{org}}/{}", page.kind.collection);
        for action in page.hooks.map_or(&[][..], |h| h.actions()) {
            router = router.route(&format!("{base}/{{id}}/{action}"), post(move |s, c, p, f| hook_action(s, c, p, f, page, action)));
        }
        if page.kind.singleton {
            router = router
                .route(&base, get(move |s, c, q| singleton_detail(s, c, q, page)).post(move |s, c, f| singleton_save(s, c, f, page)))
                .route(&format!("{base}/revisions"), get(move |s, c, q| singleton_revisions(s, c, q, page)));
            continue;
        }
        if page.list {
            router = router.route(&base, get(move |s, c, q| list(s, c, q, page)));
        }
        if page.kind.creatable && page.detail && page.list {
            router = router.route(&format!("{base}/new"), get(move |s, c| new_form(s, c, page)).post(move |s, c, f| create(s, c, f, page)));
        }
        if page.detail {
            router = router
                .route(
                    &format!("{base}/{{id}}"),
                    get(move |s, c, p, q| detail(s, c, p, q, page)).post(move |s, c, p, f| save(s, c, p, f, page)),
                )
                .route(&format!("{base}/{{id}}/archive"), post(move |s, c, p, f| archive(s, c, p, f, page)))
                .route(&format!("{base}/{{id}}/transitions/{{name}}"), post(move |s, c, p, f| take(s, c, p, f, page)))
                .route(&format!("{base}/{{id}}/revisions"), get(move |s, c, p, q| revisions(s, c, p, q, page)));
        }
    }
    router
}

fn fields_of(page: &PageSpec) -> Vec<FieldSpec> {
    page.kind.fields.iter().filter(|f| !page.hidden.contains(&f.name)).copied().collect()
}

struct Column {
    name: &'static str,
    label: &'static str,
}

struct Row {
    href: String,
    title: String,
    cells: Vec<Cell>,
    updated: String,
}

/// A list cell: plain text, or a badge of the given class (the state, "2 overdue").
struct Cell {
    text: String,
    badge: Option<String>,
}

impl Cell {
    fn plain(text: String) -> Self {
        Self { text, badge: None }
    }
}

/// The record's state as a list cell.
fn state_cell(record: &Record) -> Cell {
    let state = record.state.clone().unwrap_or_default();
    Cell { text: humanize(&state), badge: (!state.is_empty()).then(|| format!("badge-{state}")) }
}

/// The computed columns of a page of records: each badge counted by the store for the ids of
/// the page only.
async fn badge_cells(state: &UiState, ctx: &OrgCtx, page: &PageSpec, records: &[Record]) -> Result<Vec<Vec<Cell>>, UiError> {
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let today = crate::common::today();
    let mut columns = Vec::with_capacity(page.badges.len());
    for badge in page.badges {
        let counts = match badge {
            Badge::OverdueActions { link } => {
                let filters = aims_app::review::overdue_action_filters(&today);
                state.app.count_linked_where(&ctx.member, &ids, *link, &ACTION, &filters).await?
            }
        };
        columns.push(
            records
                .iter()
                .map(|r| match counts.get(&r.id).copied().unwrap_or(0) {
                    0 => Cell::plain(String::new()),
                    n => Cell { text: format!("{n} overdue"), badge: Some("badge-overdue".into()) },
                })
                .collect::<Vec<_>>(),
        );
    }
    // Row by row rather than column by column.
    let mut rows: Vec<Vec<Cell>> = records.iter().map(|_| Vec::new()).collect();
    for column in columns {
        for (row, cell) in rows.iter_mut().zip(column) {
            row.push(cell);
        }
    }
    Ok(rows)
}

#[derive(Template, WebTemplate)]
#[template(path = "record_list.html")]
struct ListPage {
    shell: Shell,
    can_create: bool,
    title: &'static str,
    serves: &'static str,
    intro: &'static str,
    what: String,
    path: String,
    title_field: &'static str,
    columns: Vec<Column>,
    rows: Vec<Row>,
    listing: Listing,
    /// The area's lists: (href, label, current).
    related: Vec<(String, &'static str, bool)>,
    /// The kind's own panel above the list (`PageHooks::list_panel`).
    list_panel: Option<String>,
}

/// The record's name: its title field as the page shows it (a stage's label, not its code).
fn title_of(page: &PageSpec, record: &Record) -> String {
    let shown = match page.kind.field(page.title_field) {
        Some(f) => recform::show(f, record.data.get(f.name), &Options::default()),
        None => String::new(),
    };
    if shown.is_empty() { record_label(record) } else { shown }
}

async fn list(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(params): Query<ListParams>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let spec = page.kind;
    let options = Options::load(&state.app, &ctx.member, &[]).await?;
    let fields: Vec<_> = page.columns.iter().filter_map(|c| spec.field(c)).copied().collect();
    let cells =
        move |r: &Record, options: &Options| fields.iter().map(|f| recform::show(f, r.data.get(f.name), options)).collect::<Vec<_>>();
    if params.wants_csv() {
        let mut header = vec!["id", page.title_field];
        header.extend(page.state_column.then_some("state"));
        header.extend(page.columns.iter().copied());
        let row = move |r: &Record| {
            let mut line = vec![r.id.clone(), title_of(page, r)];
            line.extend(page.state_column.then(|| r.state.clone().unwrap_or_default()));
            line.extend(cells(r, &options));
            line
        };
        return Ok(lists::csv(state.app.clone(), ctx.member.clone(), spec, &params, Vec::new(), spec.collection, &header, row));
    }
    let path = format!("/orgs/{}/{}", ctx.slug(), spec.collection);
    let (records, mut listing) = lists::page(&state.app, &ctx.member, spec, &params, Vec::new(), &path).await?;
    let (members, _) = ctx.member_names(&state).await?;
    lists::filter_bar(&state.app, &ctx.member, spec, &members, &mut listing).await?;
    let mut orders: Vec<(&str, &str)> = vec![(page.title_field, "Name")];
    orders.extend(page.columns.iter().filter_map(|c| spec.field(c)).map(|f| (f.name, f.label)));
    orders.push(("updated", "Updated"));
    listing.offer_orders(&orders);
    let mut options = options;
    for record in &records {
        options.label_linked(&state.app, &ctx.member, spec.fields, &record.data).await?;
    }
    let badges = badge_cells(&state, &ctx, page, &records).await?;
    let list_panel = match page.hooks {
        Some(hooks) => hooks.list_panel(&state, &ctx).await?,
        None => None,
    };
    let rows = records
        .iter()
        .zip(badges)
        .map(|(r, badges)| Row {
            href: format!("{path}/{}", r.id),
            title: title_of(page, r),
            cells: page
                .state_column
                .then(|| state_cell(r))
                .into_iter()
                .chain(cells(r, &options).into_iter().map(Cell::plain))
                .chain(badges)
                .collect(),
            updated: crate::text::date(&r.updated_at),
        })
        .collect();
    let columns = page
        .state_column
        .then_some(Column { name: "state", label: "State" })
        .into_iter()
        .chain(page.columns.iter().filter_map(|c| spec.field(c)).map(|f| Column { name: f.name, label: f.label }))
        .chain(page.badges.iter().map(|b| Column { name: b.heading(), label: b.heading() }))
        .collect();
    Ok(ListPage {
        shell: ctx.shell(page.section),
        // A kind whose record pages are its own (impact assessments) has its own new page at
        // the same place, so "Add" is offered whichever pages serve it.
        can_create: ctx.can(spec.write) && spec.creatable,
        title: spec.plural_label,
        serves: page.serves,
        intro: page.intro,
        what: spec.plural_label.to_lowercase(),
        path,
        title_field: page.title_field,
        columns,
        rows,
        listing,
        related: page
            .related
            .iter()
            .map(|k| (format!("/orgs/{}/{}", ctx.slug(), k.collection), k.plural_label, k.kind == spec.kind))
            .collect(),
        list_panel,
    }
    .into_response())
}

fn new_text(page: &'static PageSpec) -> NewPageText {
    NewPageText {
        section: page.section,
        eyebrow: page.serves,
        title: page.kind.label,
        intro: page.intro,
        back_label: page.kind.plural_label,
        submit: "Save",
    }
}

async fn new_form(State(state): State<UiState>, ctx: OrgCtx, page: &'static PageSpec) -> Result<Response, UiError> {
    // Those who may not create get the refusal, not a form whose save would be refused.
    aims_domain::policy::authorize(ctx.member.role, page.kind.write).map_err(|denied| UiError::Forbidden(denied.to_string()))?;
    let fields = fields_of(page);
    let options = Options::load(&state.app, &ctx.member, &fields).await?;
    let back = format!("/orgs/{}/{}", ctx.slug(), page.kind.collection);
    Ok(NewRecordPage::respond_as(
        &ctx,
        page.kind.write,
        new_text(page),
        back,
        &fields,
        (&Map::new(), &FormErrors::default(), &options),
        Notice::None,
    ))
}

async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let fields = fields_of(page);
    let body = Posted(pairs).to_json(&fields, &[], false);
    match state.app.create_record(&ctx.member, page.kind, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/{}/{}?done=saved", ctx.slug(), page.kind.collection, record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let options = Options::load(&state.app, &ctx.member, &fields).await?;
            let back = format!("/orgs/{}/{}", ctx.slug(), page.kind.collection);
            Ok(NewRecordPage::respond_as(&ctx, page.kind.write, new_text(page), back, &fields, (&body, &errors, &options), notice))
        }
    }
}

struct Fact {
    label: &'static str,
    value: String,
}

/// A record linked to the one shown, for the trace panel.
pub(crate) struct Link {
    pub href: Option<String>,
    pub kind: &'static str,
    pub label: String,
}

/// The trace panel's links: what the record links to, and what links to it, each to its page.
pub(crate) fn trace_links(slug: &str, linked: &[aims_store::records::LinkedRecord]) -> (Vec<Link>, Vec<Link>) {
    let link = |l: &aims_store::records::LinkedRecord| {
        let other = kinds::by_kind(&l.record.kind);
        Link {
            href: other.filter(|k| !k.collection.is_empty() && !k.singleton).map(|k| {
                let key = if k.addressed_by_ref { l.record.reference.clone().unwrap_or_default() } else { l.record.id.clone() };
                format!("/orgs/{slug}/{}/{key}", k.collection)
            }),
            kind: other.map_or("Record", |k| k.label),
            label: match (&l.record.reference, other.is_some_and(|k| k.addressed_by_ref)) {
                // A requirement or control is known by its reference first: "6.1.2 AI risk assessment".
                (Some(reference), true) if !record_label(&l.record).starts_with(reference.as_str()) => {
                    format!("{reference} {}", record_label(&l.record))
                }
                _ => record_label(&l.record),
            },
        }
    };
    // A record's children (an objective's measurements) are its kind's panel to show, not links.
    let child = |l: &&aims_store::records::LinkedRecord| kinds::by_kind(&l.record.kind).is_some_and(|k| k.parent.is_some());
    (linked.iter().filter(|l| l.outgoing).map(link).collect(), linked.iter().filter(|l| !l.outgoing && !child(l)).map(link).collect())
}

/// A headed group of facts on the record page.
struct FactGroup {
    heading: &'static str,
    /// The heading's id (`section-0`, …), unique on the page.
    id: String,
    facts: Vec<Fact>,
}

/// A transition the page offers, or tells why it does not.
struct TransitionView {
    name: &'static str,
    label: &'static str,
    summary: &'static str,
    /// The form is shown: the member may take it, or it was just refused (what was typed stays).
    offered: bool,
    /// Why it is not offered to this member now.
    refusal: Option<String>,
    /// Its body fields, each with the value typed and its error.
    fields: Vec<TransitionField>,
}

struct TransitionField {
    id: String,
    name: &'static str,
    label: &'static str,
    required: bool,
    value: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "record_page.html")]
struct DetailPage {
    shell: Shell,
    can_edit: bool,
    can_archive: bool,
    archived: bool,
    /// The record's own page (the forms post under it).
    href: String,
    /// The list (none for a singleton).
    list_href: Option<String>,
    plural: &'static str,
    label: &'static str,
    serves: &'static str,
    intro: &'static str,
    title: String,
    version: i64,
    state: Option<String>,
    head_facts: Vec<Fact>,
    groups: Vec<FactGroup>,
    panel_html: Option<String>,
    transitions: Vec<TransitionView>,
    revisions: Option<usize>,
    links_out: Vec<Link>,
    links_in: Vec<Link>,
    form_html: String,
    others: Vec<String>,
    archive_error: Option<String>,
    notice: Notice,
}

impl DetailPage {
    fn has_revisions(&self) -> bool {
        self.revisions.is_some_and(|n| n > 0)
    }

    fn revisions_note(&self) -> String {
        match self.revisions {
            Some(0) | None => "No revisions yet.".into(),
            Some(1) => "1 revision.".into(),
            Some(n) => format!("{n} revisions."),
        }
    }
}

/// The form a refused post came from, re-shown with what was typed.
enum Refused {
    None,
    Edit(Map<String, Value>, FormErrors),
    Transition { name: String, typed: Posted, errors: FormErrors },
    Archive(String),
    Panel(PanelRefusal),
}

async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let notice = notice_of(page, &query.done);
    render(&state, &ctx, &id, page, notice, Refused::None).await
}

async fn singleton_detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(query): Query<DoneQuery>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let record = state.app.get_singleton(&ctx.member, page.kind).await?;
    render(&state, &ctx, &record.id, page, notice_of(page, &query.done), Refused::None).await
}

/// What `?done=` after a post says: saved, archived, or the transition taken.
fn notice_of(page: &PageSpec, done: &str) -> Notice {
    match done {
        "" => Notice::None,
        "saved" => Notice::Saved,
        "archived" => Notice::Done(format!("{} archived. It stays in the activity log and its history.", page.kind.label)),
        code if page.hooks.and_then(|h| h.notice(code)).is_some() => page.hooks.and_then(|h| h.notice(code)).unwrap_or_default(),
        name => match transition_spec(page, name) {
            Some(t) => Notice::Done(match t.to {
                Some(to) => format!("{}: done. Now {}.", t.label, humanize(to).to_lowercase()),
                None => format!("{}: done.", t.label),
            }),
            None => Notice::None,
        },
    }
}

fn transition_spec(page: &PageSpec, name: &str) -> Option<&'static TransitionSpec> {
    page.kind.workflow.and_then(|w| w.transitions.iter().find(|t| t.name == name))
}

/// Where a record's page is: `/orgs/{org}/<collection>/{id}`, or the collection for a singleton.
fn href_of(ctx: &OrgCtx, page: &PageSpec, id: &str) -> String {
    if page.kind.singleton {
        format!("/orgs/{}/{}", ctx.slug(), page.kind.collection)
    } else {
        format!("/orgs/{}/{}/{id}", ctx.slug(), page.kind.collection)
    }
}

/// The record's fields in the declared groups, then the rest under "Details"; empty values and
/// fields shown under the heading are left out.
fn fact_groups(page: &PageSpec, fields: &[FieldSpec], record: &Record, options: &Options) -> Vec<FactGroup> {
    let fact = |f: &FieldSpec| Fact { label: f.label, value: recform::show(f, record.data.get(f.name), options) };
    // The title is the heading already (the scope's heading is its kind, so its statement stays).
    let heading = (!page.kind.singleton).then_some(page.title_field);
    let grouped: Vec<&str> =
        page.sections.iter().flat_map(|s| s.fields.iter().copied()).chain(page.facts.iter().copied()).chain(heading).collect();
    let mut groups: Vec<(&'static str, Vec<Fact>)> = page
        .sections
        .iter()
        .map(|s| (s.heading, s.fields.iter().filter_map(|name| fields.iter().find(|f| f.name == *name)).map(fact).collect()))
        .collect();
    groups.insert(0, ("Details", fields.iter().filter(|f| !grouped.contains(&f.name)).map(fact).collect()));
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (heading, facts))| FactGroup {
            heading,
            id: format!("section-{i}"),
            facts: facts.into_iter().filter(|f| !f.value.is_empty()).collect(),
        })
        .filter(|g| g.heading == "Details" || !g.facts.is_empty())
        .collect()
}

/// The transitions panel: a transition is offered only to whoever may take it now; others are
/// told why not, except where the record's state rules it out for everyone (a decided gate is
/// not "not offered" to anyone). A refused post keeps what was typed and shows the refusal.
async fn transition_views(
    state: &UiState,
    ctx: &OrgCtx,
    page: &PageSpec,
    record: &Record,
    refused: &Refused,
) -> Result<Vec<TransitionView>, UiError> {
    if record.archived {
        return Ok(Vec::new());
    }
    let choices = state.app.transition_choices(&ctx.member, page.kind, &record.id).await?;
    let own = page.hooks.map_or(&[][..], |h| h.own_transitions());
    Ok(choices
        .into_iter()
        .filter(|c| !own.contains(&c.name))
        .filter_map(|c| {
            let (typed, errors) = match refused {
                Refused::Transition { name, typed, errors } if name == c.name => (Some(typed), Some(errors)),
                _ => (None, None),
            };
            let refusal = c.refusal.as_ref().filter(|r| r.rule != "state").map(|r| r.detail.clone());
            if c.refusal.as_ref().is_some_and(|r| r.rule == "state") && typed.is_none() {
                return None;
            }
            let fields = c
                .fields
                .iter()
                .map(|f| TransitionField {
                    id: format!("t-{}-{}", c.name, f.name),
                    name: f.name,
                    label: f.label,
                    required: f.required,
                    value: typed.map(|t| t.one(f.name)).unwrap_or_default(),
                    error: errors.and_then(|e| e.get(f.name)),
                })
                .collect();
            Some(TransitionView {
                name: c.name,
                label: c.label,
                summary: c.summary,
                // A refused form comes back with what was typed, unless the role may never take it
                // (a viewer's forged post): then the reason alone is shown, not a form.
                offered: c.allowed() || (typed.is_some() && c.refusal.as_ref().is_none_or(|r| r.rule != "role-permission")),
                refusal,
                fields,
            })
        })
        .collect())
}

async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    page: &'static PageSpec,
    notice: Notice,
    refused: Refused,
) -> Result<Response, UiError> {
    let spec = page.kind;
    let (record, linked) = state.app.trace(&ctx.member, spec, id).await?;
    let fields = fields_of(page);
    let mut options = Options::load(&state.app, &ctx.member, &fields).await?;
    options.label_linked(&state.app, &ctx.member, &fields, &record.data).await?;
    let head_facts = page
        .facts
        .iter()
        .filter_map(|name| fields.iter().find(|f| f.name == *name))
        .map(|f| Fact { label: f.label, value: recform::show(f, record.data.get(f.name), &options) })
        .filter(|f| !f.value.is_empty())
        .collect();
    let (links_out, links_in) = trace_links(ctx.slug(), &linked);
    let shown: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let transitions = transition_views(state, ctx, page, &record, &refused).await?;
    let panel_html = match page.hooks {
        Some(hooks) => {
            hooks
                .panel(
                    state,
                    ctx,
                    &record,
                    match &refused {
                        Refused::Panel(refusal) => Some(refusal),
                        _ => None,
                    },
                )
                .await?
        }
        None => None,
    };
    let revisions = match spec.revisions {
        Revisions::None => None,
        _ => Some(state.app.revisions(&ctx.member, spec, &record.id).await?.len()),
    };
    let empty = FormErrors::default();
    let (values, errors, archive_error) = match &refused {
        Refused::Edit(values, errors) => (values.clone(), errors, None),
        Refused::Archive(why) => (record.data.clone(), &empty, Some(why.clone())),
        _ => (record.data.clone(), &empty, None),
    };
    let status = match (&refused, &archive_error) {
        (_, Some(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        (Refused::Transition { errors, .. } | Refused::Panel(PanelRefusal { errors, .. }), _) => crate::forms::form_status(&notice, errors),
        _ => crate::forms::form_status(&notice, errors),
    };
    let can_edit = ctx.can(spec.write) && !record.archived;
    let body = DetailPage {
        shell: ctx.shell(page.section),
        can_edit,
        can_archive: can_edit && spec.creatable && !spec.singleton,
        archived: record.archived,
        href: href_of(ctx, page, &record.id),
        list_href: (!spec.singleton).then(|| format!("/orgs/{}/{}", ctx.slug(), spec.collection)),
        plural: page.list_label.unwrap_or(spec.plural_label),
        label: spec.label,
        serves: page.serves,
        intro: if spec.singleton { page.intro } else { "" },
        title: if spec.singleton { spec.label.to_owned() } else { title_of(page, &record) },
        version: record.version,
        state: record.state.as_deref().map(humanize),
        head_facts,
        groups: fact_groups(page, &fields, &record, &options),
        panel_html,
        transitions,
        revisions,
        links_out,
        links_in,
        form_html: recform::render_in("edit-", &fields, &[], &values, errors, &options),
        others: errors.others(&shown),
        archive_error,
        notice,
    };
    Ok((status, body).into_response())
}

async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    save_record(&state, &ctx, &id, Posted(pairs), page).await
}

async fn singleton_save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let record = state.app.get_singleton(&ctx.member, page.kind).await?;
    save_record(&state, &ctx, &record.id, Posted(pairs), page).await
}

async fn save_record(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted, page: &'static PageSpec) -> Result<Response, UiError> {
    let fields = fields_of(page);
    let patch = posted.to_json(&fields, &[], true);
    match recform::save_changed(&state.app, &ctx.member, page.kind, id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=saved", href_of(ctx, page, id))).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render(state, ctx, id, page, notice, Refused::Edit(patch, errors)).await
        }
    }
}

/// Archives the record once the person has ticked that they mean it; the archive is
/// attributed and logged by the use case like any change.
async fn archive(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    if posted.one("confirm") != "yes" {
        let why = format!("Tick \u{201c}Archive this {}\u{201d} to confirm.", page.kind.label.to_lowercase());
        return render(&state, &ctx, &id, page, Notice::None, Refused::Archive(why)).await;
    }
    match state.app.archive_record(&ctx.member, page.kind, &id, version_of(&posted)).await {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=archived", href_of(&ctx, page, &id))).into_response()),
        Err(e) => {
            let (notice, _) = forms::rejected(e)?;
            render(&state, &ctx, &id, page, notice, Refused::None).await
        }
    }
}

/// Takes a declared transition with the fields its form asked for. A refusal (the role, the
/// separation-of-duties rule, the state, a prerequisite, a missing field) re-shows the page
/// with the refusal and what was typed.
async fn take(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id, name)): Path<(String, String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let Some(t) = transition_spec(page, &name) else { return Err(UiError::NotFound) };
    let posted = Posted(pairs);
    let body: Map<String, Value> = t
        .fields
        .iter()
        .map(|f| (f.name, posted.one(f.name)))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    match state.app.transition(&ctx.member, page.kind, &id, t.name, version_of(&posted), &Value::Object(body)).await {
        Ok(_) => Ok(Redirect::to(&format!("{}?done={}", href_of(&ctx, page, &id), t.name)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let refused = Refused::Transition { name: t.name.to_owned(), typed: posted, errors };
            render(&state, &ctx, &id, page, notice, refused).await
        }
    }
}

// ---- Revisions ----

#[derive(Deserialize, Default)]
struct CompareQuery {
    a: Option<i64>,
    b: Option<i64>,
}

struct RevisionRow {
    n: i64,
    when: String,
    by: String,
    state: String,
    a: bool,
    b: bool,
}

/// One field that differs between the two revisions compared, both values formatted.
struct FieldChange {
    label: &'static str,
    before: String,
    after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "record_revisions.html")]
struct RevisionsPage {
    shell: Shell,
    list_href: Option<String>,
    plural: &'static str,
    record_href: String,
    title: String,
    rows: Vec<RevisionRow>,
    /// Whether the kind's revisions carry a state (a workflow's); the column shows only then.
    has_state: bool,
    compared: Option<(i64, i64)>,
    changes: Vec<FieldChange>,
}

async fn revisions(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<CompareQuery>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    revisions_page(&state, &ctx, &id, query, page).await
}

async fn singleton_revisions(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(query): Query<CompareQuery>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let record = state.app.get_singleton(&ctx.member, page.kind).await?;
    revisions_page(&state, &ctx, &record.id, query, page).await
}

/// Every revision with who made it and when; two picked ones (by default the last two) are
/// compared field by field, with the fields' labels and values formatted as the page shows them.
async fn revisions_page(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    query: CompareQuery,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    let spec = page.kind;
    let record = state.app.get_record(&ctx.member, spec, id).await?;
    let list = state.app.revisions(&ctx.member, spec, &record.id).await?;
    let last = list.last().map_or(0, |r| r.n);
    let b = query.b.unwrap_or(last);
    let a = query.a.unwrap_or(b - 1);
    let find = |n: i64| list.iter().find(|r| r.n == n);
    let fields = fields_of(page);
    let mut options = Options::load(&state.app, &ctx.member, &fields).await?;
    let (compared, changes) = match (find(a), find(b)) {
        (Some(ra), Some(rb)) => {
            options.label_linked(&state.app, &ctx.member, &fields, &ra.data).await?;
            options.label_linked(&state.app, &ctx.member, &fields, &rb.data).await?;
            (Some((a, b)), field_changes(&fields, &ra.data, &rb.data, &options))
        }
        _ => (None, Vec::new()),
    };
    let (_, names) = ctx.member_names(state).await?;
    let rows = list
        .iter()
        .rev()
        .map(|r| RevisionRow {
            n: r.n,
            when: datetime(&r.created_at),
            by: r.created_by.as_deref().map(|u| names.get(u).cloned().unwrap_or_else(|| "a former member".into())).unwrap_or_default(),
            state: r.state.as_deref().map(humanize).unwrap_or_default(),
            a: r.n == a,
            b: r.n == b,
        })
        .collect::<Vec<RevisionRow>>();
    let has_state = rows.iter().any(|r| !r.state.is_empty());
    Ok(RevisionsPage {
        shell: ctx.shell(page.section),
        list_href: (!spec.singleton).then(|| format!("/orgs/{}/{}", ctx.slug(), spec.collection)),
        plural: page.list_label.unwrap_or(spec.plural_label),
        record_href: href_of(ctx, page, &record.id),
        title: if spec.singleton { spec.label.to_owned() } else { title_of(page, &record) },
        rows,
        has_state,
        compared,
        changes,
    }
    .into_response())
}

/// The fields whose shown value differs between `before` and `after`.
fn field_changes(fields: &[FieldSpec], before: &Map<String, Value>, after: &Map<String, Value>, options: &Options) -> Vec<FieldChange> {
    fields
        .iter()
        .map(|f| FieldChange {
            label: f.label,
            before: recform::show(f, before.get(f.name), options),
            after: recform::show(f, after.get(f.name), options),
        })
        .filter(|c| c.before != c.after)
        .collect()
}
