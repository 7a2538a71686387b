//! Policies (5.2, A.2): the life of an edition — draft, in review, approved, published,
//! retired — with an approver who did not write it, acknowledgements of published revisions,
//! and readable differences between revisions.

use aims_domain::clock;
use aims_domain::kinds;
use aims_domain::policy::{Action, Involvement};
use aims_domain::textdiff::{self, DiffLine};
use aims_store::model::{Member, Record};
use serde_json::{Map, Value, json};

use crate::access::{require, require_separation};
use crate::rules::Draft;
use crate::transitions::{Outcome, check_body, text};
use crate::{App, AppError, AppResult};

pub const TRANSITIONS: &[&str] = &["submit", "approve", "reject", "publish", "retire", "acknowledge"];

/// The fields that say who did what to the current edition, cleared when a new one starts.
const EDITION_FIELDS: &[&str] = &["submitted_by", "approved_by", "approved_at"];

fn in_state(current: &Record, wanted: &str, verb: &str) -> AppResult<()> {
    match current.state.as_deref() {
        Some(state) if state == wanted => Ok(()),
        other => Err(AppError::Conflict(format!(
            "only a policy that is {} can be {verb}; this one is {}",
            wanted.replace('_', " "),
            other.unwrap_or("in no state").replace('_', " ")
        ))),
    }
}

fn edition_authors(current: &Record) -> Vec<String> {
    current
        .data
        .get("edition_authors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn moved(current: &Record, state: &str, document: Map<String, Value>, action: &'static str) -> Outcome {
    Outcome::new(Draft { reference: current.reference.clone(), state: Some(state.into()), document }, action)
}

/// Keeps what was said at a step of the workflow (a submission comment, the reason for sending
/// back), so the page and the auditor can read why, not only that.
fn note_step(document: &mut Map<String, Value>, member: &Member, action: &str, body: &Value) {
    let Some(note) = text(body, "comment").or_else(|| text(body, "reason")) else { return };
    let mut notes = document.get("workflow_notes").and_then(Value::as_array).cloned().unwrap_or_default();
    notes.push(json!({"action": action, "by": member.user_id, "at": clock::now_text(), "note": note}));
    document.insert("workflow_notes".into(), Value::Array(notes));
}

pub fn transition(member: &Member, name: &str, current: &Record, body: &Value) -> AppResult<Outcome> {
    let mut document = current.data.clone();
    note_step(&mut document, member, name, body);
    let now = json!(clock::now_text());
    match name {
        "submit" => {
            check_body(body, &["comment"])?;
            require(member, Action::Edit)?;
            in_state(current, "draft", "submitted for review")?;
            document.insert("submitted_by".into(), json!(member.user_id));
            Ok(moved(current, "in_review", document, "submit"))
        }
        "approve" => {
            check_body(body, &["comment"])?;
            require(member, Action::Approve)?;
            in_state(current, "in_review", "approved")?;
            let authors = edition_authors(current);
            let involved: Vec<(Involvement, Option<&str>)> = authors.iter().map(|a| (Involvement::Author, Some(a.as_str()))).collect();
            require_separation(member, &involved)?;
            document.insert("approved_by".into(), json!(member.user_id));
            document.insert("approved_at".into(), now);
            Ok(moved(current, "approved", document, "approve"))
        }
        "reject" => {
            check_body(body, &["reason"])?;
            require(member, Action::Approve)?;
            in_state(current, "in_review", "sent back")?;
            text(body, "reason").ok_or_else(|| aims_domain::ValidationErrors::single("reason", "required", "say what must change"))?;
            document.insert("submitted_by".into(), Value::Null);
            Ok(moved(current, "draft", document, "reject"))
        }
        "publish" => {
            check_body(body, &[])?;
            require(member, Action::Approve)?;
            in_state(current, "approved", "published")?;
            let revision = current.data.get("published_revision").and_then(Value::as_i64).unwrap_or(0) + 1;
            document.insert("published_by".into(), json!(member.user_id));
            document.insert("published_at".into(), now);
            document.insert("published_revision".into(), json!(revision));
            Ok(Outcome { freeze: true, ..moved(current, "published", document, "publish") })
        }
        "retire" => {
            check_body(body, &["reason"])?;
            require(member, Action::Approve)?;
            in_state(current, "published", "retired")?;
            document.insert("retired_at".into(), now);
            Ok(moved(current, "retired", document, "retire"))
        }
        "acknowledge" => {
            check_body(body, &[])?;
            require(member, Action::Acknowledge)?;
            // The revision in force stays acknowledgeable while its next edition is drafted.
            let revision = current.data.get("published_revision").and_then(Value::as_i64);
            let Some(revision) = revision.filter(|_| current.state.as_deref() != Some("retired")) else {
                return Err(AppError::Conflict("only a policy with a published revision in force can be acknowledged".into()));
            };
            let mut acknowledgements = current.data.get("acknowledgements").and_then(Value::as_array).cloned().unwrap_or_default();
            let already = acknowledgements.iter().any(|a| a["user_id"] == json!(member.user_id) && a["revision"] == json!(revision));
            if already {
                return Err(AppError::Conflict(format!("you have already acknowledged revision {revision}")));
            }
            acknowledgements.push(json!({"user_id": member.user_id, "email": member.email, "revision": revision, "at": now}));
            document.insert("acknowledgements".into(), Value::Array(acknowledgements));
            let state = current.state.clone().unwrap_or_else(|| "published".into());
            Ok(moved(current, &state, document, "acknowledge"))
        }
        _ => Err(AppError::NotFound(format!("transition {name} of policies"))),
    }
}

/// A new policy: its creator writes the first edition; nobody has acknowledged it yet.
pub fn prepare_new(member: &Member, document: &mut Map<String, Value>) {
    document.insert("edition_authors".into(), json!([member.user_id]));
    for field in EDITION_FIELDS.iter().chain(&["published_by", "published_at", "published_revision", "retired_at"]) {
        document.insert((*field).into(), Value::Null);
    }
    document.insert("acknowledgements".into(), json!([]));
    document.insert("workflow_notes".into(), json!([]));
}

/// A change to a policy's text or fields: a retired policy stays as it was; a change after
/// submission voids the review or approval and goes back to draft; a change to a published
/// policy starts its next edition (the published revision stays readable). Whoever changes an
/// edition is one of its authors and may not approve it.
pub fn prepare_change(member: &Member, current: &Record, draft: &mut Draft) -> AppResult<()> {
    let state = current.state.as_deref().unwrap_or("draft");
    if state == "retired" {
        return Err(AppError::Conflict("a retired policy cannot be changed; create a new policy".into()));
    }
    let mut authors = if state == "published" { Vec::new() } else { edition_authors(current) };
    if !authors.contains(&member.user_id) {
        authors.push(member.user_id.clone());
    }
    draft.document.insert("edition_authors".into(), json!(authors));
    if state != "draft" {
        draft.state = Some("draft".into());
        for field in EDITION_FIELDS {
            draft.document.insert((*field).into(), Value::Null);
        }
    }
    Ok(())
}

/// Which fields of a policy a diff compares besides its text.
const COMPARED: &[&str] = &["title", "topic", "summary", "owner_id", "next_review_on", "control_refs", "requirement_refs"];

impl App {
    /// The differences between two revisions of a policy (`to` absent: the current edition).
    pub async fn policy_diff(&self, member: &Member, segment: &str, from: i64, to: Option<i64>) -> AppResult<Value> {
        let spec = &kinds::POLICY;
        let record = self.get_record(member, spec, segment).await?;
        let old = self.revision(member, spec, &record.id, from).await?;
        let (new_label, new_data) = match to {
            Some(n) => (json!(n), self.revision(member, spec, &record.id, n).await?.data),
            None => (Value::String("current".into()), record.data.clone()),
        };
        let field_changes: Vec<Value> = COMPARED
            .iter()
            .filter(|f| old.data.get(**f) != new_data.get(**f))
            .map(|f| json!({"field": f, "from": old.data.get(*f), "to": new_data.get(*f)}))
            .collect();
        let body = |d: &Map<String, Value>| d.get("body").and_then(Value::as_str).unwrap_or_default().to_owned();
        let lines: Vec<DiffLine> = textdiff::lines(&body(&old.data), &body(&new_data));
        Ok(json!({"from": from, "to": new_label, "fields": field_changes, "body": lines}))
    }
}
