//! The activity log as an audit trail: newest first (chain order on request), every record
//! named and linked, labels and formatted values instead of codes and JSON, a filter offering
//! exactly the record types the log holds, paged with the API's opaque cursor, with the chain
//! head hash for auditors and a link to the CSV export of the API.

use std::collections::{HashMap, HashSet};

use aims_domain::kinds;
use aims_domain::validate::{FieldType, KindSpec};
use aims_domain::{clock, cursor};
use aims_store::activity::{ActivityFilter, Order};
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
    /// "" (newest first) or "chain" (oldest first, the order the chain is verified in).
    #[serde(default)]
    order: String,
    #[serde(default)]
    cursor: String,
}

impl ActivityQuery {
    fn order(&self) -> Order {
        if self.order == "chain" { Order::Chain } else { Order::Newest }
    }
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
    actor_name: Option<String>,
    actor: String,
    action: String,
    record_type: String,
    record_id: String,
    /// The record's name and, where it has a page, its address.
    record: Option<(String, Option<String>)>,
    changes: Vec<Change>,
    hash: String,
}

/// What the ids on this page stand for: records and people by id, people by e-mail.
#[derive(Default)]
struct Names {
    records: HashMap<String, (String, Option<String>)>,
    people: HashMap<String, String>,
}

impl Names {
    fn person(&self, key: &str) -> Option<&String> {
        self.people.get(key)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "activity.html")]
struct ActivityPage {
    shell: Shell,
    query: ActivityQuery,
    newest: bool,
    record_types: Vec<(String, String, bool)>,
    actors: Vec<String>,
    problems: Vec<String>,
    events: Vec<EventRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    order_href: String,
    head_seq: i64,
    head_hash: String,
    csv_href: String,
    /// The signed JSON export's link; `None` when the server has no key to sign with.
    signed_href: Option<String>,
}

pub(crate) async fn page(State(state): State<UiState>, ctx: OrgCtx, Query(query): Query<ActivityQuery>) -> Result<Response, UiError> {
    let mut problems = Vec::new();
    let filter = filter_of(&query, &mut problems);
    let at = match query.cursor.trim() {
        "" => 0,
        text => cursor::decode(text).unwrap_or_else(|| {
            problems.push("That page link is not valid any more; showing the first page.".into());
            0
        }),
    };
    let order = query.order();
    let page = state.app.list_activity_ordered(&ctx.member, &filter, order, at, Some(PAGE_SIZE)).await?;
    let (head_seq, head_hash) = state.app.log_head(ctx.slug()).await?;
    let base = format!("/orgs/{}/activity", ctx.slug());
    let filters = filter_query(&query);
    let order_part = if order == Order::Chain { "order=chain&" } else { "" };
    let next_href = page.next_after.map(|seq| format!("{base}?{filters}{order_part}cursor={}", encode_query_value(&cursor::encode(seq))));
    let first_href = (at > 0).then(|| format!("{base}?{filters}{order_part}"));
    let order_href = format!("{base}?{filters}{}", if order == Order::Chain { "" } else { "order=chain" });
    let csv_href = format!("/api/v1/orgs/{}/activity?format=csv{}", ctx.slug(), api_filter_query(&filter));
    let record_types = record_type_options(state.app.activity_record_types(&ctx.member).await?, &query.record_type);
    let names = names_for(&state, &ctx, &page.items).await?;
    let mut actors: Vec<String> = state.app.members(&ctx.member).await?.into_iter().map(|m| m.email).collect();
    actors.extend(["system:setup".to_owned(), "system:demo".to_owned()]);
    let events = page.items.iter().map(|e| event_row(e, &names)).collect();
    Ok(ActivityPage {
        shell: ctx.shell(Section::Activity),
        newest: order == Order::Newest,
        query,
        record_types,
        actors,
        problems,
        events,
        next_href,
        first_href,
        order_href,
        head_seq,
        head_hash,
        csv_href,
        signed_href: aims_app::trust::signing_available().then(|| format!("/orgs/{}/activity/signed-export", ctx.slug())),
    }
    .into_response())
}

/// The signed JSON export of the whole log, streamed a page of events at a time.
pub(crate) async fn signed_export(State(state): State<UiState>, ctx: OrgCtx) -> Result<Response, UiError> {
    // A server without a sealing key has nothing to sign with and offers no such download.
    if !aims_app::trust::signing_available() {
        return Err(UiError::NotFound);
    }
    let export = state.app.export_activity(&ctx.member, aims_app::activity_export::ExportRange::default()).await?;
    let disposition = format!("attachment; filename=\"{}\"", export.file_name());
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json".to_owned()), (axum::http::header::CONTENT_DISPOSITION, disposition)],
        axum::body::Body::from_stream(export.into_stream()),
    )
        .into_response())
}

/// The filter's choices: every record type the log holds, by label (and the chosen one, even
/// if the log holds none of it, so the form shows what is applied).
fn record_type_options(mut present: Vec<String>, chosen: &str) -> Vec<(String, String, bool)> {
    if !chosen.is_empty() && !present.iter().any(|t| t == chosen) {
        present.push(chosen.to_owned());
    }
    let mut options: Vec<_> = present.into_iter().map(|t| (type_label(&t), t)).collect();
    options.sort();
    options.into_iter().map(|(label, value)| (value.clone(), label, value == chosen)).collect()
}

/// The kind of a record type, when it is a record (organisations, users, memberships and
/// tokens are logged too, but are not records).
fn record_kind(record_type: &str) -> Option<&'static KindSpec> {
    kinds::by_kind(record_type)
}

/// Names every record and person the page's events mention: the events' own records, records
/// their link fields point to, and people (members now, or former members) by id or e-mail.
async fn names_for(state: &UiState, ctx: &OrgCtx, events: &[ActivityEvent]) -> Result<Names, UiError> {
    let mut names = Names::default();
    for member in state.app.members(&ctx.member).await? {
        names.people.insert(member.email.clone(), member.display_name.clone());
        names.people.insert(member.user_id, member.display_name);
    }
    let mut wanted: Vec<(Option<&'static KindSpec>, String)> = Vec::new();
    let mut people: HashSet<String> = HashSet::new();
    for event in events {
        let spec = record_kind(&event.record_type);
        match event.record_type.as_str() {
            "user" => {
                people.insert(event.record_id.clone());
            }
            _ if spec.is_some() => wanted.push((spec, event.record_id.clone())),
            _ => {}
        }
        if event.actor.contains('@') {
            people.insert(event.actor.clone());
        }
        for (field, value) in event.changes.as_object().into_iter().flatten() {
            let Some(f) = spec.and_then(|s| s.field(field)) else { continue };
            let values = [value.get("from"), value.get("to"), Some(value)].into_iter().flatten().flat_map(strings);
            match f.ty {
                FieldType::UserId => people.extend(values),
                FieldType::Ids { kind } | FieldType::Link { kind } => {
                    wanted.extend(values.map(|id| (kinds::by_kind(kind), id)));
                }
                _ => {}
            }
        }
    }
    for (spec, id) in wanted {
        if names.records.contains_key(&id) {
            continue;
        }
        if let Some(spec) = spec
            && let Some(named) = record_name(state, ctx, spec, &id).await?
        {
            names.records.insert(id, named);
        }
    }
    let unknown: Vec<String> = people.into_iter().filter(|k| !names.people.contains_key(k)).collect();
    if !unknown.is_empty() {
        for (key, name) in state.app.people_named_in_log(&ctx.member, &unknown).await? {
            names.people.insert(key, format!("{name} (former member)"));
        }
    }
    Ok(names)
}

/// Every string in a value (a single id, or a list of them).
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// A record's name and page, or None when it no longer exists (or never was of that kind).
async fn record_name(state: &UiState, ctx: &OrgCtx, spec: &KindSpec, id: &str) -> Result<Option<(String, Option<String>)>, UiError> {
    let record = match state.app.get_record_by_id(&ctx.member, spec, id).await {
        Ok(record) => record,
        Err(aims_app::AppError::NotFound(_)) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    let slug = ctx.slug();
    if spec.kind == kinds::REQUIREMENT.kind || spec.kind == kinds::CONTROL.kind {
        let reference = catalogue::reference(&record);
        let label = format!("{reference} {}", catalogue::field(&record, "title"));
        return Ok(Some((label, Some(format!("/orgs/{slug}/{}/{reference}", spec.collection)))));
    }
    if spec.kind == kinds::SOA.kind {
        return Ok(Some((spec.label.to_owned(), Some(format!("/orgs/{slug}/controls")))));
    }
    if spec.singleton {
        return Ok(Some((spec.label.to_owned(), None)));
    }
    // Child records have no page of their own under their collection.
    let href = (spec.parent.is_none() && !spec.collection.is_empty()).then(|| format!("/orgs/{slug}/{}/{}", spec.collection, record.id));
    Ok(Some((crate::recform::record_label(&record), href)))
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
    match record_type {
        "organization" => "Organisation".into(),
        "api_token" => "API token".into(),
        other => kinds::by_kind(other).map_or_else(|| humanize(other), |k| k.label.to_owned()),
    }
}

/// A logged action as a past-tense verb ("created", "state changed").
fn action_label(action: &str) -> String {
    match action {
        "create" => "Created".into(),
        "update" => "Updated".into(),
        "archive" => "Archived".into(),
        "delete" => "Deleted".into(),
        other => humanize(other),
    }
}

fn event_row(event: &ActivityEvent, names: &Names) -> EventRow {
    let record = names.records.get(&event.record_id).cloned().or_else(|| match event.record_type.as_str() {
        "user" => names.person(&event.record_id).map(|n| (n.clone(), None)),
        _ => None,
    });
    EventRow {
        seq: event.seq,
        date: crate::text::date(&event.at),
        time: crate::text::time_of_day(&event.at),
        actor_name: names.person(&event.actor).cloned(),
        actor: event.actor.clone(),
        action: action_label(&event.action),
        record_type: type_label(&event.record_type),
        record_id: event.record_id.clone(),
        record,
        changes: changes(&event.record_type, &event.changes, names),
        hash: event.hash.clone(),
    }
}

/// `{field: {from, to}}` (an update) or `{field: value}` (a creation) as readable lines,
/// labelled and valued as the record kind's field specs say (so "Owner", not "owner_id").
fn changes(record_type: &str, value: &Value, names: &Names) -> Vec<Change> {
    let Value::Object(map) = value else {
        return vec![Change { field: String::new(), from: None, to: show(value, names, None) }];
    };
    let spec = record_kind(record_type);
    map.iter()
        .map(|(key, v)| {
            let field = spec.and_then(|s| s.field(key));
            let label = field.map_or_else(|| humanize(key), |f| f.label.to_owned());
            let ty = field.map(|f| &f.ty);
            match v {
                Value::Object(pair) if pair.len() == 2 && pair.contains_key("from") && pair.contains_key("to") => Change {
                    field: label,
                    from: pair.get("from").map(|f| show(f, names, ty)),
                    to: pair.get("to").map(|t| show(t, names, ty)).unwrap_or_default(),
                },
                other => Change { field: label, from: None, to: show(other, names, ty) },
            }
        })
        // A creation lists what was filled in, not every empty field of the kind.
        .filter(|c| c.from.is_some() || !matches!(c.to.as_str(), "—" | "none"))
        .collect()
}

/// One value for people: ids become names, codes of choice fields become words, times read
/// as dates, rows as "field: value" lists, long text is shortened.
fn show(value: &Value, names: &Names, ty: Option<&FieldType>) -> String {
    match value {
        Value::Null => "—".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::String(s) if matches!(ty, Some(FieldType::Choice(_))) || (ty.is_none() && is_code(s)) => humanize(s),
        Value::String(s) => match (names.person(s), names.records.get(s)) {
            (Some(name), _) => name.clone(),
            (None, Some((label, _))) => label.clone(),
            _ if clock::parse_rfc3339(s).is_some() => crate::text::datetime(s),
            _ => truncate(s, 90),
        },
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => truncate(&items.iter().map(|i| show(i, names, ty)).collect::<Vec<_>>().join(", "), 120),
        Value::Object(map) if map.is_empty() => "—".into(),
        Value::Object(map) => {
            let parts: Vec<String> =
                map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| format!("{}: {}", humanize(k), show(v, names, None))).collect();
            truncate(&parts.join("; "), 120)
        }
        Value::Number(n) => n.to_string(),
    }
}

/// Whether a string of a field without a spec is an enum code (`not_started`, `in_place`)
/// rather than a name or free text.
fn is_code(text: &str) -> bool {
    !text.is_empty() && text.len() <= 40 && text.chars().all(|c| c.is_ascii_lowercase() || c == '_') && text.contains('_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_read_well() {
        let names = Names { people: HashMap::from([("u1".to_owned(), "Elena Rossi".to_owned())]), ..Names::default() };
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
    fn values_read_as_words_not_codes() {
        let names = Names::default();
        assert_eq!(show(&json!("2026-01-31T09:15:00.000000Z"), &names, None), "2026-01-31 09:15 UTC");
        assert_eq!(show(&json!({"check": "bias", "passed": true}), &names, None), "Check: bias; Passed: yes");
        assert_eq!(show(&json!("not_started"), &names, None), "Not started");
        assert_eq!(show(&json!("Customer chatbot"), &names, None), "Customer chatbot");
        assert_eq!(show(&json!(""), &names, None), "—");
    }

    #[test]
    fn the_type_filter_offers_what_the_log_holds() {
        let options = record_type_options(vec!["risk".into(), "ai_system".into(), "organization".into()], "gate");
        let labels: Vec<&str> = options.iter().map(|(_, l, _)| l.as_str()).collect();
        assert_eq!(labels, ["AI system", "Lifecycle gate", "Organisation", "Risk"]);
        assert!(options.iter().any(|(v, _, selected)| v == "gate" && *selected));
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
