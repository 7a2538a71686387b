//! AI objectives (6.2) and their measurement (9.1): the list of objectives with where each
//! stands against its target and a sparkline of its figures, and one objective's page with the
//! trend chart, its measurements, the form that records a new one and the objective's own edit
//! form.

use std::collections::HashMap;

use aims_app::App;
use aims_domain::clock;
use aims_domain::kinds::{MEASUREMENT, OBJECTIVE};
use aims_domain::policy::Action;
use aims_store::model::{Member, Record};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::charts::{self, TrendPoint, TrendTarget, with_unit};
use crate::common::{DoneQuery, NewPageText, NewRecordPage, field, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{self, Options, Posted};
use crate::text::datetime;

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/orgs/{org}/objectives", get(list))
        .route("/orgs/{org}/objectives/new", get(new_form).post(create))
        .route("/orgs/{org}/objectives/{id}", get(detail).post(save))
        .route("/orgs/{org}/objectives/{id}/measurements", post(measure))
        .route("/orgs/{org}/objectives/{id}/measurements/{measurement}/archive", post(withdraw))
}

fn number_of(record: &Record, name: &str) -> Option<f64> {
    record.data.get(name).and_then(Value::as_f64)
}

/// The target an objective's figures are judged against.
fn goal_of(record: &Record) -> (TrendTarget<'_>, bool) {
    let target = number_of(record, "target");
    let goal = TrendTarget {
        target: target.unwrap_or(0.0),
        at_most: record.data.get("direction").and_then(Value::as_str) == Some("at_most"),
        baseline: number_of(record, "baseline"),
        unit: record.data.get("unit").and_then(Value::as_str).unwrap_or_default(),
    };
    (goal, target.is_some())
}

/// `on_track`, `off_track` or `no_data`, and its label.
pub(crate) fn status_of(record: &Record) -> (&'static str, &'static str) {
    match record.data.get("on_track") {
        Some(Value::Bool(true)) => ("on_track", "On track"),
        Some(Value::Bool(false)) => ("off_track", "Off track"),
        _ => ("no_data", "No data"),
    }
}

/// The text with its first letter in upper case (the rest as it is: units keep their case).
pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// "≥ 95%" / "≤ 2 incidents".
fn target_short(goal: &TrendTarget) -> String {
    format!("{} {}", if goal.at_most { "≤" } else { "≥" }, with_unit(goal.target, goal.unit))
}

/// Every measurement (not archived) of the organisation, by objective, oldest first.
async fn all_measurements(app: &App, member: &Member) -> Result<HashMap<String, Vec<Record>>, UiError> {
    let mut by_objective: HashMap<String, Vec<Record>> = HashMap::new();
    let mut after = 0;
    loop {
        let page = app.list_records(member, &MEASUREMENT, false, after, 200).await?;
        for m in page.items {
            by_objective.entry(field(&m, "objective_id")).or_default().push(m);
        }
        match page.next_after {
            Some(seq) => after = seq,
            None => break,
        }
    }
    for series in by_objective.values_mut() {
        sort_by_date(series);
    }
    Ok(by_objective)
}

/// By measurement date, then in the order they were entered.
fn sort_by_date(series: &mut [Record]) {
    series.sort_by(|a, b| field(a, "measured_on").cmp(&field(b, "measured_on")).then(a.seq.cmp(&b.seq)));
}

// ---- the list ----

struct ObjectiveRow {
    href: String,
    title: String,
    metric: String,
    target: String,
    latest: String,
    latest_on: String,
    status: &'static str,
    status_label: &'static str,
    sparkline: String,
    owner: String,
    due: String,
    past_due: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "objectives.html")]
struct ObjectivesPage {
    shell: Shell,
    can_edit: bool,
    rows: Vec<ObjectiveRow>,
    on_track: usize,
    off_track: usize,
    no_data: usize,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let objectives = state.app.list_records(&ctx.member, &OBJECTIVE, false, 0, 200).await?.items;
    let measurements = all_measurements(&state.app, &ctx.member).await?;
    let today = clock::format_date(clock::today());
    let rows: Vec<ObjectiveRow> = objectives
        .iter()
        .map(|o| {
            let (goal, _) = goal_of(o);
            let (status, status_label) = status_of(o);
            let values: Vec<f64> =
                measurements.get(&o.id).map(|series| series.iter().filter_map(|m| number_of(m, "value")).collect()).unwrap_or_default();
            let title = field(o, "title");
            let sparkline = if values.is_empty() {
                String::new()
            } else {
                let first = values.first().copied().unwrap_or_default();
                let last = values.last().copied().unwrap_or_default();
                let words = if values.len() == 1 {
                    format!("Trend of {title}: one measurement, {}", with_unit(last, goal.unit))
                } else {
                    format!(
                        "Trend of {title}: {} measurements, from {} to {}; target {}",
                        values.len(),
                        with_unit(first, goal.unit),
                        with_unit(last, goal.unit),
                        goal.words()
                    )
                };
                charts::sparkline(&words, &values, &goal)
            };
            let due = field(o, "due_date");
            ObjectiveRow {
                href: format!("/orgs/{}/objectives/{}", ctx.slug(), o.id),
                metric: field(o, "metric"),
                target: target_short(&goal),
                latest: number_of(o, "latest_value").map(|v| with_unit(v, goal.unit)).unwrap_or_default(),
                latest_on: field(o, "latest_measured_on"),
                status,
                status_label,
                sparkline,
                owner: names.get(&field(o, "owner_id")).cloned().unwrap_or_default(),
                past_due: !due.is_empty() && due < today && status != "on_track",
                due,
                title,
            }
        })
        .collect();
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    Ok(ObjectivesPage {
        shell: ctx.shell(Section::Objectives),
        can_edit: ctx.can(Action::Edit),
        on_track: count("on_track"),
        off_track: count("off_track"),
        no_data: count("no_data"),
        rows,
    }
    .into_response())
}

// ---- new objective ----

pub(crate) async fn new_form(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(system): Query<crate::common::ForSystem>,
) -> Result<Response, UiError> {
    // Whoever sets an objective owns it until they say otherwise.
    let mut values = Map::from_iter([("owner_id".to_owned(), json!(ctx.member.user_id)), ("direction".to_owned(), json!("at_least"))]);
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
    let options = Options::load(&state.app, &ctx.member, OBJECTIVE.fields).await?;
    let text = NewPageText {
        section: Section::Objectives,
        eyebrow: "AI objectives · 6.2",
        title: "New objective",
        intro: "Say what the organisation wants to achieve with or about its AI systems, how it is measured, and the figure that counts as achieved. Record measurements on the objective's page.",
        back_label: "Objectives",
        submit: "Create objective",
    };
    let back = format!("/orgs/{}/objectives", ctx.slug());
    Ok(NewRecordPage::respond(ctx, text, back, OBJECTIVE.fields, (&values, &errors, &options), notice))
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let body = Posted(pairs).to_json(OBJECTIVE.fields, &[], false);
    match state.app.create_record(&ctx.member, &OBJECTIVE, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/objectives/{}?done=created", ctx.slug(), record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_new(&state, &ctx, body, notice, errors).await
        }
    }
}

// ---- one objective ----

struct MeasurementRow {
    id: String,
    version: i64,
    date: String,
    value: String,
    met: bool,
    notes: String,
    by: String,
}

/// A form on the objective page that was just posted and refused.
#[derive(Default)]
struct Refused {
    form: &'static str,
    values: Map<String, Value>,
    errors: FormErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "objective.html")]
struct ObjectivePage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    notice_section: &'static str,
    id: String,
    title: String,
    version: i64,
    updated: String,
    status: &'static str,
    status_label: &'static str,
    latest: String,
    latest_on: String,
    target: String,
    target_words: String,
    baseline: String,
    change: String,
    count: usize,
    chart: String,
    facts: Vec<(&'static str, String)>,
    description: String,
    measurements: Vec<MeasurementRow>,
    measure_form: String,
    details_form: String,
    details_open: bool,
    details_others: Vec<String>,
}

fn notice_for(code: &str) -> (Notice, &'static str) {
    match code {
        "created" => (Notice::Done("Objective created. Record its first measurement below.".into()), "top"),
        "saved" => (Notice::Saved, "top"),
        "measured" => (Notice::Done("Measurement recorded.".into()), "measure"),
        "withdrawn" => (Notice::Done("Measurement withdrawn: it no longer counts towards the status or the chart.".into()), "measurements"),
        _ => (Notice::None, "top"),
    }
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let (notice, section) = notice_for(&query.done);
    render_objective(&state, &ctx, &id, notice, section, Refused::default()).await
}

async fn render_objective(
    state: &UiState,
    ctx: &OrgCtx,
    id: &str,
    notice: Notice,
    notice_section: &'static str,
    refused: Refused,
) -> Result<Response, UiError> {
    let app = &state.app;
    let record = app.get_record(&ctx.member, &OBJECTIVE, id).await?;
    let mut series = Vec::new();
    let mut after = 0;
    loop {
        let page = app.list_children(&ctx.member, &MEASUREMENT, &record.id, after, 200).await?;
        series.extend(page.items.into_iter().filter(|m| !m.archived));
        match page.next_after {
            Some(seq) => after = seq,
            None => break,
        }
    }
    sort_by_date(&mut series);
    let mut options = Options::load(app, &ctx.member, OBJECTIVE.fields).await?;
    options.label_linked(app, &ctx.member, OBJECTIVE.fields, &record.data).await?;
    let (_, names) = ctx.member_names(state).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "someone".into());
    let (goal, _) = goal_of(&record);
    let (status, status_label) = status_of(&record);
    let title = field(&record, "title");

    let points: Vec<TrendPoint> =
        series.iter().filter_map(|m| Some(TrendPoint { date: field(m, "measured_on"), value: number_of(m, "value")? })).collect();
    let metric = field(&record, "metric");
    let chart = charts::trend("trend", &format!("{metric} over time"), &points, &goal);
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    let change = match (values.first(), values.last()) {
        (Some(first), Some(last)) if values.len() > 1 => {
            let delta = last - first;
            let sign = if delta > 0.0 {
                "+"
            } else if delta < 0.0 {
                "−"
            } else {
                "±"
            };
            // A change of a percentage is in points, not per cent of itself.
            let amount =
                if goal.unit.trim() == "%" { format!("{} points", charts::number(delta.abs())) } else { with_unit(delta.abs(), goal.unit) };
            format!("{sign}{amount} since {}", points.first().map(|p| p.date.as_str()).unwrap_or_default())
        }
        _ => String::new(),
    };

    let measurements = series
        .iter()
        .rev()
        .filter_map(|m| {
            let value = number_of(m, "value")?;
            Some(MeasurementRow {
                id: m.id.clone(),
                version: m.version,
                date: field(m, "measured_on"),
                value: with_unit(value, goal.unit),
                met: goal.met_by(value),
                notes: field(m, "notes"),
                by: m.created_by.as_deref().map(&name_of).unwrap_or_default(),
            })
        })
        .collect();

    let facts = ["metric", "owner_id", "due_date", "ai_system_ids", "policy_ids"]
        .iter()
        .filter_map(|f| OBJECTIVE.field(f))
        .map(|f| (f.label, recform::show(f, record.data.get(f.name), &options)))
        .collect();

    let measure_values = if refused.form == "measure" {
        refused.values.clone()
    } else {
        Map::from_iter([("measured_on".to_owned(), json!(clock::format_date(clock::today())))])
    };
    let no_errors = FormErrors::default();
    let measure_errors = if refused.form == "measure" { &refused.errors } else { &no_errors };
    let details_values = if refused.form == "details" { refused.values.clone() } else { record.data.clone() };
    let details_errors = if refused.form == "details" { &refused.errors } else { &no_errors };
    let shown: Vec<&str> = OBJECTIVE.fields.iter().map(|f| f.name).collect();
    let updated_by = record.updated_by.as_deref().map(&name_of).unwrap_or_else(|| "the system".into());
    let status_code = crate::forms::form_status(&notice, &refused.errors);
    let page = ObjectivePage {
        shell: ctx.shell(Section::Objectives),
        can_edit: ctx.can(Action::Edit),
        notice,
        notice_section,
        id: record.id.clone(),
        title,
        version: record.version,
        updated: format!("{} by {updated_by}", datetime(&record.updated_at)),
        status,
        status_label,
        latest: number_of(&record, "latest_value").map(|v| with_unit(v, goal.unit)).unwrap_or_default(),
        latest_on: field(&record, "latest_measured_on"),
        target: target_short(&goal),
        target_words: capitalized(&goal.words()),
        baseline: goal.baseline.map(|b| with_unit(b, goal.unit)).unwrap_or_default(),
        change,
        count: points.len(),
        chart,
        facts,
        description: field(&record, "description"),
        measurements,
        measure_form: recform::render(MEASUREMENT.fields, &[], &measure_values, measure_errors, &options),
        details_form: recform::render(OBJECTIVE.fields, &[], &details_values, details_errors, &options),
        details_open: refused.form == "details",
        details_others: details_errors.others(&shown),
    };
    Ok((status_code, page).into_response())
}

/// Saves the objective's edit form.
pub(crate) async fn save(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let posted = Posted(pairs);
    let patch = posted.to_json(OBJECTIVE.fields, &[], true);
    match recform::save_changed(&state.app, &ctx.member, &OBJECTIVE, &id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/objectives/{id}?done=saved", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_objective(&state, &ctx, &id, notice, "details", Refused { form: "details", values: patch, errors }).await
        }
    }
}

/// Records a measurement of the objective.
pub(crate) async fn measure(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let body = Posted(pairs).to_json(MEASUREMENT.fields, &[], false);
    match state.app.create_child_record(&ctx.member, &MEASUREMENT, &id, &Value::Object(body.clone())).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/objectives/{id}?done=measured#measure", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_objective(&state, &ctx, &id, notice, "measure", Refused { form: "measure", values: body, errors }).await
        }
    }
}

/// Withdraws (archives) a measurement entered by mistake; the objective's status follows.
pub(crate) async fn withdraw(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Path((_, id, measurement)): Path<(String, String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    // The measurement must belong to this objective.
    state.app.get_child(&ctx.member, &MEASUREMENT, &id, &measurement).await?;
    match state.app.archive_record(&ctx.member, &MEASUREMENT, &measurement, version_of(&Posted(pairs))).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/objectives/{id}?done=withdrawn#measurements", ctx.slug())).into_response()),
        Err(e) => {
            let (notice, _) = forms::rejected(e)?;
            render_objective(&state, &ctx, &id, notice, "measurements", Refused::default()).await
        }
    }
}
