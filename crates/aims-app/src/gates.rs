//! What a lifecycle gate's transitions do besides moving its state: a decision names who took
//! it, when and why, and an approval keeps a snapshot of the AI system and moves it on. An
//! approval needs the system still in the stage the gate started from and the lifecycle
//! records the organisation's gate requirements name.

use aims_domain::clock;
use aims_domain::kinds::lifecycle;
use aims_domain::workflow::TransitionSpec;
use aims_store::WriteTx;
use aims_store::model::{Member, Record};
use aims_store::records;
use serde_json::{Map, Value, json};

use crate::transitions::{Applied, Change, Effects, Fut, gate_system, move_system, text};
use crate::{AppError, AppResult};

pub(crate) struct GateEffects;

impl Effects for GateEffects {
    fn prerequisites<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, t: &'static TransitionSpec, gate: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            if t.name != "approve" {
                return Ok(());
            }
            let system = gate_system(tx, member, gate).await?;
            if system.data.get("lifecycle_stage") != gate.data.get("from_stage") {
                return Err(AppError::Conflict("the AI system has moved to another stage since this gate was requested".into()));
            }
            let missing = missing_records(tx, member, gate, &system.id).await?;
            if !missing.is_empty() {
                // Named as people read them ("Deployment plan"), not by their codes.
                let labels: Vec<String> = missing.iter().map(|code| lifecycle::record_type_label(code)).collect();
                return Err(AppError::Conflict(format!(
                    "the gate requires lifecycle records that the system does not have yet: {}",
                    labels.join(", ")
                )));
            }
            Ok(())
        })
    }

    fn apply<'a>(&'a self, tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            c.document.insert("decided_by".into(), json!(c.member.user_id));
            c.document.insert("decided_at".into(), json!(clock::now_text()));
            c.document.insert("decision_reason".into(), text(c.body, "reason").map_or(Value::Null, Value::String));
            if c.transition.name != "cancel" {
                let system = gate_system(tx, c.member, c.current).await?;
                c.document.insert("system_snapshot".into(), Value::Object(snapshot(&system)));
            }
            Ok(Applied::default())
        })
    }

    fn after<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, t: &'static TransitionSpec, gate: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move { if t.name == "approve" { move_system(tx, member, gate).await } else { Ok(()) } })
    }
}

/// The state of the AI system at the moment of the decision.
fn snapshot(system: &Record) -> Map<String, Value> {
    let mut snapshot = system.data.clone();
    snapshot.insert("id".into(), json!(system.id));
    snapshot.insert("version".into(), json!(system.version));
    snapshot
}

/// The record types the gate's target stage requires that the system has no record of.
pub(crate) async fn missing_records(tx: &mut WriteTx, member: &Member, gate: &Record, system_id: &str) -> AppResult<Vec<String>> {
    let to_stage = gate.data.get("to_stage").and_then(Value::as_str).unwrap_or_default();
    let requirements = records::all_for_update(tx, &member.org_id, "gate_requirement").await?;
    let required: Vec<String> = requirements
        .iter()
        .filter(|r| r.data.get("to_stage").and_then(Value::as_str) == Some(to_stage))
        .flat_map(|r| r.data.get("required_record_types").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if required.is_empty() {
        return Ok(Vec::new());
    }
    let present: Vec<String> = records::linked_for_update(tx, &member.org_id, "lifecycle_record", "ai_system_id", system_id)
        .await?
        .iter()
        .filter_map(|r| r.data.get("record_type").and_then(Value::as_str).map(str::to_owned))
        .collect();
    Ok(required.into_iter().filter(|r| !present.contains(r)).collect())
}
