//! The Statement of Applicability as a whole: approving it freezes a revision holding every
//! entry (applicability, justification, status, owner, the risks that selected each control and
//! its evidence) exactly as it stood, however the entries change afterwards.

use std::collections::HashMap;

use aims_domain::clock;
use aims_store::WriteTx;
use aims_store::model::Record;
use aims_store::records;
use serde_json::{Map, Value, json};

use crate::transitions::{Applied, Change, Effects, Fut, text};

/// The fields of each control the approved revision keeps.
const ENTRY_FIELDS: &[&str] =
    &["title", "group", "group_title", "source", "applicable", "justification", "implementation_status", "owner_id", "last_reviewed_on"];

pub(crate) struct SoaEffects;

impl Effects for SoaEffects {
    fn apply<'a>(&'a self, tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            let org_id = &c.member.org_id;
            let controls = records::all_for_update(tx, org_id, "control").await?;
            let mut selected_by: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
            for (control_id, from_id, from_kind) in records::incoming_links_for_update(tx, org_id, "control_refs").await? {
                let (risks, evidence) = selected_by.entry(control_id).or_default();
                match from_kind.as_str() {
                    "risk" => risks.push(from_id),
                    "evidence" => evidence.push(from_id),
                    _ => {}
                }
            }
            let entries: Vec<Value> = controls.iter().map(|control| entry(control, selected_by.get(&control.id))).collect();
            let revision = c.current.data.get("approved_revision").and_then(Value::as_i64).unwrap_or(0) + 1;
            let document = c.document;
            document.insert("approved_by".into(), json!(c.member.user_id));
            document.insert("approved_at".into(), json!(clock::now_text()));
            document.insert("approved_revision".into(), json!(revision));
            document.insert("approval_comment".into(), text(c.body, "comment").map_or(Value::Null, Value::String));
            let mut frozen = document.clone();
            let applicable = entries.iter().filter(|e| e["applicable"] == json!(true)).count();
            frozen.insert(
                "summary".into(),
                json!({"controls": entries.len(), "applicable": applicable, "excluded": entries.len() - applicable}),
            );
            frozen.insert("entries".into(), Value::Array(entries));
            Ok(Applied { freeze: true, frozen: Some(frozen) })
        })
    }
}

fn entry(control: &Record, links: Option<&(Vec<String>, Vec<String>)>) -> Value {
    let mut entry = Map::new();
    entry.insert("ref".into(), json!(control.reference));
    entry.insert("id".into(), json!(control.id));
    entry.insert("version".into(), json!(control.version));
    for field in ENTRY_FIELDS {
        entry.insert((*field).into(), control.data.get(*field).cloned().unwrap_or(Value::Null));
    }
    let (risks, evidence) = links.cloned().unwrap_or_default();
    entry.insert("risk_ids".into(), json!(risks));
    entry.insert("evidence_ids".into(), json!(evidence));
    Value::Object(entry)
}
