//! Operation: what the transitions of supplier reviews, incidents and concerns record besides
//! their state; an incident's reporting deadline; raising a nonconformity from an incident;
//! and the public concern intake with its private status link.

use aims_domain::kinds::operations::report_days;
use aims_domain::kinds::{CONCERN, IMPROVEMENT, INCIDENT, NONCONFORMITY};
use aims_domain::policy::Action;
use aims_domain::validate::KindSpec;
use aims_domain::workflow::TransitionSpec;
use aims_domain::{ValidationErrors, clock};
use aims_store::WriteTx;
use aims_store::model::{Actor, Member, Record};
use serde_json::{Map, Value, json};

use crate::records::{check_members, current_version, insert_logged, update_logged};
use crate::rules::{self, Draft, KindRules};
use crate::transitions::{Applied, Change, Effects, Fut, text};
use crate::{App, AppError, AppResult};

/// Who the activity log names for a concern sent through the public intake (`system:public-intake`).
pub const PUBLIC_INTAKE: Actor = Actor::System("public-intake");

/// The prefix of a concern's status token, so a leaked link is recognisable.
const STATUS_TOKEN_PREFIX: &str = "aims_concern_";

fn filled(document: &Map<String, Value>, field: &str) -> bool {
    match document.get(field) {
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

fn today() -> String {
    clock::format_date(clock::today())
}

/// A supplier review goes for a decision only with its risk rating and outcome; the decision
/// names who took it, when and with what comment.
pub(crate) struct SupplierReviewEffects;

impl Effects for SupplierReviewEffects {
    fn prerequisites<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, t: &'static TransitionSpec, review: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            if t.name == "submit" {
                let missing: Vec<&str> = [("risk_rating", "the risk rating"), ("outcome", "the outcome")]
                    .into_iter()
                    .filter(|(field, _)| !filled(&review.data, field))
                    .map(|(_, words)| words)
                    .collect();
                if !missing.is_empty() {
                    return Err(AppError::Conflict(format!("record {} first", missing.join(" and "))));
                }
            }
            Ok(())
        })
    }

    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            if matches!(c.transition.name, "complete" | "return") {
                c.document.insert("decided_by".into(), json!(c.member.user_id));
                c.document.insert("decided_at".into(), json!(clock::now_text()));
                c.document.insert("decision_comment".into(), text(c.body, "comment").map_or(Value::Null, Value::String));
            }
            Ok(Applied::default())
        })
    }
}

/// Each step of an incident needs what it records; the dates of containment and resolution
/// default to the day the step is taken.
pub(crate) struct IncidentEffects;

impl Effects for IncidentEffects {
    fn prerequisites<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, t: &'static TransitionSpec, incident: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            let missing = |what: &str| Err(AppError::Conflict(format!("{what} first")));
            let data = &incident.data;
            match t.name {
                "triage" if !filled(data, "severity") => missing("set the severity"),
                "contain" if !filled(data, "containment") => missing("record the containment"),
                "close" if data.get("external_report_required") == Some(&Value::Bool(true)) && !filled(data, "reported_externally_on") => {
                    missing("record when the incident was reported externally")
                }
                _ => Ok(()),
            }
        })
    }

    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            let field = match c.transition.name {
                "contain" => Some("contained_on"),
                "resolve" => Some("resolved_on"),
                _ => None,
            };
            if let Some(field) = field.filter(|f| !filled(c.document, f)) {
                c.document.insert(field.into(), json!(today()));
            }
            Ok(Applied::default())
        })
    }
}

/// An incident that must be reported externally under a regime with a fixed deadline gets its
/// "report by" date computed from the day it was detected, unless one was entered.
pub(crate) struct IncidentRules;

impl KindRules for IncidentRules {
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            fill_report_by(&mut draft.document);
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _c: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            fill_report_by(&mut draft.document);
            Ok(())
        })
    }
}

/// The deadline a regime sets, counted from the day of detection.
pub fn report_deadline(detected_on: &str, regime: &str) -> Option<String> {
    let days = report_days(regime)?;
    let detected = clock::parse_date(detected_on)?;
    Some(clock::format_date(detected.saturating_add(time::Duration::days(days))))
}

fn fill_report_by(document: &mut Map<String, Value>) {
    if document.get("external_report_required") != Some(&Value::Bool(true)) || filled(document, "report_by") {
        return;
    }
    let text = |name: &str| document.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    if let Some(deadline) = report_deadline(&text("detected_on"), &text("reporting_regime")) {
        document.insert("report_by".into(), json!(deadline));
    }
}

/// A concern recorded by a member says so; the public intake sets `public_intake` itself.
pub(crate) struct ConcernRules;

impl KindRules for ConcernRules {
    fn before_create<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            draft.document.insert("received_via".into(), json!("member"));
            Ok(())
        })
    }
}

/// Triage creates the incident, nonconformity or improvement from the concern and links it, in
/// the transition's transaction; closing records the answer the reporter reads.
pub(crate) struct ConcernEffects;

impl Effects for ConcernEffects {
    fn apply<'a>(&'a self, tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            let (spec, link, target): (&KindSpec, &str, &str) = match c.transition.name {
                "to-incident" => (&INCIDENT, "incident_ids", "incident"),
                "to-nonconformity" => (&NONCONFORMITY, "nonconformity_ids", "nonconformity"),
                "to-improvement" => (&IMPROVEMENT, "improvement_ids", "improvement"),
                "close" => {
                    c.document.insert("public_answer".into(), text(c.body, "answer").map_or(Value::Null, Value::String));
                    return Ok(Applied::default());
                }
                _ => return Ok(Applied::default()),
            };
            let input = triaged_record(spec, c.current, c.member, text(c.body, "note"));
            let created = create_in(tx, c.member, spec, &input).await?;
            let mut ids: Vec<Value> = c.document.get(link).and_then(Value::as_array).cloned().unwrap_or_default();
            ids.push(json!(created.id));
            c.document.insert(link.into(), Value::Array(ids));
            c.document.insert("triaged_into".into(), json!(target));
            c.document.insert("triaged_by".into(), json!(c.member.user_id));
            c.document.insert("triaged_at".into(), json!(clock::now_text()));
            Ok(Applied::default())
        })
    }
}

/// The new record a concern is triaged into: its words, the AI systems it names, the triager
/// as owner.
fn triaged_record(spec: &KindSpec, concern: &Record, member: &Member, note: Option<String>) -> Value {
    let get = |name: &str| concern.data.get(name).cloned().unwrap_or(Value::Null);
    let subject = get("subject").as_str().unwrap_or("Concern").to_owned();
    let mut text = get("description").as_str().unwrap_or_default().to_owned();
    if let Some(about) = get("ai_system_name").as_str().filter(|t| !t.trim().is_empty()) {
        text = format!("About: {about}\n\n{text}");
    }
    if let Some(note) = note {
        text = format!("{text}\n\nTriage note: {note}");
    }
    let systems = get("ai_system_ids");
    let systems = if systems.is_array() { systems } else { json!([]) };
    let title = format!("Concern: {subject}");
    match spec.kind {
        "incident" => json!({"title": title, "description": text, "detected_on": today(), "owner_id": member.user_id,
                             "reported_by": "Concern raised with the organisation", "ai_system_ids": systems}),
        "nonconformity" => json!({"title": title, "source": "complaint", "description": text, "detected_on": today(),
                                  "owner_id": member.user_id, "ai_system_ids": systems}),
        _ => json!({"title": title, "opportunity": text, "source": "feedback", "owner_id": member.user_id, "ai_system_ids": systems}),
    }
}

/// Creates a record of `spec` inside the caller's transaction, as the generic create does.
async fn create_in(tx: &mut WriteTx, member: &Member, spec: &KindSpec, input: &Value) -> AppResult<Record> {
    let document = spec.validate_create(input, &[])?;
    let mut draft = Draft { reference: None, state: spec.initial_state.map(str::to_owned), document };
    rules::before_create(tx, member, spec, input, &mut draft).await?;
    check_members(tx, &member.org_id, Some(&member.user_id), spec, &draft.document).await?;
    let record = insert_logged(tx, &member.org_id, &crate::access::actor(member), spec, &draft).await?;
    rules::after_write(tx, member, spec, None, &record).await?;
    Ok(record)
}

/// Concerns a source may send at once through the public intake, then one more every
/// [`INTAKE_PERIOD`]: enough for a person with several concerns, not for a flood.
pub const INTAKE_BURST: u32 = 5;
const INTAKE_PERIOD: std::time::Duration = std::time::Duration::from_secs(180);
/// Above this many tracked sources, forget those whose limit has fully recovered.
const RETAIN_ABOVE: usize = 10_000;

/// The public intake's limit per source (the client's address), in memory per process, like
/// the sign-in attempts' limit: the intake needs no account, so nothing else holds it back.
pub struct IntakeLimiter(governor::DefaultKeyedRateLimiter<String>);

impl Default for IntakeLimiter {
    fn default() -> Self {
        let burst = std::num::NonZeroU32::new(INTAKE_BURST).unwrap_or(std::num::NonZeroU32::MIN);
        let quota = governor::Quota::with_period(INTAKE_PERIOD).map_or(governor::Quota::per_minute(burst), |q| q.allow_burst(burst));
        Self(governor::RateLimiter::keyed(quota))
    }
}

impl IntakeLimiter {
    /// Counts one concern from `source`; `false` when it is over the limit.
    fn allow(&self, source: &str) -> bool {
        if self.0.len() > RETAIN_ABOVE {
            self.0.retain_recent();
        }
        self.0.check_key(&source.to_owned()).is_ok()
    }
}

/// What the public may learn about their concern through its status link.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConcernStatus {
    /// `received`, `triaged` or `closed`.
    pub state: String,
    /// The organisation's answer to the reporter, once given.
    pub answer: Option<String>,
}

/// A concern received through the public intake: its status link's token (shown once).
#[derive(Debug, Clone)]
pub struct ReceivedConcern {
    pub token: String,
    pub state: String,
}

impl App {
    /// Raises a nonconformity (source `incident`) from the incident `incident_id` at version
    /// `if_match`: the nonconformity and its link from the incident are written in one
    /// transaction, each with its event. `input` may set the title, description and owner.
    pub async fn raise_nonconformity_from_incident(
        &self,
        member: &Member,
        incident_id: &str,
        if_match: i64,
        input: &Value,
    ) -> AppResult<Record> {
        crate::access::require(member, Action::Edit)?;
        let input = input.as_object().cloned().ok_or_else(|| ValidationErrors::single("", "invalid_type", "a JSON object"))?;
        let mut tx = self.db.begin_write().await?;
        let incident = current_version(&mut tx, member, &INCIDENT, incident_id, if_match).await?;
        if incident.archived || incident.state.as_deref() == Some("closed") {
            return Err(AppError::Conflict("the incident is closed".into()));
        }
        let from = |name: &str| incident.data.get(name).cloned().unwrap_or(Value::Null);
        let given = |name: &str| input.get(name).filter(|v| v.as_str().is_some_and(|t| !t.trim().is_empty())).cloned();
        let mut nc = json!({
            "title": given("title").unwrap_or_else(|| from("title")),
            "source": "incident",
            "description": given("description").unwrap_or_else(|| from("description")),
            "detected_on": from("detected_on"),
            "ai_system_ids": if from("ai_system_ids").is_array() { from("ai_system_ids") } else { json!([]) },
        });
        if let Some(owner) = input.get("owner_id").filter(|v| !v.is_null()) {
            nc["owner_id"] = owner.clone();
        }
        let unknown: Vec<&String> = input.keys().filter(|k| !["title", "description", "owner_id"].contains(&k.as_str())).collect();
        if let Some(key) = unknown.first() {
            return Err(ValidationErrors::single(key.as_str(), "unknown_field", "only title, description and owner_id may be given").into());
        }
        let created = create_in(&mut tx, member, &NONCONFORMITY, &nc).await?;
        let mut document = incident.data.clone();
        let mut ids: Vec<Value> = document.get("nonconformity_ids").and_then(Value::as_array).cloned().unwrap_or_default();
        ids.push(json!(created.id));
        document.insert("nonconformity_ids".into(), Value::Array(ids));
        let draft = Draft { reference: incident.reference.clone(), state: incident.state.clone(), document };
        let actor = crate::access::actor(member);
        let updated = update_logged(&mut tx, &member.org_id, &actor, &INCIDENT, &incident, &draft, incident.archived, "update").await?;
        rules::after_write(&mut tx, member, &INCIDENT, Some(&incident), &updated).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// A concern from anyone, without an account, for the organisation `org_slug`: only the
    /// public fields are taken (anonymous unless a contact is given). The concern, its event
    /// (by [`PUBLIC_INTAKE`], without the token) and the hash of its status token are written
    /// in one transaction; the token is returned once.
    /// Refused (429) once `source` has sent more than the intake's limit.
    pub async fn submit_public_concern(&self, source: &str, org_slug: &str, input: &Value) -> AppResult<ReceivedConcern> {
        if !self.intake_limiter.allow(source) {
            return Err(AppError::RateLimited(format!("a few minutes (at most {INTAKE_BURST} concerns at once from one address)")));
        }
        let org = aims_store::orgs::by_slug(&self.db, org_slug).await?.ok_or_else(|| AppError::NotFound("organisation".into()))?;
        let object = input.as_object().ok_or_else(|| ValidationErrors::single("", "invalid_type", "a JSON object"))?;
        let public = aims_domain::kinds::operations::PUBLIC_CONCERN_FIELDS;
        let mut errors = ValidationErrors::default();
        for key in object.keys().filter(|k| !public.contains(&k.as_str())) {
            errors.push(key.clone(), "unknown_field", format!("a concern takes only: {}", public.join(", ")));
        }
        // The organisation's own fields are refused as unknown, once, not validated too.
        let known: Map<String, Value> =
            object.iter().filter(|(k, _)| public.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut document = match CONCERN.validate_create(&Value::Object(known), &[]) {
            Ok(document) => document,
            Err(e) => {
                errors.0.extend(e.0);
                Map::new()
            }
        };
        errors.into_result()?;
        document.insert("received_via".into(), json!("public_intake"));
        let token = crate::secrets::random_token(STATUS_TOKEN_PREFIX)?;
        let mut tx = self.db.begin_write().await?;
        let draft = Draft { reference: None, state: CONCERN.initial_state.map(str::to_owned), document };
        let record = insert_logged(&mut tx, &org.id, &PUBLIC_INTAKE, &CONCERN, &draft).await?;
        aims_store::concern_tokens::insert(&mut tx, &crate::secrets::token_hash(&token), &org.id, &record.id, &clock::now_text()).await?;
        tx.commit().await?;
        Ok(ReceivedConcern { token, state: record.state.unwrap_or_default() })
    }

    /// The name of the organisation `org_slug`, for its public pages (not found when there is
    /// none).
    pub async fn public_org_name(&self, org_slug: &str) -> AppResult<String> {
        let org = aims_store::orgs::by_slug(&self.db, org_slug).await?.ok_or_else(|| AppError::NotFound("organisation".into()))?;
        Ok(org.name)
    }

    /// The state and public answer of the concern whose status token this is, in the
    /// organisation `org_slug` only: anything else (an unknown token, another organisation's
    /// slug, an archived concern) is not found.
    pub async fn public_concern_status(&self, org_slug: &str, token: &str) -> AppResult<ConcernStatus> {
        let not_found = || AppError::NotFound("concern".into());
        if !token.starts_with(STATUS_TOKEN_PREFIX) {
            return Err(not_found());
        }
        let hash = crate::secrets::token_hash(token);
        let (org_id, record_id) = aims_store::concern_tokens::concern_of(&self.db, &hash, org_slug).await?.ok_or_else(not_found)?;
        let record = aims_store::records::get(&self.db, &org_id, CONCERN.kind, &aims_store::records::RecordKey::Id(&record_id))
            .await?
            .filter(|r| !r.archived)
            .ok_or_else(not_found)?;
        let answer = record.data.get("public_answer").and_then(Value::as_str).filter(|t| !t.trim().is_empty()).map(str::to_owned);
        Ok(ConcernStatus { state: record.state.unwrap_or_default(), answer })
    }
}
