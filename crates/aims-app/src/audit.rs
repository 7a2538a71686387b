//! Internal and external audit (9.2): an audit's checklist, generated from its scope; the
//! results its auditors record; its report; the findings they raise and the nonconformity a
//! minor or major finding raises; and auditor independence, declared once here
//! ([`require_independent`]) and judged on every path that names an auditor or records as one.

use aims_domain::kinds::audit::{AUDITOR_FIELDS, NONCONFORMING, RAISE_NONCONFORMITY, RECORD_RESULT, RESULTS, SCOPE_FIELDS};
use aims_domain::kinds::{AUDIT, NONCONFORMITY};
use aims_domain::policy::{self, Action, Denied};
use aims_domain::workflow::TransitionSpec;
use aims_domain::{ValidationErrors, clock};
use aims_store::model::{Member, Record};
use aims_store::records::{self, RecordKey};
use aims_store::{WriteTx, activity, orgs};
use serde_json::{Map, Value, json};

use crate::records::insert_logged;
use crate::rules::{Draft, KindRules};
use crate::transitions::{Applied, Change, Effects, Fut, text};
use crate::{AppError, AppResult};

/// The states in which results and findings are recorded.
const RUNNING: &[&str] = &["in_progress", "reporting"];

fn str_of<'a>(document: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    document.get(field).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn list_of(document: &Map<String, Value>, field: &str) -> Vec<String> {
    document.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// One record an audit covers: its kind, id, reference (catalogue rows) and how it is named.
struct Scoped {
    kind: &'static str,
    id: String,
    reference: Option<String>,
    label: String,
    owner: Option<String>,
}

impl Scoped {
    fn key(&self) -> String {
        format!("{}:{}", self.kind, self.reference.as_deref().unwrap_or(&self.id))
    }

    fn named(&self) -> String {
        match self.kind {
            "requirement" => format!("clause {}", self.label),
            "control" => format!("control {}", self.label),
            _ => format!("AI system {}", self.label),
        }
    }
}

/// The records an audit's scope names, in the order it names them (clauses, controls, AI
/// systems); a reference that names nothing is left out (the link check reports it).
async fn scoped_records(tx: &mut WriteTx, org_id: &str, audit: &Map<String, Value>) -> AppResult<Vec<Scoped>> {
    let mut scoped = Vec::new();
    for (kind, field) in [("requirement", "requirement_refs"), ("control", "control_refs")] {
        let refs = list_of(audit, field);
        for (reference, id) in records::refs_to_ids(tx, org_id, kind, &refs).await? {
            let Some(record) = records::get_for_update(tx, org_id, kind, &RecordKey::Id(&id)).await? else { continue };
            let title = str_of(&record.data, "title").unwrap_or_default();
            let owner = str_of(&record.data, "owner_id").map(str::to_owned);
            scoped.push(Scoped { kind, id, label: format!("{reference} {title}").trim().to_owned(), reference: Some(reference), owner });
        }
    }
    for id in list_of(audit, "ai_system_ids") {
        let Some(record) = records::get_for_update(tx, org_id, "ai_system", &RecordKey::Id(&id)).await? else { continue };
        let label = str_of(&record.data, "name").unwrap_or(&id).to_owned();
        let owner = str_of(&record.data, "owner_id").map(str::to_owned);
        scoped.push(Scoped { kind: "ai_system", id, reference: None, label, owner });
    }
    Ok(scoped)
}

/// The day after a date (`YYYY-MM-DD`), as the exclusive end of a period.
fn day_after(date: &str) -> String {
    clock::parse_date(date).and_then(|d| d.next_day()).map_or_else(|| "9999-12-31".to_owned(), clock::format_date)
}

fn refused(part: &str, detail: String) -> AppError {
    AppError::Forbidden(Denied::SeparationOfDuties(format!("({part}) {detail}")))
}

/// Auditor independence (PRODUCT: "an auditor never audits what they own or changed in the
/// audited period"): `user_id` (with `email`, how the log names them) may not audit when they
/// own a record in the audit's scope (`owns-audited-record`) or wrote an event of one in the
/// audited period (`changed-audited-record`, read from the activity log). Judged on the audit as
/// it is (or will be) written, in the writing transaction.
pub(crate) async fn require_independent(
    tx: &mut WriteTx,
    org_id: &str,
    audit: &Map<String, Value>,
    user_id: &str,
    email: &str,
) -> AppResult<()> {
    let from = str_of(audit, "period_from").unwrap_or("0000-01-01").to_owned();
    let until = day_after(str_of(audit, "period_to").unwrap_or("9999-12-30"));
    for record in scoped_records(tx, org_id, audit).await? {
        if record.owner.as_deref() == Some(user_id) {
            return Err(refused(
                "owns-audited-record",
                format!("{email} owns {}, which this audit covers; an auditor never audits what they own", record.named()),
            ));
        }
        let actors = activity::actors_between(tx, org_id, &record.id, &from, &until).await?;
        if actors.iter().any(|a| a == email || a == user_id) {
            return Err(refused(
                "changed-audited-record",
                format!(
                    "{email} changed {} in the audited period ({from} to {}); an auditor never audits what they changed",
                    record.named(),
                    str_of(audit, "period_to").unwrap_or("now")
                ),
            ));
        }
    }
    Ok(())
}

/// The audit's named auditors (lead first).
fn auditors(audit: &Map<String, Value>) -> Vec<String> {
    AUDITOR_FIELDS.iter().filter_map(|f| str_of(audit, f)).map(str::to_owned).collect()
}

/// Every named auditor may audit (their role holds the audit permission: 422 naming the field
/// otherwise) and is independent of what the audit covers (403).
async fn check_auditors(tx: &mut WriteTx, org_id: &str, audit: &Map<String, Value>) -> AppResult<()> {
    let mut errors = ValidationErrors::default();
    let mut named = Vec::new();
    for field in AUDITOR_FIELDS {
        let Some(user_id) = str_of(audit, field) else { continue };
        // Someone who is not a member is reported by the generic member check.
        let Some((email, role)) = orgs::member_in(tx, org_id, user_id).await? else { continue };
        if policy::authorize(role, Action::Audit).is_err() {
            errors.push(*field, "not_an_auditor", format!("{email} ({role}) may not audit; choose an owner, admin or auditor"));
        }
        named.push((user_id.to_owned(), email));
    }
    errors.into_result()?;
    for (user_id, email) in named {
        require_independent(tx, org_id, audit, &user_id, &email).await?;
    }
    Ok(())
}

/// The member records as an auditor of this audit: named on it, and independent of it.
async fn require_auditor_of(tx: &mut WriteTx, member: &Member, audit: &Record) -> AppResult<()> {
    if !auditors(&audit.data).contains(&member.user_id) {
        return Err(refused(
            "not-an-auditor-of-the-audit",
            format!("{} is not an auditor of “{}”; only its lead auditor or co-auditor records its results", member.email, title(audit)),
        ));
    }
    require_independent(tx, &member.org_id, &audit.data, &member.user_id, &member.email).await
}

fn title(record: &Record) -> String {
    str_of(&record.data, "title").unwrap_or(&record.id).to_owned()
}

/// The checklist of an audit: one item per clause, control and AI system in its scope, keeping
/// what was recorded for items still in scope.
async fn checklist(tx: &mut WriteTx, org_id: &str, audit: &Map<String, Value>) -> AppResult<Value> {
    let previous: Vec<Map<String, Value>> =
        audit.get("checklist").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object).cloned().collect();
    let mut items = Vec::new();
    for record in scoped_records(tx, org_id, audit).await? {
        let key = record.key();
        let kept = previous.iter().find(|p| p.get("item").and_then(Value::as_str) == Some(key.as_str()));
        let recorded = |f: &str| kept.and_then(|p| p.get(f)).cloned().unwrap_or(Value::Null);
        items.push(json!({
            "item": key,
            "kind": record.kind,
            "record_id": record.id,
            "label": record.label,
            "result": recorded("result"),
            "notes": recorded("notes"),
            "evidence": recorded("evidence"),
            "recorded_by": recorded("recorded_by"),
            "recorded_at": recorded("recorded_at"),
        }));
    }
    Ok(Value::Array(items))
}

fn changed(before: &Map<String, Value>, after: &Map<String, Value>, fields: &[&str]) -> bool {
    fields.iter().any(|f| before.get(*f) != after.get(*f))
}

/// An audit's checklist follows its scope; its auditors may audit and are independent; a
/// closed audit is its record and no longer changes.
pub(crate) struct AuditRules;

impl KindRules for AuditRules {
    fn before_create<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            check_auditors(tx, &member.org_id, &draft.document).await?;
            let items = checklist(tx, &member.org_id, &draft.document).await?;
            draft.document.insert("checklist".into(), items);
            Ok(())
        })
    }

    fn before_update<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, current: &'a Record, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            if current.state.as_deref() == Some("closed") {
                return Err(AppError::Conflict("the audit is closed; its record no longer changes".into()));
            }
            let period = ["period_from", "period_to"];
            let judged = [AUDITOR_FIELDS, SCOPE_FIELDS, &period].concat();
            if changed(&current.data, &draft.document, &judged) {
                check_auditors(tx, &member.org_id, &draft.document).await?;
            }
            if changed(&current.data, &draft.document, SCOPE_FIELDS) {
                let items = checklist(tx, &member.org_id, &draft.document).await?;
                draft.document.insert("checklist".into(), items);
            }
            Ok(())
        })
    }
}

/// A finding is recorded by an auditor of its audit, independent of what it covers, while the
/// audit runs; it stays with its audit, and only raising one sets its nonconformity.
pub(crate) struct FindingRules;

impl KindRules for FindingRules {
    fn before_create<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, _input: &'a Value, draft: &'a mut Draft) -> Fut<'a, ()> {
        Box::pin(async move {
            if str_of(&draft.document, "nonconformity_id").is_some() {
                return Err(ValidationErrors::single(
                    "nonconformity_id",
                    "set_by_raise",
                    "set by raising a nonconformity from the finding",
                )
                .into());
            }
            let audit_id = str_of(&draft.document, "audit_id").unwrap_or_default().to_owned();
            let Some(audit) = records::get_for_update(tx, &member.org_id, AUDIT.kind, &RecordKey::Id(&audit_id)).await? else {
                return Err(ValidationErrors::single("audit_id", "unknown_reference", "no audit with this id in this organisation").into());
            };
            if !audit.state.as_deref().is_some_and(|s| RUNNING.contains(&s)) || audit.archived {
                return Err(AppError::Conflict("findings are recorded while the audit is in progress or reporting".into()));
            }
            require_auditor_of(tx, member, &audit).await
        })
    }

    fn refuse_fixed_fields(&self, current: &Record, patch: &Value) -> AppResult<()> {
        let mut errors = ValidationErrors::default();
        for field in ["audit_id", "nonconformity_id"] {
            if let Some(value) = patch.get(field)
                && current.data.get(field).unwrap_or(&Value::Null) != value
            {
                let why =
                    if field == "audit_id" { "a finding stays with its audit" } else { "set by raising a nonconformity from the finding" };
                errors.push(field, "fixed", why);
            }
        }
        Ok(errors.into_result()?)
    }
}

/// What an audit's transitions record: its start, each checklist result (by one of its
/// independent auditors), the check that every item is answered before reporting, the report.
pub(crate) struct AuditEffects;

impl Effects for AuditEffects {
    fn prerequisites<'a>(&'a self, tx: &'a mut WriteTx, member: &'a Member, t: &'static TransitionSpec, audit: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            match t.name {
                RECORD_RESULT => require_auditor_of(tx, member, audit).await,
                "report" => {
                    let open: Vec<String> = audit
                        .data
                        .get("checklist")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|i| i.get("result").is_none_or(Value::is_null))
                        .filter_map(|i| i.get("label").and_then(Value::as_str).map(str::to_owned))
                        .collect();
                    if open.is_empty() {
                        Ok(())
                    } else {
                        Err(AppError::Conflict(format!("record a result for every checklist item first: {}", open.join(", "))))
                    }
                }
                _ => Ok(()),
            }
        })
    }

    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            let name = c.transition.name;
            match name {
                "start" => {
                    c.document.insert("started_at".into(), json!(clock::now_text()));
                }
                RECORD_RESULT => record_result(c)?,
                "close" => {
                    c.document.insert("report_summary".into(), text(c.body, "summary").map_or(Value::Null, Value::String));
                    c.document.insert("closed_by".into(), json!(c.member.user_id));
                    c.document.insert("closed_at".into(), json!(clock::now_text()));
                }
                _ => {}
            }
            Ok(Applied::default())
        })
    }
}

/// Writes one checklist item's result: the item and the result must be ones the audit has (422
/// naming the body's field).
fn record_result(c: Change<'_>) -> AppResult<()> {
    let item = text(c.body, "item").unwrap_or_default();
    let result = text(c.body, "result").unwrap_or_default();
    let mut errors = ValidationErrors::default();
    if !RESULTS.contains(&result.as_str()) {
        errors.push("result", "invalid_choice", format!("one of: {}", RESULTS.join(", ")));
    }
    let mut items = c.document.get("checklist").and_then(Value::as_array).cloned().unwrap_or_default();
    let entry = items.iter_mut().filter_map(Value::as_object_mut).find(|i| i.get("item").and_then(Value::as_str) == Some(item.as_str()));
    let Some(entry) = entry else {
        errors.push("item", "unknown_item", "not an item of this audit's checklist");
        return Err(errors.into());
    };
    errors.into_result()?;
    entry.insert("result".into(), json!(result));
    entry.insert("notes".into(), text(c.body, "notes").map_or(Value::Null, Value::String));
    entry.insert("evidence".into(), text(c.body, "evidence").map_or(Value::Null, Value::String));
    entry.insert("recorded_by".into(), json!(c.member.user_id));
    entry.insert("recorded_at".into(), json!(clock::now_text()));
    c.document.insert("checklist".into(), Value::Array(items));
    Ok(())
}

/// Raising a nonconformity from a minor or major finding writes the nonconformity (source
/// `audit_finding`, with the finding's description, clauses, controls and AI systems) and the
/// finding's link to it in the one transaction of the transition.
pub(crate) struct FindingEffects;

impl Effects for FindingEffects {
    fn prerequisites<'a>(&'a self, _tx: &'a mut WriteTx, _m: &'a Member, t: &'static TransitionSpec, finding: &'a Record) -> Fut<'a, ()> {
        Box::pin(async move {
            let classification = str_of(&finding.data, "classification").unwrap_or_default();
            if t.name == RAISE_NONCONFORMITY && !NONCONFORMING.contains(&classification) {
                return Err(AppError::Conflict("only a minor or major nonconformity raises a nonconformity".into()));
            }
            Ok(())
        })
    }

    fn apply<'a>(&'a self, tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            if c.transition.name != RAISE_NONCONFORMITY {
                return Ok(Applied::default());
            }
            let finding = &c.current.data;
            let severity = if str_of(finding, "classification") == Some("major_nonconformity") { "Major" } else { "Minor" };
            let copy = |f: &str| finding.get(f).cloned().unwrap_or_else(|| json!([]));
            let mut document = Map::new();
            document.insert("title".into(), json!(format!("{severity} nonconformity: {}", str_of(finding, "title").unwrap_or_default())));
            document.insert("source".into(), json!("audit_finding"));
            document.insert("description".into(), json!(str_of(finding, "description").unwrap_or_default()));
            document.insert("detected_on".into(), json!(clock::format_date(clock::today())));
            for field in ["ai_system_ids", "requirement_refs", "control_refs"] {
                document.insert(field.into(), copy(field));
            }
            let document = NONCONFORMITY.validate_create(&Value::Object(document), &[])?;
            let draft = Draft { reference: None, state: NONCONFORMITY.initial_state.map(str::to_owned), document };
            let actor = crate::access::actor(c.member);
            let nc = insert_logged(tx, &c.member.org_id, &actor, &NONCONFORMITY, &draft).await?;
            c.document.insert("nonconformity_id".into(), json!(nc.id));
            c.document.insert("raised_by".into(), json!(c.member.user_id));
            c.document.insert("raised_at".into(), json!(clock::now_text()));
            Ok(Applied::default())
        })
    }
}

/// A certificate's change of status keeps the reason the certification body gave.
pub(crate) struct CertificateEffects;

impl Effects for CertificateEffects {
    fn apply<'a>(&'a self, _tx: &'a mut WriteTx, c: Change<'a>) -> Fut<'a, Applied> {
        Box::pin(async move {
            c.document.insert("status_reason".into(), text(c.body, "reason").map_or(Value::Null, Value::String));
            Ok(Applied::default())
        })
    }
}
