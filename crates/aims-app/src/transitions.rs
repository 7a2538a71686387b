//! State changes made by `POST …/{id}/{transition}`, never by PATCH: approving or rejecting a
//! lifecycle gate, accepting a residual risk, signing off an impact assessment. Each checks the
//! role and separation of duties through the one policy, and records who decided and why.

use aims_domain::ValidationErrors;
use aims_domain::clock;
use aims_domain::kinds::{self, risk};
use aims_domain::policy::{Action, Involvement};
use aims_domain::validate::KindSpec;
use aims_store::WriteTx;
use aims_store::model::{Member, Record};
use aims_store::records::{self, RecordKey};
use serde_json::{Map, Value, json};

use crate::access::{require, require_separation};
use crate::records::update_logged;
use crate::rules::{self, Draft};
use crate::{AppError, AppResult};

/// The transitions of each kind, for routing and documentation.
pub fn names(spec: &KindSpec) -> &'static [&'static str] {
    match spec.kind {
        "gate" => &["approve", "reject", "cancel"],
        "risk" => &["accept"],
        "impact_assessment" => &["sign-off"],
        "policy" => crate::policies::TRANSITIONS,
        "soa" => &["approve"],
        _ => &[],
    }
}

/// What a transition changes on its record.
pub struct Outcome {
    pub draft: Draft,
    /// The activity log's action for the event.
    pub action: &'static str,
    /// Whether the new edition is frozen as a revision.
    pub freeze: bool,
    /// What the revision holds when it is not the record's own document (the SoA's entries).
    pub frozen: Option<Map<String, Value>>,
}

impl Outcome {
    pub fn new(draft: Draft, action: &'static str) -> Self {
        Self { draft, action, freeze: false, frozen: None }
    }
}

pub(crate) fn text(body: &Value, field: &str) -> Option<String> {
    body.get(field).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// Only the named keys may appear in a transition's body, each a text or null.
pub(crate) fn check_body(body: &Value, allowed: &[&str]) -> AppResult<()> {
    let Some(object) = body.as_object() else {
        return Err(ValidationErrors::single("", "invalid_type", "the body must be a JSON object").into());
    };
    let mut errors = ValidationErrors::default();
    for key in object.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(key.clone(), "unknown_field", format!("this transition takes only: {}", allowed.join(", ")));
    }
    for (key, _) in object.iter().filter(|(k, v)| allowed.contains(&k.as_str()) && !(v.is_string() || v.is_null())) {
        errors.push(key.clone(), "invalid_type", "a text");
    }
    Ok(errors.into_result()?)
}

pub async fn run(tx: &mut WriteTx, member: &Member, spec: &KindSpec, name: &str, current: &Record, body: &Value) -> AppResult<Outcome> {
    match (spec.kind, name) {
        ("gate", "approve") => decide_gate(tx, member, current, body, true).await,
        ("gate", "reject") => decide_gate(tx, member, current, body, false).await,
        ("gate", "cancel") => cancel_gate(member, current, body),
        ("risk", "accept") => accept_risk(tx, member, current, body).await,
        ("impact_assessment", "sign-off") => sign_off(member, current, body),
        ("policy", _) => crate::policies::transition(member, name, current, body),
        ("soa", "approve") => crate::soa::approve(tx, member, current, body).await,
        _ => Err(AppError::NotFound(format!("transition {name} of {}", spec.plural_label.to_lowercase()))),
    }
}

/// Effects of a transition on other records (the AI system's stage after an approved gate).
pub async fn after(tx: &mut WriteTx, member: &Member, spec: &KindSpec, name: &str, _before: &Record, after: &Record) -> AppResult<()> {
    if spec.kind != "gate" || name != "approve" {
        return Ok(());
    }
    let system_id = after.data.get("ai_system_id").and_then(Value::as_str).unwrap_or_default();
    let system = records::get_for_update(tx, &member.org_id, "ai_system", &RecordKey::Id(system_id))
        .await?
        .ok_or_else(|| AppError::NotFound("AI system".into()))?;
    let to = after.data.get("to_stage").cloned().unwrap_or(Value::Null);
    let mut document = system.data.clone();
    document.insert("lifecycle_stage".into(), to.clone());
    let draft = Draft { reference: system.reference.clone(), state: system.state.clone(), document };
    update_logged(tx, &member.org_id, &crate::access::actor(member), &kinds::AI_SYSTEM, &system, &draft, system.archived, "transition")
        .await?;
    if to == json!("deployment") {
        let reason = format!("moved to deployment on {}", clock::format_date(clock::today()));
        rules::flag_reassessment(tx, member, system_id, &reason).await?;
    }
    Ok(())
}

fn gate_requested(current: &Record) -> AppResult<()> {
    match current.state.as_deref() {
        Some("requested") => Ok(()),
        other => Err(AppError::Conflict(format!("the gate is {}, not requested", other.unwrap_or("in no state")))),
    }
}

/// Approving or rejecting a gate: someone other than the requester, with the approval role.
/// Approval needs the records the organisation's gate requirements name, and the system still
/// in the stage the gate started from.
async fn decide_gate(tx: &mut WriteTx, member: &Member, current: &Record, body: &Value, approve: bool) -> AppResult<Outcome> {
    check_body(body, &["reason"])?;
    require(member, Action::Approve)?;
    gate_requested(current)?;
    let requester = current.data.get("requested_by").and_then(Value::as_str);
    require_separation(member, &[(Involvement::Requester, requester), (Involvement::Author, current.created_by.as_deref())])?;
    let reason = text(body, "reason");
    if !approve && reason.is_none() {
        return Err(ValidationErrors::single("reason", "required", "say why the gate is rejected").into());
    }
    let system_id = current.data.get("ai_system_id").and_then(Value::as_str).unwrap_or_default();
    let system = records::get_for_update(tx, &member.org_id, "ai_system", &RecordKey::Id(system_id))
        .await?
        .ok_or_else(|| AppError::NotFound("AI system".into()))?;
    let mut document = current.data.clone();
    if approve {
        let stage_now = system.data.get("lifecycle_stage");
        if stage_now != current.data.get("from_stage") {
            return Err(AppError::Conflict("the AI system has moved to another stage since this gate was requested".into()));
        }
        let missing = missing_records(tx, member, current, system_id).await?;
        if !missing.is_empty() {
            return Err(AppError::Conflict(format!(
                "the gate requires lifecycle records that the system does not have yet: {}",
                missing.join(", ")
            )));
        }
    }
    document.insert("decided_by".into(), json!(member.user_id));
    document.insert("decided_at".into(), json!(clock::now_text()));
    document.insert("decision_reason".into(), reason.map_or(Value::Null, Value::String));
    document.insert("system_snapshot".into(), Value::Object(snapshot(&system)));
    let state = if approve { "approved" } else { "rejected" };
    let action = if approve { "approve" } else { "reject" };
    Ok(Outcome::new(Draft { reference: current.reference.clone(), state: Some(state.into()), document }, action))
}

/// The state of the AI system at the moment of the decision.
fn snapshot(system: &Record) -> Map<String, Value> {
    let mut snapshot = system.data.clone();
    snapshot.insert("id".into(), json!(system.id));
    snapshot.insert("version".into(), json!(system.version));
    snapshot
}

/// The record types the gate's target stage requires that the system has no record of.
async fn missing_records(tx: &mut WriteTx, member: &Member, gate: &Record, system_id: &str) -> AppResult<Vec<String>> {
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

/// The requester (or an approver) withdraws a gate that is still requested.
fn cancel_gate(member: &Member, current: &Record, body: &Value) -> AppResult<Outcome> {
    check_body(body, &["reason"])?;
    gate_requested(current)?;
    let requester = current.data.get("requested_by").and_then(Value::as_str);
    if requester != Some(member.user_id.as_str()) {
        require(member, Action::Approve)?;
    } else {
        require(member, Action::Edit)?;
    }
    let mut document = current.data.clone();
    document.insert("decided_by".into(), json!(member.user_id));
    document.insert("decided_at".into(), json!(clock::now_text()));
    document.insert("decision_reason".into(), text(body, "reason").map_or(Value::Null, Value::String));
    Ok(Outcome::new(Draft { reference: current.reference.clone(), state: Some("cancelled".into()), document }, "cancel"))
}

/// Accepting a risk's residual level: within the threshold an editor may accept; above it only
/// an owner, and never the risk's own owner. The acceptance names who accepted and why.
async fn accept_risk(tx: &mut WriteTx, member: &Member, current: &Record, body: &Value) -> AppResult<Outcome> {
    check_body(body, &["rationale"])?;
    if current.state.as_deref() == Some("accepted") {
        return Err(AppError::Conflict("the risk is already accepted".into()));
    }
    let residual = |f: &str| current.data.get(f).and_then(Value::as_i64);
    let (Some(likelihood), Some(consequence)) = (residual("residual_likelihood"), residual("residual_consequence")) else {
        return Err(AppError::Conflict("rate the residual likelihood and consequence before accepting the risk".into()));
    };
    let (criteria, _) = rules::criteria(tx, member).await?;
    let level = risk::level(&criteria, likelihood, consequence)
        .ok_or_else(|| AppError::Conflict("the risk criteria cannot rate this risk".into()))?;
    let above = risk::above_threshold(&criteria, &level);
    require(member, if above { Action::AcceptRiskAboveThreshold } else { Action::AcceptRiskWithinThreshold })?;
    require_separation(member, &[(Involvement::Owner, current.data.get("owner_id").and_then(Value::as_str))])?;
    let rationale = text(body, "rationale")
        .ok_or_else(|| ValidationErrors::single("rationale", "required", "say why the residual risk is acceptable"))?;
    let mut document = current.data.clone();
    document.insert("accepted_by".into(), json!(member.user_id));
    document.insert("accepted_at".into(), json!(clock::now_text()));
    document.insert("acceptance_rationale".into(), json!(rationale));
    document.insert("residual_above_threshold".into(), json!(above));
    Ok(Outcome::new(Draft { reference: current.reference.clone(), state: Some("accepted".into()), document }, "accept"))
}

/// Signing off an impact assessment: an approver who is not its author. Freezes the signed
/// edition as a revision and clears any re-assessment flag.
fn sign_off(member: &Member, current: &Record, body: &Value) -> AppResult<Outcome> {
    check_body(body, &["comment"])?;
    require(member, Action::Approve)?;
    if current.state.as_deref() == Some("signed_off") {
        return Err(AppError::Conflict("this edition is already signed off; change it to start the next revision".into()));
    }
    require_separation(
        member,
        &[(Involvement::Author, current.created_by.as_deref()), (Involvement::Author, current.updated_by.as_deref())],
    )?;
    let revision = current.data.get("signed_off_revision").and_then(Value::as_i64).unwrap_or(0) + 1;
    let mut document = current.data.clone();
    document.insert("signed_off_by".into(), json!(member.user_id));
    document.insert("signed_off_at".into(), json!(clock::now_text()));
    document.insert("signed_off_revision".into(), json!(revision));
    document.insert("sign_off_comment".into(), text(body, "comment").map_or(Value::Null, Value::String));
    document.insert("reassessment_due".into(), json!(false));
    document.insert("reassessment_reason".into(), Value::Null);
    Ok(Outcome {
        freeze: true,
        ..Outcome::new(Draft { reference: current.reference.clone(), state: Some("signed_off".into()), document }, "sign_off")
    })
}
