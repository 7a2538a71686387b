//! The activity log: every change, in chain order, filterable, paged with the API's opaque
//! cursor, with the chain head hash for auditors and a link to the CSV export of the API.

use std::collections::HashMap;

use aims_domain::kinds::{self, CONTROL, REQUIREMENT};
use aims_domain::validate::FieldType;
use aims_domain::{clock, cursor};
use aims_store::activity::ActivityFilter;
use aims_store::model::ActivityEvent;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::UiState;
use crate::catalogue;
use crate::error::UiError;
use crate::layout::{OrgCtx, Section, Shell};
use crate::text::{encode_query_value, humanize, truncate};

const PAGE_SIZE: u32 = 50;

/// Record types the services write to the log; offered in the filter. (The store has no
/// "distinct types" query, so this list names what the product writes today.)
const RECORD_TYPES: &[&str] = &[
    "organization",
    "framework",
    "user",
    "membership",
    "requirement",
    "control",
    "api_token",
    "scope",
    "ai_system",
    "resource",
    "dataset",
    "gate",
    "lifecycle_record",
    "risk_criteria",
    "risk",
    "impact_assessment",
];

#[derive(Deserialize, Default)]
pub(crate) struct ActivityQuery {
    #[serde(default)]
    record_type: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

struct Change {
    field: String,
    from: Option<String>,
    to: String,
}

struct EventRow {
    seq: i64,
    date: String,
    time: String,
    actor: String,
    action: String,
    record_type: String,
    record_id: String,
    /// "A.6.2.4 AI system verification and validation" and its page, for catalogue rows.
    record: Option<(String, String)>,
    changes: Vec<Change>,
    hash: String,
}

/// What a record id stands for on this page: its reference and title, and where it lives.
type RecordLinks = HashMap<String, (String, String)>;

async fn record_links(state: &UiState, ctx: &OrgCtx) -> Result<RecordLinks, UiError> {
    let mut links = HashMap::new();
    for (spec, collection) in [(&REQUIREMENT, "requirements"), (&CONTROL, "controls")] {
        for record in catalogue::all(&state.app, &ctx.member, spec).await? {
            let reference = catalogue::reference(&record);
            let label = format!("{reference} {}", catalogue::field(&record, "title"));
            links.insert(record.id.clone(), (label, format!("/orgs/{}/{collection}/{reference}", ctx.slug())));
        }
    }
    // Records with pages of their own, by name.
    for spec in [&kinds::AI_SYSTEM, &kinds::RISK, &kinds::IMPACT_ASSESSMENT] {
        let page = state.app.list_records(&ctx.member, spec, true, 0, 200).await?;
        for record in page.items {
            let href = format!("/orgs/{}/{}/{}", ctx.slug(), spec.collection, record.id);
            links.insert(record.id.clone(), (crate::recform::record_label(&record), href));
        }
    }
    Ok(links)
}

#[derive(Template, WebTemplate)]
#[template(path = "activity.html")]
struct ActivityPage {
    shell: Shell,
    query: ActivityQuery,
    record_types: Vec<(String, String, bool)>,
    actors: Vec<String>,
    problems: Vec<String>,
    events: Vec<EventRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    latest_href: Option<String>,
    head_seq: i64,
    head_hash: String,
    csv_href: String,
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<ActivityQuery>) -> Result<Response, UiError> {
    let mut problems = Vec::new();
    let filter = filter_of(&query, &mut problems);
    let after = match query.cursor.trim() {
        "" => 0,
        text => cursor::decode(text).unwrap_or_else(|| {
            problems.push("That page link is not valid any more; showing the first page.".into());
            0
        }),
    };
    let page = state.app.list_activity(&ctx.member, &filter, after, Some(PAGE_SIZE)).await?;
    let (members, names) = ctx.member_names(&state).await?;
    let (head_seq, head_hash) = state.app.log_head(ctx.slug()).await?;
    let base = format!("/orgs/{}/activity", ctx.slug());
    let filters = filter_query(&query);
    let next_href = page.next_after.map(|seq| format!("{base}?{filters}cursor={}", encode_query_value(&cursor::encode(seq))));
    let first_href = (after > 0).then(|| format!("{base}?{filters}"));
    let latest_href = latest_page(&filters, head_seq, after, page.next_after.is_some())
        .map(|seq| format!("{base}?cursor={}", encode_query_value(&cursor::encode(seq))));
    let csv_href = format!("/api/v1/orgs/{}/activity?format=csv{}", ctx.slug(), api_filter_query(&filter));
    let record_types = RECORD_TYPES.iter().map(|t| ((*t).to_owned(), type_label(t), query.record_type == *t)).collect();
    let mut actors: Vec<String> = members.into_iter().map(|m| m.email).collect();
    actors.extend(["system:setup".to_owned(), "system:demo".to_owned()]);
    let links = record_links(&state, &ctx).await?;
    let events = page.items.iter().map(|e| event_row(e, &names, &links)).collect();
    Ok(ActivityPage {
        shell: ctx.shell(Section::Activity),
        query,
        record_types,
        actors,
        problems,
        events,
        next_href,
        first_href,
        latest_href,
        head_seq,
        head_hash,
        csv_href,
    }
    .into_response())
}

/// Where the page of the newest events starts, when it is not this page. Only without filters:
/// an organisation's chain is numbered 1, 2, 3 … without gaps, so the newest page starts
/// `PAGE_SIZE` before the head; with filters the matching events are not contiguous.
fn latest_page(filters: &str, head_seq: i64, after: i64, more: bool) -> Option<i64> {
    let start = (head_seq - i64::from(PAGE_SIZE)).max(0);
    (filters.is_empty() && more && start > after).then_some(start)
}

/// The store filter of the form; a day's "until" includes that whole day.
fn filter_of(query: &ActivityQuery, problems: &mut Vec<String>) -> ActivityFilter {
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut day = |label: &str, text: &str, days_after: i64| {
        let text = non_empty(text)?;
        match clock::parse_date(&text) {
            Some(date) => Some(clock::format((date + time::Duration::days(days_after)).midnight().assume_utc())),
            None => {
                problems.push(format!("{label}: use a date as YYYY-MM-DD."));
                None
            }
        }
    };
    let since = day("Since", &query.since, 0);
    let until = day("Until", &query.until, 1);
    ActivityFilter { record_type: non_empty(&query.record_type), record_id: None, actor: non_empty(&query.actor), since, until }
}

/// The form's filters as a query prefix (`a=b&…&`) for page links.
fn filter_query(query: &ActivityQuery) -> String {
    [("record_type", &query.record_type), ("actor", &query.actor), ("since", &query.since), ("until", &query.until)]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}&", encode_query_value(v.trim())))
        .collect()
}

/// The same filters in the API's terms (timestamps), for the CSV link.
fn api_filter_query(filter: &ActivityFilter) -> String {
    [("record_type", &filter.record_type), ("actor", &filter.actor), ("since", &filter.since), ("until", &filter.until)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("&{k}={}", encode_query_value(v))))
        .collect()
}

/// A record type for people: the kind's own label ("AI system") where there is one.
fn type_label(record_type: &str) -> String {
    kinds::by_kind(record_type).map_or_else(|| humanize(record_type), |k| k.label.to_owned())
}

fn event_row(event: &ActivityEvent, names: &HashMap<String, String>, links: &RecordLinks) -> EventRow {
    EventRow {
        seq: event.seq,
        date: crate::text::date(&event.at),
        time: crate::text::time_of_day(&event.at),
        actor: event.actor.clone(),
        action: humanize(&event.action),
        record_type: type_label(&event.record_type),
        record_id: event.record_id.clone(),
        record: links.get(&event.record_id).cloned(),
        changes: changes(&event.record_type, &event.changes, names),
        hash: event.hash.clone(),
    }
}

/// `{field: {from, to}}` (an update) or `{field: value}` (a creation) as readable lines,
/// labelled and valued as the record kind's field specs say (so "Owner", not "owner_id").
fn changes(record_type: &str, value: &Value, names: &HashMap<String, String>) -> Vec<Change> {
    let Value::Object(map) = value else {
        return vec![Change { field: String::new(), from: None, to: show(value, names, false) }];
    };
    let spec = kinds::by_kind(record_type);
    map.iter()
        .map(|(key, v)| {
            let field = spec.and_then(|s| s.field(key));
            let label = field.map_or_else(|| humanize(key), |f| f.label.to_owned());
            let choice = field.is_some_and(|f| matches!(f.ty, FieldType::Choice(_)));
            match v {
                Value::Object(pair) if pair.len() == 2 && pair.contains_key("from") && pair.contains_key("to") => Change {
                    field: label,
                    from: pair.get("from").map(|f| show(f, names, choice)),
                    to: pair.get("to").map(|t| show(t, names, choice)).unwrap_or_default(),
                },
                other => Change { field: label, from: None, to: show(other, names, choice) },
            }
        })
        .collect()
}

/// One value for people: member ids become names, codes of choice fields become words, long
/// text is shortened.
fn show(value: &Value, names: &HashMap<String, String>, choice: bool) -> String {
    match value {
        Value::Null => "—".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::String(s) if choice => humanize(s),
        Value::String(s) => names.get(s).cloned().unwrap_or_else(|| truncate(s, 90)),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => truncate(&items.iter().map(|i| show(i, names, false)).collect::<Vec<_>>().join(", "), 90),
        other => truncate(&other.to_string(), 90),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_read_well() {
        let names = HashMap::from([("u1".to_owned(), "Elena Rossi".to_owned())]);
        let update = json!({"status": {"from": "missing", "to": "in_place"}, "owner_id": {"from": null, "to": "u1"}});
        let rows = changes("requirement", &update, &names);
        let owner = rows.iter().find(|c| c.field == "Owner").map(|c| (c.from.clone(), c.to.clone()));
        assert_eq!(owner, Some((Some("—".into()), "Elena Rossi".into())));
        let status = rows.iter().find(|c| c.field == "Status").map(|c| c.to.clone());
        assert_eq!(status.as_deref(), Some("In place"));
        let created = changes("organization", &json!({"slug": "demo", "applicable": false}), &names);
        assert!(created.iter().any(|c| c.to == "no" && c.from.is_none()));
    }

    #[test]
    fn latest_page_is_offered_only_when_it_helps() {
        assert_eq!(latest_page("", 120, 0, true), Some(70));
        assert_eq!(latest_page("", 120, 70, false), None);
        assert_eq!(latest_page("record_type=control&", 120, 0, true), None);
        assert_eq!(latest_page("", 40, 0, false), None);
    }

    #[test]
    fn until_includes_the_whole_day() {
        let mut problems = Vec::new();
        let q = ActivityQuery { until: "2025-03-01".into(), since: "bad".into(), ..ActivityQuery::default() };
        let filter = filter_of(&q, &mut problems);
        assert_eq!(filter.until.as_deref(), Some("2025-03-02T00:00:00.000000Z"));
        assert_eq!(filter.since, None);
        assert_eq!(problems.len(), 1);
    }
}
