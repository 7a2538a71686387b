//! What the generic record use cases do differently per kind: system fields set on create,
//! fields that may not change, values computed from other records (risk levels), and side
//! effects on linked records (an AI system's material change flags its impact assessments).

use aims_domain::kinds::inventory::{LIFECYCLE_STAGES, MATERIAL_FIELDS};
use aims_domain::kinds::{self, CATALOGUE_CONTROL_FIXED, lifecycle, objectives, risk};
use aims_domain::validate::KindSpec;
use aims_domain::{ValidationErrors, clock};
use aims_store::WriteTx;
use aims_store::model::{Member, Record};
use aims_store::records::{self, RecordKey};
use serde_json::{Map, Value, json};

use crate::records::{diff, update_logged};
use crate::transitions::Fut;
use crate::{AppError, AppResult};

/// A record about to be written: its reference, state and document.
pub struct Draft {
    pub reference: Option<String>,
    pub state: Option<String>,
    pub document: Map<String, Value>,
}

/// What a kind does differently in the generic create, change and archive use cases. Every
/// hook has a default (nothing particular); a kind's rules are registered in [`REGISTRY`].
pub(crate) trait KindRules: Sync {
    /// Keys a create body may carry besides the kind's writable fields.
    fn create_extras(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks those extra keys, so their errors come with the fields' errors.
    fn check_create_extras(&self, _input: &Value) -> Result<(), ValidationErrors> {
        Ok(())
    }

    /// Sets what the system owns on a new record.
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _input: &'a Value, _draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Adjusts (or refuses) a change before it is written.
    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _current: &'a Record, _draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Fields a patch may not touch on particular records.
    fn refuse_fixed_fields(&self, _current: &Record, _patch: &Value) -> AppResult<()> {
        Ok(())
    }

    /// Side effects of a write on other records, in the same transaction (each with its event).
    fn after_write<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _old: Option<&'a Record>, _new: &'a Record) -> Fut<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

struct Plain;
impl KindRules for Plain {}

/// The kinds with rules of their own.
const REGISTRY: &[(&str, &dyn KindRules)] = &[
    ("control", &ControlRules),
    ("ai_system", &AiSystemRules),
    ("gate", &GateRules),
    ("lifecycle_record", &LifecycleRecordRules),
    ("gate_requirement", &GateRequirementRules),
    ("risk", &RiskRules),
    ("policy", &PolicyRules),
    ("objective", &ObjectiveRules),
    ("measurement", &MeasurementRules),
    ("impact_assessment", &ImpactRules),
    ("nonconformity", &crate::improvement::NonconformityRules),
    ("audit", &crate::audit::AuditRules),
    ("finding", &crate::audit::FindingRules),
    ("schedule", &crate::schedules::ScheduleRules),
    ("notification_channel", &crate::schedules::ChannelRules),
    ("incident", &crate::operations::IncidentRules),
    ("concern", &crate::operations::ConcernRules),
];

fn rules_of(spec: &KindSpec) -> &'static dyn KindRules {
    REGISTRY.iter().find(|(kind, _)| *kind == spec.kind).map_or(&Plain, |(_, rules)| *rules)
}

/// Keys a create body may carry besides the kind's writable fields.
pub fn create_extras(spec: &KindSpec) -> &'static [&'static str] {
    rules_of(spec).create_extras()
}

/// Checks the extra keys of a create body (`ref` of an own control, the starting
/// `lifecycle_stage` of an AI system), so their errors come with the fields' errors.
pub fn check_create_extras(spec: &KindSpec, input: &Value) -> Result<(), ValidationErrors> {
    rules_of(spec).check_create_extras(input)
}

/// Sets what the system owns on a new record, per kind.
pub async fn before_create(tx: &mut WriteTx, member: &Member, spec: &KindSpec, input: &Value, draft: &mut Draft) -> AppResult<()> {
    rules_of(spec).before_create(tx, member, input, draft).await
}

/// Adjusts a change before it is written, per kind.
pub async fn before_update(tx: &mut WriteTx, member: &Member, spec: &KindSpec, current: &Record, draft: &mut Draft) -> AppResult<()> {
    rules_of(spec).before_update(tx, member, current, draft).await
}

/// Fields a patch may not touch on particular records.
pub fn refuse_fixed_fields(spec: &KindSpec, current: &Record, patch: &Value) -> AppResult<()> {
    rules_of(spec).refuse_fixed_fields(current, patch)
}

/// Side effects of a write on other records, in the same transaction (each with its event).
pub async fn after_write(tx: &mut WriteTx, member: &Member, spec: &KindSpec, old: Option<&Record>, new: &Record) -> AppResult<()> {
    rules_of(spec).after_write(tx, member, old, new).await
}

/// Own controls carry their reference; Annex A controls keep the catalogue's text.
struct ControlRules;

impl KindRules for ControlRules {
    fn create_extras(&self) -> &'static [&'static str] {
        &["ref"]
    }

    fn check_create_extras(&self, input: &Value) -> Result<(), ValidationErrors> {
        kinds::parse_own_control_ref("ref", input.get("ref").and_then(Value::as_str).unwrap_or_default()).map(drop)
    }

    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            let given = input.get("ref").and_then(Value::as_str).unwrap_or_default();
            draft.reference = Some(kinds::parse_own_control_ref("ref", given)?);
            draft.document.insert("source".into(), json!("own"));
            Ok(())
        })
    }

    fn refuse_fixed_fields(&self, current: &Record, patch: &Value) -> AppResult<()> {
        if current.data.get("source").and_then(Value::as_str) != Some("iso42001") {
            return Ok(());
        }
        let mut errors = ValidationErrors::default();
        for field in CATALOGUE_CONTROL_FIXED {
            if patch.get(field).is_some() {
                errors.push(*field, "read_only", "the title and description of an Annex A control come from the catalogue");
            }
        }
        Ok(errors.into_result()?)
    }
}

/// An AI system starts in a stage (later moved only by gates); a material change flags its
/// impact assessments for re-assessment.
struct AiSystemRules;

impl KindRules for AiSystemRules {
    fn create_extras(&self) -> &'static [&'static str] {
        &["lifecycle_stage"]
    }

    fn check_create_extras(&self, input: &Value) -> Result<(), ValidationErrors> {
        match input.get("lifecycle_stage") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(stage)) if LIFECYCLE_STAGES.contains(&stage.as_str()) => Ok(()),
            Some(_) => {
                Err(ValidationErrors::single("lifecycle_stage", "invalid_choice", format!("one of: {}", LIFECYCLE_STAGES.join(", "))))
            }
        }
    }

    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, m: &'a Member, input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            require_publisher_if_changed(m, None, &draft.document)?;
            let stage = input.get("lifecycle_stage").and_then(Value::as_str).unwrap_or("idea");
            draft.document.insert("lifecycle_stage".into(), json!(stage));
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, m: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move { require_publisher_if_changed(m, Some(&current.data), &draft.document) })
    }

    fn after_write<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, old: Option<&'a Record>, new: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            let Some(old) = old else { return Ok(()) };
            let changed: Vec<&str> = MATERIAL_FIELDS.iter().copied().filter(|f| old.data.get(*f) != new.data.get(*f)).collect();
            if !changed.is_empty() {
                let labels: Vec<&str> = changed.iter().map(|f| kinds::AI_SYSTEM.field(f).map_or(*f, |s| s.label)).collect();
                let reason = format!("{} changed on {}", labels.join(", "), clock::format_date(clock::today()));
                flag_reassessment(tx, member, &new.id, &reason).await?;
            }
            Ok(())
        })
    }
}

/// Publishing or withdrawing an AI system's public disclosure (A.8) is the AI governance
/// owner's decision: it takes the approver's role, as approving a gate or a policy does.
fn require_publisher_if_changed(member: &Member, before: Option<&Map<String, Value>>, after: &Map<String, Value>) -> AppResult<()> {
    let was = before.is_some_and(kinds::inventory::disclosure_published);
    if was != kinds::inventory::disclosure_published(after) {
        crate::access::require(member, aims_domain::policy::Action::Approve)?;
    }
    Ok(())
}

/// A gate is requested by creating it and changes only while requested, with its system.
struct GateRules;

impl KindRules for GateRules {
    fn before_create<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(prepare_gate(tx, member, draft))
    }

    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            if current.state.as_deref() != Some("requested") {
                return Err(AppError::Conflict(format!(
                    "a gate that is {} cannot be changed",
                    current.state.as_deref().unwrap_or("decided")
                )));
            }
            if draft.document.get("ai_system_id") != current.data.get("ai_system_id") {
                return Err(
                    ValidationErrors::single("ai_system_id", "read_only", "a gate stays with its AI system; request a new gate").into()
                );
            }
            Ok(())
        })
    }
}

/// A lifecycle record evidences the A.6.2 control of its kind unless it says otherwise.
struct LifecycleRecordRules;

impl KindRules for LifecycleRecordRules {
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            default_lifecycle_control(&mut draft.document);
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            default_lifecycle_control(&mut draft.document);
            Ok(())
        })
    }
}

/// One active gate requirement per stage.
struct GateRequirementRules;

impl KindRules for GateRequirementRules {
    fn before_create<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(one_requirement_per_stage(tx, member, &draft.document, None))
    }

    fn before_update<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(one_requirement_per_stage(tx, member, &draft.document, Some(&current.id)))
    }
}

/// Risk levels come from the current criteria; a new residual level voids an acceptance.
struct RiskRules;

impl KindRules for RiskRules {
    fn before_create<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(compute_risk_levels(tx, member, &mut draft.document))
    }

    fn before_update<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            compute_risk_levels(tx, member, &mut draft.document).await?;
            let residual_changed =
                ["residual_likelihood", "residual_consequence"].iter().any(|f| draft.document.get(*f) != current.data.get(*f));
            if residual_changed && current.state.as_deref() == Some("accepted") {
                // An acceptance covers the residual level that was accepted, not a new one.
                draft.state = Some("open".into());
                for field in ["accepted_by", "accepted_at", "acceptance_rationale"] {
                    draft.document.insert(field.into(), Value::Null);
                }
            }
            Ok(())
        })
    }
}

/// A policy's editions (see [`crate::policies`]).
struct PolicyRules;

impl KindRules for PolicyRules {
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, member: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            crate::policies::prepare_new(member, &mut draft.document);
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, member: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move { crate::policies::prepare_change(member, current, draft) })
    }
}

/// An objective's status follows its measurements and its target.
struct ObjectiveRules;

impl KindRules for ObjectiveRules {
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            let status = objectives::objective_status(&draft.document, &[]);
            draft.document.extend(status);
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            let status = objective_status(tx, member, &current.id, &draft.document).await?;
            draft.document.extend(status);
            Ok(())
        })
    }
}

/// A measurement refreshes its objective's latest figure.
struct MeasurementRules;

impl KindRules for MeasurementRules {
    fn after_write<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, _old: Option<&'a Record>, new: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            let objective_id = new.data.get("objective_id").and_then(Value::as_str).unwrap_or_default().to_owned();
            refresh_objective(tx, member, &objective_id).await
        })
    }
}

/// An impact assessment starts unsigned; editing a signed-off one starts its next revision.
struct ImpactRules;

impl KindRules for ImpactRules {
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            for field in ["signed_off_by", "signed_off_at", "signed_off_revision", "reassessment_reason"] {
                draft.document.insert(field.into(), Value::Null);
            }
            draft.document.insert("reassessment_due".into(), json!(false));
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            if current.state.as_deref() == Some("signed_off") {
                // Editing a signed-off assessment starts its next revision; the signed-off one
                // stays readable in the revisions.
                draft.state = Some("draft".into());
            }
            Ok(())
        })
    }
}

/// Recomputes an objective's latest figure and whether it is on track from its measurements.
pub async fn refresh_objective(tx: &mut WriteTx, member: &Member, objective_id: &str) -> AppResult<()> {
    let Some(objective) = records::get_for_update(tx, &member.org_id, "objective", &RecordKey::Id(objective_id)).await? else {
        return Ok(());
    };
    let mut document = objective.data.clone();
    document.extend(objective_status(tx, member, objective_id, &objective.data).await?);
    if diff(&objective.data, &document).is_empty() {
        return Ok(());
    }
    let draft = Draft { reference: objective.reference.clone(), state: objective.state.clone(), document };
    update_logged(tx, &member.org_id, &crate::access::actor(member), &kinds::OBJECTIVE, &objective, &draft, objective.archived, "measure")
        .await?;
    Ok(())
}

/// An objective's status fields from its measurements, judged against `document`'s target.
async fn objective_status(
    tx: &mut WriteTx,
    member: &Member,
    objective_id: &str,
    document: &Map<String, Value>,
) -> AppResult<Map<String, Value>> {
    let series: Vec<(String, f64)> = records::linked_for_update(tx, &member.org_id, "measurement", "objective_id", objective_id)
        .await?
        .iter()
        .filter_map(|m| Some((m.data.get("measured_on")?.as_str()?.to_owned(), m.data.get("value")?.as_f64()?)))
        .collect();
    Ok(objectives::objective_status(document, &series))
}

/// Marks every impact assessment of an AI system as due for re-assessment.
pub async fn flag_reassessment(tx: &mut WriteTx, member: &Member, ai_system_id: &str, reason: &str) -> AppResult<()> {
    for assessment in records::linked_for_update(tx, &member.org_id, "impact_assessment", "ai_system_id", ai_system_id).await? {
        let mut document = assessment.data.clone();
        document.insert("reassessment_due".into(), json!(true));
        document.insert("reassessment_reason".into(), json!(reason));
        if diff(&assessment.data, &document).is_empty() {
            continue;
        }
        let draft = Draft { reference: assessment.reference.clone(), state: assessment.state.clone(), document };
        update_logged(
            tx,
            &member.org_id,
            &crate::access::actor(member),
            &kinds::IMPACT_ASSESSMENT,
            &assessment,
            &draft,
            assessment.archived,
            "flag_reassessment",
        )
        .await?;
    }
    Ok(())
}

/// A new gate starts from the system's current stage, requested by its creator.
async fn prepare_gate(tx: &mut WriteTx, member: &Member, draft: &mut Draft) -> AppResult<()> {
    let system_id = draft.document.get("ai_system_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let system = records::get_for_update(tx, &member.org_id, "ai_system", &RecordKey::Id(&system_id))
        .await?
        .ok_or_else(|| ValidationErrors::single("ai_system_id", "unknown_reference", "no such AI system in this organisation"))?;
    let from = system.data.get("lifecycle_stage").and_then(Value::as_str).unwrap_or("idea").to_owned();
    if from == "retired" {
        return Err(AppError::Conflict("a retired AI system has no further gates".into()));
    }
    if draft.document.get("to_stage").and_then(Value::as_str) == Some(from.as_str()) {
        return Err(ValidationErrors::single("to_stage", "unchanged", format!("the system is already in {from}")).into());
    }
    draft.document.insert("from_stage".into(), json!(from));
    draft.document.insert("requested_by".into(), json!(member.user_id));
    for field in ["decided_by", "decided_at", "decision_reason", "system_snapshot", "missing_records"] {
        draft.document.insert(field.into(), Value::Null);
    }
    Ok(())
}

/// An organisation keeps one active gate requirement per stage (archived ones do not count).
async fn one_requirement_per_stage(tx: &mut WriteTx, member: &Member, document: &Map<String, Value>, this: Option<&str>) -> AppResult<()> {
    let stage = document.get("to_stage");
    let clash = records::all_for_update(tx, &member.org_id, "gate_requirement")
        .await?
        .into_iter()
        .any(|r| r.data.get("to_stage") == stage && Some(r.id.as_str()) != this);
    if clash {
        return Err(AppError::Conflict(format!(
            "a gate requirement for {} exists; change that one",
            stage.and_then(Value::as_str).unwrap_or("this stage")
        )));
    }
    Ok(())
}

/// A lifecycle record evidences the A.6.2 control of its kind unless it says otherwise.
fn default_lifecycle_control(document: &mut Map<String, Value>) {
    let empty = document.get("control_refs").and_then(Value::as_array).is_none_or(Vec::is_empty);
    if let (true, Some(control)) = (empty, document.get("record_type").and_then(Value::as_str).and_then(lifecycle::control_of)) {
        document.insert("control_refs".into(), json!([control]));
    }
}

/// The current risk criteria of the member's organisation, with their revision number.
pub async fn criteria(tx: &mut WriteTx, member: &Member) -> AppResult<(Map<String, Value>, i64)> {
    let found = records::all_for_update(tx, &member.org_id, "risk_criteria").await?;
    let criteria = found.into_iter().next().ok_or_else(|| AppError::Conflict("the organisation has no risk criteria".into()))?;
    Ok((criteria.data, criteria.version))
}

/// Rates a risk under the current criteria: scores, levels, the threshold, the criteria
/// revision used. Ratings outside the criteria's scales are refused with the field named.
async fn compute_risk_levels(tx: &mut WriteTx, member: &Member, document: &mut Map<String, Value>) -> AppResult<()> {
    let (criteria, revision) = criteria(tx, member).await?;
    let (likelihoods, consequences) = risk::scale(&criteria);
    let mut errors = ValidationErrors::default();
    for (field, max) in [
        ("inherent_likelihood", likelihoods),
        ("residual_likelihood", likelihoods),
        ("inherent_consequence", consequences),
        ("residual_consequence", consequences),
    ] {
        if document.get(field).and_then(Value::as_i64).is_some_and(|v| v > max) {
            errors.push(field, "out_of_range", format!("from 1 to {max} under the current risk criteria"));
        }
    }
    errors.into_result()?;
    for prefix in ["inherent", "residual"] {
        let rating = |axis: &str| document.get(&format!("{prefix}_{axis}")).and_then(Value::as_i64);
        let level = match (rating("likelihood"), rating("consequence")) {
            (Some(l), Some(c)) => risk::level(&criteria, l, c),
            _ => None,
        };
        document.insert(format!("{prefix}_score"), level.as_ref().map_or(Value::Null, |l| json!(l.score)));
        document.insert(format!("{prefix}_level"), level.as_ref().map_or(Value::Null, |l| json!(l.name)));
        if prefix == "residual" {
            let above = level.as_ref().map(|l| risk::above_threshold(&criteria, l));
            document.insert("residual_above_threshold".into(), above.map_or(Value::Null, Value::Bool));
        }
    }
    document.insert("criteria_revision".into(), json!(revision));
    for field in ["accepted_by", "accepted_at", "acceptance_rationale"] {
        document.entry(field).or_insert(Value::Null);
    }
    Ok(())
}
