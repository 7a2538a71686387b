//! Record pages from declarations: a [`PageSpec`] beside a kind's `KindSpec` names its title
//! field, list columns, the clause or control it serves and a short intro; [`routes`] registers
//! the same list, new, detail and save handlers for every declared kind, as the API registers
//! its routes. The list pages by cursor, searches with `?q=` and downloads as CSV; the detail
//! shows every field, the records linked both ways, and an edit form that saves only what
//! changed.

use aims_domain::kinds::{
    self, CONTEXT_ISSUE, DATASET, GATE, GATE_REQUIREMENT, IMPACT_ASSESSMENT, INTERESTED_PARTY, LIFECYCLE_RECORD, RISK_SOURCE, SUPPLIER,
};
use aims_domain::policy::Action;
use aims_domain::validate::KindSpec;
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Map, Value};

use crate::UiState;
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::lists::{self, ListParams, Listing};
use crate::recform::{self, Options, Posted, record_label};
use crate::systems::{DoneQuery, NewPageText, NewRecordPage, done_notice, version_of};

/// How a kind's pages look: everything particular to a kind that the generic pages need.
pub(crate) struct PageSpec {
    pub kind: &'static KindSpec,
    /// The field that names a record (its heading and the list's first column).
    pub title_field: &'static str,
    /// The list's further columns (field names).
    pub columns: &'static [&'static str],
    /// The clause or control the records serve, shown above the heading.
    pub serves: &'static str,
    pub intro: &'static str,
    /// The navigation section the pages belong to.
    pub section: Section,
    /// Whether the generic detail and edit pages serve the kind (false when a hand-written
    /// page does, as for impact assessments, whose list alone is generic).
    pub detail: bool,
}

/// The kinds whose pages are generated.
pub(crate) static PAGES: &[PageSpec] = &[
    PageSpec {
        kind: &CONTEXT_ISSUE,
        title_field: "title",
        columns: &["issue_type", "category", "owner_id"],
        serves: "Clause 4.1",
        intro: "External and internal issues that bear on the AI management system's purpose and its ability to achieve its intended results.",
        section: Section::Gap,
        detail: true,
    },
    PageSpec {
        kind: &INTERESTED_PARTY,
        title_field: "name",
        columns: &["category", "addressed_by_aims"],
        serves: "Clause 4.2",
        intro: "The parties whose needs and expectations the AI management system takes into account, and which of them it addresses.",
        section: Section::Gap,
        detail: true,
    },
    PageSpec {
        kind: &SUPPLIER,
        title_field: "name",
        columns: &["owner_id", "contact_email"],
        serves: "A.10.3",
        intro: "Suppliers of AI systems, models, data and services, with what the organisation relies on them for.",
        section: Section::AiSystems,
        detail: true,
    },
    PageSpec {
        kind: &RISK_SOURCE,
        title_field: "title",
        columns: &["category"],
        serves: "Clause 6.1.2",
        intro: "The library of risk sources the risk assessment draws on.",
        section: Section::Risks,
        detail: true,
    },
    PageSpec {
        kind: &DATASET,
        title_field: "name",
        columns: &["personal_data", "owner_id"],
        serves: "A.7",
        intro: "Data sets used to develop, test and run AI systems: where they come from and how their quality is checked.",
        section: Section::AiSystems,
        detail: true,
    },
    PageSpec {
        kind: &GATE,
        title_field: "to_stage",
        columns: &["ai_system_id"],
        serves: "A.6.2",
        intro: "Requests to move an AI system to its next life-cycle stage, and their decisions. Gates are requested and decided on the AI system's page.",
        section: Section::AiSystems,
        detail: false,
    },
    PageSpec {
        kind: &GATE_REQUIREMENT,
        title_field: "to_stage",
        columns: &["required_record_types"],
        serves: "A.6.2",
        intro: "What must be recorded before an AI system may enter a life-cycle stage.",
        section: Section::AiSystems,
        detail: true,
    },
    PageSpec {
        kind: &LIFECYCLE_RECORD,
        title_field: "title",
        columns: &["ai_system_id", "record_type", "recorded_on"],
        serves: "A.6.2",
        intro: "Records kept along an AI system's life cycle: design decisions, verification results, deployment and monitoring notes.",
        section: Section::AiSystems,
        detail: true,
    },
    PageSpec {
        kind: &IMPACT_ASSESSMENT,
        title_field: "title",
        columns: &["ai_system_id"],
        serves: "A.5",
        intro: "Assessments of the impacts of AI systems on individuals, groups and society.",
        section: Section::Risks,
        detail: false,
    },
];

/// The list, new, detail and save routes of every declared kind.
pub(crate) fn routes() -> Router<UiState> {
    let mut router = Router::new();
    for page in PAGES {
        let base = format!("/orgs/{{org}}/{}", page.kind.collection);
        router = router.route(&base, get(move |s, c, q| list(s, c, q, page)));
        if page.kind.creatable && page.detail {
            router = router.route(&format!("{base}/new"), get(move |s, c| new_form(s, c, page)).post(move |s, c, f| create(s, c, f, page)));
        }
        if page.detail {
            router = router.route(
                &format!("{base}/{{id}}"),
                get(move |s, c, p, q| detail(s, c, p, q, page)).post(move |s, c, p, f| save(s, c, p, f, page)),
            );
        }
    }
    router
}

fn fields_of(page: &PageSpec) -> Vec<aims_domain::validate::FieldSpec> {
    // A gate requirement or a lifecycle record may carry fields set by the system; the form
    // shows those the user enters.
    page.kind.fields.to_vec()
}

struct Column {
    label: &'static str,
}

struct Row {
    href: String,
    title: String,
    cells: Vec<String>,
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
    columns: Vec<Column>,
    rows: Vec<Row>,
    listing: Listing,
}

fn title_of(page: &PageSpec, record: &Record) -> String {
    let choice = page.kind.field(page.title_field).is_some_and(|f| matches!(f.ty, aims_domain::validate::FieldType::Choice(_)));
    match record.data.get(page.title_field) {
        // A record named by a choice (a gate by its stage) is headed by the choice's words, not its code.
        Some(Value::String(s)) if !s.is_empty() && choice => crate::text::humanize(s),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => record_label(record),
    }
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
        header.extend(page.columns.iter().copied());
        let row = move |r: &Record| {
            let mut line = vec![r.id.clone(), title_of(page, r)];
            line.extend(cells(r, &options));
            line
        };
        return Ok(lists::csv(state.app.clone(), ctx.member.clone(), spec, &params, Vec::new(), spec.collection, &header, row));
    }
    let path = format!("/orgs/{}/{}", ctx.slug(), spec.collection);
    let (records, listing) = lists::page(&state.app, &ctx.member, spec, &params, Vec::new(), &path).await?;
    let mut options = options;
    for record in &records {
        options.label_linked(&state.app, &ctx.member, spec.fields, &record.data).await?;
    }
    let rows =
        records.iter().map(|r| Row { href: format!("{path}/{}", r.id), title: title_of(page, r), cells: cells(r, &options) }).collect();
    let columns = page.columns.iter().filter_map(|c| spec.field(c)).map(|f| Column { label: f.label }).collect();
    Ok(ListPage {
        shell: ctx.shell(page.section),
        can_create: ctx.can(Action::Edit) && spec.creatable && page.detail,
        title: spec.plural_label,
        serves: page.serves,
        intro: page.intro,
        what: spec.plural_label.to_lowercase(),
        path,
        columns,
        rows,
        listing,
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
    aims_domain::policy::authorize(ctx.member.role, Action::Edit).map_err(|denied| UiError::Forbidden(denied.to_string()))?;
    let fields = fields_of(page);
    let options = Options::load(&state.app, &ctx.member, &fields).await?;
    let back = format!("/orgs/{}/{}", ctx.slug(), page.kind.collection);
    Ok(NewRecordPage::respond(&ctx, new_text(page), back, &fields, (&Map::new(), &FormErrors::default(), &options), Notice::None))
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
            Ok(NewRecordPage::respond(&ctx, new_text(page), back, &fields, (&body, &errors, &options), notice))
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
            label: record_label(&l.record),
        }
    };
    (linked.iter().filter(|l| l.outgoing).map(link).collect(), linked.iter().filter(|l| !l.outgoing).map(link).collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "record_page.html")]
struct DetailPage {
    shell: Shell,
    can_edit: bool,
    list_href: String,
    plural: &'static str,
    serves: &'static str,
    title: String,
    version: i64,
    facts: Vec<Fact>,
    links_out: Vec<Link>,
    links_in: Vec<Link>,
    form_html: String,
    others: Vec<String>,
    notice: Notice,
}

async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
    page: &'static PageSpec,
) -> Result<Response, UiError> {
    render(&state, &ctx, &id, page, None, done_notice(&query.done), FormErrors::default()).await
}

async fn render(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    page: &'static PageSpec,
    values: Option<Map<String, Value>>,
    notice: Notice,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let spec = page.kind;
    let (record, linked) = state.app.trace(&ctx.member, spec, id).await?;
    let fields = fields_of(page);
    let mut options = Options::load(&state.app, &ctx.member, &fields).await?;
    options.label_linked(&state.app, &ctx.member, &fields, &record.data).await?;
    let facts = fields
        .iter()
        .map(|f| Fact { label: f.label, value: recform::show(f, record.data.get(f.name), &options) })
        .filter(|f| !f.value.is_empty())
        .collect();
    let (links_out, links_in) = trace_links(&ctx.slug(), &linked);
    let shown: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let status = crate::gap::form_status(&notice, &errors);
    let values = values.unwrap_or_else(|| record.data.clone());
    let body = DetailPage {
        shell: ctx.shell(page.section),
        can_edit: ctx.can(Action::Edit) && !record.archived,
        list_href: format!("/orgs/{}/{}", ctx.slug(), spec.collection),
        plural: spec.plural_label,
        serves: page.serves,
        title: title_of(page, &record),
        version: record.version,
        facts,
        links_out,
        links_in,
        form_html: recform::render(&fields, &[], &values, &errors, &options),
        others: errors.others(&shown),
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
    let posted = Posted(pairs);
    let fields = fields_of(page);
    let patch = posted.to_json(&fields, &[], true);
    match recform::save_changed(&state.app, &ctx.member, page.kind, &id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/{}/{id}?done=saved", ctx.slug(), page.kind.collection)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render(&state, &ctx, &id, page, Some(patch), notice, errors).await
        }
    }
}
