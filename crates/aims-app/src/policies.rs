//! Policies (5.2, A.2): the life of an edition — draft, in review, approved, published,
//! retired — with an approver who did not write it, acknowledgements of published revisions,
//! and readable differences between revisions.

use aims_domain::clock;
use aims_domain::kinds;
use aims_domain::textdiff::{self, DiffLine};
use aims_domain::workflow::TransitionSpec;
use aims_store::WriteTx;
use aims_store::model::{Member, Record};
use serde_json::{Map, Value, json};

use crate::rules::Draft;
use crate::transitions::{Applied, Change, Effects, Fut, text};
use crate::{App, AppError, AppResult};

/// The fields that say who did what to the current edition, cleared when a new one starts.
const EDITION_FIELDS: &[&str] = &["submitted_by", "approved_by", "approved_at"];

/// Keeps what was said at a step of the workflow (a submission comment, the reason for sending
/// back), so the page and the auditor can read why, not only that.
fn note_step(document: &mut Map<String, Value>, member: &Member, action: &str, body: &Value) {
    let Some(note) = text(body, "comment").or_else(|| text(body, "reason")) else { return };
    let mut notes = document.get("workflow_notes").and_then(Value::as_array).cloned().unwrap_or_default();
    notes.push(json!({"action": action, "by": member.user_id, "at": clock::now_text(), "note": note}));
    document.insert("workflow_notes".into(), Value::Array(notes));
}

/// Who wrote the current edition (shown on the page; separation of duties reads the history).
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

/// The revision of a policy that is in force: it stays acknowledgeable while its next edition
/// is drafted.
fn revision_in_force(current: &Record) -> Option<i64> {
    current.data.get("published_revision").and_then(Value::as_i64).filter(|_| current.state.as_deref() != Some("retired"))
}

/// What each step of a policy's workflow records on it.
pub(crate) struct PolicyEffects;

impl Effects for PolicyEffects {
    fn prerequisites<'a>(
        &'a self,
        _tx: &'a mut WriteTx,
        member: &'a Member,
        t: &'static TransitionSpec,
        current: &'a Record,
    ) -> Fut<'a, ()> {
        Box::pin(async move {
            if t.name != "acknowledge" {
                return Ok(());
            }
            let Some(revision) = revision_in_force(current) else {
                return Err(AppError::Conflict("only a policy with a published revision in force can be acknowledged".into()));
            };
            let acknowledgements = current.data.get("acknowledgements").and_then(Value::as_array).cloned().unwrap_or_default();
            if acknowledgements.iter().any(|a| a["user_id"] == json!(member.user_id) && a["revision"] == json!(revision)) {
                return Err(AppError::Conflict(format!("you have already acknowledged revision {revision}")));
            }
            Ok(())
        })
    }

    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            let (member, current, document) = (c.member, c.current, c.document);
            note_step(document, member, c.transition.name, c.body);
            let now = json!(clock::now_text());
            let mut applied = Applied::default();
            match c.transition.name {
                "submit" => {
                    document.insert("submitted_by".into(), json!(member.user_id));
                }
                "approve" => {
                    document.insert("approved_by".into(), json!(member.user_id));
                    document.insert("approved_at".into(), now);
                }
                "reject" => {
                    document.insert("submitted_by".into(), Value::Null);
                }
                "publish" => {
                    let revision = current.data.get("published_revision").and_then(Value::as_i64).unwrap_or(0) + 1;
                    document.insert("published_by".into(), json!(member.user_id));
                    document.insert("published_at".into(), now);
                    document.insert("published_revision".into(), json!(revision));
                    applied.freeze = true;
                }
                "retire" => {
                    document.insert("retired_at".into(), now);
                }
                "acknowledge" => {
                    let revision = revision_in_force(current);
                    let mut acknowledgements = current.data.get("acknowledgements").and_then(Value::as_array).cloned().unwrap_or_default();
                    acknowledgements.push(json!({"user_id": member.user_id, "email": member.email, "revision": revision, "at": now}));
                    document.insert("acknowledgements".into(), Value::Array(acknowledgements));
                }
                _ => {}
            }
            Ok(applied)
        })
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
