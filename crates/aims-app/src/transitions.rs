//! State changes made by `POST …/{id}/{transition}`, never by PATCH. What a transition is —
//! its states, who may take it, its separation-of-duties rule, its body — is declared beside
//! the kind ([`aims_domain::workflow`]); this module runs those declarations the same way for
//! every kind, in this order: the body's keys (422), the role (403), the state (409),
//! separation of duties judged from the record's history (403), required fields (422), the
//! kind's prerequisites (409). What is truly particular to a kind — what the transition writes
//! on the record, its prerequisites, its effects on other records — is an [`Effects`] in the
//! registry ([`effects_of`]).

use std::future::Future;
use std::pin::Pin;

use aims_domain::ValidationErrors;
use aims_domain::clock;
use aims_domain::kinds::{self, risk};
use aims_domain::policy::{Action, Denied};
use aims_domain::validate::KindSpec;
use aims_domain::workflow::{self, BodyField, Involved, Permission, Sod, SodBreach, TransitionSpec, Workflow};
use aims_store::model::{Member, Record};
use aims_store::records::{self, RecordKey};
use aims_store::{WriteTx, activity};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::records::update_logged;
use crate::rules::{self, Draft};
use crate::{App, AppError, AppResult};

/// The transitions of a kind, for routing and documentation.
pub fn names(spec: &KindSpec) -> Vec<&'static str> {
    spec.workflow.map(|w| w.transitions.iter().map(|t| t.name).collect()).unwrap_or_default()
}

/// A declared transition and whether a member may take it now.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionChoice {
    pub name: &'static str,
    pub label: &'static str,
    pub summary: &'static str,
    /// The state it leads to (`None`: the record keeps its state).
    pub to: Option<&'static str>,
    /// What its form asks for.
    #[serde(serialize_with = "serialize_fields")]
    pub fields: &'static [BodyField],
    /// Why this member may not take it now; `None` when they may.
    pub refusal: Option<Refusal>,
}

impl TransitionChoice {
    pub fn allowed(&self) -> bool {
        self.refusal.is_none()
    }
}

fn serialize_fields<S: serde::Serializer>(fields: &&'static [BodyField], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(fields.len()))?;
    for f in *fields {
        seq.serialize_element(&json!({"name": f.name, "label": f.label, "required": f.required}))?;
    }
    seq.end()
}

/// Why a transition is not offered to someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// `role-permission`, `state`, `separation-of-duties` or `prerequisite`.
    pub rule: &'static str,
    /// For `separation-of-duties`: which part (`requester`, `author`, `owner`,
    /// `changed-since-approval`, `changed-entries`, `linked-owner`).
    pub part: Option<&'static str>,
    /// A sentence for the person, naming the rule.
    pub detail: String,
}

impl Refusal {
    fn from_error(error: &AppError, breach: Option<SodBreach>) -> Option<Self> {
        let (rule, detail) = match error {
            AppError::Forbidden(Denied::Role { .. }) => ("role-permission", error.to_string()),
            AppError::Forbidden(Denied::SeparationOfDuties(_)) => ("separation-of-duties", error.to_string()),
            AppError::Conflict(detail) => ("prerequisite", detail.clone()),
            _ => return None,
        };
        Some(Refusal { rule, part: breach.map(SodBreach::code), detail })
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

/// A boxed future of the registry's hooks (object-safe async).
pub(crate) type Fut<'a, T> = Pin<Box<dyn Future<Output = AppResult<T>> + Send + 'a>>;

/// What a transition does that is particular to its kind. Every hook has a default: a kind
/// with no entry in the registry just moves to the declared state.
pub(crate) trait Effects: Sync {
    /// Conditions besides state, role and separation of duties (a gate's required records).
    /// A refusal is a 409 naming what is missing.
    fn prerequisites<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _t: &'static TransitionSpec, _r: &'a Record) -> Fut<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Writes what the transition records on the document (who decided, when, why); `freeze`
    /// and `frozen` of the change as for [`Outcome`].
    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, _c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async { Ok(Applied::default()) })
    }

    /// What the transition needs read before its transaction begins, handed to [`Self::apply`]
    /// as [`Change::prepared`] (a management review's assembled inputs, frozen on close).
    fn prepare<'a>(&'a self, _app: &'a App, _m: &'a Member, _t: &'static TransitionSpec, _segment: &'a str) -> Fut<'a, Option<Value>> {
        Box::pin(async { Ok(None) })
    }

    /// Effects on other records after the record is written (an approved gate moves its system).
    fn after<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _t: &'static TransitionSpec, _r: &'a Record) -> Fut<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// The transition being applied: who, which, to what record, with which body; `document`
/// starts as the record's document and is what will be written.
pub(crate) struct Change<'a> {
    pub member: &'a Member,
    pub transition: &'static TransitionSpec,
    pub current: &'a Record,
    pub body: &'a Value,
    pub document: &'a mut Map<String, Value>,
    /// What [`Effects::prepare`] read before the transaction.
    pub prepared: Option<Value>,
}

#[derive(Default)]
pub(crate) struct Applied {
    pub freeze: bool,
    pub frozen: Option<Map<String, Value>>,
}

struct Plain;
impl Effects for Plain {}

/// The registry of kind-particular transition effects.
const REGISTRY: &[(&str, &dyn Effects)] = &[
    ("gate", &crate::gates::GateEffects),
    ("risk", &RiskEffects),
    ("impact_assessment", &SignOffEffects),
    ("policy", &crate::policies::PolicyEffects),
    ("soa", &crate::soa::SoaEffects),
    ("nonconformity", &crate::improvement::NonconformityEffects),
    ("improvement", &crate::improvement::ImprovementEffects),
    ("change", &crate::improvement::ChangeEffects),
    ("management_review", &crate::review::ReviewEffects),
    ("audit", &crate::audit::AuditEffects),
    ("finding", &crate::audit::FindingEffects),
    ("certificate", &crate::audit::CertificateEffects),
    ("schedule", &crate::schedules::ScheduleEffects),
    ("supplier_review", &crate::operations::SupplierReviewEffects),
    ("incident", &crate::operations::IncidentEffects),
    ("concern", &crate::operations::ConcernEffects),
];

pub(crate) fn effects_of(spec: &KindSpec) -> &'static dyn Effects {
    REGISTRY.iter().find(|(kind, _)| *kind == spec.kind).map_or(&Plain, |(_, effects)| *effects)
}

fn workflow_of(spec: &KindSpec, name: &str) -> AppResult<(&'static Workflow, &'static TransitionSpec)> {
    spec.workflow
        .and_then(|w| w.get(name).map(|t| (w, t)))
        .ok_or_else(|| AppError::NotFound(format!("transition {name} of {}", spec.plural_label.to_lowercase())))
}

pub(crate) fn text(body: &Value, field: &str) -> Option<String> {
    body.get(field).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// Only the declared keys may appear in a transition's body, each a text or null.
fn check_body(body: &Value, transition: &TransitionSpec) -> AppResult<()> {
    let Some(object) = body.as_object() else {
        return Err(ValidationErrors::single("", "invalid_type", "the body must be a JSON object").into());
    };
    let allowed: Vec<&str> = transition.fields.iter().map(|f| f.name).collect();
    let mut errors = ValidationErrors::default();
    for key in object.keys().filter(|k| !allowed.contains(&k.as_str())) {
        let takes = if allowed.is_empty() { "nothing".to_owned() } else { allowed.join(", ") };
        errors.push(key.clone(), "unknown_field", format!("this transition takes only: {takes}"));
    }
    for (key, _) in object.iter().filter(|(k, v)| allowed.contains(&k.as_str()) && !(v.is_string() || v.is_null())) {
        errors.push(key.clone(), "invalid_type", "a text");
    }
    Ok(errors.into_result()?)
}

fn check_required(body: &Value, transition: &TransitionSpec) -> AppResult<()> {
    let mut errors = ValidationErrors::default();
    for field in transition.required_fields().filter(|f| text(body, f.name).is_none()) {
        errors.push(field.name, "required", field.hint);
    }
    Ok(errors.into_result()?)
}

/// The action the policy must allow this member for this transition of this record.
async fn required_action(
    tx: &mut WriteTx,
    member: &Member,
    workflow: &Workflow,
    t: &TransitionSpec,
    current: &Record,
) -> AppResult<Action> {
    Ok(match t.permission {
        Permission::Action(action) => action,
        Permission::RequesterOr { own, other } => {
            let requester = workflow.requester_field.and_then(|f| current.data.get(f)).and_then(Value::as_str);
            if requester == Some(member.user_id.as_str()) { own } else { other }
        }
        Permission::ResidualLevel { within, above } => {
            let residual = |f: &str| current.data.get(f).and_then(Value::as_i64);
            let (Some(likelihood), Some(consequence)) = (residual("residual_likelihood"), residual("residual_consequence")) else {
                return Err(AppError::Conflict("rate the residual likelihood and consequence before accepting the risk".into()));
            };
            let (criteria, _) = rules::criteria(tx, member).await?;
            let level = risk::level(&criteria, likelihood, consequence)
                .ok_or_else(|| AppError::Conflict("the risk criteria cannot rate this risk".into()))?;
            if risk::above_threshold(&criteria, &level) { above } else { within }
        }
    })
}

fn check_state(spec: &KindSpec, t: &TransitionSpec, current: &Record) -> AppResult<()> {
    if t.leaves_from(current.state.as_deref()) {
        return Ok(());
    }
    let words = |s: &str| s.replace('_', " ");
    Err(AppError::Conflict(format!(
        "the {} is {}; {} takes it from {}",
        spec.label.to_lowercase(),
        current.state.as_deref().map_or("in no state".into(), words),
        t.name,
        t.from.iter().map(|s| words(s)).collect::<Vec<_>>().join(" or ")
    )))
}

/// Everyone involved in the record, from its document and history (and, for the SoA, who
/// changed its entries since its last approval).
async fn involved(
    tx: &mut WriteTx,
    member: &Member,
    spec: &KindSpec,
    workflow: &Workflow,
    sod: Sod,
    current: &Record,
) -> AppResult<Involved> {
    let mut history = activity::record_history(tx, &member.org_id, &current.id).await?;
    // A record the organisation was seeded with (the SoA) has no author: it is written by its
    // changes, which count below.
    let seeded = spec.singleton || !spec.creatable;
    if seeded {
        history.retain(|e| e.action != "create");
    }
    let entries = match workflow.entries_kind {
        Some(kind) => {
            let since = workflow::last_approval(workflow, &history);
            activity::kind_changes_since(tx, &member.org_id, kind, since).await?
        }
        None => Vec::new(),
    };
    let created_by = if seeded { None } else { current.created_by.as_deref() };
    let mut involved = Involved::from_history(workflow, &current.data, created_by, &history, &entries);
    if let Some(field) = sod.linked() {
        add_linked_owners(tx, member, spec, field, current, &mut involved).await?;
    }
    Ok(involved)
}

/// Everyone who ever owned one of the records `current` links through `field` (its
/// corrective actions), read from their documents and histories in the deciding transaction.
async fn add_linked_owners(
    tx: &mut WriteTx,
    member: &Member,
    spec: &KindSpec,
    field: &str,
    current: &Record,
    involved: &mut Involved,
) -> AppResult<()> {
    let kind = match spec.field(field).map(|f| f.ty) {
        Some(aims_domain::validate::FieldType::Ids { kind }) => kind,
        _ => return Err(AppError::Internal(format!("{}.{field} is not a link", spec.kind))),
    };
    let ids: Vec<&str> = current.data.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    for id in ids {
        let Some(linked) = records::get_for_update(tx, &member.org_id, kind, &RecordKey::Id(id)).await? else { continue };
        let history = activity::record_history(tx, &member.org_id, id).await?;
        involved.add_linked_owners(LINKED_OWNER_FIELD, &linked.data, &history);
    }
    Ok(())
}

/// The field naming a linked record's owner (an action's `owner_id`).
const LINKED_OWNER_FIELD: &str = "owner_id";

/// Role, state and separation of duties, in that order; the breach names the part of the
/// separation-of-duties rule that refused.
async fn check_may_take(
    tx: &mut WriteTx,
    member: &Member,
    spec: &KindSpec,
    workflow: &Workflow,
    t: &TransitionSpec,
    current: &Record,
) -> Result<(), (AppError, Option<SodBreach>)> {
    let action = required_action(tx, member, workflow, t, current).await.map_err(|e| (e, None))?;
    crate::access::require(member, action).map_err(|e| (e, None))?;
    check_state(spec, t, current).map_err(|e| (e, None))?;
    if t.sod != Sod::None {
        let involved = involved(tx, member, spec, workflow, t.sod, current).await.map_err(|e| (e, None))?;
        workflow::judge(t.sod, (&member.user_id, &member.email), &involved, spec.label)
            .map_err(|(breach, denied)| (AppError::Forbidden(denied), Some(breach)))?;
    }
    Ok(())
}

/// Runs transition `name` on `current` inside `tx`: every check, then the kind's effects.
pub(crate) async fn run(
    tx: &mut WriteTx,
    member: &Member,
    spec: &KindSpec,
    name: &str,
    current: &Record,
    body: &Value,
    prepared: Option<Value>,
) -> AppResult<Outcome> {
    let (workflow, t) = workflow_of(spec, name)?;
    check_body(body, t)?;
    check_may_take(tx, member, spec, workflow, t, current).await.map_err(|(e, _)| e)?;
    check_required(body, t)?;
    let effects = effects_of(spec);
    effects.prerequisites(tx, member, t, current).await?;
    let mut document = current.data.clone();
    let applied = effects.apply(tx, Change { member, transition: t, current, body, document: &mut document, prepared }).await?;
    let state = t.to.map(str::to_owned).or_else(|| current.state.clone());
    Ok(Outcome {
        draft: Draft { reference: current.reference.clone(), state, document },
        action: t.event,
        freeze: applied.freeze,
        frozen: applied.frozen,
    })
}

/// What the transition reads before its transaction ([`Effects::prepare`]).
pub(crate) async fn prepare(app: &App, member: &Member, spec: &KindSpec, name: &str, segment: &str) -> AppResult<Option<Value>> {
    let (_, t) = workflow_of(spec, name)?;
    effects_of(spec).prepare(app, member, t, segment).await
}

/// Effects of a transition on other records, once the record is written.
pub(crate) async fn after(tx: &mut WriteTx, member: &Member, spec: &KindSpec, name: &str, updated: &Record) -> AppResult<()> {
    let (_, t) = workflow_of(spec, name)?;
    effects_of(spec).after(tx, member, t, updated).await
}

impl App {
    /// Every transition declared for the record's kind, each telling whether `member` may take
    /// it now and, if not, why (the role, the state, the separation-of-duties rule and which
    /// part of it, or a prerequisite). The checks are the ones [`App::transition`] makes, in
    /// a transaction that is rolled back. A kind without transitions gives an empty list.
    pub async fn transition_choices(&self, member: &Member, spec: &KindSpec, segment: &str) -> AppResult<Vec<TransitionChoice>> {
        crate::access::require(member, Action::Read)?;
        let Some(workflow) = spec.workflow else { return Ok(Vec::new()) };
        let mut tx = self.db.begin_write().await?;
        let key = if spec.addressed_by_ref { RecordKey::Ref(segment) } else { RecordKey::Id(segment) };
        let current = records::get_for_update(&mut tx, &member.org_id, spec.kind, &key)
            .await?
            .ok_or_else(|| crate::records::not_found(spec, segment))?;
        let mut choices = Vec::with_capacity(workflow.transitions.len());
        for t in workflow.transitions {
            let refusal = match check_may_take(&mut tx, member, spec, workflow, t, &current).await {
                Err((error, breach)) => refusal_of(spec, t, &current, &error, breach)?,
                Ok(()) => match effects_of(spec).prerequisites(&mut tx, member, t, &current).await {
                    Err(error) => Refusal::from_error(&error, None).map_or(Err(error), |r| Ok(Some(r)))?,
                    Ok(()) => None,
                },
            };
            choices.push(TransitionChoice { name: t.name, label: t.label, summary: t.summary, to: t.to, fields: t.fields, refusal });
        }
        Ok(choices)
    }
}

fn refusal_of(
    spec: &KindSpec,
    t: &TransitionSpec,
    current: &Record,
    error: &AppError,
    breach: Option<SodBreach>,
) -> AppResult<Option<Refusal>> {
    // A state conflict and a prerequisite are both 409s: the declaration tells them apart.
    if matches!(error, AppError::Conflict(_)) && !t.leaves_from(current.state.as_deref()) {
        return Ok(Some(Refusal {
            rule: "state",
            part: None,
            detail: check_state(spec, t, current).err().map(|e| e.to_string()).unwrap_or_default(),
        }));
    }
    match Refusal::from_error(error, breach) {
        Some(refusal) => Ok(Some(refusal)),
        None => Err(AppError::Internal(format!("transition {}: {error}", t.name))),
    }
}

// ---- Kind-particular effects -------------------------------------------------------------

/// Accepting a risk names who accepted it, why, and whether it was above the threshold.
struct RiskEffects;

impl Effects for RiskEffects {
    fn apply<'a>(&'a self, tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            let (criteria, _) = rules::criteria(tx, c.member).await?;
            let residual = |f: &str| c.current.data.get(f).and_then(Value::as_i64);
            let above = match (residual("residual_likelihood"), residual("residual_consequence")) {
                (Some(l), Some(s)) => risk::level(&criteria, l, s).map(|level| risk::above_threshold(&criteria, &level)),
                _ => None,
            };
            c.document.insert("accepted_by".into(), json!(c.member.user_id));
            c.document.insert("accepted_at".into(), json!(clock::now_text()));
            c.document.insert("acceptance_rationale".into(), text(c.body, "rationale").map_or(Value::Null, Value::String));
            c.document.insert("residual_above_threshold".into(), above.map_or(Value::Null, Value::Bool));
            Ok(Applied::default())
        })
    }
}

/// Signing off an impact assessment freezes the signed edition as a revision and clears any
/// re-assessment flag.
struct SignOffEffects;

impl Effects for SignOffEffects {
    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            let revision = c.current.data.get("signed_off_revision").and_then(Value::as_i64).unwrap_or(0) + 1;
            c.document.insert("signed_off_by".into(), json!(c.member.user_id));
            c.document.insert("signed_off_at".into(), json!(clock::now_text()));
            c.document.insert("signed_off_revision".into(), json!(revision));
            c.document.insert("sign_off_comment".into(), text(c.body, "comment").map_or(Value::Null, Value::String));
            c.document.insert("reassessment_due".into(), json!(false));
            c.document.insert("reassessment_reason".into(), Value::Null);
            Ok(Applied { freeze: true, frozen: None })
        })
    }
}

/// The record a gate's effects act on: its AI system, locked for the change.
pub(crate) async fn gate_system(tx: &mut WriteTx, member: &Member, gate: &Record) -> AppResult<Record> {
    let system_id = gate.data.get("ai_system_id").and_then(Value::as_str).unwrap_or_default();
    records::get_for_update(tx, &member.org_id, "ai_system", &RecordKey::Id(system_id))
        .await?
        .ok_or_else(|| AppError::NotFound("AI system".into()))
}

/// Moves an AI system to the stage an approved gate names, flagging its impact assessments
/// when it reaches deployment.
pub(crate) async fn move_system(tx: &mut WriteTx, member: &Member, gate: &Record) -> AppResult<()> {
    let system = gate_system(tx, member, gate).await?;
    let to = gate.data.get("to_stage").cloned().unwrap_or(Value::Null);
    let mut document = system.data.clone();
    document.insert("lifecycle_stage".into(), to.clone());
    let draft = Draft { reference: system.reference.clone(), state: system.state.clone(), document };
    update_logged(tx, &member.org_id, &crate::access::actor(member), &kinds::AI_SYSTEM, &system, &draft, system.archived, "transition")
        .await?;
    if to == json!("deployment") {
        let reason = format!("moved to deployment on {}", clock::format_date(clock::today()));
        rules::flag_reassessment(tx, member, &system.id, &reason).await?;
    }
    Ok(())
}

/// The roles the policy allows the strictest form of a transition.
pub fn roles_of(t: &TransitionSpec) -> Vec<&'static str> {
    t.permission.strictest().allowed_roles().iter().map(|r| r.as_str()).collect()
}
