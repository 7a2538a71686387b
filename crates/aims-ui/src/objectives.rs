//! AI objectives (6.2) and their measurement (9.1): the list of objectives with where each
//! stands against its target and a sparkline of its figures, a page at a time; one objective's
//! page is generated (`pages`), with its particular panel ([`Measurements`]): the trend chart,
//! its measurements and the form that records a new one.

use std::collections::HashMap;

use aims_app::App;
use aims_domain::clock;
use aims_domain::kinds::{MEASUREMENT, OBJECTIVE};
use aims_domain::policy::Action;
use aims_store::model::{Member, Record};
use aims_store::page_json::Filter;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::charts::{self, TrendPoint, TrendTarget, with_unit};
use crate::common::{NewPageText, NewRecordPage, field, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section, Shell};
use crate::lists::{self, ListParams, Listing};
use crate::recform::{self, Options, Posted};

/// The list and the new form; an objective's own page is generated from its declaration.
pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/orgs/{org}/objectives", get(list)).route("/orgs/{org}/objectives/new", get(new_form).post(create))
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

/// Every measurement (not archived) of one objective, oldest first.
async fn measurements_of(app: &App, member: &Member, objective_id: &str) -> Result<Vec<Record>, UiError> {
    let mut series = Vec::new();
    let mut after = 0;
    loop {
        let page = app.list_children(member, &MEASUREMENT, objective_id, after, aims_domain::cursor::MAX_LIMIT).await?;
        series.extend(page.items.into_iter().filter(|m| !m.archived));
        match page.next_after {
            Some(seq) => after = seq,
            None => break,
        }
    }
    sort_by_date(&mut series);
    Ok(series)
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
    total: i64,
    on_track: i64,
    off_track: i64,
    no_data: i64,
    path: String,
    listing: Listing,
}

/// How many objectives are on track, off track, and without measurements, counted by the
/// database (`on_track` is set by the measurements).
async fn status_counts(app: &App, member: &Member) -> Result<(i64, i64, i64, i64), UiError> {
    let count = |filters: Vec<Filter>| async move { app.count_records_where(member, &OBJECTIVE, &filters).await };
    let total = count(Vec::new()).await?;
    let on = count(vec![Filter::Flag { field: "on_track", value: true }]).await?;
    let off = count(vec![Filter::Flag { field: "on_track", value: false }]).await?;
    Ok((total, on, off, total - on - off))
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx, Query(params): Query<ListParams>) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    if params.wants_csv() {
        let header = ["id", "title", "metric", "target", "latest_value", "latest_measured_on", "status", "owner", "due_date"];
        let row = move |o: &Record| {
            let (goal, _) = goal_of(o);
            vec![
                o.id.clone(),
                field(o, "title"),
                field(o, "metric"),
                target_short(&goal),
                number_of(o, "latest_value").map(|v| with_unit(v, goal.unit)).unwrap_or_default(),
                field(o, "latest_measured_on"),
                status_of(o).1.to_owned(),
                names.get(&field(o, "owner_id")).cloned().unwrap_or_default(),
                field(o, "due_date"),
            ]
        };
        return Ok(lists::csv(state.app.clone(), ctx.member.clone(), &OBJECTIVE, &params, Vec::new(), "objectives", &header, row));
    }
    let path = format!("/orgs/{}/objectives", ctx.slug());
    let (objectives, listing) = lists::page(&state.app, &ctx.member, &OBJECTIVE, &params, Vec::new(), &path).await?;
    let today = clock::format_date(clock::today());
    let mut rows = Vec::with_capacity(objectives.len());
    for o in &objectives {
        // The figures of the objectives on this page only.
        let series = measurements_of(&state.app, &ctx.member, &o.id).await?;
        let values: Vec<f64> = series.iter().filter_map(|m| number_of(m, "value")).collect();
        rows.push(objective_row(ctx.slug(), o, &values, &names, &today));
    }
    let (total, on_track, off_track, no_data) = status_counts(&state.app, &ctx.member).await?;
    Ok(ObjectivesPage {
        shell: ctx.shell(Section::Objectives),
        can_edit: ctx.can(Action::Edit),
        rows,
        total,
        on_track,
        off_track,
        no_data,
        path,
        listing,
    }
    .into_response())
}

/// One objective of the list, with a sparkline of its figures (`values`, oldest first).
fn objective_row(slug: &str, o: &Record, values: &[f64], names: &HashMap<String, String>, today: &str) -> ObjectiveRow {
    let (goal, _) = goal_of(o);
    let (status, status_label) = status_of(o);
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
        charts::sparkline(&words, values, &goal)
    };
    let due = field(o, "due_date");
    ObjectiveRow {
        href: format!("/orgs/{slug}/objectives/{}", o.id),
        metric: field(o, "metric"),
        target: target_short(&goal),
        latest: number_of(o, "latest_value").map(|v| with_unit(v, goal.unit)).unwrap_or_default(),
        latest_on: field(o, "latest_measured_on"),
        status,
        status_label,
        sparkline,
        owner: names.get(&field(o, "owner_id")).cloned().unwrap_or_default(),
        past_due: !due.is_empty() && due.as_str() < today && status != "on_track",
        due,
        title,
    }
}

// ---- new objective ----

pub(crate) async fn new_form(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(system): Query<crate::common::ForSystem>,
) -> Result<Response, UiError> {
    // Those who may not create get the refusal, not a form whose save would be refused.
    aims_domain::policy::authorize(ctx.member.role, Action::Edit).map_err(|denied| UiError::Forbidden(denied.to_string()))?;
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

// ---- one objective: the generated record page, with this panel ----

/// The objective page's panel: where it stands against its target, the trend of its figures,
/// the form that records a measurement and the measurements, each of which may be withdrawn.
pub(crate) struct Measurements;

struct MeasurementRow {
    id: String,
    version: i64,
    date: String,
    value: String,
    met: bool,
    notes: String,
    by: String,
}

#[derive(Template)]
#[template(path = "objective_panel.html")]
struct Panel {
    org_slug: String,
    can_edit: bool,
    id: String,
    title: String,
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
    measurements: Vec<MeasurementRow>,
    measure_form: String,
}

impl PageHooks for Measurements {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, refused: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let panel = panel(state, ctx, record, refused).await?;
            Ok(Some(panel.render().map_err(|e| UiError::Internal(e.to_string()))?))
        })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["measurements", "withdraw"]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, posted: Posted) -> ActFuture<'a> {
        match action {
            "measurements" => Box::pin(measure(state, ctx, id, posted)),
            "withdraw" => Box::pin(withdraw(state, ctx, id, posted)),
            _ => Box::pin(async { Err(UiError::NotFound) }),
        }
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        let text = match done {
            "created" => "Objective created. Record its first measurement below.",
            "measured" => "Measurement recorded.",
            "withdrawn" => "Measurement withdrawn: it no longer counts towards the status or the chart.",
            _ => return None,
        };
        Some(Notice::Done(text.into()))
    }
}

/// "+12 points since 2025-01-10": how far the figures moved from the first to the last.
fn change_of(points: &[TrendPoint], goal: &TrendTarget) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else { return String::new() };
    if points.len() < 2 {
        return String::new();
    }
    let delta = last.value - first.value;
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
    format!("{sign}{amount} since {}", first.date)
}

async fn panel(state: &UiState, ctx: &OrgCtx, record: &Record, refused: Option<&PanelRefusal>) -> Result<Panel, UiError> {
    let series = measurements_of(&state.app, &ctx.member, &record.id).await?;
    let (_, names) = ctx.member_names(state).await?;
    let (goal, _) = goal_of(record);
    let (status, status_label) = status_of(record);
    let points: Vec<TrendPoint> =
        series.iter().filter_map(|m| Some(TrendPoint { date: field(m, "measured_on"), value: number_of(m, "value")? })).collect();
    let chart = charts::trend("trend", &format!("{} over time", field(record, "metric")), &points, &goal);
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
                by: m.created_by.as_deref().map(|u| names.get(u).cloned().unwrap_or_else(|| "someone".into())).unwrap_or_default(),
            })
        })
        .collect();
    let (values, errors) = match refused {
        Some(r) => (r.typed.to_json(MEASUREMENT.fields, &[], false), r.errors.clone()),
        None => (Map::from_iter([("measured_on".to_owned(), json!(clock::format_date(clock::today())))]), FormErrors::default()),
    };
    let options = Options::default();
    Ok(Panel {
        org_slug: ctx.slug().to_owned(),
        can_edit: ctx.can(Action::Edit) && !record.archived,
        id: record.id.clone(),
        title: field(record, "title"),
        status,
        status_label,
        latest: number_of(record, "latest_value").map(|v| with_unit(v, goal.unit)).unwrap_or_default(),
        latest_on: field(record, "latest_measured_on"),
        target: target_short(&goal),
        target_words: capitalized(&goal.words()),
        baseline: goal.baseline.map(|b| with_unit(b, goal.unit)).unwrap_or_default(),
        change: change_of(&points, &goal),
        count: points.len(),
        chart,
        measurements,
        measure_form: recform::render(MEASUREMENT.fields, &[], &values, &errors, &options),
    })
}

/// Records a measurement of the objective.
async fn measure(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    let body = posted.to_json(MEASUREMENT.fields, &[], false);
    match state.app.create_child_record(&ctx.member, &MEASUREMENT, id, &Value::Object(body)).await {
        Ok(_) => Ok(Acted::Done { done: "measured", anchor: "measure" }),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: posted, errors }))
        }
    }
}

/// Withdraws (archives) a measurement entered by mistake; the objective's status follows.
async fn withdraw(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    // The measurement must belong to this objective.
    let measurement = posted.one("measurement");
    state.app.get_child(&ctx.member, &MEASUREMENT, id, &measurement).await?;
    match state.app.archive_record(&ctx.member, &MEASUREMENT, &measurement, version_of(&posted)).await {
        Ok(_) => Ok(Acted::Done { done: "withdrawn", anchor: "measurements" }),
        Err(e) => {
            let (notice, _) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: Posted(Vec::new()), errors: FormErrors::default() }))
        }
    }
}
