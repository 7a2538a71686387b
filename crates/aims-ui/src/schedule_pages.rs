//! Recurring reviews and notification channels. Both kinds' pages are generated from their
//! declarations ("Mark done", pause and resume are declared transitions); a schedule's page adds
//! its last completion and the reminders sent for it ([`ScheduleHistory`]), a channel's page a
//! "Send test" form ([`SendTest`]). "Reviews due" lists the active reviews due soon or overdue,
//! the member's own first; the dashboard's card counts them in the database.

use std::collections::HashMap;

use aims_domain::kinds::{NOTIFICATION_CHANNEL, SCHEDULE};
use aims_domain::policy::Action;
use aims_store::model::Record;
use aims_store::page_json::Filter;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use crate::UiState;
use crate::common::{field, today};
use crate::error::UiError;
use crate::forms::Notice;
use crate::hooks::{ActFuture, Acted, PageHooks, PanelFuture, PanelRefusal};
use crate::layout::{OrgCtx, Section, Shell};
use crate::page_spec::{PAGE, PageSection, PageSpec};
use crate::recform::Posted;
use crate::text::{datetime, esc, humanize};

const AREA: &[&aims_domain::validate::KindSpec] = &[&SCHEDULE, &NOTIFICATION_CHANNEL];

pub(crate) static PAGES: &[PageSpec] = &[
    PageSpec {
        kind: &SCHEDULE,
        title_field: "title",
        columns: &["subject", "frequency", "next_due_on", "owner_id"],
        facts: &["subject", "frequency", "next_due_on", "owner_id"],
        sections: &[
            PageSection { heading: "What to do", fields: &["instructions"] },
            PageSection {
                heading: "Records it concerns",
                fields: &["policy_ids", "impact_assessment_ids", "supplier_ids", "evidence_ids", "ai_system_ids"],
            },
        ],
        serves: "Clauses 9.1, 9.2 · A.5 · A.10",
        intro: "Reviews that recur: policy reviews, impact re-assessments, supplier reviews, evidence refresh and audits, each with its owner and next due date. Mark one done and its next due date moves on by its frequency; enabled notification channels remind of those due.",
        section: Section::Reviews,
        hooks: Some(&ScheduleHistory),
        related: AREA,
        ..PAGE
    },
    PageSpec {
        kind: &NOTIFICATION_CHANNEL,
        title_field: "name",
        columns: &["channel_type", "enabled"],
        facts: &["channel_type", "enabled"],
        sections: &[
            PageSection {
                heading: "E-mail",
                fields: &["smtp_host", "smtp_port", "smtp_tls", "from_address", "smtp_username", "smtp_password", "recipients"],
            },
            PageSection { heading: "Webhook", fields: &["webhook_url", "webhook_secret"] },
        ],
        serves: "Clause 7.4",
        intro: "Where the organisation's reminders go: e-mail through your SMTP server, or a webhook signed with HMAC-SHA256. Passwords and secrets are write-only: the page only shows that one is set.",
        section: Section::Reviews,
        hooks: Some(&SendTest),
        related: AREA,
        ..PAGE
    },
];

pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/orgs/{org}/reviews-due", get(reviews_due))
}

/// How far ahead "Reviews due" and the dashboard look.
const HORIZON_DAYS: i64 = 14;

fn horizon() -> String {
    let end = aims_domain::clock::today() + time::Duration::days(HORIZON_DAYS + 1);
    aims_domain::clock::format_date(end)
}

/// Active reviews due before the horizon (overdue ones included), optionally one person's.
fn due_filters(owner: Option<&str>) -> Vec<Filter> {
    let mut filters = vec![Filter::State("active".into()), Filter::Before { field: "next_due_on", date: horizon() }];
    if let Some(owner) = owner {
        filters.push(Filter::Field { field: "owner_id", value: owner.to_owned() });
    }
    filters
}

fn overdue_filters(owner: Option<&str>) -> Vec<Filter> {
    let mut filters = vec![Filter::State("active".into()), Filter::Before { field: "next_due_on", date: today() }];
    if let Some(owner) = owner {
        filters.push(Filter::Field { field: "owner_id", value: owner.to_owned() });
    }
    filters
}

/// The member's reviews due soon and overdue, counted by the database (the dashboard card).
pub(crate) async fn my_counts(state: &UiState, ctx: &OrgCtx) -> Result<(usize, usize), UiError> {
    let me = Some(ctx.member.user_id.as_str());
    let due = state.app.count_records_where(&ctx.member, &SCHEDULE, &due_filters(me)).await?;
    let late = state.app.count_records_where(&ctx.member, &SCHEDULE, &overdue_filters(me)).await?;
    Ok((usize::try_from(due).unwrap_or_default(), usize::try_from(late).unwrap_or_default()))
}

/// The organisation's reviews overdue, counted by the database.
pub(crate) async fn org_overdue(state: &UiState, ctx: &OrgCtx) -> Result<usize, UiError> {
    Ok(usize::try_from(state.app.count_records_where(&ctx.member, &SCHEDULE, &overdue_filters(None)).await?).unwrap_or_default())
}

struct DueRow {
    href: String,
    title: String,
    subject: String,
    owner: String,
    due: String,
    overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews_due.html")]
struct ReviewsDuePage {
    shell: Shell,
    horizon: i64,
    /// (anchor, heading, rows, how many overdue)
    groups: Vec<(&'static str, String, Vec<DueRow>, usize)>,
}

/// Every record matching the filters, a page at a time.
async fn all_due(state: &UiState, ctx: &OrgCtx, filters: &[Filter]) -> Result<Vec<Record>, UiError> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = state.app.list_records_where(&ctx.member, &SCHEDULE, false, filters, after, 200).await?;
        all.extend(page.items);
        match page.next_after {
            Some(next) => after = next,
            None => return Ok(all),
        }
    }
}

fn due_rows(ctx: &OrgCtx, mut records: Vec<Record>, names: &HashMap<String, String>) -> Vec<DueRow> {
    let today = today();
    records.sort_by_key(|r| field(r, "next_due_on"));
    records
        .iter()
        .map(|r| {
            let due = field(r, "next_due_on");
            DueRow {
                href: format!("/orgs/{}/schedules/{}", ctx.slug(), r.id),
                title: field(r, "title"),
                subject: humanize(&field(r, "subject")),
                owner: names.get(&field(r, "owner_id")).cloned().unwrap_or_default(),
                overdue: !due.is_empty() && due < today,
                due,
            }
        })
        .collect()
}

/// `/orgs/{org}/reviews-due`: mine, then the organisation's.
async fn reviews_due(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    let (_, names) = ctx.member_names(&state).await?;
    let mine = due_rows(&ctx, all_due(&state, &ctx, &due_filters(Some(&ctx.member.user_id))).await?, &names);
    let all = due_rows(&ctx, all_due(&state, &ctx, &due_filters(None)).await?, &names);
    let overdue = |rows: &[DueRow]| rows.iter().filter(|r| r.overdue).count();
    let groups = vec![
        ("mine", "My reviews".to_owned(), overdue(&mine), mine),
        ("all", format!("All of {}", ctx.member.org_name), overdue(&all), all),
    ]
    .into_iter()
    .map(|(id, heading, late, rows)| (id, heading, rows, late))
    .collect();
    Ok(ReviewsDuePage { shell: ctx.shell(Section::Reviews), horizon: HORIZON_DAYS, groups }.into_response())
}

/// A card of facts, or nothing when none is set.
fn facts_card(id: &str, heading: &str, facts: &[(&str, String)]) -> Option<String> {
    let shown: Vec<String> = facts
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(label, value)| format!(r#"<div><dt>{}</dt><dd class="pre">{}</dd></div>"#, esc(label), esc(value)))
        .collect();
    (!shown.is_empty()).then(|| {
        format!(
            r#"<section class="card" id="{id}" aria-labelledby="{id}-h"><h2 id="{id}-h">{}</h2><dl class="facts">{}</dl></section>"#,
            esc(heading),
            shown.concat()
        )
    })
}

/// A schedule's last completion and the reminders sent for it.
pub(crate) struct ScheduleHistory;

impl PageHooks for ScheduleHistory {
    fn panel<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, _: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let (_, names) = ctx.member_names(state).await?;
            let by = field(record, "last_done_by");
            let mut html = facts_card(
                "last-done",
                "Last done",
                &[
                    ("Done on", field(record, "last_done_on")),
                    ("Marked done by", names.get(&by).cloned().unwrap_or(by)),
                    ("What was done", field(record, "last_done_note")),
                ],
            )
            .unwrap_or_default();
            let deliveries = state.app.deliveries_of(&ctx.member, &record.id).await?;
            if !deliveries.is_empty() {
                let rows: String = deliveries
                    .iter()
                    .map(|d| {
                        format!(
                            r#"<tr><td data-label="Due">{}</td><td data-label="Channel">{}</td><td data-label="Outcome">{}</td><td data-label="Attempts">{}</td><td data-label="Sent">{}</td></tr>"#,
                            esc(&d.due_on),
                            esc(&d.channel),
                            esc(&humanize(&d.status)),
                            d.attempts,
                            esc(&d.sent_at.as_deref().map(datetime).unwrap_or_default())
                        )
                    })
                    .collect();
                html.push_str(&format!(
                    r#"<section class="card" id="reminders" aria-labelledby="reminders-h"><h2 id="reminders-h">Reminders</h2><table class="table table-cards"><caption class="visually-hidden">Reminders of this review</caption><thead><tr><th scope="col">Due</th><th scope="col">Channel</th><th scope="col">Outcome</th><th scope="col">Attempts</th><th scope="col">Sent</th></tr></thead><tbody>{rows}</tbody></table></section>"#
                ));
            }
            Ok((!html.is_empty()).then_some(html))
        })
    }
}

/// A channel's "Send test" form and its last test.
pub(crate) struct SendTest;

impl PageHooks for SendTest {
    fn panel<'a>(&'a self, _state: &'a UiState, ctx: &'a OrgCtx, record: &'a Record, _: Option<&'a PanelRefusal>) -> PanelFuture<'a> {
        Box::pin(async move {
            let last = match record.data.get("last_test_at").and_then(Value::as_str) {
                Some(at) => {
                    format!(r#"<p class="small">Last test {}: {}</p>"#, esc(&datetime(at)), esc(&field(record, "last_test_result")))
                }
                None => r#"<p class="small muted">Not tested yet.</p>"#.to_owned(),
            };
            let form = if ctx.can(Action::Edit) && !record.archived {
                format!(
                    r#"<form method="post" action="/orgs/{}/notification-channels/{}/send-test"><input type="hidden" name="version" value="{}"><button type="submit" class="btn btn-secondary">Send test</button></form>"#,
                    esc(ctx.slug()),
                    esc(&record.id),
                    record.version
                )
            } else {
                String::new()
            };
            Ok(Some(format!(
                r#"<section class="card" id="send-test" aria-labelledby="send-test-h"><h2 id="send-test-h">Test this channel</h2><p class="muted small">Sends a test message now, whether the channel is enabled or not.</p>{last}{form}</section>"#
            )))
        })
    }

    fn actions(&self) -> &'static [&'static str] {
        &["send-test"]
    }

    fn act<'a>(&'a self, state: &'a UiState, ctx: &'a OrgCtx, id: &'a str, action: &'a str, _posted: Posted) -> ActFuture<'a> {
        Box::pin(async move {
            if action != "send-test" {
                return Err(UiError::NotFound);
            }
            let (_, result) = state.app.send_test(&ctx.member, id, &aims_app::notify::public_url()).await?;
            Ok(Acted::Done { done: if result == "sent" { "test-sent" } else { "test-failed" }, anchor: "send-test" })
        })
    }

    fn notice(&self, done: &str) -> Option<Notice> {
        match done {
            "test-sent" => Some(Notice::Done("Test message sent.".into())),
            "test-failed" => Some(Notice::Done("The test message could not be sent: see why below.".into())),
            _ => None,
        }
    }
}
