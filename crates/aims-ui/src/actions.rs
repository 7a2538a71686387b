//! The one actions tracker: every owned, dated task whatever raised it (a gap in the clause
//! assessment, a risk treatment, a corrective action, a management-review decision). The list
//! shows the signed-in member's own open actions first (overdue ones on top), then every
//! action under the filters, a page at a time. One action's page is generated (`pages`); its
//! particular panel ([`Completion`]) marks it done.

use std::collections::HashMap;

use aims_domain::clock;
use aims_domain::kinds::ACTION;
use aims_domain::kinds::risk::{ACTION_SOURCES, ACTION_STATUSES};
use aims_domain::policy::Action;
use aims_store::model::Record;
use aims_store::page_json::Filter;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::common::{NewPageText, NewRecordPage, field, version_of};
use crate::error::UiError;
use crate::forms::{self, Choice, FormErrors, Notice};
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section, Shell};
use crate::lists::{self, ListParams, Listing};
use crate::recform::{Options, Posted, esc};
use crate::text::{encode_query_value, humanize};

/// The list and the new form; an action's own page is generated from its declaration.
pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/orgs/{org}/actions", get(list)).route("/orgs/{org}/actions/new", get(new_form).post(create))
}

/// Statuses of an action still to be done.
const OPEN: [&str; 2] = ["open", "in_progress"];
/// How many of the member's own open actions the list shows above the rest.
const MINE_SHOWN: u32 = 20;

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

/// "Open · due 2026-05-01", for lists elsewhere (the control and requirement pages).
pub(crate) fn summary(record: &Record) -> String {
    let due = field(record, "due_date");
    let status = humanize(&field(record, "status"));
    if due.is_empty() { status } else { format!("{status} · due {due}") }
}

/// The store filters of open actions (neither done nor cancelled).
fn open_filters() -> Vec<Filter> {
    ["done", "cancelled"].iter().map(|s| Filter::Not { field: "status", value: (*s).to_owned() }).collect()
}

/// The filters of the member's open actions, and of those overdue among them.
fn mine_filters(user_id: &str, today: &str) -> (Vec<Filter>, Vec<Filter>) {
    let mut mine = open_filters();
    mine.push(Filter::Field { field: "owner_id", value: user_id.to_owned() });
    let mut overdue = mine.clone();
    overdue.push(Filter::Before { field: "due_date", date: today.to_owned() });
    (mine, overdue)
}

/// The signed-in member's open actions and how many of them are overdue (the dashboard card),
/// counted by the database.
pub(crate) async fn my_counts(state: &UiState, ctx: &OrgCtx) -> Result<(usize, usize), UiError> {
    let (mine, overdue) = mine_filters(&ctx.member.user_id, &today());
    let open = state.app.count_records_where(&ctx.member, &ACTION, &mine).await?;
    let late = state.app.count_records_where(&ctx.member, &ACTION, &overdue).await?;
    Ok((usize::try_from(open).unwrap_or_default(), usize::try_from(late).unwrap_or_default()))
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
    let status = field(r, "status");
    ActionRow {
        href: format!("/orgs/{slug}/actions/{}", r.id),
        title: field(r, "title"),
        source: source_label(&field(r, "source")),
        owner: owner_name(r, names),
        due: field(r, "due_date"),
        overdue: is_overdue(r, today),
        status_label: humanize(&status),
        status,
    }
}

fn owner_name(r: &Record, names: &HashMap<String, String>) -> String {
    let owner_id = field(r, "owner_id");
    if owner_id.is_empty() { String::new() } else { names.get(&owner_id).cloned().unwrap_or_else(|| "a former member".into()) }
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

/// The list's query: its filters, the search, where the page starts and the CSV download.
#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    format: String,
}

/// The filters a list query asks for, checked against the declared choices: the status (open
/// or in progress unless said otherwise; `any` for every status), what raised it, the owner
/// (`none` for nobody).
struct Filters {
    status: String,
    source: String,
    owner: String,
}

impl Filters {
    fn of(query: &ListQuery) -> Self {
        let status =
            if query.status == "any" || ACTION_STATUSES.contains(&query.status.as_str()) { query.status.clone() } else { String::new() };
        let source = if ACTION_SOURCES.contains(&query.source.as_str()) { query.source.clone() } else { String::new() };
        Self { status, source, owner: query.owner.trim().to_owned() }
    }

    fn store(&self) -> Vec<Filter> {
        let mut filters = match self.status.as_str() {
            "" => open_filters(),
            "any" => Vec::new(),
            s => vec![Filter::Field { field: "status", value: s.to_owned() }],
        };
        if !self.source.is_empty() {
            filters.push(Filter::Field { field: "source", value: self.source.clone() });
        }
        match self.owner.as_str() {
            "" => {}
            "none" => filters.push(Filter::Unset { field: "owner_id" }),
            id => filters.push(Filter::Field { field: "owner_id", value: id.to_owned() }),
        }
        filters
    }

    fn narrowed(&self) -> bool {
        !(self.status.is_empty() && self.source.is_empty() && self.owner.is_empty())
    }

    /// The filters as query parameters, for the links that page and download the same list.
    fn query(&self) -> String {
        [("status", &self.status), ("source", &self.source), ("owner", &self.owner)]
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `href` with the filters' parameters added.
fn with_filters(href: &str, query: &str) -> String {
    match (query.is_empty(), href.contains('?')) {
        (true, _) => href.to_owned(),
        (false, true) => format!("{href}&{query}"),
        (false, false) => format!("{href}?{query}"),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "actions.html")]
struct ActionsPage {
    shell: Shell,
    can_edit: bool,
    mine: Vec<ActionRow>,
    mine_total: usize,
    mine_overdue: usize,
    /// The list of every one of the member's open actions, when more than shown here.
    mine_all_href: Option<String>,
    rows: Vec<ActionRow>,
    filtered: bool,
    status_choices: Vec<Choice>,
    source_choices: Vec<Choice>,
    owner_choices: Vec<Choice>,
    /// What the second list holds, in words ("Open actions", "Done actions" …).
    heading: String,
    listing: Listing,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<ListQuery>) -> Result<Response, UiError> {
    let (members, names) = ctx.member_names(&state).await?;
    let filters = Filters::of(&query);
    let mut params = ListParams::default();
    (params.q, params.cursor, params.format) = (query.q.clone(), query.cursor.clone(), query.format.clone());
    if params.wants_csv() {
        return Ok(csv(&state, &ctx, &params, &filters, names));
    }
    let today = today();
    let slug = ctx.slug();
    let path = format!("/orgs/{slug}/actions");
    let (records, mut listing) = lists::page(&state.app, &ctx.member, &ACTION, &params, filters.store(), &path).await?;
    let extra = filters.query();
    listing.next_href = listing.next_href.map(|h| with_filters(&h, &extra));
    listing.first_href = listing.first_href.map(|h| with_filters(&h, &extra));
    listing.csv_href = with_filters(&listing.csv_href, &extra);
    let (mine, mine_total, mine_overdue) = mine(&state, &ctx, &today).await?;

    let status = filters.status.as_str();
    let mut status_choices = vec![Choice { value: String::new(), label: "Open or in progress".into(), selected: status.is_empty() }];
    status_choices.extend(forms::choices(ACTION_STATUSES, status));
    status_choices.push(Choice { value: "any".into(), label: "Any status".into(), selected: status == "any" });
    let mut source_choices = vec![Choice { value: String::new(), label: "Any source".into(), selected: filters.source.is_empty() }];
    source_choices.extend(ACTION_SOURCES.iter().map(|s| Choice {
        value: (*s).to_owned(),
        label: source_label(s),
        selected: *s == filters.source,
    }));
    let owner = filters.owner.as_str();
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
        mine_all_href: (mine_total > mine.len())
            .then(|| format!("/orgs/{slug}/actions?owner={}#all-h", encode_query_value(&ctx.member.user_id))),
        mine_total,
        mine_overdue,
        rows: records.iter().map(|r| action_row(slug, r, &names, &today)).collect(),
        filtered: filters.narrowed() || !listing.q.is_empty(),
        status_choices,
        source_choices,
        owner_choices,
        heading,
        listing,
    }
    .into_response())
}

/// The member's open actions shown first: the overdue ones, then the rest by due date (undated
/// last), at most [`MINE_SHOWN`]; and how many are open and overdue in all.
async fn mine(state: &UiState, ctx: &OrgCtx, today: &str) -> Result<(Vec<Record>, usize, usize), UiError> {
    let (open, overdue) = mine_filters(&ctx.member.user_id, today);
    let (total, late) = my_counts(state, ctx).await?;
    let mut shown = state.app.list_records_where(&ctx.member, &ACTION, false, &overdue, 0, MINE_SHOWN).await?.items;
    if shown.len() < MINE_SHOWN as usize && total > shown.len() {
        let more = state.app.list_records_where(&ctx.member, &ACTION, false, &open, 0, MINE_SHOWN * 2).await?.items;
        shown.extend(more.into_iter().filter(|r| !is_overdue(r, today)));
    }
    shown.sort_by_key(|r| {
        let due = field(r, "due_date");
        (!is_overdue(r, today), due.is_empty(), due, r.seq)
    });
    shown.truncate(MINE_SHOWN as usize);
    Ok((shown, total, late))
}

/// Every action under the filters and the search, as CSV.
fn csv(state: &UiState, ctx: &OrgCtx, params: &ListParams, filters: &Filters, names: HashMap<String, String>) -> Response {
    let header = ["id", "title", "source", "owner", "due_date", "status", "completed_on"];
    let row = move |r: &Record| {
        vec![
            r.id.clone(),
            field(r, "title"),
            source_label(&field(r, "source")),
            owner_name(r, &names),
            field(r, "due_date"),
            humanize(&field(r, "status")),
            field(r, "completed_on"),
        ]
    };
    lists::csv(state.app.clone(), ctx.member.clone(), &ACTION, params, filters.store(), "actions", &header, row)
}

// ---- new action ----

pub(crate) async fn new_form(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(system): Query<crate::common::ForSystem>,
) -> Result<Response, UiError> {
    // Those who may not create get the refusal, not a form whose save would be refused.
    aims_domain::policy::authorize(ctx.member.role, Action::Edit).map_err(|denied| UiError::Forbidden(denied.to_string()))?;
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

// ---- one action: the generated record page, with this panel ----

/// The action page's panel: whether it is overdue, and the form that marks it done on a date
/// (a done action records when it was completed).
pub(crate) struct Completion;

impl PageHooks for Completion {
    fn panel<'a>(&'a self, _state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, refused: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move { Ok(Some(completion_panel(ctx, record, refused, &today()))) })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["done"]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, posted: Posted) -> ActFuture<'a> {
        match action {
            "done" => Box::pin(mark_done(state, ctx, id, posted)),
            _ => Box::pin(async { Err(UiError::NotFound) }),
        }
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        match done {
            "created" => Some(Notice::Done("Action created.".into())),
            "closed" => Some(Notice::Done("Marked done.".into())),
            _ => None,
        }
    }
}

fn completion_panel(ctx: &OrgCtx, record: &Record, refused: Option<&PanelRefusal>, today: &str) -> String {
    let mut html = String::from(r#"<section class="card" id="done" aria-labelledby="done-h"><h2 id="done-h">Completion</h2>"#);
    let completed_on = field(record, "completed_on");
    match field(record, "status").as_str() {
        "done" if completed_on.is_empty() => html.push_str(r#"<p class="small">Done.</p>"#),
        "done" => html.push_str(&format!(r#"<p class="small">Completed {}.</p>"#, esc(&completed_on))),
        "cancelled" => html.push_str(r#"<p class="small muted">Cancelled.</p>"#),
        _ => {
            if is_overdue(record, today) {
                html.push_str(&format!(
                    r#"<p class="small"><span class="badge badge-overdue">Overdue</span> Was due {}.</p>"#,
                    esc(&field(record, "due_date"))
                ));
            }
            if ctx.can(Action::Edit) && !record.archived {
                let date = refused.map_or_else(|| today.to_owned(), |r| r.typed.one("completed_on"));
                let error = refused.and_then(|r| r.errors.get("completed_on"));
                let (attrs, message) = match &error {
                    Some(e) => (
                        r#" aria-invalid="true" aria-describedby="done_completed_on-error""#.to_owned(),
                        format!(r#"<p class="field-error" id="done_completed_on-error">{}</p>"#, esc(e)),
                    ),
                    None => (String::new(), String::new()),
                };
                html.push_str(&format!(
                    r#"<form method="post" action="/orgs/{slug}/actions/{id}/done" class="form"><input type="hidden" name="version" value="{version}"><div class="field"><label for="done_completed_on">Date completed</label><input id="done_completed_on" name="completed_on" type="text" inputmode="numeric" pattern="\d{{4}}-\d{{2}}-\d{{2}}" placeholder="YYYY-MM-DD" autocomplete="off" value="{date}"{attrs}>{message}</div><div class="form-actions"><button type="submit" class="btn btn-primary">Mark done</button></div></form>"#,
                    slug = esc(ctx.slug()),
                    id = esc(&record.id),
                    version = record.version,
                    date = esc(&date),
                ));
            } else {
                html.push_str(r#"<p class="small muted">Open.</p>"#);
            }
        }
    }
    html.push_str("</section>");
    html
}

/// Marks the action done on the given date, at the version the page showed.
async fn mark_done(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    let completed_on = posted.one("completed_on");
    let patch = json!({ "status": "done", "completed_on": forms::text_or_null(&completed_on) });
    match state.app.patch_record(&ctx.member, &ACTION, id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Acted::Done { done: "closed", anchor: "done" }),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: posted, errors }))
        }
    }
}
