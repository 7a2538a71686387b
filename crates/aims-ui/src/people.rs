//! Competence and awareness (7.2, 7.3): one page with who lacks which competence their
//! AI-related roles require, the people, the competences and the training records, with forms
//! to add each; a person's page (their records and gaps), with its edit form. A competence's
//! and a training record's pages are generated (`pages`); a competence's adds who lacks it and
//! who holds it ([`WhoLacksIt`]).

use std::collections::{BTreeSet, HashMap};

use aims_app::AppError;
use aims_app::people::CompetenceGapView;
use aims_domain::clock;
use aims_domain::kinds::{COMMUNICATION, COMPETENCE, PERSON, TRAINING};
use aims_domain::policy::Action;
use aims_domain::validate::{FieldSpec, KindSpec};
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::common::{DoneQuery, field, version_of};
use crate::common::{all, today};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted, esc};
use crate::text::{datetime, humanize};

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/orgs/{org}/people", get(page).post(add_person))
        .route("/orgs/{org}/people/{id}", get(person).post(save_person))
        .route("/orgs/{org}/people/{id}/trainings", post(add_person_training))
        .route("/orgs/{org}/people/{id}/archive", post(archive_person))
        // The lists themselves (`GET`) are generated (`pages`); these add from the people page.
        .route("/orgs/{org}/competences", post(add_competence))
        .route("/orgs/{org}/trainings", post(add_training))
}

fn texts(record: &Record, name: &str) -> Vec<String> {
    record.data.get(name).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

fn joined(parts: &[String]) -> String {
    parts.iter().filter(|p| !p.is_empty()).cloned().collect::<Vec<_>>().join(" · ")
}

/// Whether a training record has lapsed on `today`, or lapses within two months.
fn expiry_of(expires: &str, today: &str) -> &'static str {
    if expires.is_empty() {
        ""
    } else if expires < today {
        "expired"
    } else if clock::parse_date(today)
        .and_then(|t| t.checked_add(time::Duration::days(60)))
        .is_some_and(|soon| expires <= clock::format_date(soon).as_str())
    {
        "soon"
    } else {
        ""
    }
}

fn renewal_text(record: &Record) -> String {
    match record.data.get("renewal_months").and_then(Value::as_i64) {
        Some(1) => "Every month".into(),
        Some(n) => format!("Every {n} months"),
        None => String::new(),
    }
}

/// A gap as the pages show it.
struct GapItem {
    person_href: String,
    person: String,
    competence_href: String,
    competence: String,
    role: String,
    status: &'static str,
    label: String,
}

fn gap_item(slug: &str, g: &CompetenceGapView) -> GapItem {
    GapItem {
        person_href: format!("/orgs/{slug}/people/{}", g.person_id),
        person: g.person_name.clone(),
        competence_href: format!("/orgs/{slug}/competences/{}", g.competence_id),
        competence: g.competence_name.clone(),
        role: g.role.clone(),
        status: if g.status == "expired" { "gap-expired" } else { "gap-missing" },
        label: match (&g.expired_on, g.status) {
            (Some(on), "expired") => format!("Expired {on}"),
            _ => "Missing".into(),
        },
    }
}

/// One person's gaps, for the "who lacks what" list.
struct GapGroup {
    href: String,
    name: String,
    roles: Vec<String>,
    items: Vec<GapItem>,
}

struct TrainingRow {
    href: String,
    person: String,
    person_href: String,
    title: String,
    kind: String,
    competences: String,
    completed: String,
    expires: String,
    expiry: &'static str,
}

fn training_row(slug: &str, t: &Record, people: &HashMap<String, String>, options: &Options, today: &str) -> TrainingRow {
    let person_id = field(t, "person_id");
    let expires = field(t, "expires_on");
    TrainingRow {
        href: format!("/orgs/{slug}/trainings/{}", t.id),
        person: people.get(&person_id).cloned().unwrap_or_else(|| "Archived person".into()),
        person_href: format!("/orgs/{slug}/people/{person_id}"),
        title: field(t, "title"),
        kind: humanize(&field(t, "training_type")),
        competences: TRAINING.field("competence_ids").map(|f| recform::show(f, t.data.get("competence_ids"), options)).unwrap_or_default(),
        completed: field(t, "completed_on"),
        expiry: expiry_of(&expires, today),
        expires,
    }
}

/// A form on a page that was just posted and refused: which, its values and errors.
#[derive(Default)]
struct Refused {
    form: &'static str,
    values: Map<String, Value>,
    errors: FormErrors,
}

impl Refused {
    fn values_or(&self, form: &str, default: Map<String, Value>) -> Map<String, Value> {
        if self.form == form { self.values.clone() } else { default }
    }

    fn errors_for<'a>(&'a self, form: &str, none: &'a FormErrors) -> &'a FormErrors {
        if self.form == form { &self.errors } else { none }
    }
}

/// The roles people and competences name, for a hint under the forms (so names match).
fn known_roles(people: &[Record], competences: &[Record]) -> String {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for role in people.iter().flat_map(|p| texts(p, "roles")).chain(competences.iter().flat_map(|c| texts(c, "required_for_roles"))) {
        if seen.insert(role.to_lowercase()) {
            out.push(role);
        }
    }
    out.sort_by_key(|r| r.to_lowercase());
    out.join(", ")
}

/// Several record forms on one page would repeat ids (`name` is a person's and a
/// competence's): each form's ids get a prefix, so every label stays tied to its own field.
fn prefix_ids(html: &str, prefix: &str) -> String {
    html.replace(r#" id=""#, &format!(r#" id="{prefix}"#))
        .replace(r#" for=""#, &format!(r#" for="{prefix}"#))
        .replace(r#" aria-describedby=""#, &format!(r#" aria-describedby="{prefix}"#))
}

fn notice_for(code: &str) -> (Notice, &'static str) {
    let (text, section) = match code {
        "person" => ("Person added.", "people"),
        "competence" => ("Competence added.", "competences"),
        "training" => ("Training record added.", "trainings"),
        "archived" => ("Archived. It no longer appears in the lists; its history stays in the activity log.", "top"),
        "saved" => return (Notice::Saved, "top"),
        _ => return (Notice::None, "top"),
    };
    (Notice::Done(text.into()), section)
}

// ---- the competence page ----

struct PersonRow {
    href: String,
    name: String,
    roles: Vec<String>,
    job: String,
    account: String,
    gaps: usize,
}

struct CompetenceRow {
    href: String,
    name: String,
    roles: Vec<String>,
    renewal: String,
    required: usize,
    ready: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "people.html")]
struct PeoplePage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    notice_section: &'static str,
    gap_groups: Vec<GapGroup>,
    gap_count: usize,
    people: Vec<PersonRow>,
    competences: Vec<CompetenceRow>,
    trainings: Vec<TrainingRow>,
    expired_trainings: usize,
    plan_items: usize,
    plan_overdue: usize,
    known_roles: String,
    person_form: String,
    person_open: bool,
    competence_form: String,
    competence_open: bool,
    training_form: String,
    training_open: bool,
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<DoneQuery>) -> Result<Response, UiError> {
    let (notice, section) = notice_for(&query.done);
    render_page(&state, &ctx, notice, section, Refused::default()).await
}

async fn render_page(
    state: &UiState,
    ctx: &OrgCtx,
    notice: Notice,
    notice_section: &'static str,
    refused: Refused,
) -> Result<Response, UiError> {
    let app = &state.app;
    let member = &ctx.member;
    let slug = ctx.slug();
    let today = today();
    let people = all(app, member, &PERSON).await?;
    let competences = all(app, member, &COMPETENCE).await?;
    let mut trainings = all(app, member, &TRAINING).await?;
    let gaps = app.competence_gaps(member).await?;
    let plan = all(app, member, &COMMUNICATION).await?;
    let (_, names) = ctx.member_names(state).await?;
    let mut fields: Vec<FieldSpec> = PERSON.fields.to_vec();
    fields.extend(TRAINING.fields.iter().copied());
    let mut options = Options::load(app, member, &fields).await?;
    options.label_all(app, member, TRAINING.fields, &trainings).await?;
    let person_names: HashMap<String, String> = people.iter().map(|p| (p.id.clone(), field(p, "name"))).collect();

    let mut gap_groups: Vec<GapGroup> = Vec::new();
    for g in &gaps {
        let item = gap_item(slug, g);
        match gap_groups.iter_mut().find(|group| group.href == item.person_href) {
            Some(group) => group.items.push(item),
            None => {
                let roles = people.iter().find(|p| p.id == g.person_id).map(|p| texts(p, "roles")).unwrap_or_default();
                gap_groups.push(GapGroup { href: item.person_href.clone(), name: item.person.clone(), roles, items: vec![item] });
            }
        }
    }

    let people_rows = people
        .iter()
        .map(|p| PersonRow {
            href: format!("/orgs/{slug}/people/{}", p.id),
            name: field(p, "name"),
            roles: texts(p, "roles"),
            job: joined(&[field(p, "job_title"), field(p, "business_unit")]),
            account: names.get(&field(p, "user_id")).cloned().unwrap_or_default(),
            gaps: gaps.iter().filter(|g| g.person_id == p.id).count(),
        })
        .collect();

    let competence_rows = competences
        .iter()
        .map(|c| {
            let roles = texts(c, "required_for_roles");
            let required =
                people.iter().filter(|p| texts(p, "roles").iter().any(|r| roles.iter().any(|q| q.eq_ignore_ascii_case(r)))).count();
            let lacking: BTreeSet<&str> = gaps.iter().filter(|g| g.competence_id == c.id).map(|g| g.person_id.as_str()).collect();
            CompetenceRow {
                href: format!("/orgs/{slug}/competences/{}", c.id),
                name: field(c, "name"),
                roles,
                renewal: renewal_text(c),
                required,
                ready: required.saturating_sub(lacking.len()),
            }
        })
        .collect();

    // Newest first: what was completed most recently is what people look for.
    trainings.sort_by(|a, b| field(b, "completed_on").cmp(&field(a, "completed_on")).then(b.seq.cmp(&a.seq)));
    let training_rows: Vec<TrainingRow> = trainings.iter().map(|t| training_row(slug, t, &person_names, &options, &today)).collect();

    let none = FormErrors::default();
    let training_defaults = Map::from_iter([("training_type".to_owned(), json!("training"))]);
    let status = crate::forms::form_status(&notice, &refused.errors);
    let page = PeoplePage {
        shell: ctx.shell(Section::People),
        can_edit: ctx.can(Action::Edit),
        notice,
        notice_section,
        gap_count: gaps.len(),
        gap_groups,
        people: people_rows,
        competences: competence_rows,
        expired_trainings: training_rows.iter().filter(|t| t.expiry == "expired").count(),
        trainings: training_rows,
        plan_items: plan.len(),
        plan_overdue: plan.iter().filter(|c| crate::communications::is_overdue(c, &today)).count(),
        known_roles: known_roles(&people, &competences),
        person_form: prefix_ids(
            &recform::render(PERSON.fields, &[], &refused.values_or("person", Map::new()), refused.errors_for("person", &none), &options),
            "person-",
        ),
        person_open: refused.form == "person",
        competence_form: prefix_ids(
            &recform::render(
                COMPETENCE.fields,
                &[],
                &refused.values_or("competence", Map::new()),
                refused.errors_for("competence", &none),
                &options,
            ),
            "competence-",
        ),
        competence_open: refused.form == "competence",
        training_form: prefix_ids(
            &recform::render(
                TRAINING.fields,
                &[],
                &refused.values_or("training", training_defaults),
                refused.errors_for("training", &none),
                &options,
            ),
            "training-",
        ),
        training_open: refused.form == "training",
    };
    Ok((status, page).into_response())
}

/// Creates a record from one of the page's forms; back to its section, or the form again.
async fn add(
    state: &UiState,
    ctx: &OrgCtx,
    spec: &KindSpec,
    form: &'static str,
    anchor: &str,
    pairs: Vec<(String, String)>,
) -> Result<Response, UiError> {
    let body = Posted(pairs).to_json(spec.fields, &[], false);
    match state.app.create_record(&ctx.member, spec, &Value::Object(body.clone())).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/people?done={form}#{anchor}", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            let section = match form {
                "person" => "people",
                "competence" => "competences",
                _ => "trainings",
            };
            render_page(state, ctx, notice, section, Refused { form, values: body, errors }).await
        }
    }
}

pub(crate) async fn add_person(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    add(&state, &ctx, &PERSON, "person", "people", pairs).await
}

pub(crate) async fn add_competence(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    add(&state, &ctx, &COMPETENCE, "competence", "competences", pairs).await
}

pub(crate) async fn add_training(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    add(&state, &ctx, &TRAINING, "training", "trainings", pairs).await
}

// ---- one person ----

#[derive(Template, WebTemplate)]
#[template(path = "person.html")]
struct PersonPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    name: String,
    version: i64,
    updated: String,
    job: String,
    roles: Vec<String>,
    facts: Vec<(&'static str, String)>,
    gaps: Vec<GapItem>,
    trainings: Vec<TrainingRow>,
    training_form: String,
    training_open: bool,
    details_form: String,
    details_open: bool,
    details_others: Vec<String>,
}

fn person_notice(code: &str) -> (Notice, &'static str) {
    match code {
        "training" => (Notice::Done("Training record added.".into()), "trainings"),
        "saved" => (Notice::Saved, "top"),
        _ => (Notice::None, "top"),
    }
}

pub(crate) async fn person(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let (notice, section) = person_notice(&query.done);
    render_person(&state, &ctx, &id, notice, section, Refused::default()).await
}

async fn render_person(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    notice: Notice,
    notice_section: &'static str,
    refused: Refused,
) -> Result<Response, UiError> {
    let app = &state.app;
    let member = &ctx.member;
    let slug = ctx.slug();
    let today = today();
    let record = app.get_record(member, &PERSON, id).await?;
    let mut fields: Vec<FieldSpec> = PERSON.fields.to_vec();
    fields.extend(TRAINING.fields.iter().copied());
    let mut options = Options::load(app, member, &fields).await?;
    let (_, names) = ctx.member_names(state).await?;
    let gaps = app.competence_gaps(member).await?;
    let mut trainings: Vec<Record> =
        all(app, member, &TRAINING).await?.into_iter().filter(|t| field(t, "person_id") == record.id).collect();
    trainings.sort_by(|a, b| field(b, "completed_on").cmp(&field(a, "completed_on")).then(b.seq.cmp(&a.seq)));
    options.label_all(app, member, TRAINING.fields, &trainings).await?;
    let person_names = HashMap::from([(record.id.clone(), field(&record, "name"))]);
    let facts = ["email", "job_title", "business_unit", "user_id"]
        .iter()
        .filter_map(|f| PERSON.field(f))
        .map(|f| (f.label, recform::show(f, record.data.get(f.name), &options)))
        .collect();
    let none = FormErrors::default();
    let details_errors = refused.errors_for("details", &none);
    let shown: Vec<&str> = PERSON.fields.iter().map(|f| f.name).collect();
    let updated_by = record.updated_by.as_ref().and_then(|u| names.get(u)).cloned().unwrap_or_else(|| "the system".into());
    let status = crate::forms::form_status(&notice, &refused.errors);
    let page = PersonPage {
        shell: ctx.shell(Section::People),
        can_edit: ctx.can(Action::Edit),
        notice,
        notice_section,
        id: record.id.clone(),
        name: field(&record, "name"),
        version: record.version,
        updated: format!("{} by {updated_by}", datetime(&record.updated_at)),
        job: joined(&[field(&record, "job_title"), field(&record, "business_unit")]),
        roles: texts(&record, "roles"),
        facts,
        gaps: gaps.iter().filter(|g| g.person_id == record.id).map(|g| gap_item(slug, g)).collect(),
        trainings: trainings.iter().map(|t| training_row(slug, t, &person_names, &options, &today)).collect(),
        training_form: recform::render(
            TRAINING.fields,
            &["person_id"],
            &refused.values_or("training", Map::from_iter([("training_type".to_owned(), json!("training"))])),
            refused.errors_for("training", &none),
            &options,
        ),
        training_open: refused.form == "training",
        details_form: recform::render(PERSON.fields, &[], &refused.values_or("details", record.data.clone()), details_errors, &options),
        details_open: refused.form == "details",
        details_others: details_errors.others(&shown),
    };
    Ok((status, page).into_response())
}

pub(crate) async fn save_person(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let patch = posted.to_json(PERSON.fields, &[], true);
    match recform::save_changed(&state.app, &ctx.member, &PERSON, &id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/people/{id}?done=saved", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_person(&state, &ctx, &id, notice, "details", Refused { form: "details", values: patch, errors }).await
        }
    }
}

/// Records a training for this person (the person comes from the path).
pub(crate) async fn add_person_training(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let mut body = Posted(pairs).to_json(TRAINING.fields, &["person_id"], false);
    let shown = body.clone();
    body.insert("person_id".into(), json!(id));
    match state.app.create_record(&ctx.member, &TRAINING, &Value::Object(body)).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/people/{id}?done=training#trainings", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_person(&state, &ctx, &id, notice, "trainings", Refused { form: "training", values: shown, errors }).await
        }
    }
}

// ---- one competence or training record: the generated record pages ----

/// A competence page's panel: who lacks it among the roles that require it, and the training
/// records that cover it, with their holders and expiry (the rest of the page is generated).
pub(crate) struct WhoLacksIt;

impl crate::hooks::PageHooks for WhoLacksIt {
    fn panel<'a>(
        &'a self,
        state: &'a UiState,
        ctx: &'a OrgCtx,
        record: &'a Record,
        _: Option<&'a crate::hooks::PanelRefusal>,
    ) -> crate::hooks::PanelFuture<'a> {
        Box::pin(async move { competence_panel(state, ctx, record).await.map(Some) })
    }
}

async fn competence_panel(state: &UiState, ctx: &OrgCtx, record: &Record) -> Result<String, UiError> {
    let (app, member, slug) = (&state.app, &ctx.member, ctx.slug());
    let today = today();
    let gaps = app.competence_gaps(member).await?;
    // The training records that cover it, found by their link to it (not by reading them all).
    let mut holders = Vec::new();
    let mut after = 0;
    loop {
        let covering = [aims_store::page_json::Filter::Link { field: "competence_ids", id: record.id.clone() }];
        let page = app.list_records_where(member, &TRAINING, false, &covering, after, aims_domain::cursor::MAX_LIMIT).await?;
        holders.extend(page.items);
        match page.next_after {
            Some(seq) => after = seq,
            None => break,
        }
    }
    let mut options = Options::default();
    options.label_all(app, member, TRAINING.fields, &holders).await?;
    let roles = texts(record, "required_for_roles");
    let mut html = String::from(
        r#"<div class="grid-2 comp-grid"><section class="card" aria-labelledby="lack-h"><header class="card-header"><h2 id="lack-h">Who lacks it</h2></header>"#,
    );
    if roles.is_empty() {
        html.push_str(r#"<p class="muted small">No role requires this competence yet.</p>"#);
    } else {
        let chips: String = roles.iter().map(|r| format!(r#"<span class="role-chip">{}</span>"#, esc(r))).collect();
        html.push_str(&format!(r#"<p class="small">Required for {chips}</p>"#));
        let lacking: Vec<GapItem> = gaps.iter().filter(|g| g.competence_id == record.id).map(|g| gap_item(slug, g)).collect();
        if lacking.is_empty() {
            html.push_str(r#"<p class="all-good">Everyone in these roles holds it.</p>"#);
        } else {
            html.push_str(r#"<ul class="stack-list">"#);
            for i in lacking {
                html.push_str(&format!(
                    r#"<li><a class="row-link" href="{}">{}</a> <span class="badge badge-{}">{}</span><span class="muted small"> as {}</span></li>"#,
                    esc(&i.person_href),
                    esc(&i.person),
                    i.status,
                    esc(&i.label),
                    esc(&i.role)
                ));
            }
            html.push_str("</ul>");
        }
    }
    html.push_str(r#"</section><section class="card" aria-labelledby="hold-h"><header class="card-header"><h2 id="hold-h">Records that cover it</h2></header>"#);
    if holders.is_empty() {
        html.push_str(r#"<p class="muted small">No training record covers this competence yet.</p>"#);
    } else {
        html.push_str(r#"<ul class="stack-list">"#);
        for t in &holders {
            let person_id = field(t, "person_id");
            let expires = field(t, "expires_on");
            let expiry = match expiry_of(&expires, &today) {
                "expired" => r#" <span class="badge badge-gap-expired">Expired</span>"#,
                "soon" => r#" <span class="badge badge-partial">Expires soon</span>"#,
                _ => "",
            };
            let when = if expires.is_empty() { "Does not expire".to_owned() } else { format!("Expires {}", esc(&expires)) };
            html.push_str(&format!(
                r#"<li><a class="row-link" href="/orgs/{slug}/people/{}">{}</a> — <a href="/orgs/{slug}/trainings/{}">{}</a><p class="small muted">{when}{expiry}</p></li>"#,
                esc(&person_id),
                esc(&options.label("person", &person_id)),
                esc(&t.id),
                esc(&field(t, "title")),
                slug = esc(slug),
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str("</section></div>");
    Ok(html)
}

// ---- archiving ----

/// Archives a record at the version its page showed.
async fn archive(state: &UiState, ctx: &OrgCtx, spec: &KindSpec, id: &str, pairs: Vec<(String, String)>) -> Result<(), AppError> {
    state.app.archive_record(&ctx.member, spec, id, version_of(&Posted(pairs))).await.map(|_| ())
}

fn archived(ctx: &OrgCtx) -> Response {
    Redirect::to(&format!("/orgs/{}/people?done=archived", ctx.slug())).into_response()
}

pub(crate) async fn archive_person(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    match archive(&state, &ctx, &PERSON, &id, pairs).await {
        Ok(()) => Ok(archived(&ctx)),
        Err(e) => {
            let (notice, _) = forms::rejected(e)?;
            render_person(&state, &ctx, &id, notice, "top", Refused::default()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_ids_get_a_prefix() {
        let html = r#"<label for="name">Name</label><input id="name" name="name" aria-describedby="name-error">"#;
        assert_eq!(
            prefix_ids(html, "c-"),
            r#"<label for="c-name">Name</label><input id="c-name" name="name" aria-describedby="c-name-error">"#
        );
    }

    #[test]
    fn expiry_is_judged_against_today() {
        assert_eq!(expiry_of("", "2026-05-01"), "");
        assert_eq!(expiry_of("2026-04-30", "2026-05-01"), "expired");
        assert_eq!(expiry_of("2026-05-01", "2026-05-01"), "soon");
        assert_eq!(expiry_of("2026-06-29", "2026-05-01"), "soon");
        assert_eq!(expiry_of("2026-09-01", "2026-05-01"), "");
    }
}
