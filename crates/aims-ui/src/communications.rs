//! Communication (7.4): the plan of what is communicated, with whom, how, how often and by
//! whom, with when each line is next due. A line's page is the generated record page; its
//! panel ([`Communicated`]) keeps the record of each time it was communicated ("what was said,
//! when"), appended with the line's current version.

use aims_domain::clock;
use aims_domain::kinds::COMMUNICATION;
use aims_domain::policy::Action;
use aims_domain::validate::FieldSpec;
use aims_domain::{FieldError, ValidationErrors};
use aims_store::model::Record;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::{Map, Value, json};

use crate::UiState;
use crate::common::{DoneQuery, NewPageText, NewRecordPage, all, field, today, version_of};
use crate::error::UiError;
use crate::forms::{self, FormErrors, Notice};
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section, Shell};
use crate::recform::{Options, Posted};
use crate::text::{humanize, truncate};

/// The plan and its new form; a line's page is generated (`pages`), with [`Communicated`].
pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/orgs/{org}/communications", get(list)).route("/orgs/{org}/communications/new", get(new_form).post(create))
}

/// The plan's own fields; what was communicated is recorded on the line's page.
fn plan_fields() -> Vec<FieldSpec> {
    COMMUNICATION.fields.iter().filter(|f| f.name != "records").copied().collect()
}

/// Is the line's next date in the past?
pub(crate) fn is_overdue(record: &Record, today: &str) -> bool {
    let next = field(record, "next_on");
    !next.is_empty() && next.as_str() < today
}

/// Due within two weeks (and not overdue).
fn is_due_soon(record: &Record, today: &str) -> bool {
    let next = field(record, "next_on");
    !next.is_empty()
        && next.as_str() >= today
        && clock::parse_date(today)
            .and_then(|t| t.checked_add(time::Duration::days(14)))
            .is_some_and(|soon| next <= clock::format_date(soon))
}

/// `(communicated_on, summary)` of each time it was communicated, newest first.
fn history(record: &Record) -> Vec<(String, String)> {
    let mut items: Vec<(usize, String, String)> = record
        .data
        .get("records")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| {
            let text = |f: &str| r.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
            (i, text("communicated_on"), text("summary"))
        })
        .collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    items.into_iter().map(|(_, on, summary)| (on, summary)).collect()
}

/// `date` moved on by the line's frequency; `None` for one-off and on-change lines.
fn next_after(date: &str, frequency: &str) -> Option<String> {
    let months = match frequency {
        "monthly" => 1,
        "quarterly" => 3,
        "yearly" => 12,
        _ => return None,
    };
    let date = clock::parse_date(date)?;
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months;
    let (year, month) = (total.div_euclid(12), time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?);
    let day = date.day().min(time::util::days_in_month(month, year));
    time::Date::from_calendar_date(year, month, day).ok().map(clock::format_date)
}

// ---- the plan ----

struct PlanRow {
    href: String,
    subject: String,
    audience: String,
    audience_type: String,
    channel: String,
    frequency: String,
    next_on: String,
    overdue: bool,
    due_soon: bool,
    responsible: String,
    last_on: String,
    last_summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "communications.html")]
struct PlanPage {
    shell: Shell,
    can_edit: bool,
    notice: Notice,
    rows: Vec<PlanRow>,
    overdue: usize,
}

pub(crate) async fn list(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<DoneQuery>) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let today = today();
    let mut lines = all(&state.app, &ctx.member, &COMMUNICATION).await?;
    // What is due first comes first; lines without a date last, in the order they were planned.
    lines.sort_by(|a, b| {
        let (x, y) = (field(a, "next_on"), field(b, "next_on"));
        x.is_empty().cmp(&y.is_empty()).then(x.cmp(&y)).then(a.seq.cmp(&b.seq))
    });
    let rows: Vec<PlanRow> = lines
        .iter()
        .map(|c| {
            let last = history(c).into_iter().next();
            PlanRow {
                href: format!("/orgs/{}/communications/{}", ctx.slug(), c.id),
                subject: field(c, "subject"),
                audience: field(c, "audience"),
                audience_type: humanize(&field(c, "audience_type")),
                channel: humanize(&field(c, "channel")),
                frequency: frequency_label(&field(c, "frequency")),
                next_on: field(c, "next_on"),
                overdue: is_overdue(c, &today),
                due_soon: is_due_soon(c, &today),
                responsible: names.get(&field(c, "responsible_id")).cloned().unwrap_or_default(),
                last_on: last.as_ref().map(|(on, _)| on.clone()).unwrap_or_default(),
                last_summary: last.map(|(_, s)| truncate(&s, 90)).unwrap_or_default(),
            }
        })
        .collect();
    let notice = if query.done == "archived" {
        Notice::Done("Archived. The line left the plan; its history stays in the activity log.".into())
    } else {
        Notice::None
    };
    Ok(PlanPage {
        shell: ctx.shell(Section::People),
        can_edit: ctx.can(Action::Edit),
        notice,
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
    }
    .into_response())
}

fn frequency_label(code: &str) -> String {
    match code {
        "on_change" => "On change".into(),
        other => humanize(other),
    }
}

// ---- new line ----

pub(crate) async fn new_form(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Query(system): Query<crate::common::ForSystem>,
) -> Result<Response, UiError> {
    // Those who may not create get the refusal, as on the generated new pages.
    aims_domain::policy::authorize(ctx.member.role, Action::Edit).map_err(|denied| UiError::Forbidden(denied.to_string()))?;
    let mut values = Map::from_iter([
        ("responsible_id".to_owned(), json!(ctx.member.user_id)),
        ("audience_type".to_owned(), json!("internal")),
        ("frequency".to_owned(), json!("once")),
    ]);
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
    let fields = plan_fields();
    let options = Options::load(&state.app, &ctx.member, &fields).await?;
    let text = NewPageText {
        section: Section::People,
        eyebrow: "Communication · 7.4",
        title: "Plan a communication",
        intro: "What the organisation communicates about its AI management system, with whom, how, how often and who does it. Record each time it happens on the line's page.",
        back_label: "Communication plan",
        submit: "Add to the plan",
    };
    let back = format!("/orgs/{}/communications", ctx.slug());
    Ok(NewRecordPage::respond(ctx, text, back, &fields, (&values, &errors, &options), notice))
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ctx: OrgCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let body = Posted(pairs).to_json(&plan_fields(), &[], false);
    match state.app.create_record(&ctx.member, &COMMUNICATION, &Value::Object(body.clone())).await {
        Ok(record) => Ok(Redirect::to(&format!("/orgs/{}/communications/{}?done=created", ctx.slug(), record.id)).into_response()),
        Err(e) => {
            let (notice, errors) = forms::rejected(e)?;
            render_new(&state, &ctx, body, notice, errors).await
        }
    }
}

// ---- one line: the generated record page, with this panel ----

/// The record page's panel: when the line is next due, the form that records it was
/// communicated (suggesting the next date from its frequency) and what was said each time.
pub(crate) struct Communicated;

#[derive(Template)]
#[template(path = "communication_panel.html")]
struct Panel {
    org_slug: String,
    can_edit: bool,
    id: String,
    version: i64,
    overdue: bool,
    due_soon: bool,
    next_on: String,
    history: Vec<(String, String)>,
    record_on: String,
    record_summary: String,
    record_next: String,
    record_next_hint: String,
    record_errors: FormErrors,
}

impl PageHooks for Communicated {
    fn panel<'a>(&'a self, _state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, refused: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let today = today();
            let frequency = field(record, "frequency");
            let suggested_next = next_after(&today, &frequency)
                .unwrap_or_else(|| if frequency == "once" { String::new() } else { field(record, "next_on") });
            let typed = |name: &str, otherwise: String| refused.map_or(otherwise, |r| r.typed.one(name));
            let panel = Panel {
                org_slug: ctx.slug().to_owned(),
                can_edit: ctx.can(Action::Edit) && !record.archived,
                id: record.id.clone(),
                version: record.version,
                overdue: is_overdue(record, &today),
                due_soon: is_due_soon(record, &today),
                next_on: field(record, "next_on"),
                history: history(record),
                record_on: typed("communicated_on", today.clone()),
                record_summary: typed("summary", String::new()),
                record_next: typed("next_on", suggested_next),
                record_next_hint: match frequency.as_str() {
                    "monthly" | "quarterly" | "yearly" => format!(
                        "Suggested from the frequency ({}); change it if needed, or leave it empty.",
                        frequency_label(&frequency).to_lowercase()
                    ),
                    "on_change" => "Communicated when something changes: set a date only if one is known.".into(),
                    _ => "A one-off communication: leave empty once it has happened.".into(),
                },
                record_errors: refused.map(|r| r.errors.clone()).unwrap_or_default(),
            };
            Ok(Some(panel.render().map_err(|e| UiError::Internal(e.to_string()))?))
        })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["records"]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, posted: Posted) -> ActFuture<'a> {
        match action {
            "records" => Box::pin(record(state, ctx, id, posted)),
            _ => Box::pin(async { Err(UiError::NotFound) }),
        }
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        match done {
            "created" => Some(Notice::Done("Added to the communication plan.".into())),
            "recorded" => Some(Notice::Done("Recorded.".into())),
            _ => None,
        }
    }
}

/// Appends "communicated on …: …" to the line's records (at the version the page showed) and
/// sets its next due date.
async fn record(state: &UiState, ctx: &OrgCtx, id: &str, posted: Posted) -> Result<Acted, UiError> {
    let (on, summary, next) = (posted.one("communicated_on"), posted.one("summary"), posted.one("next_on"));
    let current = state.app.get_record(&ctx.member, &COMMUNICATION, id).await?;
    let mut records = current.data.get("records").and_then(Value::as_array).cloned().unwrap_or_default();
    let index = records.len();
    let mut entry = Map::new();
    if !on.is_empty() {
        entry.insert("communicated_on".into(), json!(on));
    }
    if !summary.is_empty() {
        entry.insert("summary".into(), json!(summary));
    }
    records.push(Value::Object(entry));
    let patch = json!({ "records": records, "next_on": forms::text_or_null(&next) });
    match state.app.patch_record(&ctx.member, &COMMUNICATION, id, version_of(&posted), &patch).await {
        Ok(_) => Ok(Acted::Done { done: "recorded", anchor: "record" }),
        Err(e) => {
            // The new row's errors (`records[n].summary`) belong to this form's fields.
            let e = match e {
                aims_app::AppError::Validation(errors) => aims_app::AppError::Validation(ValidationErrors(
                    errors
                        .0
                        .into_iter()
                        .map(|fe| {
                            let prefix = format!("records[{index}].");
                            match fe.field.strip_prefix(&prefix) {
                                Some(rest) => FieldError { field: rest.to_owned(), ..fe },
                                None => fe,
                            }
                        })
                        .collect(),
                )),
                other => other,
            };
            let (notice, errors) = forms::rejected(e)?;
            Ok(Acted::Refused(notice, PanelRefusal { typed: posted, errors }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_dates_follow_the_frequency() {
        assert_eq!(next_after("2026-01-31", "monthly").as_deref(), Some("2026-02-28"));
        assert_eq!(next_after("2026-11-15", "quarterly").as_deref(), Some("2027-02-15"));
        assert_eq!(next_after("2024-02-29", "yearly").as_deref(), Some("2025-02-28"));
        assert_eq!(next_after("2026-01-01", "once"), None);
        assert_eq!(next_after("bad", "monthly"), None);
    }
}
